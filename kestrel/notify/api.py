"""/api/v1/notifications: the caller's own inbox and channel preferences (PLT-7)."""

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from kestrel.core.errors import NotFound
from kestrel.core.pagination import PageNumberPagination
from kestrel.core.permissions import authenticated
from kestrel.notify import selectors, services
from kestrel.notify.schemas import MarkedOut, NotificationOut, PreferencesIn, PreferencesOut, UnreadCountOut
from kestrel.org.selectors import employee_for_user

router = Router(tags=["notifications"])


class InboxFilter(Schema):
    unread: bool = False


def _employee(request):
    employee = employee_for_user(user=request.user)
    if employee is None:
        raise NotFound(_("You have no employee record, so no inbox."))
    return employee


@router.get("/notifications", response=list[NotificationOut])
@authenticated
@paginate(PageNumberPagination)
def notification_list(request, filters: Query[InboxFilter]):
    employee = employee_for_user(user=request.user)
    if employee is None:
        return []
    return selectors.notification_list(employee=employee, unread_only=filters.unread)


@router.get("/notifications/unread-count", response=UnreadCountOut)
@authenticated
def notification_unread_count(request):
    return {"unread": selectors.notification_unread_count(employee=employee_for_user(user=request.user))}


@router.post("/notifications/{int:notification_id}/read", response=MarkedOut)
@authenticated
def notification_read(request, notification_id: int):
    employee = _employee(request)
    if not selectors.notification_list(employee=employee).filter(pk=notification_id).exists():
        raise NotFound(_("Notification not found."), details={"id": notification_id})
    return {"marked": services.notification_mark_read(employee=employee, ids=[notification_id])}


@router.post("/notifications/read-all", response=MarkedOut)
@authenticated
def notification_read_all(request):
    return {"marked": services.notification_mark_read(employee=_employee(request))}


@router.get("/notifications/preferences", response=PreferencesOut)
@authenticated
def preferences_get(request):
    return services.channel_preferences(employee=_employee(request))


@router.put("/notifications/preferences", response=PreferencesOut)
@authenticated
def preferences_set(request, payload: PreferencesIn):
    employee = _employee(request)
    services.channel_preferences_set(employee=employee, choices=payload.model_dump(exclude_none=True))
    return services.channel_preferences(employee=employee)
