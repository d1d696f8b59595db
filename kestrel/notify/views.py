"""The inbox (消息中心, PLT-7): the signed-in employee's notifications, newest first.

Reads go through ``selectors`` and writes through ``services``, so the page shows exactly what
/api/v1/notifications does. The filter tabs, page links and "mark all read" swap ``#notify-inbox``
(htmx); marking one message swaps that message and, out of band, the tab counts and the bell in the
top bar. Without JavaScript the same links and forms load full pages.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from kestrel.notify import selectors, services
from kestrel.notify.forms import InboxFilterForm
from kestrel.notify.models import Notification
from kestrel.org.models import Employee
from kestrel.web.context_processors import Bell, current_employee

PAGE_SIZE = 20
INBOX_TARGET = "notify-inbox"


@dataclass(frozen=True)
class InboxItem:
    notification: Notification
    internal_link: bool  # opened through "open" (marks it read, then redirects)
    external_link: bool  # an http(s) address elsewhere: a plain link in a new tab

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def _item(request: HttpRequest, notification: Notification) -> InboxItem:
    link = notification.link
    internal = _is_internal(request, link)
    external = not internal and link.startswith(("https://", "http://"))
    return InboxItem(notification=notification, internal_link=internal, external_link=external)


def _is_internal(request: HttpRequest, link: str) -> bool:
    return (
        link.startswith("/")
        and not link.startswith("//")
        and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()})
    )


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    employee = current_employee(request)
    if employee is None:
        # An account without an employee record (e.g. the admin login) has no inbox.
        return render(request, "notify/inbox.html", {"has_inbox": False})
    context = _inbox_context(request, employee, InboxFilterForm(request.GET))
    if request.htmx and not request.htmx.history_restore_request and request.htmx.target == INBOX_TARGET:
        response = render(request, "notify/_inbox.html", {**context, "oob_bell": True})
    else:
        response = render(request, "notify/inbox.html", context)
    # The same URL answers a full page or a fragment; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    employee = _employee_or_404(request)
    _own_notification(employee, notification_id)
    services.notification_mark_read(employee=employee, ids=[notification_id])
    form = InboxFilterForm(request.GET)
    if not request.htmx:
        return redirect(reverse("notify:inbox") + form.query())
    unread_only, _page = form.values()
    unread = selectors.notification_unread_count(employee=employee)
    context = {
        "item": _item(request, _own_notification(employee, notification_id)),
        "unread_only": unread_only,
        "unread_count": unread,
        "filter_query": form.query(),
        "bell": Bell(unread=unread),
    }
    return render(request, "notify/_item_marked.html", context)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    employee = _employee_or_404(request)
    marked = services.notification_mark_read(employee=employee)
    form = InboxFilterForm(request.GET)
    if not request.htmx:
        if marked:
            messages.success(
                request,
                ngettext("%(count)d message marked as read.", "%(count)d messages marked as read.", marked)
                % {"count": marked},
            )
        return redirect(reverse("notify:inbox") + form.query(page=1))
    # The list reloads from its first page: in the unread view everything has just left it.
    context = _inbox_context(request, employee, InboxFilterForm(request.GET), page_number=1)
    return render(request, "notify/_inbox.html", {**context, "oob_bell": True})


@login_required
@require_POST
def open_link(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Open the page a notification points to, marking it read on the way."""
    employee = _employee_or_404(request)
    notification = _own_notification(employee, notification_id)
    services.notification_mark_read(employee=employee, ids=[notification.pk])
    if _is_internal(request, notification.link):
        return redirect(notification.link)
    return redirect("notify:inbox")


def _employee_or_404(request: HttpRequest) -> Employee:
    employee = current_employee(request)
    if employee is None:
        raise Http404(_("You have no employee record, so no inbox."))
    return employee


def _own_notification(employee: Employee, notification_id: int) -> Notification:
    """The employee's own notification; anyone else's is as absent as one that never existed."""
    notification = selectors.notification_list(employee=employee).filter(pk=notification_id).first()
    if notification is None:
        raise Http404(_("Notification not found."))
    return notification


def _inbox_context(
    request: HttpRequest, employee: Employee, form: InboxFilterForm, *, page_number: int | None = None
) -> dict[str, Any]:
    unread_only, requested_page = form.values()
    notifications = selectors.notification_list(employee=employee, unread_only=unread_only)
    page = Paginator(notifications, PAGE_SIZE).get_page(page_number or requested_page)
    # In the unread view the paginator has just counted the unread messages.
    unread = page.paginator.count if unread_only else selectors.notification_unread_count(employee=employee)
    prefix = "?unread=1&page=" if unread_only else "?page="
    return {
        "has_inbox": True,
        "page": page,
        "items": [_item(request, notification) for notification in page.object_list],
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "page_link": reverse("notify:inbox") + prefix,
        "unread_only": unread_only,
        "unread_count": unread,
        "filter_query": form.query(page=page.number),
        "bell": Bell(unread=unread),
        # The top bar reuses this count instead of asking again.
        "nav_bell": Bell(unread=unread),
    }
