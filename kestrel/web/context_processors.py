"""Context every page shares: the sidebar, the signed-in employee, the bell and the staff warnings.

All of it is lazy: an htmx partial that never shows the frame costs no query for them, and each
costs at most one query when the frame is drawn.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import pgettext

from kestrel.notify.selectors import notification_unread_count
from kestrel.org.selectors import employee_for_user
from kestrel.web.navigation import menu_for
from kestrel.workdays.selectors import missing_years_open

BELL_CAP = 99  # the badge shows "99+" beyond this


def current_employee(request: HttpRequest) -> Any:
    """The employee record of the signed-in user (None for e.g. an admin without one), once per request."""
    if not hasattr(request, "_kestrel_employee"):
        request._kestrel_employee = employee_for_user(user=request.user)
    return request._kestrel_employee


@dataclass(frozen=True)
class Bell:
    """The unread count in the top bar (PLT-7)."""

    unread: int

    @property
    def label(self) -> str:
        return f"{BELL_CAP}+" if self.unread > BELL_CAP else str(self.unread)


def bell_for(employee: Any) -> Bell:
    return Bell(unread=notification_unread_count(employee=employee))


@dataclass(frozen=True)
class CalendarWarning:
    """Years without statutory holiday data that no admin has acknowledged yet (PLT-4)."""

    years: list[int]

    def __bool__(self) -> bool:
        return bool(self.years)

    @property
    def years_label(self) -> str:
        return pgettext("list separator", ", ").join(str(year) for year in self.years)


def calendar_warning() -> CalendarWarning:
    return CalendarWarning(years=missing_years_open())


def _is_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment: it never draws the top bar."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    context: dict[str, Any] = {
        "nav_items": SimpleLazyObject(lambda: menu_for(request)),
        "nav_employee": SimpleLazyObject(lambda: current_employee(request)),
        "today": timezone.localdate(),  # the top bar shows the date in Asia/Shanghai, YYYY-MM-DD (PLT-3)
    }
    if _is_partial(request):
        return context
    context["nav_bell"] = SimpleLazyObject(lambda: bell_for(current_employee(request)))
    if request.user.is_staff:
        context["calendar_warning"] = SimpleLazyObject(calendar_warning)
    return context
