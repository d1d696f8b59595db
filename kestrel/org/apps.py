from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kestrel.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth import get_user_model

        from kestrel.org.models import Department, Employee, Position, Role

        # PLT-5: who changed what, when, old → new, for every org record.
        auditlog.register(Department)
        auditlog.register(Position)
        auditlog.register(Role, m2m_fields={"departments", "permissions"})
        auditlog.register(Employee, m2m_fields={"roles", "extra_positions"})
        auditlog.register(
            get_user_model(),
            include_fields=["username", "is_active", "is_staff", "is_superuser", "password"],
            mask_fields=["password"],
        )
