"""One error hierarchy for every interface (SPEC §9: ``{code, message, details}`` with a 4xx status).

Services raise these; the API maps them to JSON, the UI to form errors, the CLI to a message and a
non-zero exit code. ``message`` is in the user's language; ``code`` is stable and machine-readable.
"""

from typing import Any


class KestrelError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.details = details if details is not None else {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(KestrelError):
    status = 422
    code = "validation_error"


class NotFound(KestrelError):
    status = 404
    code = "not_found"


class PermissionDenied(KestrelError):
    status = 403
    code = "permission_denied"


class Conflict(KestrelError):
    status = 409
    code = "conflict"


class AuthenticationFailed(KestrelError):
    status = 401
    code = "authentication_failed"


class LockedOut(KestrelError):
    status = 429
    code = "locked_out"
