"""Customer-archive workflows on /api/v1/customers/…: access requests and the view log (ARC-6),
handover (ARC-8), duplicates and merge (ARC-9), self-service forms (ARC-12)."""

from datetime import datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict, StringConstraints

from kestrel.core.errors import NotFound, PermissionDenied, ValidationFailed
from kestrel.core.pagination import PageNumberPagination
from kestrel.core.permissions import authenticated, requires
from kestrel.customers import selectors, workflow_selectors, workflows
from kestrel.customers.models import AccessRequest, DuplicateCandidate, SelfServiceInvitation
from kestrel.org.models import Employee

router = Router(tags=["customer workflows"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


# --- ARC-6: access requests and the view log --------------------------------------------------------


class AccessRequestIn(StrictIn):
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class FiledOut(Schema):
    status: str
    message: str


class AccessRequestOut(Schema):
    """For approvers: who asks to read which archive, why, and what was decided."""

    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    confidentiality: str
    requester_id: int
    requester_name: str
    reason: str
    status: str
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    valid_until: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_customer_code(request) -> str:
        return request.customer.code

    @staticmethod
    def resolve_customer_name(request) -> str:
        return request.customer.name

    @staticmethod
    def resolve_confidentiality(request) -> str:
        return request.customer.confidentiality

    @staticmethod
    def resolve_requester_name(request) -> str:
        return request.requester.name


class MyAccessRequestOut(Schema):
    """For the requester: the customer is named only once access is granted."""

    id: int
    customer_id: int | None
    customer_code: str | None
    reason: str
    status: str
    decided_at: datetime | None
    decision_note: str
    valid_until: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_customer_id(request) -> int | None:
        return request.customer_id if request.status == AccessRequest.Status.APPROVED else None

    @staticmethod
    def resolve_customer_code(request) -> str | None:
        return request.customer.code if request.status == AccessRequest.Status.APPROVED else None


class ApproveIn(StrictIn):
    days: Annotated[int, Field(ge=1, le=3650)] | None = None
    note: Note = ""


class RejectIn(StrictIn):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class InboxQuery(Schema):
    status: Literal[tuple(AccessRequest.Status.values)] | None = "pending"  # type: ignore[valid-type]


class ArchiveViewOut(Schema):
    id: int
    viewer_id: int | None
    viewer_name: str
    channel: str
    outcome: str
    viewed_at: datetime

    @staticmethod
    def resolve_viewer_name(view) -> str:
        if view.viewer is None:
            return ""
        employee = getattr(view.viewer, "employee", None)
        return employee.name if employee is not None else view.viewer.get_username()


@router.post("/customers/access-requests", response={202: FiledOut})
@authenticated
def access_request_file(request, payload: AccessRequestIn):
    """查阅档案审批: ask to read an archive by its code or exact full name, with a reason. The answer
    is the same whatever the code or name matches (or whether it matches anything at all)."""
    workflows.access_request_file(
        actor=request.user, reason=payload.reason, code=payload.code, name=payload.name
    )
    return Status(202, {"status": "filed", "message": _("Your request has been filed.")})


@router.get("/customers/access-requests/inbox", response=list[AccessRequestOut])
@authenticated
@paginate(PageNumberPagination)
def access_request_inbox(request, filters: Query[InboxQuery]):
    """Requests the caller may decide (the level decides who approves)."""
    return workflow_selectors.access_request_inbox(actor=request.user, status=filters.status)


@router.get("/customers/access-requests/mine", response=list[MyAccessRequestOut])
@authenticated
@paginate(PageNumberPagination)
def access_request_mine(request):
    return workflow_selectors.access_request_mine(actor=request.user)


@router.get("/customers/access-requests/{int:request_id}", response=AccessRequestOut)
@authenticated
def access_request_detail(request, request_id: int):
    access = workflow_selectors.access_request_get(actor=request.user, id=request_id)
    if access.requester.user_id == request.user.pk:  # the requester sees their own view only
        raise NotFound(_("Access request not found."), details={"id": request_id})
    return access


@router.post("/customers/access-requests/{int:request_id}/approve", response=AccessRequestOut)
@authenticated
def access_request_approve(request, request_id: int, payload: ApproveIn):
    access = workflow_selectors.access_request_get(actor=request.user, id=request_id)
    return workflows.access_request_decide(
        actor=request.user, request=access, approve=True, days=payload.days, note=payload.note
    )


@router.post("/customers/access-requests/{int:request_id}/reject", response=AccessRequestOut)
@authenticated
def access_request_reject(request, request_id: int, payload: RejectIn):
    access = workflow_selectors.access_request_get(actor=request.user, id=request_id)
    return workflows.access_request_decide(
        actor=request.user, request=access, approve=False, note=payload.note
    )


@router.post("/customers/access-requests/{int:request_id}/withdraw", response=MyAccessRequestOut)
@authenticated
def access_request_withdraw(request, request_id: int):
    access = workflow_selectors.access_request_get(actor=request.user, id=request_id)
    return workflows.access_request_withdraw(actor=request.user, request=access)


@router.get("/customers/{int:customer_id}/view-log", response=list[ArchiveViewOut])
@requires("customers.view_customer")
@paginate(PageNumberPagination)
def archive_view_log(request, customer_id: int):
    """Who read this archive, and who was refused (holders, approvers and administrators only)."""
    return workflow_selectors.archive_view_log(actor=request.user, customer_id=customer_id)


# --- ARC-8: handover ----------------------------------------------------------------------------------


class HandoverPreviewQuery(Schema):
    employee_id: Id
    successor_id: Id | None = None


class OverrideIn(StrictIn):
    customer_id: Id
    successor_id: Id


class HandoverIn(StrictIn):
    employee_id: Id
    successor_id: Id | None = None
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=10_000)
    note: Note = ""


class HandoverOut(Schema):
    id: int
    employee_id: int
    status: str
    plan: dict
    note: str
    approved_at: datetime | None
    created_at: datetime
    preview: dict | None = None

    @staticmethod
    def resolve_employee_id(handover) -> int:
        return handover.departing_id


def _successor(pk: int | None, field: str) -> Employee | None:
    if pk is None:
        return None
    employee = Employee.objects.filter(pk=pk, status=Employee.Status.ACTIVE).first()
    if employee is None:
        raise ValidationFailed(
            _("The successor must be another active employee."),
            code=workflows.error_codes.BAD_SUCCESSOR,
            details={field: [_("No such active employee.")]},
        )
    return employee


@router.get("/customers/handovers/preview", response=dict)
@requires("customers.handover_customer")
def handover_preview(request, query: Query[HandoverPreviewQuery]):
    """What a departing employee holds and where it would go: start here when an employee leaves."""
    employee = workflow_selectors.handover_employee_get(actor=request.user, id=query.employee_id)
    return workflow_selectors.handover_preview(
        employee=employee, successor=_successor(query.successor_id, "successor_id")
    )


@router.post("/customers/handovers", response={201: HandoverOut})
@requires("customers.handover_customer")
def handover_prepare(request, payload: HandoverIn):
    employee = workflow_selectors.handover_employee_get(actor=request.user, id=payload.employee_id)
    overrides = {o.customer_id: o.successor_id for o in payload.overrides}
    handover = workflows.handover_prepare(
        actor=request.user,
        departing=employee,
        successor=_successor(payload.successor_id, "successor_id"),
        overrides=overrides,
        note=payload.note,
    )
    handover.preview = workflow_selectors.handover_preview(
        employee=employee,
        successor=_successor(handover.plan["successor_id"], "successor_id"),
        overrides=overrides,
    )
    return Status(201, handover)


@router.get("/customers/handovers/{int:handover_id}", response=HandoverOut)
@requires("customers.handover_customer")
def handover_detail(request, handover_id: int):
    handover = workflow_selectors.handover_get(actor=request.user, id=handover_id)
    if handover.status == handover.Status.DRAFT:
        handover.preview = workflow_selectors.handover_preview(
            employee=handover.departing,
            successor=Employee.objects.filter(pk=handover.plan.get("successor_id")).first(),
            overrides=handover.plan.get("overrides"),
        )
    return handover


@router.post("/customers/handovers/{int:handover_id}/approve", response=HandoverOut)
@requires("customers.handover_customer")
def handover_approve(request, handover_id: int):
    """Carry the plan out in one transaction; afterwards the employee holds no customer."""
    handover = workflow_selectors.handover_get(actor=request.user, id=handover_id)
    return workflows.handover_approve(actor=request.user, handover=handover)


# --- ARC-9: duplicates and merge ------------------------------------------------------------------


class DuplicateQuery(Schema):
    status: Literal[tuple(DuplicateCandidate.Status.values)] | None = "open"  # type: ignore[valid-type]


class CustomerBrief(Schema):
    id: int
    code: str
    name: str
    phone: str
    owner_id: int


class DuplicateOut(Schema):
    id: int
    customer: CustomerBrief
    other: CustomerBrief
    reasons: list[str]
    score: float
    status: str
    found_at: datetime

    @staticmethod
    def resolve_reasons(candidate) -> list[str]:
        return [r for r in candidate.reason.split(",") if r]


class ScanOut(Schema):
    found: int


class MergeIn(StrictIn):
    kept_id: Id
    merged_id: Id


class MergeOut(Schema):
    id: int
    kept_id: int
    merged_code: str
    merged_name: str
    moved: dict
    merged_at: datetime


@router.get("/customers/duplicates", response=list[DuplicateOut])
@requires("customers.merge_customer")
@paginate(PageNumberPagination)
def duplicate_list(request, filters: Query[DuplicateQuery]):
    return workflow_selectors.duplicate_candidates(actor=request.user, status=filters.status)


@router.post("/customers/duplicates/scan", response=ScanOut)
@requires("customers.merge_customer")
def duplicate_scan(request):
    """Run the duplicate scan now (it also runs nightly)."""
    return {"found": workflows.duplicates_scan()}


@router.post("/customers/duplicates/{int:candidate_id}/dismiss", response=DuplicateOut)
@requires("customers.merge_customer")
def duplicate_dismiss(request, candidate_id: int):
    candidate = workflow_selectors.duplicate_get(actor=request.user, id=candidate_id)
    return workflows.duplicate_dismiss(actor=request.user, candidate=candidate)


@router.post("/customers/merge", response=MergeOut)
@requires("customers.merge_customer", "customers.change_customer")
def customers_merge(request, payload: MergeIn):
    """Merge ``merged_id`` into ``kept_id``: every related record moves, the merged one is archived."""
    kept = selectors.customer_get(actor=request.user, id=payload.kept_id, channel="merge")
    merged = selectors.customer_get(actor=request.user, id=payload.merged_id, channel="merge")
    return workflows.customers_merge(actor=request.user, kept=kept, merged=merged)


# --- ARC-12: self-service forms ---------------------------------------------------------------------


class InviteIn(StrictIn):
    customer_id: Id | None = None
    days: Annotated[int, Field(ge=1, le=90)] | None = None


class InviteOut(Schema):
    id: int
    token: str
    url: str
    expires_at: datetime


class InvitationOut(Schema):
    id: int
    customer_id: int | None
    invited_by_id: int
    status: str
    expires_at: datetime
    submitted_at: datetime | None
    reviewed_at: datetime | None
    created_at: datetime


class InvitationDetailOut(InvitationOut):
    fields: list[dict]
    contacts: list[dict]


class InvitationQuery(Schema):
    status: Literal[tuple(SelfServiceInvitation.Status.values)] | None = None  # type: ignore[valid-type]


class ReviewIn(StrictIn):
    accept_fields: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    accept_contacts: list[Annotated[int, Field(ge=0, le=10)]] = Field(default_factory=list, max_length=10)
    reject: bool = False


def _invitation_detail(invitation: SelfServiceInvitation) -> dict:
    return {
        **InvitationOut.from_orm(invitation).model_dump(),
        "fields": workflow_selectors.self_service_comparison(invitation=invitation),
        "contacts": (invitation.submitted_data or {}).get("contacts", []),
    }


@router.post("/customers/self-service", response={201: InviteOut})
@requires("customers.change_customer")
def self_service_invite(request, payload: InviteIn):
    """A link (客户资料表) for a customer — or a prospect, without ``customer_id`` — to fill in their
    own data. The token is shown here once; only its hash is kept."""
    customer = None
    if payload.customer_id is not None:
        customer = selectors.customer_get(actor=request.user, id=payload.customer_id, channel="api")
    elif not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied(
            _("You do not have permission to do this."), details={"required": ["customers.add_customer"]}
        )
    invitation, token = workflows.self_service_invite(
        actor=request.user, customer=customer, days=payload.days
    )
    url = request.build_absolute_uri(f"/s/{token}/")
    return Status(201, {"id": invitation.pk, "token": token, "url": url, "expires_at": invitation.expires_at})


@router.get("/customers/self-service", response=list[InvitationOut])
@requires("customers.view_customer")
@paginate(PageNumberPagination)
def self_service_list(request, filters: Query[InvitationQuery]):
    return workflow_selectors.self_service_list(actor=request.user, status=filters.status)


@router.get("/customers/self-service/{int:invitation_id}", response=InvitationDetailOut)
@requires("customers.view_customer")
def self_service_detail(request, invitation_id: int):
    """The submission beside the archive's current values, field by field."""
    return _invitation_detail(workflow_selectors.self_service_get(actor=request.user, id=invitation_id))


@router.post("/customers/self-service/{int:invitation_id}/review", response=InvitationDetailOut)
@requires("customers.change_customer")
def self_service_review(request, invitation_id: int, payload: ReviewIn):
    """Merge the accepted fields and contacts through the ordinary services, or reject."""
    invitation = workflow_selectors.self_service_get(actor=request.user, id=invitation_id)
    if (
        invitation.customer_id is None
        and not payload.reject
        and not request.user.has_perm("customers.add_customer")
    ):
        raise PermissionDenied(
            _("You do not have permission to do this."), details={"required": ["customers.add_customer"]}
        )
    invitation = workflows.self_service_review(
        actor=request.user,
        invitation=invitation,
        accept_fields=payload.accept_fields,
        accept_contacts=payload.accept_contacts,
        reject=payload.reject,
    )
    return _invitation_detail(invitation)
