from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class RolePermissionBackend(ModelBackend):
    """Function permissions (PLT-2) come from the roles of the user's active employee record,
    in addition to Django's own groups (used for configuration staff)."""

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(
            Q(group__user=user_obj)
            | Q(kestrel_roles__employees__user=user_obj, kestrel_roles__employees__status="active")
        ).distinct()
