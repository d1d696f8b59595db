from django.contrib import admin

from kestrel.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be revoked (deleted) here; they are never shown or edited."""

    list_display = ["user", "created_at", "expires_at", "last_used_at"]
    list_filter = ["expires_at"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "key_hash", "created_at", "expires_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
