"""Logins into the audit trail (PLT-5). Failed attempts and lockouts are kept by django-axes."""

from auditlog.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")


@receiver(user_logged_in, dispatch_uid="kestrel_audit_login")
def audit_login(sender, request, user, **kwargs) -> None:
    _log_session_event(request, user, "login")


@receiver(user_logged_out, dispatch_uid="kestrel_audit_logout")
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        _log_session_event(request, user, "logout")


def _log_session_event(request, user, event: str) -> None:
    channel = "api" if request is not None and request.path.startswith("/api/") else "web"
    LogEntry.objects.log_create(
        user,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=user,
        remote_addr=_client_ip(request),
        additional_data={"event": event, "channel": channel},
        force_log=True,
    )
