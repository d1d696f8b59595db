import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import AuthenticationFailed, LockedOut
from kestrel.core.models import ApiToken

TOKEN_PREFIX = "kst_"


def api_token_issue(*, request: HttpRequest, username: str, password: str) -> str:
    """Check the credentials (through django-axes, so failures count toward the lockout) and issue a
    bearer token. Returns the token itself; only its hash is stored."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # Axes would answer for us in its middleware; raising keeps the API's error shape in one place.
        request.axes_locked_out = False
        raise LockedOut(_("Too many failed login attempts. Try again later or ask an administrator."))
    if user is None or not user.is_active:
        raise AuthenticationFailed(_("Wrong username or password."))
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    return key


def api_token_user(*, key: str):
    """The active user a token belongs to, or None; touches ``last_used_at`` at most once a minute."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 200:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def sequence_next(*, key: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of the named sequence; returns the first. Safe under concurrency:
    the row is locked for the increment (SQLite serialises writers anyway)."""
    from django.db import transaction
    from django.db.models import F

    from kestrel.core.models import Sequence

    with transaction.atomic():
        Sequence.objects.get_or_create(key=key)
        Sequence.objects.filter(key=key).update(value=F("value") + count)
        value = Sequence.objects.select_for_update().get(key=key).value
    return value - count + 1
