import json
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from kestrel.core import error_codes

API_PREFIX = "/api/"

_CODES = {
    400: error_codes.BAD_REQUEST,
    401: error_codes.AUTHENTICATION_REQUIRED,
    403: error_codes.PERMISSION_DENIED,
    404: error_codes.NOT_FOUND,
    405: error_codes.METHOD_NOT_ALLOWED,
}


class ApiErrorJsonMiddleware:
    """Every 4xx/5xx under /api/ answers JSON ``{code, message, details}`` (SPEC §9).

    Errors raised inside an operation are shaped by the API's exception handlers; this catches what
    never reaches one: unknown paths, wrong methods, CSRF failures, oversized bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json") and self._is_error_body(response):
            return response
        status = response.status_code
        details = {}
        if status == 405 and response.get("Allow"):
            details["allowed_methods"] = [m.strip() for m in response["Allow"].split(",")]
        shaped = JsonResponse(
            {
                "code": _CODES.get(status, error_codes.BAD_REQUEST if status < 500 else "server_error"),
                "message": _status_message(status),
                "details": details,
            },
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if response.has_header(header):
                shaped[header] = response[header]
        return shaped

    @staticmethod
    def _is_error_body(response: HttpResponse) -> bool:
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(body, dict) and {"code", "message", "details"} <= body.keys()


def _status_message(status: int) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _("Authentication is required."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
    }
    if status in messages:
        return messages[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("The request failed.")


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """PLT-3: pages are Chinese unless the user picked English with the language switch (a cookie).

    Browsers on company machines often send an English Accept-Language; that alone does not switch
    the UI. API clients may still ask for English with Accept-Language.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(API_PREFIX):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
