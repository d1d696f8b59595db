"""What a locked-out login attempt sees (django-axes calls this)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kestrel.core import error_codes


def lockout_response(
    request: HttpRequest, original_response: HttpResponse, credentials: dict | None
) -> HttpResponse:
    from django.conf import settings

    message = _(
        "Too many failed login attempts. Try again in %(minutes)d minutes or ask an administrator."
    ) % {"minutes": int(float(settings.AXES_COOLOFF_TIME) * 60)}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": error_codes.LOCKED_OUT, "message": message, "details": {}},
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "web/login.html", {"lockout_message": message, "form": None}, status=429)
