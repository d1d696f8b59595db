"""Customer pages (客户档案, ARC-1 … ARC-14): the list with filters and search, the 360° page, the
master-file form, and contact / major-event dialogs.

Every read goes through ``selectors`` (data scope, confidentiality, the view log); every write through
``services`` — the same functions the API calls. Sensitive values are masked here exactly as in the
API (ARC-14). The list's filter bar swaps only ``#customer-results`` (htmx, URL pushed); dialogs are
Tabler modals loaded by htmx, and every page also works as a plain page without JavaScript.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kestrel.core.errors import KestrelError, NotFound
from kestrel.core.pagination import CappedPaginator
from kestrel.customers import (
    grading,
    importing,
    masking,
    policies,
    selectors,
    services,
    tasks,
    workflow_selectors,
    workflows,
)
from kestrel.customers.forms import (
    CHARACTERISTIC_FIELDS,
    FIELD_GROUPS,
    AccessDecisionForm,
    AccessRequestForm,
    ContactActiveForm,
    ContactForm,
    ContactMoveForm,
    CustomerFilterForm,
    CustomerForm,
    ImportUploadForm,
    MajorEventForm,
    map_service_error,
    regions_under,
)
from kestrel.customers.models import (
    AccessRequest,
    Contact,
    ContactMove,
    Customer,
    CustomerCharacteristics,
    ImportJob,
    Region,
)
from kestrel.org.models import Employee
from kestrel.org.selectors import employee_list
from kestrel.web.context_processors import current_employee

PAGE_SIZE = 20
RESULTS_TARGET = "customer-results"
MODAL_TARGET = "customer-modal-dialog"
VIEW_LOG_ROWS = 20


# --- The list (ARC-10) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """ARC-7: updated the same day as the last contact, and at least monthly."""

    state: str  # "fresh", "behind" (contacted since the last update), "stale" (too old), "never"
    days: int | None

    @property
    def ok(self) -> bool:
        return self.state == "fresh"


def archive_stale_days() -> int:
    return policies.freshness_days()  # the freshness report's threshold (ARC-7), one setting for both


def freshness_of(customer: Customer, *, today: date, stale_days: int) -> Freshness:
    updated = customer.archive_updated_at
    if updated is None:
        return Freshness("never", None)
    updated_on = timezone.localdate(updated)
    days = (today - updated_on).days
    if customer.last_contact_at is not None:
        contacted_on = timezone.localdate(customer.last_contact_at)
        if contacted_on > updated_on and contacted_on < today:
            return Freshness("behind", days)
    if days > stale_days:
        return Freshness("stale", days)
    return Freshness("fresh", days)


def _owners(request: HttpRequest) -> QuerySet[Employee]:
    return employee_list(actor=request.user, status=Employee.Status.ACTIVE).order_by("name", "pk")


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET, owners=_owners(request), auto_id="customer-%s")
    filters = form.filters()
    customers = selectors.customer_list(actor=request.user, filters=selectors.CustomerFilter(**filters))
    page = CappedPaginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    today, stale_days = timezone.localdate(), archive_stale_days()
    rows = [(customer, freshness_of(customer, today=today, stale_days=stale_days)) for customer in page]
    services.archive_reads_log(
        actor=request.user,
        customer_ids=[customer.pk for customer in page],
        channel="search" if filters.get("q") else "list",
    )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "capped": page.paginator.capped,
        "capped_label": f"{page.paginator.cap:,}+",  # "10,000+": beyond its cap a list does not count
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "page_link": _page_link_prefix(request),
        "stale_days": stale_days,
        "export_query": urlencode({k: v for k, v in filters.items() if v not in (None, "")}),
    }
    if request.htmx and not request.htmx.history_restore_request and request.htmx.target == RESULTS_TARGET:
        response = render(request, "customers/_results.html", {**context, "oob": True})
    else:
        response = render(request, "customers/list.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _page_link_prefix(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return f"?{encoded}&page=" if encoded else "?page="


@login_required
@require_GET
def region_options(request: HttpRequest) -> HttpResponse:
    """The region cascade (htmx): ``?province=`` → its cities (and an empty district select),
    ``?city=`` → its districts. Reference data, the same for everyone."""
    url = reverse("customers:regions")
    if "city" in request.GET:
        return render(
            request,
            "customers/_region_select.html",
            {
                "name": "district",
                "options": regions_under(request.GET.get("city"), Region.Level.DISTRICT),
                "placeholder": _("District"),
            },
        )
    return render(
        request,
        "customers/_region_select.html",
        {
            "name": "city",
            "options": regions_under(request.GET.get("province"), Region.Level.CITY),
            "url": url,
            "target": "#id_district",
            "placeholder": _("City"),
            "also_reset": "district",
        },
    )


# --- The 360° page (ARC-13) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    label: str
    value: Any
    wide: bool = False
    masked: bool = False


def _display(customer: Customer, name: str, user: Any) -> tuple[Any, bool]:
    """A master-file value as a page shows it; amounts go through the ARC-14 mask."""
    field = Customer._meta.get_field(name)
    if name == "co_owners":
        return "、".join(e.name for e in customer.co_owners.all()), False
    if name == "tags":
        return "、".join(sorted(t.name for t in customer.tags.all())), False
    value = getattr(customer, name)
    if getattr(field, "choices", None) and not field.is_relation:
        return (getattr(customer, f"get_{name}_display")() if value else ""), False
    if isinstance(value, Decimal):
        shown = masking.customer_value(user, name, value)
        if shown == masking.MASK:
            return shown, True
        if name == "tax_rate":
            return f"{value.normalize():f}%", False
        return f"{value:,.2f} {customer.currency}", False
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M"), False
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d"), False
    if isinstance(value, Model):
        return getattr(value, "name", str(value)), False
    return value if value not in (None, "") else "", False


def _groups(customer: Customer, user: Any) -> list[dict[str, Any]]:
    groups = []
    for key, label, names in FIELD_GROUPS:
        items = []
        for name in names:
            value, masked = _display(customer, name, user)
            field = Customer._meta.get_field(name)
            items.append(
                Item(
                    capfirst(field.verbose_name),
                    value,
                    wide=name in {"address", "payment_credit_record"},
                    masked=masked,
                )
            )
        if key == "contact" and customer.other_phones:
            items.insert(6, Item(_("Other phones"), "、".join(customer.other_phones)))
        if key == "ownership":
            department = Customer._meta.get_field("department")
            items.insert(3, Item(capfirst(department.verbose_name), customer.department.name))
        groups.append({"key": key, "label": label, "items": items})
    return groups


def _characteristics(customer: Customer) -> list[Item]:
    try:
        characteristics = customer.characteristics
    except CustomerCharacteristics.DoesNotExist:
        characteristics = None
    return [
        Item(
            capfirst(CustomerCharacteristics._meta.get_field(name).verbose_name),
            getattr(characteristics, name, "") if characteristics else "",
        )
        for name in CHARACTERISTIC_FIELDS
    ]


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    mobile: str
    wechat: str


def _contact_rows(contacts: list[Contact], user: Any) -> list[ContactRow]:
    prefetch_related_objects(contacts, "moves")  # ARC-3: the row links a contact's move history
    return [
        ContactRow(
            contact=c,
            mobile=masking.contact_value(user, "mobile", c.mobile),
            wechat=masking.contact_value(user, "wechat", c.wechat),
        )
        for c in contacts
    ]


def _customer_or_404(request: HttpRequest, customer_id: int, channel: str) -> Customer:
    try:
        return selectors.customer_get(actor=request.user, id=customer_id, channel=channel)
    except NotFound as error:
        raise Http404(str(error)) from error


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        view = selectors.customer_360(actor=request.user, id=customer_id)
    except NotFound:
        # The same page whether the archive does not exist or may not be read (nothing disclosed),
        # with the way to ask for access (ARC-6).
        return render(request, "customers/not_readable.html", status=404)
    customer: Customer = view["customer"]
    user = request.user
    sees = masking.sees_sensitive(user)
    view_log = None
    if workflow_selectors.view_log_visible(actor=user, customer=customer):
        view_log = list(
            workflow_selectors.archive_view_log(actor=user, customer_id=customer.pk)[:VIEW_LOG_ROWS]
        )
    context = {
        "holder_warnings": holder_warnings(customer),
        "grades": [entry for entry in grading.customer_grades(customer=customer) if entry["row"]],
        "view_log": view_log,
        "customer": customer,
        "groups": _groups(customer, user),
        "characteristics": _characteristics(customer),
        "has_characteristics": any(item.value for item in _characteristics(customer)),
        "contacts": _contact_rows(view["contacts"], user),
        "contacts_moved_away": view["contacts_moved_away"],
        "major_events": view["major_events"],
        "grade_history": view["grade_history"],
        "bank_accounts": [
            (account, account.account_number if sees else masking.mask_account(account.account_number))
            for account in customer.bank_accounts.all()
        ],
        "delivery_addresses": list(customer.delivery_addresses.all()),
        "freshness": freshness_of(customer, today=timezone.localdate(), stale_days=archive_stale_days()),
        "stale_days": archive_stale_days(),
        "custom_fields": _custom_fields(customer),
        "sees_sensitive": sees,
    }
    return render(request, "customers/detail.html", context)


def holder_warnings(customer: Customer) -> list[str]:
    """ARC-5 on the page: core and important grades need a relationship manager, and "at least two
    employees hold every important customer" (同一客户两人或两人以上掌握)."""
    grade = customer.grade
    if grade is None:
        return []
    warnings = []
    if grade.requires_relationship_manager and customer.relationship_manager_id is None:
        warnings.append(_("A %(grade)s customer needs a relationship manager.") % {"grade": grade.name})
    holders = {customer.owner_id, customer.relationship_manager_id} | {e.pk for e in customer.co_owners.all()}
    holders.discard(None)
    if len(holders) < grade.min_holders:
        warnings.append(
            _("At least %(count)d employees should hold a %(grade)s customer; %(held)d do.")
            % {"count": grade.min_holders, "grade": grade.name, "held": len(holders)}
        )
    return warnings


def _custom_fields(customer: Customer) -> list[Item]:
    """Admin-defined fields (ARC-1) that have a value, labelled."""
    from kestrel.customers.models import CustomField

    values = customer.custom_fields or {}
    if not values:
        return []
    labels = dict(CustomField.objects.filter(key__in=values.keys()).values_list("key", "label"))
    items = []
    for key, value in values.items():
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        items.append(Item(labels.get(key, key), value))
    return items


# --- The master-file form (ARC-1, ARC-2, ARC-5) -------------------------------------------------


def _customer_form(request: HttpRequest, **kwargs: Any) -> CustomerForm:
    return CustomerForm(
        request.POST or None,
        user=request.user,
        employees=_owners(request).select_related("department"),
        region_url=reverse("customers:regions"),
        **kwargs,
    )


def _readable(request: HttpRequest, customer: Customer) -> bool:
    return selectors.customer_list(actor=request.user).filter(pk=customer.pk).exists()


@login_required
@permission_required("customers.add_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    employee = current_employee(request)
    form = _customer_form(request, initial={"owner": employee, "currency": "CNY"})
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        owner, code = fields.pop("owner"), fields.pop("code", "")
        try:
            customer = services.customer_create(actor=request.user, owner=owner, code=code or None, **fields)
        except KestrelError as error:
            map_service_error(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            if _readable(request, customer):
                return redirect("customers:detail", customer_id=customer.pk)
            return redirect("customers:index")
    return render(request, "customers/form.html", {"form": form, "customer": None})


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(request, customer_id, "edit")
    form = _customer_form(request, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(actor=request.user, customer=customer, **form.service_fields())
        except KestrelError as error:
            map_service_error(form, error)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": customer.name})
            if _readable(request, customer):
                return redirect("customers:detail", customer_id=customer.pk)
            return redirect("customers:index")
    return render(request, "customers/form.html", {"form": form, "customer": customer})


# --- Dialogs: contacts (ARC-3) and major events (ARC-2) ------------------------------------------


def _dialog(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The dialog's content for the modal (htmx), or the same form as a page without JavaScript."""
    if request.htmx:
        return render(request, template, context)
    return render(request, "customers/dialog_page.html", {**context, "dialog_template": template})


def _saved(request: HttpRequest, customer: Customer, section: str, message: str) -> HttpResponse:
    """After a dialog saved: swap the section out of band and close the modal; without JavaScript,
    back to the 360° page."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('customers:detail', args=[customer.pk])}#{section}")
    context: dict[str, Any] = {"customer": customer, "oob": True, "message": message}
    if section == "contacts":
        contacts = selectors.contact_list(actor=request.user, customer_id=customer.pk)
        context["contacts"] = _contact_rows(list(contacts), request.user)
        context["contacts_moved_away"] = selectors.contacts_moved_away(actor=request.user, customer=customer)
        template = "customers/_contacts.html"
    else:
        context["major_events"] = list(customer.major_events.select_related("recorded_by")[:50])
        template = "customers/_events.html"
    response = render(request, template, context)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = "kestrel:dialog-saved"
    return response


@login_required
@permission_required("customers.add_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(request, customer_id, "detail")
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(actor=request.user, customer=customer, **form.service_fields())
        except KestrelError as error:
            map_service_error(form, error)
        else:
            return _saved(
                request, customer, "contacts", _("Contact %(name)s added.") % {"name": contact.name}
            )
    action = reverse("customers:contact_create", args=[customer.pk])
    return _dialog(
        request,
        "customers/_contact_dialog.html",
        {"form": form, "customer": customer, "action": action, "title": _("New contact")},
    )


@login_required
@permission_required("customers.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        contact = selectors.contact_get(actor=request.user, id=contact_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    customer = contact.customer
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, **form.service_fields())
        except KestrelError as error:
            map_service_error(form, error)
        else:
            return _saved(
                request, customer, "contacts", _("Contact %(name)s saved.") % {"name": contact.name}
            )
    action = reverse("customers:contact_edit", args=[contact.pk])
    return _dialog(
        request,
        "customers/_contact_dialog.html",
        {
            "form": form,
            "customer": customer,
            "action": action,
            "title": _("Edit contact"),
            "contact": contact,
        },
    )


def _contact_or_404(request: HttpRequest, contact_id: int) -> Contact:
    """A contact of a customer the user reads (data scope and confidentiality), else 404."""
    try:
        return selectors.contact_get(actor=request.user, id=contact_id)
    except NotFound as error:
        raise Http404(str(error)) from error


MOVE_CANDIDATES_TARGET = "contact-move-candidates"
MOVE_CANDIDATES = 10


def _move_candidates(request: HttpRequest, contact: Contact, q: str) -> tuple[list[Customer], bool]:
    """Readable customers matching ``q`` (code, name, pinyin…, as the list's search box), the contact's
    own left out; the listed archives are logged as read (ARC-6). Also: whether there were more."""
    q = q.replace("\x00", "").strip()[:100]  # a NUL is no search term (and PostgreSQL refuses it)
    if not q:
        return [], False
    customers = selectors.customer_list(actor=request.user, filters=selectors.CustomerFilter(q=q))
    found = list(customers.exclude(pk=contact.customer_id)[: MOVE_CANDIDATES + 1])
    shown = found[:MOVE_CANDIDATES]
    services.archive_reads_log(actor=request.user, customer_ids=[c.pk for c in shown], channel="search")
    return shown, len(found) > MOVE_CANDIDATES


@login_required
@permission_required("customers.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_move(request: HttpRequest, contact_id: int) -> HttpResponse:
    """调至其他客户 (ARC-3): the contact changed employer and moves; ``ContactMove`` keeps the history.
    Both customers must be readable: the contact's through ``contact_get``, the new one through
    ``customer_get`` (an unreadable one is "not found", whether it exists or not)."""
    contact = _contact_or_404(request, contact_id)
    customer = contact.customer
    action = reverse("customers:contact_move", args=[contact.pk])
    if request.method == "GET" and request.htmx and request.htmx.target == MOVE_CANDIDATES_TARGET:
        candidates, more = _move_candidates(request, contact, request.GET.get("q", ""))
        context = {"candidates": candidates, "more": more, "q": request.GET.get("q", "").strip()}
        return render(request, "customers/_contact_move_candidates.html", context)
    if request.method == "POST" and "find" in request.POST:
        # "Find" without JavaScript: list the matches, check nothing yet.
        form = ContactMoveForm(initial=request.POST.dict(), search_url=action)
    else:
        form = ContactMoveForm(request.POST or None, search_url=action)
    if request.method == "POST" and form.is_bound and form.is_valid():
        try:
            target = selectors.customer_get(
                actor=request.user, id=form.cleaned_data["to_customer"], channel="contact_move"
            )
        except NotFound:
            form.add_error("to_customer", _("No such customer, or you may not read its archive."))
        else:
            try:
                services.contact_move(
                    actor=request.user, contact=contact, to_customer=target, title=form.cleaned_data["title"]
                )
            except KestrelError as error:
                map_service_error(form, error)
            else:
                moved = {"name": contact.name, "customer": target.name}
                return _saved(request, customer, "contacts", _("%(name)s moved to %(customer)s.") % moved)
    q = str(request.POST.get("q", "")) if request.method == "POST" else ""
    candidates, more = _move_candidates(request, contact, q)
    return _dialog(
        request,
        "customers/_contact_move_dialog.html",
        {
            "form": form,
            "customer": customer,
            "contact": contact,
            "action": action,
            "title": _("Move to another customer"),
            "candidates": candidates,
            "more": more,
            "q": q.strip(),
            "selected": str(request.POST.get("to_customer", "")) if request.method == "POST" else "",
        },
    )


@login_required
@permission_required("customers.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_set_active(request: HttpRequest, contact_id: int) -> HttpResponse:
    """停用 / 启用 a contact (ARC-3) after a confirmation. A deactivated contact stays in the archive
    with its history, and stops being the primary contact."""
    contact = _contact_or_404(request, contact_id)
    customer = contact.customer
    form = ContactActiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        active = form.cleaned_data["active"]
        fields: dict[str, Any] = {"active": active} if active else {"active": False, "is_primary": False}
        try:
            services.contact_update(actor=request.user, contact=contact, **fields)
        except KestrelError as error:
            map_service_error(form, error)
        else:
            template = _("Contact %(name)s reactivated.") if active else _("Contact %(name)s deactivated.")
            return _saved(request, customer, "contacts", template % {"name": contact.name})
    return _dialog(
        request,
        "customers/_contact_active_dialog.html",
        {
            "form": form,
            "customer": customer,
            "contact": contact,
            "action": reverse("customers:contact_active", args=[contact.pk]),
            "title": _("Deactivate the contact") if contact.active else _("Reactivate the contact"),
        },
    )


@dataclass(frozen=True)
class MoveRow:
    move: ContactMove
    from_customer: str | None  # None: a customer the user may not read (its name is not shown)
    to_customer: str | None
    moved_by: str


@login_required
@permission_required("customers.view_contact", raise_exception=True)
@require_GET
def contact_history(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A contact's moves between customers (ARC-3). Customers the user may not read stay unnamed."""
    contact = _contact_or_404(request, contact_id)
    moves = list(contact.moves.select_related("moved_by__employee"))
    ids = {m.from_customer_id for m in moves} | {m.to_customer_id for m in moves}
    readable = selectors.customer_list(actor=request.user).filter(pk__in=sorted(ids))
    names: dict[int, str] = dict(readable.values_list("pk", "name")) if ids else {}
    rows = []
    for move in moves:
        user = move.moved_by
        employee = getattr(user, "employee", None) if user is not None else None
        by = employee.name if employee is not None else (user.get_username() if user is not None else "")
        rows.append(MoveRow(move, names.get(move.from_customer_id), names.get(move.to_customer_id), by))
    return _dialog(
        request,
        "customers/_contact_history_dialog.html",
        {"customer": contact.customer, "contact": contact, "rows": rows, "title": _("Move history")},
    )


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def major_event_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer_or_404(request, customer_id, "detail")
    form = MajorEventForm(request.POST or None, initial={"occurred_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.major_event_add(actor=request.user, customer=customer, **form.cleaned_data)
        except KestrelError as error:
            map_service_error(form, error)
        else:
            return _saved(request, customer, "events", _("Major event recorded."))
    action = reverse("customers:event_create", args=[customer.pk])
    return _dialog(
        request,
        "customers/_event_dialog.html",
        {"form": form, "customer": customer, "action": action, "title": _("Record a major event")},
    )


# --- Access requests (ARC-6): the approvers' inbox, one's own requests, filing one ----------------

ACCESS_TABS = ("pending", "decided", "mine")


@login_required
@require_GET
def access_inbox(request: HttpRequest) -> HttpResponse:
    """查阅申请: requests waiting for the user's decision, those decided, and the user's own."""
    pending = workflow_selectors.access_request_inbox(actor=request.user)
    tab = request.GET.get("tab")
    if tab not in ACCESS_TABS:
        # Approvers land on what waits for them; everyone else on their own requests.
        is_approver = request.user.has_perm("customers.approve_access") or pending.exists()
        tab = "pending" if is_approver else "mine"
    if tab == "mine":
        requests = workflow_selectors.access_request_mine(actor=request.user)
    elif tab == "decided":
        requests = workflow_selectors.access_request_inbox(actor=request.user, status=None).exclude(
            status=AccessRequest.Status.PENDING
        )
    else:
        requests = pending
    page = CappedPaginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tab": tab,
        "page": page,
        "pending_count": pending.count() if tab != "pending" else page.paginator.count,
        "page_link": _page_link_prefix(request),
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "now": timezone.now(),
    }
    return render(request, "customers/access_inbox.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def access_request_create(request: HttpRequest) -> HttpResponse:
    form = AccessRequestForm(request.POST or None, initial={"code": request.GET.get("code", "")[:40]})
    if request.method == "POST" and form.is_valid():
        try:
            workflows.access_request_file(
                actor=request.user,
                reason=form.cleaned_data["reason"],
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
            )
        except KestrelError as error:
            map_service_error(form, error)
        else:
            # The same answer whatever matched: the archive's existence is not disclosed.
            messages.success(request, _("Your request has been filed. You will be notified of the decision."))
            return redirect(f"{reverse('customers:access_inbox')}?tab=mine")
    return render(request, "customers/access_request_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def access_request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    """Approve with a validity in days, or reject with a note (a dialog in the inbox)."""
    try:
        access = workflow_selectors.access_request_inbox(actor=request.user, status=None).get(pk=request_id)
    except AccessRequest.DoesNotExist as error:
        raise Http404(_("Access request not found.")) from error
    form = AccessDecisionForm(request.POST or None, initial={"days": workflows.ACCESS_DEFAULT_DAYS})
    if access.status != AccessRequest.Status.PENDING:
        form.add_error(None, _("This request has already been decided or withdrawn."))
    elif request.method == "POST" and form.is_valid():
        approve = request.POST.get("decision") == "approve"
        try:
            access = workflows.access_request_decide(
                actor=request.user,
                request=access,
                approve=approve,
                days=form.cleaned_data["days"],
                note=form.cleaned_data["note"],
            )
        except KestrelError as error:
            map_service_error(form, error)
        else:
            message = _("Access granted.") if approve else _("Request rejected.")
            if not request.htmx:
                messages.success(request, message)
                return redirect("customers:access_inbox")
            response = render(
                request,
                "customers/_access_row.html",
                {
                    "access": access,
                    "oob": True,
                    "tab": "pending",
                    "now": timezone.now(),
                    "pending_count": workflow_selectors.access_request_inbox(actor=request.user).count(),
                },
            )
            response["HX-Reswap"] = "none"
            response["HX-Trigger"] = "kestrel:dialog-saved"
            return response
    action = reverse("customers:access_decide", args=[access.pk])
    return _dialog_plain(
        request,
        "customers/_access_dialog.html",
        {"form": form, "access": access, "action": action, "title": _("Decide the access request")},
    )


@login_required
@require_POST
def access_request_withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    access = workflow_selectors.access_request_mine(actor=request.user).filter(pk=request_id).first()
    if access is None:
        raise Http404(_("Access request not found."))
    try:
        workflows.access_request_withdraw(actor=request.user, request=access)
    except KestrelError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect(f"{reverse('customers:access_inbox')}?tab=mine")


def _dialog_plain(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A dialog that is not about one customer's page: the modal content, or a page without JS."""
    if request.htmx:
        return render(request, template, context)
    return render(request, "customers/dialog_page_plain.html", {**context, "dialog_template": template})


# --- Import wizard (ARC-11): upload → dry-run report → commit with progress ------------------------

IMPORT_TARGET = "import-job"
REPORT_PAGE_SIZE = 50
IMPORT_RUNNING = {ImportJob.Status.UPLOADED, ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING}


def _import_job(request: HttpRequest, job_id: int) -> ImportJob:
    """One's own import (a superuser sees every import), as the import API decides; else 404."""
    jobs = ImportJob.objects.all()
    if not request.user.is_superuser:
        jobs = jobs.filter(requested_by=request.user)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise Http404(_("Import not found."))
    return job


@login_required
@permission_required("customers.import_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = importing.import_job_create(
                actor=request.user,
                file=upload.file,
                file_name=upload.name or "",
                kind=form.cleaned_data["kind"],
                mode=form.cleaned_data["mode"],
                match_key=form.cleaned_data["match_key"] if form.cleaned_data["kind"] == "customers" else "",
                skip_invalid=form.cleaned_data["skip_invalid"],
                dry_run=True,
            )
        except KestrelError as error:
            form.add_error("file", error.message)
        else:
            tasks.import_run_task(job.pk, request.user.pk)  # the dry run, in the background
            return redirect("customers:import_job", job_id=job.pk)
    recent = ImportJob.objects.filter(requested_by=request.user).order_by("-created_at")[:5]
    return render(request, "customers/import_upload.html", {"form": form, "recent": recent, "step": 1})


@login_required
@permission_required("customers.import_customer", raise_exception=True)
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    kind = "contacts" if request.GET.get("kind") == "contacts" else "customers"
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    importing.import_template(kind=kind, target=response)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response


@login_required
@permission_required("customers.import_customer", raise_exception=True)
@require_GET
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job: a progress bar that polls itself while it runs, then the report (htmx)."""
    job = _import_job(request, job_id)
    report = Paginator(job.report or [], REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    # Just committed: the job stays "checked" until the worker picks it up; keep polling meanwhile.
    committing = request.GET.get("commit") == "1" and job.status == ImportJob.Status.CHECKED
    context = {
        "job": job,
        "running": job.status in IMPORT_RUNNING or committing,
        "committing": committing,
        "percent": _import_progress(job, committing=committing),
        "good_rows": max(job.processed_rows - job.error_count, 0),
        "report": report,
        "page_link": _page_link_prefix(request),
        "page_range": report.paginator.get_elided_page_range(report.number, on_each_side=2, on_ends=1),
        "step": 3 if committing or not job.dry_run else 2,
    }
    if request.htmx and request.htmx.target == IMPORT_TARGET:
        return render(request, "customers/_import_job.html", context)
    return render(request, "customers/import_job.html", context)


def _import_progress(job: ImportJob, *, committing: bool) -> int | None:
    """Percent for the bar; None while nothing measurable happens (an indeterminate bar): waiting for
    the worker, or the write phase, which reports no progress through the database."""
    if committing or job.status in {ImportJob.Status.UPLOADED, ImportJob.Status.IMPORTING}:
        return None
    if job.status == ImportJob.Status.CHECKING:
        return int(100 * job.processed_rows / job.total_rows) if job.total_rows else 0
    return 100


@login_required
@permission_required("customers.import_customer", raise_exception=True)
@require_POST
def import_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _import_job(request, job_id)
    if job.status != ImportJob.Status.CHECKED:
        messages.error(request, _("Only a checked file can be imported."))
    else:
        tasks.import_run_task(job.pk, request.user.pk, dry_run=False)
        return redirect(f"{reverse('customers:import_job', args=[job.pk])}?commit=1")
    return redirect("customers:import_job", job_id=job.pk)
