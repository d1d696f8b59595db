"""The one NinjaAPI at /api/v1/ (PLT-8, SPEC §9). Each domain app contributes a Router."""

import contextlib

import pydantic_core
from auditlog.context import auditlog_value
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder, Status
from ninja.security import HttpBearer, SessionAuth
from pydantic import ConfigDict, Field

from kestrel.core import error_codes
from kestrel.core.errors import KestrelError
from kestrel.core.permissions import authenticated, public
from kestrel.core.services import api_token_issue, api_token_user
from kestrel.customers.api import router as customers_router
from kestrel.notify.api import router as notify_router
from kestrel.org.api import router as org_router


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_user(key=token)
        if user is not None:
            request.user = user
            _audit_actor_set(user)
        return user


def _audit_actor_set(user) -> None:
    """PLT-5: AuditlogMiddleware picks the actor from the session before the view runs, so a bearer
    token's user would be recorded as nobody. Its per-request context is a dict in a ContextVar;
    naming the actor there attributes every change made by this request."""
    with contextlib.suppress(LookupError):  # outside the middleware there is nothing to attribute
        auditlog_value.get()["actor"] = user


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class KestrelParser(Parser):
    """JSON bodies and query strings, refusing NUL characters in any text: PostgreSQL cannot store
    or even compare them (a 500), and no real input has one. Checked here, once, for every app."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if _has_nul(data):
            # ninja answers any parse failure with 400 "Cannot parse request body".
            raise ValueError("NUL character in the request body")
        return data

    def parse_querydict(self, data, list_fields, request: HttpRequest):
        result = super().parse_querydict(data, list_fields, request)
        if _has_nul(result):
            raise HttpError(400, _("Text must not contain NUL characters."))
        return result


class ChineseJSONRenderer(JSONRenderer):
    """JSON by pydantic's serializer: datetimes and amounts are written without a call back into
    Python for each (ninja's encoder made 300 such calls for a page of 50 customers, a quarter of what
    its rows cost), and Chinese text stays readable UTF-8 instead of \\uXXXX escapes. What pydantic does
    not know (lazy translations, …) goes to ninja's encoder as before."""

    fallback = NinjaJSONEncoder().default

    def render(self, request: HttpRequest, data, *, response_status: int) -> bytes:
        return pydantic_core.to_json(data, fallback=self.fallback)


api = NinjaAPI(
    title="Kestrel 客隼 API",
    version="1",
    description="Customer management driven by written policy. Errors: `{code, message, details}`.",
    auth=[BearerTokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    renderer=ChineseJSONRenderer(),
    parser=KestrelParser(),
)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(KestrelError)
def on_kestrel_error(request, exc: KestrelError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors = [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors
    ]
    return _error(
        request, 422, error_codes.VALIDATION_ERROR, _("The request data is not valid."), {"errors": errors}
    )


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc: DjangoValidationError):
    details = exc.message_dict if hasattr(exc, "error_dict") else {"errors": exc.messages}
    return _error(request, 422, error_codes.VALIDATION_ERROR, _("The request data is not valid."), details)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, error_codes.NOT_FOUND, _("Not found."))


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    response = _error(request, 401, error_codes.AUTHENTICATION_REQUIRED, _("Authentication is required."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def on_authorization_error(request, exc):
    return _error(request, 403, error_codes.PERMISSION_DENIED, _("You do not have permission to do this."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = error_codes.BAD_REQUEST if exc.status_code == 400 else f"http_{exc.status_code}"
    return _error(request, exc.status_code, code, str(exc.message))


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"


class ErrorOut(Schema):
    code: str
    message: str
    details: dict


class MeOut(Schema):
    id: int
    username: str
    employee_id: int | None
    name: str
    permissions: list[str]
    data_scope: dict


@api.post("/auth/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, auth=None, tags=["auth"])
@public
def auth_token(request, payload: TokenIn):
    """Exchange a username and password for a bearer token. Repeated failures lock the account
    (django-axes), exactly as on the web login."""
    token = api_token_issue(request=request, username=payload.username, password=payload.password)
    user = api_token_user(key=token)
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Status(200, {"token": token})


@api.get("/auth/me", response=MeOut, tags=["auth"])
@authenticated
def auth_me(request):
    """Who the token belongs to, their function permissions and their data scope."""
    from kestrel.core.scope import reach_for
    from kestrel.org.selectors import employee_for_user

    employee = employee_for_user(user=request.user)
    reach = reach_for(request.user)
    return {
        "id": request.user.pk,
        "username": request.user.get_username(),
        "employee_id": employee.pk if employee else None,
        "name": employee.name if employee else request.user.get_username(),
        "permissions": sorted(request.user.get_all_permissions()),
        "data_scope": {
            "everything": reach.everything,
            "department_ids": sorted(reach.department_ids),
            "subtree_paths": sorted(reach.subtree_paths),
        },
    }


api.add_router("/", org_router)
api.add_router("/", notify_router)
api.add_router("/", customers_router)
api.add_router("/", "kestrel.customers.api_workflows.router")
api.add_router("/", "kestrel.customers.api_grading.router")
api.add_router("/", "kestrel.customers.api_transfer.router")
