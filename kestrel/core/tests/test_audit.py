"""PLT-5: logins are audited; audit rows are append-only at the database level; admins can read the
trail in the admin, and nobody can add, change or delete entries there."""

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from kestrel.org.tests.factories import PASSWORD, UserFactory
from kestrel.org.tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


def _logins(user) -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user).order_by("pk"))


def test_plt5_token_login_is_audited(db):
    user = UserFactory(username="alice")
    response = ApiClient().post("/auth/token", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    (entry,) = _logins(user)
    assert entry.additional_data == {"event": "login", "channel": "api"}
    assert entry.remote_addr == "127.0.0.1"
    assert entry.object_pk == str(user.pk)


def test_plt5_web_login_and_logout_are_audited(db):
    user = UserFactory(username="bob")
    client = Client()
    assert client.post(reverse("web:login"), {"username": "bob", "password": PASSWORD}).status_code == 302
    client.post(reverse("web:logout"))
    assert [e.additional_data for e in _logins(user)] == [
        {"event": "login", "channel": "web"},
        {"event": "logout", "channel": "web"},
    ]


def test_plt5_failed_logins_are_not_successful_logins(db):
    user = UserFactory(username="carol")
    ApiClient().post("/auth/token", {"username": "carol", "password": "wrong"})
    assert _logins(user) == []


@pytest.fixture
def entry(db):
    user = UserFactory()
    return LogEntry.objects.log_create(user, action=LogEntry.Action.ACCESS, changes=None, force_log=True)


def test_plt5_audit_rows_cannot_be_updated(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.object_repr = "rewritten"
        entry.save()
    entry.refresh_from_db()
    assert entry.changes_text != "rewritten"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE for the test runner")
def test_plt5_audit_rows_cannot_be_deleted_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_plt5_admin_shows_the_audit_trail_read_only(superuser, entry):
    client = Client()
    client.force_login(superuser)
    changelist = reverse("admin:auditlog_logentry_changelist")
    assert client.get(changelist).status_code == 200
    detail = client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # view only: no save button
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.post(reverse("admin:auditlog_logentry_change", args=[entry.pk]), {}).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_plt5_audit_trail_is_not_shown_to_non_admins(entry):
    staff = UserFactory(is_staff=True)  # staff without the view permission
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 302  # to the login
