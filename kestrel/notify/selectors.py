from django.db.models import QuerySet

from kestrel.notify.models import Notification
from kestrel.org.models import Employee


def notification_list(*, employee: Employee, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=employee).order_by("-created_at", "-pk")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def notification_unread_count(*, employee: Employee | None) -> int:
    if employee is None:
        return 0
    return Notification.objects.filter(recipient=employee, read_at__isnull=True).count()
