"""Pages of the customer-archive workflows: handover 交接 (ARC-8), duplicates 疑似重复 and merge
(ARC-9), self-service forms 客户资料表 (ARC-12).

The same selectors and services as the API (``api_workflows``), behind the same permissions: reads
through ``workflow_selectors`` and ``selectors`` (data scope — an employee, pair or form outside it is
a 404, exactly like an unreadable archive), writes through ``workflows``, whose refusals become form
errors or a message on the page, never an error page. Lists have a filter bar that swaps only their
results (htmx, URL pushed) and work as plain pages without JavaScript.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kestrel.core.errors import KestrelError, NotFound
from kestrel.customers import masking, selectors, workflow_selectors, workflows
from kestrel.customers.forms import map_service_error
from kestrel.customers.models import Customer, DuplicateCandidate, Handover, SelfServiceInvitation
from kestrel.customers.workflow_forms import (
    DUPLICATE_REASONS,
    DuplicateFilterForm,
    HandoverFilterForm,
    HandoverPickForm,
    HandoverPlanForm,
    InviteForm,
    MergeForm,
    ReviewForm,
    SelfServiceFilterForm,
)
from kestrel.org.models import Employee
from kestrel.org.selectors import employee_list

PAGE_SIZE = 20
TEMPLATES = "customers/workflows"
HANDOVER = "customers.handover_customer"
MERGE = "customers.merge_customer"


def _page(request: HttpRequest, rows: QuerySet) -> dict[str, Any]:
    """A page of ``rows`` with what the shared pagination include needs."""
    page: Page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "page_link": f"?{encoded}&page=" if encoded else "?page=",
    }


def _list_page(
    request: HttpRequest, *, template: str, results: str, target: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only its results when the filter bar or a page link asked (htmx)."""
    context = {**context, "results_template": results, "target": f"#{target}"}
    if request.htmx and not request.htmx.history_restore_request and request.htmx.target == target:
        response = render(request, results, context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _not_found(error: NotFound) -> Http404:
    return Http404(error.message)


# --- ARC-8: handover 交接 ----------------------------------------------------------------------------


def _employees_named(ids: set[int]) -> dict[int, Employee]:
    """Successors named in a plan, whatever the user's scope (as the API's ``handover_detail``)."""
    if not ids:
        return {}
    return {e.pk: e for e in Employee.objects.filter(pk__in=ids).select_related("department")}


def _customer_count(counts: dict[str, int]) -> int:
    return counts.get("owned", 0) + counts.get("co_owned", 0) + counts.get("relationship_manager", 0)


@login_required
@permission_required(HANDOVER, raise_exception=True)
@require_GET
def handover_list(request: HttpRequest) -> HttpResponse:
    """交接记录: every handover of employees within the user's data scope, newest first."""
    form = HandoverFilterForm(request.GET, auto_id="handover-%s")
    filters = form.filters()
    handovers = workflow_selectors.handover_list(actor=request.user)
    if filters.get("status"):
        handovers = handovers.filter(status=filters["status"])
    if filters.get("q"):
        handovers = handovers.filter(
            Q(departing__name__icontains=filters["q"]) | Q(departing__employee_no__icontains=filters["q"])
        )
    return _list_page(
        request,
        template=f"{TEMPLATES}/handover_list.html",
        results=f"{TEMPLATES}/_handover_results.html",
        target="handover-results",
        context={"form": form, **_page(request, handovers)},
    )


@login_required
@permission_required(HANDOVER, raise_exception=True)
@require_http_methods(["GET", "POST"])
def handover_new(request: HttpRequest) -> HttpResponse:
    """发起交接: pick the departing employee, see what they hold, name successors, submit for review."""
    employees = list(
        employee_list(actor=request.user).select_related("department").order_by("-status", "name", "pk")
    )
    source = request.POST if request.method == "POST" else request.GET
    chosen = {"employee": source.get("employee", "")} if "employee" in source else None
    pick = HandoverPickForm(chosen, employees=employees, auto_id="id_%s")
    context: dict[str, Any] = {"pick": pick}
    if not pick.is_valid():  # the first visit (nothing chosen yet), or a choice outside the list
        return render(request, f"{TEMPLATES}/handover_new.html", context)
    try:
        departing = workflow_selectors.handover_employee_get(
            actor=request.user, id=pick.cleaned_data["employee"]
        )
    except NotFound as error:
        raise _not_found(error) from error

    default = workflows.default_successor(departing)
    successors = [e for e in employees if e.status == Employee.Status.ACTIVE and e.pk != departing.pk]
    if default is not None and default.pk not in {e.pk for e in successors}:
        successors.insert(0, default)
    by_id = {e.pk: e for e in successors}
    held = workflow_selectors.handover_preview(employee=departing)
    form = HandoverPlanForm(
        request.POST if request.method == "POST" else None,
        successors=successors,
        customer_ids=[row["id"] for row in held["customers"]],
        initial={"successor": default.pk if default else None},
        auto_id="id_%s",
    )
    successor, overrides = default, {}
    if request.method == "POST" and form.is_valid():
        successor = by_id.get(form.cleaned_data["successor"]) or default
        overrides = form.cleaned_data["overrides"]
        if request.POST.get("action") == "submit":
            try:
                handover = workflows.handover_prepare(
                    actor=request.user,
                    departing=departing,
                    successor=successor,
                    overrides=overrides,
                    note=form.cleaned_data["note"],
                )
            except KestrelError as error:
                map_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("The handover of %(name)s is waiting for approval.") % {"name": departing.name},
                )
                return redirect("customers:handover_detail", handover_id=handover.pk)
    preview = workflow_selectors.handover_preview(
        employee=departing, successor=successor, overrides=overrides
    )
    context.update(
        {
            "departing": departing,
            "form": form,
            "preview": preview,
            "rows": _plan_rows(preview, by_id, overrides),
            "default": default,
            "customer_count": _customer_count(preview["counts"]),
        }
    )
    return render(request, f"{TEMPLATES}/handover_new.html", context)


def _plan_rows(
    preview: dict[str, Any], successors: dict[int, Employee], overrides: dict[int, int]
) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "successor": successors.get(row["successor_id"]),
            "overridden": row["id"] in overrides,
        }
        for row in preview["customers"]
    ]


@login_required
@permission_required(HANDOVER, raise_exception=True)
@require_GET
def handover_detail(request: HttpRequest, handover_id: int) -> HttpResponse:
    """One handover: the plan while it waits for approval, the result once it is done."""
    try:
        handover = workflow_selectors.handover_get(actor=request.user, id=handover_id)
    except NotFound as error:
        raise _not_found(error) from error
    plan = handover.plan or {}
    overrides = {int(k): int(v) for k, v in (plan.get("overrides") or {}).items()}
    named = _employees_named(
        {int(plan["successor_id"]), *overrides.values()} if plan.get("successor_id") else set()
    )
    context: dict[str, Any] = {
        "handover": handover,
        "default": named.get(int(plan.get("successor_id") or 0)),
        "override_count": len(overrides),
    }
    if handover.status == Handover.Status.DRAFT:
        preview = workflow_selectors.handover_preview(
            employee=handover.departing, successor=context["default"], overrides=overrides
        )
        context.update(
            {
                "preview": preview,
                "rows": _plan_rows(preview, named, overrides),
                "customer_count": _customer_count(preview["counts"]),
            }
        )
    elif handover.status == Handover.Status.APPROVED:
        result = plan.get("result") or {}
        context.update(
            {
                "result": result,
                "moved_count": _customer_count(result),
                "still_held": _customer_count(workflows.handover_pending_for(handover.departing)),
            }
        )
    return render(request, f"{TEMPLATES}/handover_detail.html", context)


@login_required
@permission_required(HANDOVER, raise_exception=True)
@require_POST
def handover_approve(request: HttpRequest, handover_id: int) -> HttpResponse:
    """Approve and carry the plan out (one transaction); afterwards the employee holds nothing."""
    try:
        handover = workflow_selectors.handover_get(actor=request.user, id=handover_id)
    except NotFound as error:
        raise _not_found(error) from error
    try:
        handover = workflows.handover_approve(actor=request.user, handover=handover)
    except KestrelError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Handover done: %(name)s holds no customer any more.") % {"name": handover.departing.name},
        )
    return redirect("customers:handover_detail", handover_id=handover.pk)


# --- ARC-9: duplicates 疑似重复 and merge -----------------------------------------------------------


def _reasons(candidate: DuplicateCandidate) -> list[str]:
    return [str(DUPLICATE_REASONS.get(r, r)) for r in candidate.reason.split(",") if r]


@login_required
@permission_required(MERGE, raise_exception=True)
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """疑似重复: pairs the nightly scan (or "scan now") flagged, where the user reads both archives."""
    form = DuplicateFilterForm(request.GET, auto_id="duplicate-%s", initial={"status": "open"})
    filters = form.filters()
    status = filters.get("status", "open")
    candidates = workflow_selectors.duplicate_candidates(
        actor=request.user, status=None if status == "all" else status
    ).select_related("customer__owner", "other__owner")
    if filters.get("reason"):
        candidates = candidates.filter(reason__contains=filters["reason"])
    context = {"form": form, "status": status, **_page(request, candidates)}
    context["rows"] = [(candidate, _reasons(candidate)) for candidate in context["page"]]
    return _list_page(
        request,
        template=f"{TEMPLATES}/duplicate_list.html",
        results=f"{TEMPLATES}/_duplicate_results.html",
        target="duplicate-results",
        context=context,
    )


@login_required
@permission_required(MERGE, raise_exception=True)
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    found = workflows.duplicates_scan()
    if found:
        messages.success(
            request,
            ngettext(
                "Scan finished: %(count)d new possible duplicate.",
                "Scan finished: %(count)d new possible duplicates.",
                found,
            )
            % {"count": found},
        )
    else:
        messages.info(request, _("Scan finished: no new possible duplicates."))
    return redirect("customers:duplicate_list")


# What the comparison shows side by side: identity, contact channels, ownership. Amounts stay on the
# 360° page, where the ARC-14 mask applies.
COMPARED_FIELDS = [
    "code", "name", "short_name", "kind", "status", "credit_code", "legal_representative", "phone",
    "fax", "email", "website", "province", "city", "address", "owner", "department", "confidentiality",
    "grade", "created_at",
]  # fmt: skip


def _shown(customer: Customer, name: str) -> str:
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if value in (None, ""):
        return ""
    if getattr(field, "choices", None) and not field.is_relation:
        return str(getattr(customer, f"get_{name}_display")())
    if name == "created_at":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(getattr(value, "name", value))


def _comparison(left: Customer, right: Customer) -> list[dict[str, Any]]:
    rows = []
    for name in COMPARED_FIELDS:
        a, b = _shown(left, name), _shown(right, name)
        rows.append(
            {
                "label": Customer._meta.get_field(name).verbose_name,
                "left": a,
                "right": b,
                "differs": a != b and name != "code",  # codes always differ: not a finding
            }
        )
    return rows


def _duplicate_page(
    request: HttpRequest, candidate: DuplicateCandidate, *, merge_form: MergeForm | None = None
) -> HttpResponse:
    try:
        left = selectors.customer_get(actor=request.user, id=candidate.customer_id, channel="duplicates")
        right = selectors.customer_get(actor=request.user, id=candidate.other_id, channel="duplicates")
    except NotFound as error:
        raise _not_found(error) from error
    contacts = selectors.contact_list(actor=request.user).filter(customer_id__in=[left.pk, right.pk])
    counts = {pk: 0 for pk in (left.pk, right.pk)}
    for customer_id in contacts.values_list("customer_id", flat=True):
        counts[customer_id] += 1
    context = {
        "candidate": candidate,
        "reasons": _reasons(candidate),
        "sides": [
            (left, _("Archive A"), counts[left.pk]),
            (right, _("Archive B"), counts[right.pk]),
        ],
        "merges": [(left, right), (right, left)],
        "rows": _comparison(left, right),
        "merge_form": merge_form,
        "may_merge": request.user.has_perms([MERGE, "customers.change_customer"]),
        "mergeable": candidate.status == DuplicateCandidate.Status.OPEN
        and Customer.Status.ARCHIVED not in {left.status, right.status},
    }
    return render(request, f"{TEMPLATES}/duplicate_compare.html", context)


def _candidate_or_404(request: HttpRequest, candidate_id: int) -> DuplicateCandidate:
    try:
        return workflow_selectors.duplicate_get(actor=request.user, id=candidate_id)
    except NotFound as error:
        raise _not_found(error) from error


@login_required
@permission_required(MERGE, raise_exception=True)
@require_GET
def duplicate_compare(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The two archives side by side, with "not a duplicate" and "merge, keeping this one"."""
    return _duplicate_page(request, _candidate_or_404(request, candidate_id))


@login_required
@permission_required(MERGE, raise_exception=True)
@require_POST
def duplicate_dismiss(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = _candidate_or_404(request, candidate_id)
    try:
        workflows.duplicate_dismiss(actor=request.user, candidate=candidate)
    except KestrelError as error:
        messages.error(request, error.message)
        return redirect("customers:duplicate_compare", candidate_id=candidate.pk)
    messages.success(
        request,
        _("%(a)s and %(b)s are marked as not duplicates.")
        % {"a": candidate.customer.name, "b": candidate.other.name},
    )
    return redirect("customers:duplicate_list")


@login_required
@permission_required([MERGE, "customers.change_customer"], raise_exception=True)
@require_POST
def duplicate_merge(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Merge the pair, keeping the archive the user chose; the other one is archived."""
    candidate = _candidate_or_404(request, candidate_id)
    form = MergeForm(request.POST, pair=(candidate.customer_id, candidate.other_id))
    if not form.is_valid():
        return _duplicate_page(request, candidate, merge_form=form)
    try:
        kept = selectors.customer_get(actor=request.user, id=form.cleaned_data["kept"], channel="merge")
        merged = selectors.customer_get(actor=request.user, id=form.merged_id, channel="merge")
        record = workflows.customers_merge(actor=request.user, kept=kept, merged=merged)
    except NotFound as error:
        raise _not_found(error) from error
    except KestrelError as error:
        form.add_error(None, error.message)
        return _duplicate_page(request, candidate, merge_form=form)
    messages.success(
        request,
        _("%(merged)s (%(code)s) was merged into this archive and archived; its records moved here.")
        % {"merged": record.merged_name, "code": record.merged_code},
    )
    return redirect("customers:detail", customer_id=kept.pk)


# --- ARC-12: self-service forms 客户资料表 ------------------------------------------------------------


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_GET
def self_service_list(request: HttpRequest) -> HttpResponse:
    """客户自助填报: the links sent, the forms waiting for review and those done."""
    form = SelfServiceFilterForm(request.GET, auto_id="self-service-%s")
    filters = form.filters()
    invitations = workflow_selectors.self_service_list(actor=request.user, status=filters.get("status"))
    return _list_page(
        request,
        template=f"{TEMPLATES}/self_service_list.html",
        results=f"{TEMPLATES}/_self_service_results.html",
        target="self-service-results",
        context={"form": form, "now": timezone.now(), **_page(request, invitations)},
    )


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def self_service_invite(request: HttpRequest, customer_id: int | None = None) -> HttpResponse:
    """A link for the customer — or, without a customer, a prospect — to fill in their own data. The
    link is shown once, on the answer to the POST: only its hash is kept."""
    customer = None
    if customer_id is not None:
        try:
            customer = selectors.customer_get(actor=request.user, id=customer_id, channel="self_service")
        except NotFound as error:
            raise _not_found(error) from error
    elif not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied
    form = InviteForm(request.POST if request.method == "POST" else None, auto_id="id_%s")
    context: dict[str, Any] = {"form": form, "customer": customer, "now": timezone.now()}
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = workflows.self_service_invite(
                actor=request.user, customer=customer, days=form.cleaned_data["days"]
            )
        except KestrelError as error:
            map_service_error(form, error)
        else:
            context.update(
                {
                    "invitation": invitation,
                    "link": request.build_absolute_uri(reverse("customer-self-service", args=[token])),
                    "form": InviteForm(auto_id="id_%s"),
                }
            )
    if customer is not None:
        context["earlier"] = workflow_selectors.self_service_list(actor=request.user).filter(
            customer=customer
        )[:10]
    return render(request, f"{TEMPLATES}/self_service_invite.html", context)


def _contact_shown(user: Any, contact: dict[str, Any]) -> dict[str, Any]:
    """A submitted contact as the page shows it: mobile and WeChat masked as anywhere else (ARC-14)."""
    channels = [
        masking.contact_value(user, "mobile", contact.get("mobile", "")),
        contact.get("phone", ""),
        contact.get("email", ""),
        masking.contact_value(user, "wechat", contact.get("wechat", "")),
    ]
    return {"name": contact.get("name", ""), "title": contact.get("title", ""), "channels": channels}


def _masked(user: Any, name: str, value: Any) -> Any:
    return masking.customer_value(user, name, value) if value not in (None, "") else value


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def self_service_review(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """The submission beside the archive's current values, field by field; the reviewer accepts
    fields and contacts (merged through the ordinary services) or rejects the submission."""
    try:
        invitation = workflow_selectors.self_service_get(actor=request.user, id=invitation_id)
    except NotFound as error:
        raise _not_found(error) from error
    submitted = invitation.submitted_data or {}
    contacts = submitted.get("contacts", [])
    form = ReviewForm(
        request.POST if request.method == "POST" else None,
        submitted_fields=list(submitted.get("customer", {})),
        contact_count=len(contacts),
    )
    if request.method == "POST":
        if not request.user.has_perm("customers.change_customer"):
            raise PermissionDenied
        if form.is_valid():
            reject = form.cleaned_data["decision"] == "reject"
            if (
                invitation.customer_id is None
                and not reject
                and not request.user.has_perm("customers.add_customer")
            ):
                raise PermissionDenied
            try:
                invitation = workflows.self_service_review(
                    actor=request.user,
                    invitation=invitation,
                    accept_fields=form.cleaned_data["accept_fields"],
                    accept_contacts=form.cleaned_data["accept_contacts"],
                    reject=reject,
                )
            except KestrelError as error:
                form.add_error(None, error.message)
            else:
                if reject:
                    messages.success(request, _("The submission was rejected; the archive is unchanged."))
                else:
                    messages.success(request, _("The accepted fields were written to the archive."))
                return redirect("customers:self_service_review", invitation_id=invitation.pk)
    user = request.user
    rows = [
        {
            **row,
            "current": _masked(user, row["field"], row["current"]),
            "submitted": _masked(user, row["field"], row["submitted"]),
            "present": row["field"] in submitted.get("customer", {}),
        }
        for row in workflow_selectors.self_service_comparison(invitation=invitation)
    ]
    accepted = (
        set(form["accept_fields"].value() or [])
        if form.is_bound
        else {r["field"] for r in rows if r["changed"] and r["submitted"] != ""}
    )
    context = {
        "invitation": invitation,
        "rows": rows,
        "accepted": accepted,
        "contacts": [_contact_shown(user, contact) for contact in contacts],
        "now": timezone.now(),
        "form": form,
        "reviewable": invitation.status == SelfServiceInvitation.Status.SUBMITTED
        and user.has_perm("customers.change_customer"),
    }
    return render(request, f"{TEMPLATES}/self_service_review.html", context)
