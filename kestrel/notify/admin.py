from django.contrib import admin, messages
from django.utils.translation import gettext as _

from kestrel.notify.models import ChannelPreference, Notification, OutboxMessage, WebhookEndpoint
from kestrel.notify.services import outbox_retry_dead, webhook_url_validate


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url", "enabled", "updated_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "url"]

    def save_model(self, request, obj, form, change):
        webhook_url_validate(obj.url)
        super().save_model(request, obj, form, change)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Where admins see why a message did not go out, and send dead letters again."""

    list_display = [
        "event_key",
        "channel",
        "address",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["event_key", "idempotency_key", "address", "last_error"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send dead letters again"))
    def retry(self, request, queryset):
        count = outbox_retry_dead(actor=request.user, ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d messages queued again.") % {"count": count}, messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "event_key", "recipient__name"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ["employee", "channel", "enabled"]
    list_filter = ["channel", "enabled"]
    search_fields = ["employee__name"]
