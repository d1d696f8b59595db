"""Grades (ARC-4) and the ownership and freshness reports (ARC-5, ARC-7) under /api/v1/customers."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from kestrel.core.errors import ValidationFailed
from kestrel.core.pagination import COUNT_CAP, MAX_PAGE_SIZE
from kestrel.core.permissions import requires
from kestrel.customers import grading, policies, selectors
from kestrel.customers.models import CustomerGrade, GradeChange, GradeScheme

router = Router(tags=["customer grading"])


class GradeOut(Schema):
    scheme: str
    scheme_name: str
    is_primary: bool
    grade: str | None
    grade_name: str | None
    rank: int | None
    source: str | None
    pinned: bool
    updated_at: datetime | None


class GradeChangeOut(Schema):
    scheme: str
    from_grade: str | None
    from_name: str | None
    to_grade: str | None
    to_name: str | None
    source: str
    reason: str
    changed_by: str | None
    changed_at: datetime


class CustomerGradesOut(Schema):
    customer_id: int
    grades: list[GradeOut]
    history: list[GradeChangeOut]


class GradeSetIn(Schema):
    model_config = ConfigDict(extra="forbid")
    grade_code: str = Field(min_length=1, max_length=50)
    reason: str = Field(max_length=2000)


class RegradeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = False
    scheme: str | None = Field(
        None, min_length=1, max_length=50, description="one scheme code; all if absent"
    )
    rules: dict[str, list[dict[str, Any]]] | None = Field(
        None, description="preview only: grade code → proposed rules (needs dry_run and scheme)"
    )


class RegradeChangeOut(Schema):
    customer_id: int
    customer_name: str
    from_grade: str | None
    to_grade: str | None
    downgrade: bool
    explanation: str


class SchemeRegradeOut(Schema):
    scheme: str
    changed: int
    downgraded: int
    skipped: str
    changes: list[RegradeChangeOut]


class RegradeOut(Schema):
    dry_run: bool
    schemes: list[SchemeRegradeOut]


class GradeDefinitionOut(Schema):
    code: str
    name: str
    rank: int
    rules: list[dict[str, Any]]
    requires_relationship_manager: bool
    min_holders: int


class SchemeOut(Schema):
    code: str
    name: str
    description: str
    is_primary: bool
    grades: list[GradeDefinitionOut]


class MetricOut(Schema):
    key: str
    label: str
    unit: str


class ReportQuery(Schema):
    department_id: int | None = Field(None, ge=1, le=2**31 - 1)
    owner_id: int | None = Field(None, ge=1, le=2**31 - 1)
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class FreshnessQuery(ReportQuery):
    max_age_days: int | None = Field(None, ge=1, le=3660, description="default: the configured 30 days")


class OwnershipItemOut(Schema):
    customer_id: int
    code: str
    name: str
    owner_id: int
    owner: str
    department: str
    grade: str
    relationship_manager_id: int | None
    holders: int
    min_holders: int
    missing_relationship_manager: bool
    too_few_holders: bool
    reasons: list[str]


class OwnershipSummaryOut(Schema):
    owner_id: int
    owner: str
    department_id: int
    department: str
    customers: int
    missing_relationship_manager: int
    too_few_holders: int


class OwnershipReportOut(Schema):
    summary: list[OwnershipSummaryOut]
    items: list[OwnershipItemOut]
    count: int
    count_capped: bool


class FreshnessItemOut(Schema):
    customer_id: int
    code: str
    name: str
    owner_id: int
    owner: str
    department: str
    last_contact_at: datetime | None
    archive_updated_at: datetime | None
    missed_same_day: bool
    not_updated_in_time: bool
    reasons: list[str]


class FreshnessSummaryOut(Schema):
    owner_id: int
    owner: str
    department_id: int
    department: str
    customers: int
    missed_same_day: int
    not_updated_in_time: int


class FreshnessReportOut(Schema):
    max_age_days: int
    summary: list[FreshnessSummaryOut]
    items: list[FreshnessItemOut]
    count: int
    count_capped: bool


def _page(queryset: QuerySet, query: ReportQuery) -> tuple[list, int, bool]:
    offset = (query.page - 1) * query.page_size
    items = list(queryset[offset : offset + query.page_size])
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    return items, min(count, COUNT_CAP), count > COUNT_CAP


def _grade_out(scheme: GradeScheme, row: CustomerGrade | None) -> dict[str, Any]:
    return {
        "scheme": scheme.code,
        "scheme_name": scheme.name,
        "is_primary": scheme.is_primary,
        "grade": row.grade.code if row else None,
        "grade_name": row.grade.name if row else None,
        "rank": row.grade.rank if row else None,
        "source": row.source if row else None,
        "pinned": bool(row and row.pinned),
        "updated_at": row.updated_at if row else None,
    }


def _change_out(change: GradeChange) -> dict[str, Any]:
    return {
        "scheme": change.scheme.code,
        "from_grade": change.from_grade.code if change.from_grade else None,
        "from_name": change.from_grade.name if change.from_grade else None,
        "to_grade": change.to_grade.code if change.to_grade else None,
        "to_name": change.to_grade.name if change.to_grade else None,
        "source": change.source,
        "reason": change.reason,
        "changed_by": change.changed_by.get_username() if change.changed_by else None,
        "changed_at": change.changed_at,
    }


def _grades_view(customer) -> dict[str, Any]:
    return {
        "customer_id": customer.pk,
        "grades": [
            _grade_out(item["scheme"], item["row"]) for item in grading.customer_grades(customer=customer)
        ],
        "history": [_change_out(c) for c in grading.customer_grade_history(customer=customer)[:200]],
    }


# --- Schemes and grades -------------------------------------------------------------------------


@router.get("/customers/grade-schemes", response=list[SchemeOut])
@requires("customers.view_customer")
def grade_scheme_list(request):
    """The grade schemes with their grades and rules (configured in the admin)."""
    schemes = GradeScheme.objects.prefetch_related("grades").order_by("-is_primary", "code")
    return [
        {
            "code": s.code,
            "name": s.name,
            "description": s.description,
            "is_primary": s.is_primary,
            "grades": sorted(s.grades.all(), key=lambda g: g.rank),
        }
        for s in schemes
    ]


@router.get("/customers/grade-metrics", response=list[MetricOut])
@requires("customers.view_customer")
def grade_metric_list(request):
    """The metrics grade rules can use now: registered ones and numeric custom fields (``custom:<key>``)."""
    return [{"key": m.key, "label": m.label(), "unit": m.unit} for m in grading.metrics_available()]


@router.get("/customers/{int:customer_id}/grades", response=CustomerGradesOut)
@requires("customers.view_customer")
def customer_grades(request, customer_id: int):
    """The customer's grade in every scheme, and the grade history with reasons and explanations."""
    customer = selectors.customer_get(actor=request.user, id=customer_id, channel="api")
    return _grades_view(customer)


@router.put("/customers/{int:customer_id}/grades/{scheme_code}", response=CustomerGradesOut)
@requires("customers.grade_customer")
def customer_grade_set(request, customer_id: int, scheme_code: str, payload: GradeSetIn):
    """Set a grade by hand with a reason: it is pinned, rules no longer change it."""
    customer = selectors.customer_get(actor=request.user, id=customer_id, channel="api")
    scheme = grading.scheme_get(code=scheme_code)
    grading.customer_grade_set(
        actor=request.user,
        customer=customer,
        scheme=scheme,
        grade_code=payload.grade_code,
        reason=payload.reason,
    )
    return _grades_view(customer)


@router.delete("/customers/{int:customer_id}/grades/{scheme_code}", response=CustomerGradesOut)
@requires("customers.grade_customer")
def customer_grade_unpin(request, customer_id: int, scheme_code: str):
    """Hand the grade back to the rules; it is recomputed at once."""
    customer = selectors.customer_get(actor=request.user, id=customer_id, channel="api")
    scheme = grading.scheme_get(code=scheme_code)
    grading.customer_grade_unpin(actor=request.user, customer=customer, scheme=scheme)
    return _grades_view(customer)


@router.post("/customers/regrade", response=RegradeOut)
@requires("customers.change_gradescheme")
def customers_regrade(request, payload: RegradeIn):
    """Regrade every customer by the rules now. ``dry_run`` previews who would change (the first 500
    per scheme) and writes nothing; with ``scheme`` and ``rules`` it previews proposed thresholds."""
    schemes = [grading.scheme_get(code=payload.scheme)] if payload.scheme else None
    if payload.rules is not None and not (payload.dry_run and payload.scheme):
        raise ValidationFailed(
            _("Proposed rules can only be previewed: send dry_run and one scheme."),
            code=grading.BAD_RULES,
            details={"rules": [_("Needs dry_run and scheme.")]},
        )
    report = grading.customers_regrade(
        actor=request.user, schemes=schemes, dry_run=payload.dry_run, rules_override=payload.rules
    )
    return {"dry_run": report.dry_run, "schemes": [s.__dict__ for s in report.schemes]}


# --- Reports ------------------------------------------------------------------------------------


def _filters(query: ReportQuery) -> policies.ReportFilter:
    return policies.ReportFilter(department_id=query.department_id, owner_id=query.owner_id)


@router.get("/customers/reports/ownership", response=OwnershipReportOut)
@requires("customers.view_customer")
def ownership_report(request, query: Query[ReportQuery]):
    """ARC-5: customers whose grade needs a relationship manager they lack, or more holders than
    they have (同一客户两人或两人以上掌握); a summary per owner. Only customers the caller may read."""
    filters = _filters(query)
    items, count, capped = _page(policies.ownership_violations(actor=request.user, filters=filters), query)
    return {
        "summary": policies.ownership_summary(actor=request.user, filters=filters),
        "items": [
            {
                "customer_id": c.pk,
                "code": c.code,
                "name": c.name,
                "owner_id": c.owner_id,
                "owner": c.owner.name,
                "department": c.department.name,
                "grade": c.grade.name,
                "relationship_manager_id": c.relationship_manager_id,
                "holders": c.holders,
                "min_holders": c.grade.min_holders,
                "missing_relationship_manager": bool(c.missing_manager),
                "too_few_holders": bool(c.too_few_holders),
                "reasons": policies.ownership_reasons(c),
            }
            for c in items
        ],
        "count": count,
        "count_capped": capped,
    }


@router.get("/customers/reports/freshness", response=FreshnessReportOut)
@requires("customers.view_customer")
def freshness_report(request, query: Query[FreshnessQuery]):
    """ARC-7: archives not updated the same day as a contact, or not for longer than allowed, per
    owner. The documents fine 20 yuan per miss; the system only reports."""
    filters = _filters(query)
    today = timezone.localdate(timezone=policies.SHANGHAI)
    max_age = query.max_age_days or policies.freshness_days()
    stale = policies.freshness_stale(actor=request.user, filters=filters, today=today, max_age_days=max_age)
    items, count, capped = _page(stale, query)
    return Status(
        200,
        {
            "max_age_days": max_age,
            "summary": policies.freshness_summary(
                actor=request.user, filters=filters, today=today, max_age_days=max_age
            ),
            "items": [
                {
                    "customer_id": c.pk,
                    "code": c.code,
                    "name": c.name,
                    "owner_id": c.owner_id,
                    "owner": c.owner.name,
                    "department": c.department.name,
                    "last_contact_at": c.last_contact_at,
                    "archive_updated_at": c.archive_updated_at,
                    "missed_same_day": bool(c.missed_same_day),
                    "not_updated_in_time": bool(c.too_old),
                    "reasons": policies.freshness_reasons(c, today=today, max_age_days=max_age),
                }
                for c in items
            ],
            "count": count,
            "count_capped": capped,
        },
    )
