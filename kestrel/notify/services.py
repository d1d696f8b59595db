"""Notifications (PLT-7): write them with the business change; deliver them from the outbox.

Business code calls ``notify(...)`` inside its own transaction. That writes the in-app notifications
and one outbox row per external channel × target, all or nothing with the change itself. After the
commit a job delivers the outbox; a periodic sweep picks up whatever a crash left behind.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import ValidationFailed
from kestrel.notify import error_codes
from kestrel.notify.channels import DeliveryFailed, deliver
from kestrel.notify.models import Channel, ChannelPreference, Notification, OutboxMessage, WebhookEndpoint
from kestrel.org.models import Employee

# Channels an employee gets unless they switch them off; SMS costs money, so it is opt-in.
DEFAULT_CHANNELS = {Channel.IN_APP: True, Channel.EMAIL: True, Channel.SMS: False}
CLAIM_SECONDS = 120


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0


def notify(
    *,
    event_key: str,
    kind: str,
    recipients: Iterable[Employee],
    title: str,
    body: str = "",
    link: str = "",
    data: dict[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    webhooks: bool = True,
) -> int:
    """Record notifications for ``recipients`` about one event; returns the outbox rows written.

    ``event_key`` identifies the event (e.g. ``complaint:42:breach``): calling again with the same
    key adds nothing, so a retried business operation cannot notify twice. ``channels`` limits the
    channels (default: each recipient's preferences). Must run inside the caller's transaction.
    """
    wanted = set(channels) if channels is not None else None
    unknown = sorted(wanted - set(Channel.values)) if wanted is not None else []
    if unknown:
        raise ValidationFailed(
            _("Unknown notification channel: %(channels)s") % {"channels": ", ".join(unknown)},
            code=error_codes.UNKNOWN_CHANNEL,
            details={"channels": unknown, "known": list(Channel.values)},
        )
    if not event_key or len(event_key) > 200:
        raise ValidationFailed(
            _("An event key of 1–200 characters is required."), code=error_codes.BAD_EVENT_KEY
        )
    recipients = list({employee.pk: employee for employee in recipients}.values())
    payload = {"title": title[:200], "body": body, "link": link, "data": data or {}}
    now = timezone.now()
    preferences = _preferences(recipients)
    with transaction.atomic():
        inbox = [
            Notification(recipient=r, event_key=event_key, kind=kind, title=title[:200], body=body, link=link)
            for r in recipients
            if _wants(preferences, r, Channel.IN_APP, wanted)
        ]
        Notification.objects.bulk_create(inbox, ignore_conflicts=True)
        outbox = []
        for recipient in recipients:
            for channel, address in ((Channel.EMAIL, recipient.email), (Channel.SMS, recipient.mobile)):
                # No address, no message: the inbox has it; a dead letter would only be noise.
                if address and _wants(preferences, recipient, channel, wanted):
                    outbox.append(
                        _outbox_row(
                            event_key,
                            kind,
                            channel,
                            f"employee:{recipient.pk}",
                            payload,
                            now,
                            recipient=recipient,
                            address=address,
                        )
                    )
        if webhooks and (wanted is None or Channel.WEBHOOK in wanted):
            for endpoint in WebhookEndpoint.objects.filter(enabled=True):
                if endpoint.wants(kind):
                    outbox.append(
                        _outbox_row(
                            event_key,
                            kind,
                            Channel.WEBHOOK,
                            f"webhook:{endpoint.pk}",
                            payload,
                            now,
                            endpoint=endpoint,
                        )
                    )
        # The unique idempotency key makes a repeated event a no-op, row by row.
        OutboxMessage.objects.bulk_create(outbox, ignore_conflicts=True)
        if outbox:
            transaction.on_commit(_enqueue_delivery)
    return len(outbox)


def _outbox_row(event_key, kind, channel, target, payload, now, **fields) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=f"{event_key}|{channel}|{target}",
        event_key=event_key,
        kind=kind,
        channel=channel,
        payload=payload,
        next_attempt_at=now,
        **fields,
    )


def _preferences(recipients: list[Employee]) -> dict[tuple[int, str], bool]:
    rows = ChannelPreference.objects.filter(employee__in=recipients).values_list(
        "employee_id", "channel", "enabled"
    )
    return {(employee_id, channel): enabled for employee_id, channel, enabled in rows}


def _wants(preferences, recipient: Employee, channel: str, wanted: set[str] | None) -> bool:
    if wanted is not None and channel not in wanted:
        return False
    if channel == Channel.IN_APP:
        return True
    return preferences.get((recipient.pk, channel), DEFAULT_CHANNELS.get(channel, False))


def _enqueue_delivery() -> None:
    from kestrel.notify.tasks import outbox_deliver

    outbox_deliver()


# --- Delivery ------------------------------------------------------------------------------------


def outbox_deliver_due(*, limit: int = 100) -> DeliveryReport:
    """Claim due messages, send them, and mark each sent, retrying or dead.

    A claim is a conditional UPDATE, so two workers never send the same row at once; a claim that
    outlives ``CLAIM_SECONDS`` (the worker died mid-send) lapses and the row is sent again with the
    same idempotency key.
    """
    now = timezone.now()
    due = Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxMessage.Status.SENDING, claimed_until__lt=now
    )
    candidates = list(
        OutboxMessage.objects.filter(due).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return DeliveryReport()
    claim = uuid.uuid4().hex
    OutboxMessage.objects.filter(due, pk__in=candidates).update(
        status=OutboxMessage.Status.SENDING, claim=claim, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
    )
    sent = retrying = dead = 0
    for message in OutboxMessage.objects.filter(claim=claim).select_related("endpoint"):
        try:
            deliver(message)
        except DeliveryFailed as failure:
            if _mark_failed(message, claim, failure):
                dead += 1
            else:
                retrying += 1
        else:
            _mark_sent(message, claim)
            sent += 1
    return DeliveryReport(sent=sent, retrying=retrying, dead=dead)


def _mark_sent(message: OutboxMessage, claim: str) -> None:
    OutboxMessage.objects.filter(pk=message.pk, claim=claim).update(
        status=OutboxMessage.Status.SENT,
        sent_at=timezone.now(),
        attempts=F("attempts") + 1,
        claim="",
        claimed_until=None,
        last_error="",
    )


def _mark_failed(message: OutboxMessage, claim: str, failure: DeliveryFailed) -> bool:
    """Schedule the next attempt with exponential backoff, or dead-letter it; True if dead."""
    attempts = message.attempts + 1
    dead = failure.permanent or attempts >= settings.KESTREL_NOTIFY_MAX_ATTEMPTS
    delay = min(settings.KESTREL_NOTIFY_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    OutboxMessage.objects.filter(pk=message.pk, claim=claim).update(
        status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.PENDING,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        claim="",
        claimed_until=None,
        last_error=f"{timezone.now():%Y-%m-%d %H:%M:%S} · attempt {attempts}: {failure}"[:2000],
    )
    return dead


def outbox_retry_dead(*, actor: AbstractBaseUser | None, ids: Iterable[int] | None = None) -> int:
    """Give dead letters another round of attempts (after an admin fixed the cause)."""
    dead = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
    if ids is not None:
        dead = dead.filter(pk__in=list(ids))
    count = dead.update(status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    if count:
        transaction.on_commit(_enqueue_delivery)
    return count


# --- Inbox and preferences -----------------------------------------------------------------------


def notification_mark_read(*, employee: Employee, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=employee, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def channel_preference_set(*, employee: Employee, channel: str, enabled: bool) -> ChannelPreference:
    if channel not in Channel.values or channel == Channel.WEBHOOK:
        raise ValidationFailed(
            _("Unknown notification channel: %(channels)s") % {"channels": channel},
            code=error_codes.UNKNOWN_CHANNEL,
            details={"channel": [_("Choose one of: %s") % "in_app, email, sms"]},
        )
    if channel == Channel.IN_APP and not enabled:
        raise ValidationFailed(
            _("The in-app inbox cannot be switched off."),
            code=error_codes.IN_APP_REQUIRED,
            details={"channel": [_("The in-app inbox is always on.")]},
        )
    preference, _created = ChannelPreference.objects.update_or_create(
        employee=employee, channel=channel, defaults={"enabled": enabled}
    )
    return preference


def channel_preferences_set(*, employee: Employee, choices: dict[str, bool]) -> None:
    """Several channels at once: all saved, or none when one is refused."""
    with transaction.atomic():
        for channel, enabled in choices.items():
            channel_preference_set(employee=employee, channel=channel, enabled=enabled)


def channel_preferences(*, employee: Employee) -> dict[str, bool]:
    stored = dict(ChannelPreference.objects.filter(employee=employee).values_list("channel", "enabled"))
    return {channel: stored.get(channel, default) for channel, default in DEFAULT_CHANNELS.items()}


# --- Webhook endpoints ---------------------------------------------------------------------------


def webhook_endpoint_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    kind: str,
    url: str,
    secret: str = "",
    event_kinds: list[str] | None = None,
) -> WebhookEndpoint:
    if kind not in WebhookEndpoint.Kind.values:
        raise ValidationFailed(
            _("Unknown webhook kind."),
            code=error_codes.UNKNOWN_WEBHOOK_KIND,
            details={"kind": [_("Choose one of: %s") % ", ".join(WebhookEndpoint.Kind.values)]},
        )
    webhook_url_validate(url)
    try:
        with transaction.atomic():
            return WebhookEndpoint.objects.create(
                name=name.strip(), kind=kind, url=url.strip(), secret=secret, event_kinds=event_kinds or []
            )
    except IntegrityError as error:
        raise ValidationFailed(
            _("A webhook with this name already exists."), details={"name": [_("Already used.")]}
        ) from error


def webhook_url_validate(url: str) -> None:
    try:
        URLValidator(schemes=["http", "https"])(url.strip())
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The webhook URL is not a valid http(s) address."),
            code=error_codes.MALFORMED_WEBHOOK_URL,
            details={
                "url": [
                    _("Enter a full address such as https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")
                ]
            },
        ) from error
