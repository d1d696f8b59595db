"""Ownership (ARC-5) and freshness (ARC-7) policies as reports: selectors, set-based, scoped.

Each report is a queryset of the violating customers the actor may read (``readable_by``), with
the figures that explain the violation annotated, and a summary per owner (one GROUP BY).
The policies use the customer's grade in the primary scheme (``Customer.grade``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.customers.models import Customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_FRESHNESS_DAYS = 30  # seed 003: 每月最少完善一次


@dataclass(frozen=True)
class ReportFilter:
    department_id: int | None = None  # that department and the ones below it
    owner_id: int | None = None


def _scoped(actor: AbstractBaseUser, filters: ReportFilter | None) -> QuerySet[Customer]:
    customers = Customer.objects.readable_by(actor).exclude(status=Customer.Status.ARCHIVED)
    filters = filters or ReportFilter()
    if filters.owner_id is not None:
        customers = customers.filter(owner_id=filters.owner_id)
    if filters.department_id is not None:
        from kestrel.org.models import Department

        path = Department.objects.filter(pk=filters.department_id).values_list("path", flat=True).first()
        customers = customers.filter(department__path__startswith=path) if path else customers.none()
    return customers


# --- ARC-5: relationship manager and "同一客户两人或两人以上掌握" ------------------------------------


def _holders() -> Any:
    """Distinct holders: the owner, co-owners other than the owner and RM, the RM if not the owner."""
    through = Customer.co_owners.through
    co_owners = (
        through.objects.filter(customer_id=OuterRef("pk"))
        .exclude(employee_id=OuterRef("owner_id"))
        .filter(
            Q(customer__relationship_manager__isnull=True)
            | ~Q(employee_id=F("customer__relationship_manager_id"))
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Count("employee_id", distinct=True))
        .values("n")
    )
    manager = Case(
        When(
            Q(relationship_manager__isnull=False) & ~Q(relationship_manager_id=F("owner_id")), then=Value(1)
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Value(1) + Coalesce(Subquery(co_owners, output_field=IntegerField()), Value(0)) + manager


def ownership_violations(
    *, actor: AbstractBaseUser, filters: ReportFilter | None = None
) -> QuerySet[Customer]:
    """Customers of a grade that needs a relationship manager but have none, or held by fewer
    employees than the grade's minimum. Annotated: ``holders``, ``missing_manager``, ``too_few_holders``."""
    customers = (
        _scoped(actor, filters)
        .filter(Q(grade__requires_relationship_manager=True) | Q(grade__min_holders__gt=1))
        .annotate(holders=_holders())
        .annotate(
            missing_manager=Case(
                When(
                    Q(grade__requires_relationship_manager=True, relationship_manager__isnull=True),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
            too_few_holders=Case(
                When(holders__lt=F("grade__min_holders"), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .filter(Q(missing_manager=1) | Q(too_few_holders=1))
    )
    return customers.select_related("owner", "department", "grade", "relationship_manager").order_by(
        "owner_id", "pk"
    )


def ownership_summary(
    *, actor: AbstractBaseUser, filters: ReportFilter | None = None
) -> list[dict[str, Any]]:
    """Per owner: customers violating ARC-5, of which missing a relationship manager / too few holders."""
    return _per_owner(
        ownership_violations(actor=actor, filters=filters),
        {"missing_relationship_manager": "missing_manager", "too_few_holders": "too_few_holders"},
    )


def ownership_reasons(customer: Customer) -> list[str]:
    """Why one row of ``ownership_violations`` is there (PLT-10)."""
    reasons = []
    if customer.missing_manager:
        reasons.append(
            _("%(grade)s requires a relationship manager; none is named") % {"grade": customer.grade.name}
        )
    if customer.too_few_holders:
        reasons.append(
            _("%(grade)s requires at least %(required)d holders; %(holders)d hold it")
            % {
                "grade": customer.grade.name,
                "required": customer.grade.min_holders,
                "holders": customer.holders,
            }
        )
    return reasons


# --- ARC-7: archive freshness ---------------------------------------------------------------------


def freshness_days() -> int:
    """The longest an archive may go without an update: ``KESTREL_ARCHIVE_FRESHNESS_DAYS`` (30)."""
    return int(getattr(settings, "KESTREL_ARCHIVE_FRESHNESS_DAYS", DEFAULT_FRESHNESS_DAYS))


def freshness_stale(
    *,
    actor: AbstractBaseUser,
    filters: ReportFilter | None = None,
    today: date | None = None,
    max_age_days: int | None = None,
) -> QuerySet[Customer]:
    """Archives not updated the same day as a later contact (a contact on a past day, Beijing time,
    with no update that day or after), or not updated for more than ``max_age_days``. A contact
    today is not a miss yet: the day is not over. Annotated: ``missed_same_day``, ``too_old``,
    ``contact_day``, ``updated_day``."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    max_age_days = freshness_days() if max_age_days is None else max_age_days
    oldest = datetime.combine(today - timedelta(days=max_age_days), time.min, tzinfo=SHANGHAI)
    contact_day = TruncDate("last_contact_at", tzinfo=SHANGHAI)
    updated_day = TruncDate("archive_updated_at", tzinfo=SHANGHAI)
    missed = Q(last_contact_at__isnull=False, contact_day__lt=today) & (
        Q(archive_updated_at__isnull=True) | Q(contact_day__gt=F("updated_day"))
    )
    too_old = Q(archive_updated_at__isnull=True) | Q(archive_updated_at__lt=oldest)
    return (
        _scoped(actor, filters)
        .annotate(contact_day=contact_day, updated_day=updated_day)
        .annotate(
            missed_same_day=Case(When(missed, then=Value(1)), default=Value(0), output_field=IntegerField()),
            too_old=Case(When(too_old, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .filter(Q(missed_same_day=1) | Q(too_old=1))
        .select_related("owner", "department")
        .order_by("owner_id", "pk")
    )


def freshness_summary(
    *,
    actor: AbstractBaseUser,
    filters: ReportFilter | None = None,
    today: date | None = None,
    max_age_days: int | None = None,
) -> list[dict[str, Any]]:
    """Per owner: stale archives, of which contacts without a same-day update / older than allowed."""
    return _per_owner(
        freshness_stale(actor=actor, filters=filters, today=today, max_age_days=max_age_days),
        {"missed_same_day": "missed_same_day", "not_updated_in_time": "too_old"},
    )


def freshness_reasons(customer: Customer, *, today: date, max_age_days: int) -> list[str]:
    """Why one row of ``freshness_stale`` is there (PLT-10)."""
    reasons = []
    if customer.missed_same_day:
        reasons.append(
            _("Contact on %(contact)s; the archive was last updated %(updated)s")
            % {
                "contact": customer.contact_day.isoformat(),
                "updated": customer.updated_day.isoformat() if customer.updated_day else _("never"),
            }
        )
    if customer.too_old:
        if customer.updated_day is None:
            reasons.append(_("The archive has never been updated"))
        else:
            reasons.append(
                _("Not updated for %(days)d days (at most %(limit)d)")
                % {"days": (today - customer.updated_day).days, "limit": max_age_days}
            )
    return reasons


def _per_owner(customers: QuerySet[Customer], flags: dict[str, str]) -> list[dict[str, Any]]:
    """One row per owner: how many of ``customers`` they hold and, per output key of ``flags``, how
    many carry the annotated 0/1 flag it names — one GROUP BY."""
    rows = (
        customers.order_by()
        .values("owner_id", "owner__name", "department_id", "department__name")
        .annotate(
            customers=Count("pk"),
            **{f"n_{key}": Count("pk", filter=Q(**{flag: 1})) for key, flag in flags.items()},
        )
        .order_by("-customers", "owner_id")
    )
    return [
        {
            "owner_id": row["owner_id"],
            "owner": row["owner__name"],
            "department_id": row["department_id"],
            "department": row["department__name"],
            "customers": row["customers"],
            **{key: row[f"n_{key}"] for key in flags},
        }
        for row in rows
    ]
