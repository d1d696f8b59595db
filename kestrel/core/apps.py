from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kestrel.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from kestrel.core import signals  # noqa: F401  (login audit receivers)
