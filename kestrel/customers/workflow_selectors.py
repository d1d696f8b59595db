"""Reads for the customer-archive workflows (ARC-6, ARC-8, ARC-9, ARC-12). Every read takes the actor."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kestrel.core.errors import NotFound
from kestrel.customers.models import (
    AccessRequest,
    ArchiveView,
    Customer,
    DuplicateCandidate,
    Handover,
    SelfServiceInvitation,
)
from kestrel.customers.workflows import (
    SELF_SERVICE_CUSTOMER_FIELDS,
    _employee_of,
    _holder_condition,
    access_requests_decidable_by,
    default_successor,
    handover_pending_for,
)
from kestrel.org.models import Department, Employee

# --- ARC-6 -----------------------------------------------------------------------------------------


def access_request_inbox(
    *, actor: AbstractBaseUser, status: str | None = "pending"
) -> QuerySet[AccessRequest]:
    """Requests the actor may decide, by the level rules (查阅档案审批表 waiting for them)."""
    requests = access_requests_decidable_by(actor).select_related("customer", "requester", "decided_by")
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-created_at", "-pk")


def access_request_mine(*, actor: AbstractBaseUser) -> QuerySet[AccessRequest]:
    employee = _employee_of(actor)
    if employee is None:
        return AccessRequest.objects.none()
    return (
        AccessRequest.objects.filter(requester=employee)
        .select_related("customer", "decided_by")
        .order_by("-created_at", "-pk")
    )


def access_request_get(*, actor: AbstractBaseUser, id: int) -> AccessRequest:
    """A request the actor filed or may decide."""
    employee = _employee_of(actor)
    request = (
        AccessRequest.objects.filter(
            Q(pk__in=access_requests_decidable_by(actor).values("pk"))
            | Q(requester_id=employee.pk if employee else None)
        )
        .select_related("customer", "requester", "decided_by")
        .filter(pk=id)
        .first()
    )
    if request is None:
        raise NotFound(_("Access request not found."), details={"id": id})
    return request


def view_log_visible(*, actor: AbstractBaseUser, customer: Customer) -> bool:
    """Holders, approvers of the customer's level and administrators see who read an archive."""
    if actor.is_superuser:
        return True
    employee = _employee_of(actor)
    if employee is None:
        return False
    if Customer.objects.filter(_holder_condition(employee), pk=customer.pk).exists():
        return True
    managed_paths = Department.objects.filter(manager=employee).values_list("path", flat=True)
    department_path = (
        Department.objects.filter(pk=customer.department_id).values_list("path", flat=True).first()
    )
    if department_path and any(department_path.startswith(path) for path in managed_paths):
        return True
    return actor.has_perm("customers.approve_access") and (
        Customer.objects.readable_by(actor).filter(pk=customer.pk).exists()
    )


def archive_view_log(*, actor: AbstractBaseUser, customer_id: int) -> QuerySet[ArchiveView]:
    """The view log of one archive (ARC-6): reads and refused attempts, newest first. To anyone who
    may not see it, the customer is "not found", exactly like an unreadable archive."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or not view_log_visible(actor=actor, customer=customer):
        raise NotFound(_("Customer not found."), details={"id": customer_id})
    return (
        ArchiveView.objects.filter(customer_id=customer_id)
        .select_related("viewer__employee")
        .order_by("-viewed_at", "-pk")
    )


# --- ARC-8 -----------------------------------------------------------------------------------------


def handover_employee_get(*, actor: AbstractBaseUser, id: int) -> Employee:
    """The departing employee, within the actor's data scope (active or departed)."""
    employee = (
        Employee.objects.visible_to(actor).select_related("department", "manager").filter(pk=id).first()
    )
    if employee is None:
        raise NotFound(_("Employee not found."), details={"id": id})
    return employee


def handover_preview(
    *,
    employee: Employee,
    successor: Employee | None = None,
    overrides: dict[int, int] | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """What a handover of ``employee`` would move, and to whom: counts and the customers held (as
    owner, co-owner or relationship manager), each with its planned successor."""
    overrides = {int(k): int(v) for k, v in (overrides or {}).items()}
    chosen = successor or default_successor(employee)
    held = (
        Customer.objects.filter(_holder_condition(employee))
        .distinct()
        .order_by("code")
        .values("pk", "code", "name", "owner_id", "relationship_manager_id")
    )
    rows = []
    for row in held[:limit]:
        roles = []
        if row["owner_id"] == employee.pk:
            roles.append("owner")
        if row["relationship_manager_id"] == employee.pk:
            roles.append("relationship_manager")
        if not roles:
            roles.append("co_owner")
        rows.append(
            {
                "id": row["pk"],
                "code": row["code"],
                "name": row["name"],
                "roles": roles,
                "successor_id": overrides.get(row["pk"], chosen.pk if chosen else None),
            }
        )
    return {
        "employee_id": employee.pk,
        "employee_name": employee.name,
        "employee_status": employee.status,
        "default_successor_id": chosen.pk if chosen else None,
        "default_successor_name": chosen.name if chosen else "",
        "counts": handover_pending_for(employee),
        "customers": rows,
        "customers_truncated": held.count() > limit,
    }


def handover_list(*, actor: AbstractBaseUser) -> QuerySet[Handover]:
    """Handovers of departing employees within the actor's data scope, newest first (ARC-8)."""
    return (
        Handover.objects.filter(departing__in=Employee.objects.visible_to(actor).values("pk"))
        .select_related("departing__department", "prepared_by__employee", "approved_by__employee")
        .order_by("-created_at", "-pk")
    )


def handover_get(*, actor: AbstractBaseUser, id: int) -> Handover:
    handover = handover_list(actor=actor).filter(pk=id).first()
    if handover is None:
        raise NotFound(_("Handover not found."), details={"id": id})
    return handover


# --- ARC-9 -----------------------------------------------------------------------------------------


def duplicate_candidates(
    *, actor: AbstractBaseUser, status: str | None = "open"
) -> QuerySet[DuplicateCandidate]:
    """Likely duplicate pairs where the actor may read both customers."""
    readable = Customer.objects.readable_by(actor).values("pk")
    candidates = DuplicateCandidate.objects.filter(customer__in=readable, other__in=readable).select_related(
        "customer", "other"
    )
    if status:
        candidates = candidates.filter(status=status)
    return candidates.order_by("-score", "-found_at", "pk")


def duplicate_get(*, actor: AbstractBaseUser, id: int) -> DuplicateCandidate:
    candidate = duplicate_candidates(actor=actor, status=None).filter(pk=id).first()
    if candidate is None:
        raise NotFound(_("Possible duplicate not found."), details={"id": id})
    return candidate


# --- ARC-12 ----------------------------------------------------------------------------------------


def self_service_list(
    *, actor: AbstractBaseUser, status: str | None = None
) -> QuerySet[SelfServiceInvitation]:
    """Invitations the actor sent, or for customers they may read, or for prospects invited by
    employees within their data scope."""
    employee = _employee_of(actor)
    condition = Q(customer__in=Customer.objects.readable_by(actor).values("pk")) | Q(
        customer__isnull=True, invited_by__in=Employee.objects.visible_to(actor).values("pk")
    )
    if employee is not None:
        condition |= Q(invited_by=employee)
    invitations = SelfServiceInvitation.objects.filter(condition).select_related("customer", "invited_by")
    if status:
        invitations = invitations.filter(status=status)
    return invitations.order_by("-created_at", "-pk")


def self_service_get(*, actor: AbstractBaseUser, id: int) -> SelfServiceInvitation:
    invitation = self_service_list(actor=actor).filter(pk=id).first()
    if invitation is None:
        raise NotFound(_("Self-service form not found."), details={"id": id})
    return invitation


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if not isinstance(value, str | int) else value


def self_service_comparison(*, invitation: SelfServiceInvitation) -> list[dict[str, Any]]:
    """Side by side: each form field with the archive's current value and the submitted one."""
    submitted = (invitation.submitted_data or {}).get("customer", {})
    customer = invitation.customer
    rows = []
    for name in SELF_SERVICE_CUSTOMER_FIELDS:
        current = _plain(getattr(customer, name)) if customer is not None else ""
        new = _plain(submitted.get(name))
        rows.append(
            {
                "field": name,
                "label": str(Customer._meta.get_field(name).verbose_name),
                "current": current,
                "submitted": new,
                "changed": name in submitted and str(new) != str(current),
            }
        )
    return rows
