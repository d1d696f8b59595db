from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class UnreadCountOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


class PreferencesIn(Schema):
    model_config = ConfigDict(extra="forbid")
    email: bool | None = None
    sms: bool | None = None
    in_app: bool | None = None


class PreferencesOut(Schema):
    in_app: bool
    email: bool
    sms: bool
