"""Function permissions on API operations (PLT-2).

Every operation declares what it needs: ``@requires("org.view_employee")`` or ``@public``. A test
walks all operations and fails on one without a declaration, so no endpoint can forget it. Data
scope is applied separately, by the selectors the endpoint calls (``visible_to``).
"""

import functools
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from kestrel.core.errors import PermissionDenied

PERMISSION_ATTRIBUTE = "kestrel_permissions"


def requires(*permissions: str) -> Callable:
    """The caller must hold every listed permission (``app_label.codename``)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not request.user.has_perms(permissions):
                raise PermissionDenied(
                    _("You do not have permission to do this."),
                    details={"required": list(permissions)},
                )
            return view(request, *args, **kwargs)

        setattr(guarded, PERMISSION_ATTRIBUTE, tuple(permissions))
        return guarded

    return decorate


def authenticated(view: Callable) -> Callable:
    """Any signed-in user; what they see is limited by data scope alone."""
    setattr(view, PERMISSION_ATTRIBUTE, ("authenticated",))
    return view


def public(view: Callable) -> Callable:
    """No authentication at all (the token endpoint)."""
    setattr(view, PERMISSION_ATTRIBUTE, ("public",))
    return view


def declared_permissions(view: Callable) -> tuple[str, ...] | None:
    return getattr(view, PERMISSION_ATTRIBUTE, None)
