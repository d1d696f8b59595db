"""Customer-archive workflows: access requests (ARC-6), handover (ARC-8), duplicates and merge (ARC-9)
and the self-service form (ARC-12). Writes only; the reads live in ``workflow_selectors``.

Decisions (see also the docstrings below):

- Filing an access request answers the same "filed" for an unreadable customer, for several
  customers sharing the name and for a code or name that matches nothing (nothing is stored then): the
  answer never tells whether, or what, the requester may not read.
- A merge archives the merged customer (status archived, ``custom_fields["merged_into"]``) instead of
  deleting it: foreign keys from other modules and the audit trail keep pointing at a real row.
"""

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import Conflict, KestrelError, NotFound, PermissionDenied, ValidationFailed
from kestrel.core.scope import reach_for
from kestrel.customers import services
from kestrel.customers.models import (
    AccessRequest,
    ArchiveView,
    Contact,
    ContactMove,
    Customer,
    CustomerCharacteristics,
    CustomerGrade,
    CustomerMerge,
    DuplicateCandidate,
    Handover,
    SelfServiceInvitation,
)
from kestrel.notify.models import Notification
from kestrel.notify.services import notify
from kestrel.org.models import Department, Employee

ACCESS_DEFAULT_DAYS = 7


class error_codes:
    """The workflows' error codes (kept here beside ``kestrel/customers/error_codes.py``)."""

    NO_EMPLOYEE = "no_employee_record"
    ACCESS_DAYS = "access_grant_days"
    ACCESS_NOT_PENDING = "access_request_not_pending"
    BAD_SUCCESSOR = "handover_bad_successor"
    HANDOVER_NOT_DRAFT = "handover_not_draft"
    HANDOVER_INCOMPLETE = "handover_incomplete"
    DUPLICATE_REVIEWED = "duplicate_reviewed"
    MERGE_SAME = "merge_same_customer"
    MERGE_ARCHIVED = "merge_archived_customer"
    SELF_SERVICE_NOT_SUBMITTED = "self_service_not_submitted"


def _setting(name: str, default: int) -> int:
    # Read when used, never at import time (Django's coding style); settings.py may define them.
    return int(getattr(settings, name, default))


def _employee_of(actor: AbstractBaseUser | None) -> Employee | None:
    if actor is None or not actor.is_authenticated:
        return None
    return (
        Employee.objects.filter(user=actor, status=Employee.Status.ACTIVE)
        .select_related("department")
        .first()
    )


def _active_employee(actor: AbstractBaseUser) -> Employee:
    employee = _employee_of(actor)
    if employee is None:
        raise PermissionDenied(
            _("Only an active employee can do this."), code=error_codes.NO_EMPLOYEE, details={}
        )
    return employee


# --- ARC-6: access requests (查阅档案审批) --------------------------------------------------------


def employees_with_perms(*codes: str) -> models.QuerySet[Employee]:
    """Active employees holding every permission in ``codes`` (roles, groups, direct, or superuser)."""
    employees = Employee.objects.filter(status=Employee.Status.ACTIVE, user__is_active=True)
    for code in codes:
        app_label, codename = code.split(".", 1)
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        holders = Employee.objects.filter(
            Q(roles__permissions__in=permission)
            | Q(user__user_permissions__in=permission)
            | Q(user__groups__permissions__in=permission)
            | Q(user__is_superuser=True)
        ).values("pk")
        employees = employees.filter(pk__in=holders)
    return employees


def department_line(department_id: int) -> list[Department]:
    """The department and every department above it, nearest first."""
    department = Department.objects.get(pk=department_id)
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    by_id = Department.objects.in_bulk(ids)
    return [by_id[pk] for pk in reversed(ids) if pk in by_id]


def access_approvers(*, customer: Customer) -> list[Employee]:
    """Who is asked to decide (ARC-6 / 保密规定): the level decides.

    - company level → the marketing director: holders of ``customers.approve_access`` together with
      ``customers.read_all_levels``;
    - department level → the manager of the customer's department (the nearest manager above it when
      the department has none);
    - personal level → the owner's department manager (the customer's department follows the owner),
      likewise the nearest one above.
    """
    if customer.confidentiality == Customer.Confidentiality.COMPANY:
        return list(employees_with_perms("customers.approve_access", "customers.read_all_levels"))
    for department in department_line(customer.department_id):
        if not department.manager_id:
            continue
        if (
            customer.confidentiality == Customer.Confidentiality.PERSONAL
            and department.manager_id == customer.owner_id
        ):
            continue  # the owner manages this department: the next manager up decides
        manager = Employee.objects.filter(pk=department.manager_id, status=Employee.Status.ACTIVE).first()
        if manager is not None:
            return [manager]
    # Nobody below the top: the company-level approvers decide.
    return list(employees_with_perms("customers.approve_access", "customers.read_all_levels"))


def access_requests_decidable_by(actor: AbstractBaseUser) -> models.QuerySet[AccessRequest]:
    """Requests ``actor`` may decide, as one query (the approver inbox and the check on decide).

    Department and personal levels: managers of the customer's department or of any department above
    it, and holders of ``customers.approve_access`` (e.g. a branch general manager) for customers
    within their data scope. Every level: holders of approve_access + read_all_levels (the marketing
    director), within their data scope. Superusers: everything. Nobody decides their own request.
    """
    requests = AccessRequest.objects.all()
    if actor.is_superuser:
        return requests
    employee = _employee_of(actor)
    if employee is None:
        return requests.none()
    requests = requests.exclude(requester=employee)
    below_company = Q(
        customer__confidentiality__in=[Customer.Confidentiality.DEPARTMENT, Customer.Confidentiality.PERSONAL]
    )
    managed_paths = list(Department.objects.filter(manager=employee).values_list("path", flat=True))
    condition = Q(pk__in=[])
    if managed_paths:
        subtree = Q(pk__in=[])
        for path in managed_paths:
            subtree |= Q(path__startswith=path)
        condition |= below_company & Q(
            customer__department__in=Department.objects.filter(subtree).values("pk")
        )
    if actor.has_perm("customers.approve_access"):
        scope = reach_for(actor).as_q(owner="customer__owner", department="customer__department")
        every_level = actor.has_perm("customers.read_all_levels")
        if scope is None and every_level:  # every level, everywhere (an empty Q() would vanish from the OR)
            return requests
        levels = Q() if every_level else below_company
        condition |= levels if scope is None else levels & scope
    return requests.filter(condition)


def _find_customers(*, code: str, name: str) -> list[Customer]:
    code, name = (code or "").strip(), (name or "").strip()
    if bool(code) == bool(name):
        raise ValidationFailed(
            _("Give either the customer code or the customer's exact full name."),
            details={"code": [_("Give a code or a name.")], "name": [_("Give a code or a name.")]},
        )
    if code:
        return list(Customer.objects.filter(code=code).exclude(status=Customer.Status.ARCHIVED))
    return list(Customer.objects.filter(name=name).exclude(status=Customer.Status.ARCHIVED)[:10])


def access_request_file(
    *, actor: AbstractBaseUser, reason: str, code: str = "", name: str = ""
) -> list[AccessRequest]:
    """File 查阅档案审批 for the customer with this code (or exact full name) with a reason.

    The caller learns nothing about the archive: whether it exists, how many share the name, which
    level it has — the answer is "filed" either way (nothing is stored for a match of nothing).
    Customers the actor can already read are skipped (no request is needed; not a secret either).
    A pending request of the same person for the same customer is not duplicated. The approvers of
    each customer are notified in the same transaction.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why you need to read the archive."), details={"reason": [_("This field is required.")]}
        )
    requester = _active_employee(actor)
    filed: list[AccessRequest] = []
    with transaction.atomic():
        candidates = _find_customers(code=code, name=name)
        readable = set(
            Customer.objects.readable_by(actor)
            .filter(pk__in=[c.pk for c in candidates])
            .values_list("pk", flat=True)
        )
        pending = set(
            AccessRequest.objects.filter(
                requester=requester, customer__in=candidates, status=AccessRequest.Status.PENDING
            ).values_list("customer_id", flat=True)
        )
        for customer in candidates:
            if customer.pk in readable or customer.pk in pending:
                continue
            request = AccessRequest.objects.create(customer=customer, requester=requester, reason=reason)
            notify(
                event_key=f"customer-access:{request.pk}:filed",
                kind="customer.access_requested",
                recipients=access_approvers(customer=customer),
                title=_("%(name)s asks to read the archive %(code)s")
                % {"name": requester.name, "code": customer.code},
                body=reason,
                link=reverse("customers:access_inbox"),
            )
            filed.append(request)
    return filed


def access_request_decide(
    *,
    actor: AbstractBaseUser,
    request: AccessRequest,
    approve: bool,
    days: int | None = None,
    note: str = "",
) -> AccessRequest:
    """Approve (a grant valid for ``days``: default 7, at most ``KESTREL_ACCESS_GRANT_MAX_DAYS``) or
    reject with a note. Only a pending request, only by an approver of its level; the requester is
    notified. The grant itself is read by ``Customer.objects.readable_by``."""
    max_days = _setting("KESTREL_ACCESS_GRANT_MAX_DAYS", 30)
    days = ACCESS_DEFAULT_DAYS if days is None else days
    if approve and not 1 <= days <= max_days:
        raise ValidationFailed(
            _("A grant lasts from 1 to %(max)d days.") % {"max": max_days},
            code=error_codes.ACCESS_DAYS,
            details={"days": [_("From 1 to %(max)d.") % {"max": max_days}]},
        )
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed(
            _("Give the reason for the rejection."), details={"note": [_("This field is required.")]}
        )
    with transaction.atomic():
        request = (
            access_requests_decidable_by(actor)
            .select_for_update(of=("self",))
            .select_related("customer", "requester")
            .filter(pk=request.pk)
            .first()
        )
        if request is None:
            raise NotFound(_("Access request not found."), details={})
        if request.status != AccessRequest.Status.PENDING:
            raise Conflict(
                _("This request has already been decided or withdrawn."),
                code=error_codes.ACCESS_NOT_PENDING,
                details={"status": request.status},
            )
        now = timezone.now()
        request.status = AccessRequest.Status.APPROVED if approve else AccessRequest.Status.REJECTED
        request.decided_by = _employee_of(actor)
        request.decided_at = now
        request.decision_note = note
        request.valid_until = now + timedelta(days=days) if approve else None
        request.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "valid_until", "updated_at"]
        )
        title = (
            _("Your request to read %(code)s was approved")
            if approve
            else _("Your request to read %(code)s was rejected")
        ) % {"code": request.customer.code}
        notify(
            event_key=f"customer-access:{request.pk}:decided",
            kind="customer.access_decided",
            recipients=[request.requester],
            title=title,
            body=note,
            link=reverse("customers:detail", args=[request.customer_id]) if approve else "",
        )
    return request


def access_request_withdraw(*, actor: AbstractBaseUser, request: AccessRequest) -> AccessRequest:
    """The requester withdraws a pending request, or ends an approved grant early."""
    requester = _active_employee(actor)
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().filter(pk=request.pk, requester=requester).first()
        if request is None:
            raise NotFound(_("Access request not found."), details={})
        if request.status not in {AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED}:
            raise Conflict(
                _("This request has already been decided or withdrawn."),
                code=error_codes.ACCESS_NOT_PENDING,
                details={"status": request.status},
            )
        request.status = AccessRequest.Status.WITHDRAWN
        if request.valid_until is not None:
            request.valid_until = min(request.valid_until, timezone.now())
        request.save(update_fields=["status", "valid_until", "updated_at"])
    return request


def archive_denied_alerts(*, since: Any = None) -> int:
    """ARC-6 "can raise an alert": a user refused ``KESTREL_DENIED_READS_ALERT`` times (default 3)
    on one customer within a day → the manager of the customer's department is told, once per day
    (the notification's event key carries the date). One grouped query over the view log. Returns the
    number of alerts raised."""
    threshold = _setting("KESTREL_DENIED_READS_ALERT", 3)
    now = timezone.now()
    since = since or now - timedelta(days=1)
    offenders = (
        ArchiveView.objects.filter(
            outcome=ArchiveView.Outcome.DENIED, viewed_at__gte=since, viewer__isnull=False
        )
        .values("viewer_id", "customer_id")
        .annotate(attempts=Count("pk"))
        .filter(attempts__gte=threshold)
    )
    rows = list(offenders)
    if not rows:
        return 0
    customers = Customer.objects.select_related("department__manager").in_bulk(
        {r["customer_id"] for r in rows}
    )
    viewers = {e.user_id: e for e in Employee.objects.filter(user_id__in={r["viewer_id"] for r in rows})}
    day = timezone.localdate(now).isoformat()
    keys = {
        (r["viewer_id"], r["customer_id"]): f"customer-denied:{r['viewer_id']}:{r['customer_id']}:{day}"
        for r in rows
    }
    already = set(
        Notification.objects.filter(event_key__in=keys.values()).values_list("event_key", flat=True)
    )
    sent = 0
    with transaction.atomic():
        for row in rows:
            key = keys[(row["viewer_id"], row["customer_id"])]
            customer = customers[row["customer_id"]]
            manager = customer.department.manager
            if key in already or manager is None or manager.status != Employee.Status.ACTIVE:
                continue
            viewer = viewers.get(row["viewer_id"])
            who = viewer.name if viewer else str(row["viewer_id"])
            notify(
                event_key=key,
                kind="customer.access_denied_alert",
                recipients=[manager],
                title=_("%(who)s tried %(n)d times to read the archive %(code)s without approval")
                % {"who": who, "n": row["attempts"], "code": customer.code},
                link=reverse("customers:detail", args=[customer.pk]),
            )
            sent += 1
    return sent


def archive_denied_check(*, viewer: AbstractBaseUser, customer_id: int) -> None:
    """Called right after a refused read: raises the alert as soon as the threshold is reached."""
    threshold = _setting("KESTREL_DENIED_READS_ALERT", 3)
    since = timezone.now() - timedelta(days=1)
    attempts = ArchiveView.objects.filter(
        outcome=ArchiveView.Outcome.DENIED, viewer=viewer, customer_id=customer_id, viewed_at__gte=since
    ).count()
    if attempts >= threshold:
        archive_denied_alerts(since=since)


# --- ARC-8: handover (交接) -------------------------------------------------------------------------


def default_successor(employee: Employee) -> Employee | None:
    """The departing employee's manager; else the nearest active department manager above them."""
    if employee.manager_id and employee.manager_id != employee.pk:
        manager = Employee.objects.filter(pk=employee.manager_id, status=Employee.Status.ACTIVE).first()
        if manager is not None:
            return manager
    for department in department_line(employee.department_id):
        if department.manager_id and department.manager_id != employee.pk:
            manager = Employee.objects.filter(pk=department.manager_id, status=Employee.Status.ACTIVE).first()
            if manager is not None:
                return manager
    return None


def _holder_condition(employee: Employee) -> Q:
    return Q(owner=employee) | Q(relationship_manager=employee) | Q(co_owners=employee)


def handover_pending_for(employee: Employee) -> dict[str, int]:
    """What a departing employee still holds — the org app's departure screen shows this and guides
    the user to the handover (org must not import customers, so the call goes this way)."""
    return {
        "owned": Customer.objects.filter(owner=employee).count(),
        "co_owned": Customer.co_owners.through.objects.filter(employee=employee).count(),
        "relationship_manager": Customer.objects.filter(relationship_manager=employee).count(),
        "access_requests": AccessRequest.objects.filter(
            requester=employee, status=AccessRequest.Status.PENDING
        ).count(),
        "self_service": SelfServiceInvitation.objects.filter(
            invited_by=employee,
            status__in=[SelfServiceInvitation.Status.SENT, SelfServiceInvitation.Status.SUBMITTED],
        ).count(),
    }


def _active_successor(pk: int, departing: Employee, field: str) -> Employee:
    successor = Employee.objects.filter(pk=pk, status=Employee.Status.ACTIVE).first()
    if successor is None or successor.pk == departing.pk:
        raise ValidationFailed(
            _("The successor must be another active employee."),
            code=error_codes.BAD_SUCCESSOR,
            details={field: [_("Choose another active employee.")], "value": pk},
        )
    return successor


def handover_prepare(
    *,
    actor: AbstractBaseUser,
    departing: Employee,
    successor: Employee | None = None,
    overrides: dict[int, int] | None = None,
    note: str = "",
) -> Handover:
    """Draft the handover plan: a default successor (the departing employee's manager unless named)
    and per-customer overrides ``{customer_id: successor_id}``. Nothing moves until it is approved.
    One open draft per departing employee: preparing again replaces it."""
    overrides = {int(k): int(v) for k, v in (overrides or {}).items()}
    departing = Employee.objects.get(pk=departing.pk)
    chosen = successor or default_successor(departing)
    if chosen is None:
        raise ValidationFailed(
            _("Name a successor: the departing employee has no manager."),
            code=error_codes.BAD_SUCCESSOR,
            details={"successor_id": [_("This field is required.")]},
        )
    chosen = _active_successor(chosen.pk, departing, "successor_id")
    held = set(Customer.objects.filter(_holder_condition(departing)).values_list("pk", flat=True))
    unknown = sorted(set(overrides) - held)
    if unknown:
        raise ValidationFailed(
            _("Some customers in the overrides are not held by the departing employee."),
            code=error_codes.BAD_SUCCESSOR,
            details={"overrides": unknown},
        )
    for successor_id in set(overrides.values()):
        _active_successor(successor_id, departing, "overrides")
    with transaction.atomic():
        Handover.objects.filter(departing=departing, status=Handover.Status.DRAFT).update(
            status=Handover.Status.CANCELLED
        )
        return Handover.objects.create(
            departing=departing,
            plan={
                "successor_id": chosen.pk,
                "overrides": {str(k): v for k, v in sorted(overrides.items())},
                "pending": handover_pending_for(departing),
            },
            note=(note or "").strip(),
            prepared_by=actor,
        )


def _log_entries(
    *, actor: AbstractBaseUser | None, rows: Iterable[tuple[int, str, dict]], extra: dict
) -> None:
    content_type = ContentType.objects.get_for_model(Customer)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(pk),
                object_id=pk,
                object_repr=repr_[:1000],
                action=LogEntry.Action.UPDATE,
                changes=changes,
                actor_id=actor_id,
                timestamp=now,
                additional_data=extra,
            )
            for pk, repr_, changes in rows
        ],
        batch_size=1000,
    )


def handover_approve(*, actor: AbstractBaseUser, handover: Handover) -> Handover:
    """Carry the plan out in ONE transaction with set-based UPDATEs (one per successor):

    - owned customers → the successor, the department following the new owner (data scope);
    - relationship manager and co-owner places → the successor (no duplicate co-owner rows, and no
      co-owner who is now the owner);
    - pending access requests of the departing employee → re-filed in the successor's name;
    - open self-service invitations → the successor reviews them;
    - one audit-log row per moved customer (``{"owner": [old, new], "department": [old, new]}``, ids
      as django-auditlog writes them, ``additional_data={"handover": id}``),
      written in bulk because ``QuerySet.update`` bypasses django-auditlog;
    - each successor is notified with the list: tell these customers who serves them now.

    Afterwards the departing employee holds nothing (checked before commit).
    """
    with transaction.atomic():
        handover = (
            Handover.objects.select_for_update().select_related("departing").filter(pk=handover.pk).first()
        )
        if handover is None:
            raise NotFound(_("Handover not found."), details={})
        if handover.status != Handover.Status.DRAFT:
            raise Conflict(
                _("This handover is not a draft any more."),
                code=error_codes.HANDOVER_NOT_DRAFT,
                details={"status": handover.status},
            )
        departing = handover.departing
        default = _active_successor(int(handover.plan["successor_id"]), departing, "successor_id")
        overrides = {int(k): int(v) for k, v in (handover.plan.get("overrides") or {}).items()}
        successors = {default.pk: default} | {
            pk: _active_successor(pk, departing, "overrides") for pk in set(overrides.values())
        }
        by_successor: dict[int, list[int]] = defaultdict(list)
        for customer_id, successor_id in overrides.items():
            by_successor[successor_id].append(customer_id)
        override_ids = list(overrides)
        now = timezone.now()

        def groups(queryset: models.QuerySet) -> list[tuple[Employee, models.QuerySet]]:
            result = [(default, queryset.exclude(pk__in=override_ids))]
            result += [(successors[s], queryset.filter(pk__in=ids)) for s, ids in by_successor.items()]
            return result

        moved: dict[int, list[str]] = defaultdict(list)  # successor → customer codes
        log_rows: list[tuple[int, str, dict]] = []
        counts = {"owned": 0, "relationship_manager": 0, "co_owned": 0}

        # Owned customers (and their department) — read once for the audit rows, then one UPDATE.
        for successor, queryset in groups(Customer.objects.filter(owner=departing)):
            rows = list(queryset.values_list("pk", "code", "name", "department_id"))
            if not rows:
                continue
            counts["owned"] += queryset.update(
                owner=successor, department_id=successor.department_id, updated_at=now
            )
            for pk, code, name, department_id in rows:
                moved[successor.pk].append(code)
                # The format of django-auditlog's own rows: foreign keys as their pk, as text.
                changes = {"owner": [str(departing.pk), str(successor.pk)]}
                if department_id != successor.department_id:
                    changes["department"] = [str(department_id), str(successor.department_id)]
                log_rows.append((pk, name, changes))

        for successor, queryset in groups(Customer.objects.filter(relationship_manager=departing)):
            rows = list(queryset.values_list("pk", "code", "name"))
            if not rows:
                continue
            counts["relationship_manager"] += queryset.update(relationship_manager=successor, updated_at=now)
            for pk, code, name in rows:
                moved[successor.pk].append(code)
                log_rows.append((pk, name, {"relationship_manager": [str(departing.pk), str(successor.pk)]}))

        through = Customer.co_owners.through
        co_owned = list(
            through.objects.filter(employee=departing).values_list(
                "customer_id", "customer__code", "customer__name", "customer__owner_id"
            )
        )
        if co_owned:
            through.objects.filter(employee=departing).delete()
            new_rows = []
            for customer_id, code, name, owner_id in co_owned:
                successor = successors[overrides.get(customer_id, default.pk)]
                if owner_id != successor.pk:
                    new_rows.append(through(customer_id=customer_id, employee_id=successor.pk))
                moved[successor.pk].append(code)
                log_rows.append((customer_id, name, {"co_owners": [str(departing.pk), str(successor.pk)]}))
            through.objects.bulk_create(new_rows, ignore_conflicts=True)
            counts["co_owned"] = len(co_owned)

        counts["access_requests"] = AccessRequest.objects.filter(
            requester=departing, status=AccessRequest.Status.PENDING
        ).update(requester=default, updated_at=now)
        invitations = SelfServiceInvitation.objects.filter(
            invited_by=departing,
            status__in=[SelfServiceInvitation.Status.SENT, SelfServiceInvitation.Status.SUBMITTED],
        )
        counts["self_service"] = 0
        for successor, queryset in [
            (default, invitations.exclude(customer_id__in=override_ids)),
            *[(successors[s], invitations.filter(customer_id__in=ids)) for s, ids in by_successor.items()],
        ]:
            counts["self_service"] += queryset.update(invited_by=successor, updated_at=now)

        _log_entries(actor=actor, rows=log_rows, extra={"handover": handover.pk})

        if Customer.objects.filter(_holder_condition(departing)).exists():  # pragma: no cover - invariant
            raise Conflict(_("The handover left customers behind."), code=error_codes.HANDOVER_INCOMPLETE)

        for successor_id, codes in moved.items():
            codes = sorted(set(codes))
            notify(
                event_key=f"customer-handover:{handover.pk}:{successor_id}",
                kind="customer.handover",
                recipients=[successors[successor_id]],
                title=_("You took over %(n)d customers from %(name)s")
                % {"n": len(codes), "name": departing.name},
                body=_("Please tell these customers who serves them now: %(codes)s")
                % {"codes": "、".join(codes[:50]) + ("…" if len(codes) > 50 else "")},
                link=reverse("customers:index") + f"?owner={successor_id}",
                data={"customer_codes": codes[:500]},
            )

        handover.status = Handover.Status.APPROVED
        handover.approved_by = actor
        handover.approved_at = now
        handover.plan = {**handover.plan, "result": counts}
        handover.save(update_fields=["status", "approved_by", "approved_at", "plan", "updated_at"])
    return handover


# --- ARC-9: duplicates and merge ------------------------------------------------------------------

DUPLICATE_NAME_SIMILARITY = 0.85
DUPLICATE_GROUP_CAP = 200  # customers compared pairwise within one key; larger groups: neighbours only
DUPLICATE_NEIGHBOURS = 20


def _pairs(members: list[tuple[int, str]]) -> Iterable[tuple[tuple[int, str], tuple[int, str]]]:
    members = sorted(members, key=lambda m: (m[1], m[0]))
    if len(members) <= DUPLICATE_GROUP_CAP:
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                yield first, second
        return
    for i, first in enumerate(members):
        for second in members[i + 1 : i + 1 + DUPLICATE_NEIGHBOURS]:
            yield first, second


def _grouped(field: str, *, only: set[str] | None, base: models.QuerySet) -> dict[str, list[tuple[int, str]]]:
    keys = base.exclude(**{field: ""}).values(field).annotate(n=Count("pk")).filter(n__gt=1)
    if only is not None:
        keys = keys.filter(**{f"{field}__in": only})
    wanted = [row[field] for row in keys]
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for pk, key, name in base.filter(**{f"{field}__in": chunk}).values_list("pk", field, "name"):
            groups[key].append((pk, name))
    return groups


def duplicates_scan(*, customer_ids: Iterable[int] | None = None) -> int:
    """Flag likely duplicates (ARC-9), set-based: customers are grouped by a key in the database
    (``GROUP BY … HAVING COUNT(*) > 1`` on the normalised phone, the exact name and the stored pinyin
    initials) and only members of one group are compared — never all pairs of the archive. Within an
    initials group, names at least 0.85 similar (difflib) are flagged. Writes ``DuplicateCandidate``
    rows (one per pair, lower id first; a pair already reviewed stays as it was). With
    ``customer_ids`` only the groups of those customers are looked at (on demand, e.g. after a
    create). Returns the number of new candidates."""
    base = Customer.objects.exclude(status=Customer.Status.ARCHIVED)
    only: dict[str, set[str]] | None = None
    if customer_ids is not None:
        rows = list(
            Customer.objects.filter(pk__in=list(customer_ids)).values_list("phone", "name", "name_initials")
        )
        only = {
            "phone": {r[0] for r in rows if r[0]},
            "name": {r[1] for r in rows if r[1]},
            "name_initials": {r[2] for r in rows if r[2]},
        }
    found: dict[tuple[int, int], tuple[set[str], float]] = {}

    def flag(a: int, b: int, reason: str, score: float) -> None:
        key = (min(a, b), max(a, b))
        reasons, best = found.get(key, (set(), 0.0))
        found[key] = (reasons | {reason}, max(best, score))

    for field, reason in (("phone", "same_phone"), ("name", "same_name")):
        for members in _grouped(field, only=only[field] if only else None, base=base).values():
            for (a, _name_a), (b, _name_b) in _pairs(members):
                flag(a, b, reason, 1.0)
    initials = _grouped("name_initials", only=only["name_initials"] if only else None, base=base)
    for members in initials.values():
        for (a, name_a), (b, name_b) in _pairs(members):
            if name_a == name_b:
                continue
            score = SequenceMatcher(None, name_a, name_b).ratio()
            if score >= DUPLICATE_NAME_SIMILARITY:
                flag(a, b, "similar_name", score)
    if customer_ids is not None:
        ids = set(customer_ids)
        found = {pair: value for pair, value in found.items() if ids & set(pair)}
    before = DuplicateCandidate.objects.count()
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(
                customer_id=a,
                other_id=b,
                reason=",".join(sorted(reasons)),
                score=Decimal(str(round(score, 3))),
            )
            for (a, b), (reasons, score) in sorted(found.items())
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return DuplicateCandidate.objects.count() - before


def duplicate_dismiss(*, actor: AbstractBaseUser, candidate: DuplicateCandidate) -> DuplicateCandidate:
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise Conflict(
            _("This pair has already been reviewed."),
            code=error_codes.DUPLICATE_REVIEWED,
            details={"status": candidate.status},
        )
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.save(update_fields=["status"])
    return candidate


CHARACTERISTIC_FIELDS = [
    f.name for f in CustomerCharacteristics._meta.get_fields() if isinstance(f, models.TextField)
]
# Master-file fields a merge copies from the merged customer where the kept one has nothing.
MERGE_FILL_FIELDS = [
    "short_name", "credit_code", "industry", "province", "city", "district", "address", "postal_code",
    "phone", "fax", "email", "website", "legal_representative", "founded_on", "registered_capital",
    "organisation_form", "staff_count", "annual_sales", "assets", "taxpayer_type", "tax_rate",
    "invoice_title", "invoice_address", "payment_terms", "discount_terms", "sales_limit",
    "payment_credit_record", "relationship_manager", "commission_code", "source", "referrer",
]  # fmt: skip


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


def customers_merge(*, actor: AbstractBaseUser, kept: Customer, merged: Customer) -> CustomerMerge:
    """Fold ``merged`` into ``kept`` (ARC-9) in one transaction, keeping every related record:

    contacts (with a ContactMove each), major events, grade history, access requests, the view log,
    bank and delivery addresses, self-service forms and the rows of other modules pointing at the
    customer move to ``kept``; co-owners and tags are united (the merged customer's owner becomes a
    co-owner); characteristics and master-file fields the kept customer lacks are filled in from the
    merged one; open duplicate pairs are re-pointed.

    The merged customer is archived, not deleted: status ``archived`` and
    ``custom_fields["merged_into"]``; its credit code is released so the kept one may take it. Rows
    the generic move could not re-point (a unique constraint elsewhere) therefore still point at a
    real row, and the audit trail keeps its subject. ``CustomerMerge`` records the counts and a
    snapshot of the merged customer as it was.
    """
    if kept.pk == merged.pk:
        raise ValidationFailed(
            _("A customer cannot be merged into itself."),
            code=error_codes.MERGE_SAME,
            details={"merged_id": [_("Choose another customer.")]},
        )
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update().filter(pk__in=[kept.pk, merged.pk]).order_by("pk")
        }
        kept, merged = locked[kept.pk], locked[merged.pk]
        for customer in (kept, merged):
            if customer.status == Customer.Status.ARCHIVED:
                raise Conflict(
                    _("An archived customer cannot take part in a merge."),
                    code=error_codes.MERGE_ARCHIVED,
                    details={"id": customer.pk},
                )
        snapshot = _json_safe(
            {
                **model_to_dict(merged),
                "code": merged.code,
                "co_owners": list(merged.co_owners.values_list("pk", flat=True)),
                "tags": list(merged.tags.values_list("name", flat=True)),
                "characteristics": model_to_dict(merged.characteristics)
                if CustomerCharacteristics.objects.filter(customer=merged).exists()
                else {},
            }
        )
        moved: dict[str, int] = {}
        user = actor if actor is not None and actor.is_authenticated else None

        # Contacts: history first, then one UPDATE; the kept customer's primary contact stays primary.
        contacts = list(Contact.objects.filter(customer=merged).values_list("pk", "title"))
        ContactMove.objects.bulk_create(
            [
                ContactMove(
                    contact_id=pk, from_customer=merged, to_customer=kept, from_title=title, moved_by=user
                )
                for pk, title in contacts
            ]
        )
        contact_rows = Contact.objects.filter(customer=merged)
        if Contact.objects.filter(customer=kept, is_primary=True).exists():
            contact_rows.update(is_primary=False)
        moved["contacts"] = contact_rows.update(customer=kept, updated_at=timezone.now())

        # Current grades: where both have one in a scheme, the kept customer's stays (history moves).
        CustomerGrade.objects.filter(
            customer=merged, scheme_id__in=CustomerGrade.objects.filter(customer=kept).values("scheme_id")
        ).delete()

        special = {ContactMove, DuplicateCandidate, CustomerMerge, Contact, CustomerCharacteristics}
        for relation in Customer._meta.related_objects:
            model = relation.related_model
            if model in special or relation.many_to_many or relation.one_to_one:
                continue
            field = relation.field
            if not isinstance(field, models.ForeignKey):
                continue
            try:
                with transaction.atomic():
                    count = model._base_manager.filter(**{field.name: merged}).update(**{field.name: kept})
            except IntegrityError:
                count = 0  # stays on the archived row, which is why it is archived rather than deleted
            if count:
                key = f"{model._meta.label_lower}.{field.name}"
                moved[key] = moved.get(key, 0) + count

        # Co-owners and tags: united (M2M through rows, set-based).
        co_through = Customer.co_owners.through
        holders = set(merged.co_owners.values_list("pk", flat=True)) | {merged.owner_id}
        if merged.relationship_manager_id and kept.relationship_manager_id:
            holders.add(merged.relationship_manager_id)
        holders.discard(kept.owner_id)
        co_through.objects.bulk_create(
            [co_through(customer_id=kept.pk, employee_id=pk) for pk in holders], ignore_conflicts=True
        )
        moved["co_owners"] = len(holders)
        tag_through = Customer.tags.through
        tag_ids = list(merged.tags.values_list("pk", flat=True))
        tag_through.objects.bulk_create(
            [tag_through(customer_id=kept.pk, tag_id=pk) for pk in tag_ids], ignore_conflicts=True
        )
        moved["tags"] = len(tag_ids)

        # Characteristics: fill the blanks.
        source = CustomerCharacteristics.objects.filter(customer=merged).first()
        if source is not None:
            target, _created = CustomerCharacteristics.objects.get_or_create(customer=kept)
            filled = [f for f in CHARACTERISTIC_FIELDS if not getattr(target, f) and getattr(source, f)]
            for name in filled:
                setattr(target, name, getattr(source, name))
            if filled:
                target.save(update_fields=[*filled, "updated_at"])
            moved["characteristics"] = len(filled)

        # Duplicate pairs: the merged pair is done; other pairs of the merged customer re-pointed.
        DuplicateCandidate.objects.filter(
            Q(customer=kept, other=merged) | Q(customer=merged, other=kept)
        ).update(status=DuplicateCandidate.Status.MERGED)
        for candidate in DuplicateCandidate.objects.filter(Q(customer=merged) | Q(other=merged)).exclude(
            status=DuplicateCandidate.Status.MERGED
        ):
            other = candidate.other_id if candidate.customer_id == merged.pk else candidate.customer_id
            a, b = min(other, kept.pk), max(other, kept.pk)
            if a == b or DuplicateCandidate.objects.filter(customer_id=a, other_id=b).exists():
                candidate.delete()
            else:
                candidate.customer_id, candidate.other_id = a, b
                candidate.save(update_fields=["customer", "other"])

        # The merged customer is archived (audited by django-auditlog through save()).
        blanks = {
            name: getattr(merged, name)
            for name in MERGE_FILL_FIELDS
            if getattr(merged, name) not in (None, "") and getattr(kept, name) in (None, "")
        }
        merged.status = Customer.Status.ARCHIVED
        merged.credit_code = None
        merged.custom_fields = {
            **(merged.custom_fields or {}),
            "merged_into": {"id": kept.pk, "code": kept.code, "at": timezone.now().isoformat()},
        }
        merged.save(update_fields=["status", "credit_code", "custom_fields", "updated_at"])
        if blanks:
            services.customer_update(actor=actor, customer=kept, **blanks)
        moved["master_fields"] = len(blanks)

        record = CustomerMerge.objects.create(
            kept=kept,
            merged_code=merged.code,
            merged_name=merged.name,
            moved=moved,
            snapshot=snapshot,
            merged_by=user,
        )
    return record


# --- ARC-12: self-service form (客户资料表) -------------------------------------------------------

SELF_SERVICE_CUSTOMER_FIELDS = [
    "name", "short_name", "credit_code", "legal_representative", "phone", "fax", "email", "website",
    "address", "postal_code", "founded_on", "registered_capital", "staff_count", "invoice_title",
    "invoice_address",
]  # fmt: skip
SELF_SERVICE_CONTACT_FIELDS = ["name", "title", "mobile", "phone", "email", "wechat"]


class SelfServiceGone(KestrelError):
    status = 410
    code = "self_service_gone"


def self_service_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def self_service_invite(
    *, actor: AbstractBaseUser, customer: Customer | None = None, days: int | None = None
) -> tuple[SelfServiceInvitation, str]:
    """A link for the customer (or a new prospect when ``customer`` is None) to fill in their own
    data. Returns the invitation and the token — shown once; only its SHA-256 is stored. Expires after
    ``days`` (default ``KESTREL_SELF_SERVICE_DAYS``, 14; at most 90)."""
    employee = _active_employee(actor)
    days = _setting("KESTREL_SELF_SERVICE_DAYS", 14) if days is None else days
    if not 1 <= days <= 90:
        raise ValidationFailed(_("A link is valid for 1 to 90 days."), details={"days": [_("From 1 to 90.")]})
    token = secrets.token_urlsafe(32)
    invitation = SelfServiceInvitation.objects.create(
        token_hash=self_service_token_hash(token),
        customer=customer,
        invited_by=employee,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return invitation, token


def self_service_open(*, token: str) -> SelfServiceInvitation:
    """The invitation behind a token, if it can still be filled in; otherwise ``SelfServiceGone``."""
    if not token or len(token) > 200:
        raise SelfServiceGone(_("This link is not valid."), details={"reason": "unknown"})
    invitation = (
        SelfServiceInvitation.objects.select_related("customer", "invited_by")
        .filter(token_hash=self_service_token_hash(token))
        .first()
    )
    if invitation is None:
        raise SelfServiceGone(_("This link is not valid."), details={"reason": "unknown"})
    if invitation.status != SelfServiceInvitation.Status.SENT:
        raise SelfServiceGone(_("This form has already been submitted."), details={"reason": "used"})
    if invitation.expires_at <= timezone.now():
        raise SelfServiceGone(_("This link has expired."), details={"reason": "expired"})
    return invitation


def self_service_submit(
    *, token: str, customer_data: dict[str, Any], contacts: list[dict[str, Any]]
) -> SelfServiceInvitation:
    """Store what the customer filled in (already validated by the form) for review; the inviting
    employee is notified. A link works once."""
    with transaction.atomic():
        invitation = self_service_open(token=token)
        invitation = SelfServiceInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != SelfServiceInvitation.Status.SENT:
            raise SelfServiceGone(_("This form has already been submitted."), details={"reason": "used"})
        invitation.submitted_data = _json_safe(
            {
                "customer": {k: v for k, v in customer_data.items() if k in SELF_SERVICE_CUSTOMER_FIELDS},
                "contacts": [
                    {k: v for k, v in c.items() if k in SELF_SERVICE_CONTACT_FIELDS} for c in contacts[:5]
                ],
            }
        )
        invitation.status = SelfServiceInvitation.Status.SUBMITTED
        invitation.submitted_at = timezone.now()
        invitation.save(update_fields=["submitted_data", "status", "submitted_at", "updated_at"])
        name = invitation.customer.name if invitation.customer else customer_data.get("name", "")
        notify(
            event_key=f"customer-self-service:{invitation.pk}:submitted",
            kind="customer.self_service_submitted",
            recipients=[invitation.invited_by],
            title=_("%(name)s filled in the customer form: please review it") % {"name": name},
            link=reverse("customers:self_service_review", args=[invitation.pk]),
        )
    return invitation


def _from_json(field: str, value: Any) -> Any:
    if value in (None, ""):
        return None if field in {"founded_on", "registered_capital", "staff_count"} else ""
    try:
        if field == "founded_on":
            return date.fromisoformat(value)
        if field == "registered_capital":
            return Decimal(str(value))
        if field == "staff_count":
            return int(value)
    except (ValueError, InvalidOperation) as error:
        raise ValidationFailed(
            _("The submitted data is not valid."), details={field: [str(value)]}
        ) from error
    return value


def self_service_review(
    *,
    actor: AbstractBaseUser,
    invitation: SelfServiceInvitation,
    accept_fields: list[str] | None = None,
    accept_contacts: list[int] | None = None,
    reject: bool = False,
) -> SelfServiceInvitation:
    """Staff merge the accepted fields (and contacts, by their index in the submission) through the
    ordinary services — the same validation and audit as any edit — or reject the submission. For a
    new prospect the accepted fields create the customer, owned by the inviting employee."""
    accept_fields = list(accept_fields or [])
    unknown = sorted(set(accept_fields) - set(SELF_SERVICE_CUSTOMER_FIELDS))
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %s") % ", ".join(unknown), details={"accept_fields": unknown}
        )
    reviewer = _employee_of(actor)
    with transaction.atomic():
        invitation = SelfServiceInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != SelfServiceInvitation.Status.SUBMITTED:
            raise Conflict(
                _("Only a submitted form can be reviewed."),
                code=error_codes.SELF_SERVICE_NOT_SUBMITTED,
                details={"status": invitation.status},
            )
        invitation.reviewed_by = reviewer
        invitation.reviewed_at = timezone.now()
        if reject:
            invitation.status = SelfServiceInvitation.Status.REJECTED
        else:
            submitted = invitation.submitted_data.get("customer", {})
            fields = {f: _from_json(f, submitted.get(f)) for f in accept_fields if f in submitted}
            if invitation.customer_id is None:
                if not fields.get("name"):
                    raise ValidationFailed(
                        _("A new customer needs at least the accepted name."),
                        details={"accept_fields": [_("Accept the name.")]},
                    )
                customer = services.customer_create(
                    actor=actor,
                    owner=invitation.invited_by,
                    source=Customer.Source.SELF_SERVICE,
                    **fields,
                )
                invitation.customer = customer
            else:
                customer = Customer.objects.get(pk=invitation.customer_id)
                if fields:
                    services.customer_update(actor=actor, customer=customer, **fields)
            contacts = invitation.submitted_data.get("contacts", [])
            for index in sorted(set(accept_contacts or [])):
                if not 0 <= index < len(contacts):
                    raise ValidationFailed(
                        _("No such contact in the submission."), details={"accept_contacts": [index]}
                    )
                data = {k: v for k, v in contacts[index].items() if k in SELF_SERVICE_CONTACT_FIELDS and v}
                services.contact_create(actor=actor, customer=customer, **data)
            invitation.status = SelfServiceInvitation.Status.MERGED
        invitation.save(update_fields=["status", "reviewed_by", "reviewed_at", "customer", "updated_at"])
    return invitation
