"""Notifications (PLT-7): the in-app inbox, channel preferences, chat-robot webhooks and the outbox."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kestrel.core.models import TimeStampedModel


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Chat robot / webhook")


class Notification(models.Model):
    """One message in an employee's in-app inbox. Written in the business transaction itself, so it
    exists exactly when the change that caused it does."""

    recipient = models.ForeignKey(
        "org.Employee", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    event_key = models.CharField(_("event"), max_length=200)
    kind = models.CharField(_("kind"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"], name="notify_notification_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_inbox_unread")]

    def __str__(self) -> str:
        return self.title


class ChannelPreference(models.Model):
    """Whether an employee wants a channel (in-app cannot be switched off: it is the record)."""

    employee = models.ForeignKey(
        "org.Employee",
        on_delete=models.CASCADE,
        related_name="channel_preferences",
        verbose_name=_("employee"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "channel"], name="notify_preference_once_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee} · {self.get_channel_display()}: {'✓' if self.enabled else '✗'}"


class WebhookEndpoint(TimeStampedModel):
    """A group chat robot (WeCom 企业微信, DingTalk 钉钉, Feishu 飞书) or a generic JSON webhook."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("WeCom robot")
        DINGTALK = "dingtalk", _("DingTalk robot")
        FEISHU = "feishu", _("Feishu robot")
        GENERIC = "generic", _("Generic JSON webhook (HMAC-SHA256 signed)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("URL"), max_length=1000)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk/Feishu signing secret, or the HMAC key of a generic webhook."),
    )
    event_kinds = models.JSONField(
        _("event kinds"),
        default=list,
        blank=True,
        help_text=_("Only these kinds of events; empty means all."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.enabled and (not self.event_kinds or kind in self.event_kinds)


class OutboxMessage(models.Model):
    """A message to deliver outside the database, committed with the change that caused it.

    ``idempotency_key`` (event × channel × target) is unique: one event reaches one target on one
    channel once, however often the business code or the worker runs. The key travels with the
    message (HTTP ``Idempotency-Key``, email Message-ID) so receivers can drop a repeat that a crash
    between send and mark would cause.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Dead letter")

    idempotency_key = models.CharField(_("idempotency key"), max_length=300, unique=True)
    event_key = models.CharField(_("event"), max_length=200, db_index=True)
    kind = models.CharField(_("kind"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        "org.Employee",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("webhook"),
    )
    address = models.CharField(
        _("address"), max_length=300, blank=True, help_text=_("email address or mobile number")
    )
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claim = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_outbox_due")]

    def __str__(self) -> str:
        return self.idempotency_key
