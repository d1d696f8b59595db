"""Context every page shares: the sidebar and the signed-in employee.

Both are lazy: an htmx partial that never shows the frame costs no query for them.
"""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from kestrel.org.selectors import employee_for_user
from kestrel.web.navigation import menu_for


def current_employee(request: HttpRequest) -> Any:
    """The employee record of the signed-in user (None for e.g. an admin without one), once per request."""
    if not hasattr(request, "_kestrel_employee"):
        request._kestrel_employee = employee_for_user(user=request.user)
    return request._kestrel_employee


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "nav_items": SimpleLazyObject(lambda: menu_for(request)),
        "nav_employee": SimpleLazyObject(lambda: current_employee(request)),
        "today": timezone.localdate(),  # the top bar shows the date in Asia/Shanghai, YYYY-MM-DD (PLT-3)
    }
