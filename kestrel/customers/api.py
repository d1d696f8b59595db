"""/api/v1/customers and /api/v1/contacts (SPEC §9, ARC-1 … ARC-6, ARC-13, ARC-14)."""

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from kestrel.core.errors import NotFound, ValidationFailed
from kestrel.core.pagination import PageNumberPagination, page_keys
from kestrel.core.permissions import requires
from kestrel.customers import error_codes, selectors, services
from kestrel.customers.models import Customer, Industry, Region
from kestrel.customers.schemas import (
    Confidentiality,
    ContactIn,
    ContactMoveIn,
    ContactOut,
    ContactPatch,
    CustomerDetailOut,
    CustomerIn,
    CustomerKind,
    CustomerOut,
    CustomerPatch,
    CustomerSource,
    CustomerStatus,
    Id,
    Lifecycle,
    SearchText,
)
from kestrel.org.models import Employee
from kestrel.org.selectors import employee_for_user

router = Router(tags=["customers"])


class CustomerPagination(PageNumberPagination):
    """A page of the customer list: its keys read through the data scope, its rows built from them
    (``selectors.customer_rows``), and each archive shown logged as read (ARC-6) — a list or search
    answer shows the archive as surely as its detail page does."""

    def page_items(self, queryset: Any, offset: int, size: int, request: Any) -> list:
        ids = page_keys(queryset, offset, size)
        channel = "search" if request.GET.get("q") else "list"
        services.archive_reads_log(actor=request.user, customer_ids=ids, channel=channel)
        return selectors.customer_rows(actor=request.user, ids=ids)


class ContactPagination(PageNumberPagination):
    """A page of contacts, their customers' archives logged as read (ARC-6)."""

    def page_items(self, queryset: Any, offset: int, size: int, request: Any) -> list:
        contacts = super().page_items(queryset, offset, size, request)
        ids = [contact.customer_id for contact in contacts]
        services.archive_reads_log(actor=request.user, customer_ids=ids, channel="contacts")
        return contacts


class CustomerQuery(Schema):
    q: SearchText = ""
    kind: CustomerKind | None = None
    status: CustomerStatus | None = None
    grade_id: Id | None = None
    industry_id: Id | None = None
    province_id: Id | None = None
    city_id: Id | None = None
    district_id: Id | None = None
    owner_id: Id | None = None
    department_id: Id | None = None
    confidentiality: Confidentiality | None = None
    lifecycle_stage: Lifecycle | None = None
    source: CustomerSource | None = None
    tag: SearchText | None = None


class ContactQuery(Schema):
    customer_id: Id | None = None
    q: SearchText = ""


def _customer_fields(request, payload: Schema) -> dict[str, Any]:
    """Turn the payload's ids into rows; an unknown id is a 422 on that field."""
    fields = payload.model_dump(exclude_unset=True)
    for name in ("name", "kind", "status", "confidentiality", "lifecycle_stage", "currency", "credit_limit"):
        if name in fields and fields[name] is None:
            raise ValidationFailed(_("This field cannot be null."), details={name: [_("Must not be null.")]})
    nullable_text = {
        "short_name",
        "address",
        "postal_code",
        "phone",
        "fax",
        "email",
        "website",
        "taxpayer_type",
        "legal_representative",
        "organisation_form",
        "invoice_title",
        "invoice_address",
        "referrer",
        "payment_terms",
        "discount_terms",
        "payment_credit_record",
        "commission_code",
        "source",
    }
    for name in nullable_text & fields.keys():
        fields[name] = fields[name] or ""
    for name in ("tags", "other_phones"):  # null means empty
        if name in fields:
            fields[name] = fields[name] or []
    if "custom_fields" in fields:
        fields["custom_fields"] = fields["custom_fields"] or {}
    for name in ("province", "city", "district"):
        if f"{name}_id" in fields:
            fields[name] = _ref(Region, fields.pop(f"{name}_id"), f"{name}_id", error_codes.UNKNOWN_REGION)
    if "industry_id" in fields:
        fields["industry"] = _ref(
            Industry, fields.pop("industry_id"), "industry_id", error_codes.UNKNOWN_INDUSTRY
        )
    if "relationship_manager_id" in fields:
        fields["relationship_manager"] = _employee(
            fields.pop("relationship_manager_id"), "relationship_manager_id"
        )
    if "co_owner_ids" in fields:
        fields["co_owners"] = [_employee(pk, "co_owner_ids") for pk in (fields.pop("co_owner_ids") or [])]
    if "owner_id" in fields:
        owner_id = fields.pop("owner_id")
        if owner_id is not None:
            fields["owner"] = _employee(owner_id, "owner_id")
    return fields


def _ref(model, pk: int | None, field: str, code: str):
    if pk is None:
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise ValidationFailed(
            _("No such record."), code=code, details={field: [_("No such record.")], "value": pk}
        )
    return row


def _employee(pk: int | None, field: str) -> Employee | None:
    if pk is None:
        return None
    employee = Employee.objects.filter(pk=pk, status=Employee.Status.ACTIVE).first()
    if employee is None:
        raise ValidationFailed(
            _("No such active employee."),
            code=error_codes.UNKNOWN_OWNER,
            details={field: [_("No such active employee.")]},
        )
    return employee


# --- Customers -----------------------------------------------------------------------------------


@router.get("/customers", response=list[CustomerOut])
@requires("customers.view_customer")
@paginate(CustomerPagination)
def customer_list(request, filters: Query[CustomerQuery]):
    return selectors.customer_list(
        actor=request.user, filters=selectors.CustomerFilter(**filters.model_dump())
    )


@router.post("/customers", response={201: CustomerDetailOut})
@requires("customers.add_customer")
def customer_create(request, payload: CustomerIn):
    fields = _customer_fields(request, payload)
    fields["custom_fields"] = fields.get("custom_fields") or {}  # so that required ones are asked for
    owner = fields.pop("owner", None) or employee_for_user(user=request.user)
    if owner is None:
        raise ValidationFailed(
            _("Name an owner: you have no employee record."), details={"owner_id": [_("Required.")]}
        )
    customer = services.customer_create(actor=request.user, owner=owner, **fields)
    return Status(201, selectors.customer_get(actor=request.user, id=customer.pk, channel="api"))


@router.get("/customers/{int:customer_id}", response=CustomerDetailOut)
@requires("customers.view_customer")
def customer_detail(request, customer_id: int):
    return selectors.customer_get(actor=request.user, id=customer_id, channel="api")


@router.patch("/customers/{int:customer_id}", response=CustomerDetailOut)
@requires("customers.change_customer")
def customer_update(request, customer_id: int, payload: CustomerPatch):
    customer = selectors.customer_get(actor=request.user, id=customer_id, channel="api")
    services.customer_update(actor=request.user, customer=customer, **_customer_fields(request, payload))
    return selectors.customer_get(actor=request.user, id=customer_id, channel="api")


@router.get("/customers/{int:customer_id}/360", response=dict)
@requires("customers.view_customer")
def customer_360(request, customer_id: int):
    view = selectors.customer_360(actor=request.user, id=customer_id)
    context = {"request": request}
    return {
        "profile": CustomerDetailOut.from_orm(view["customer"], context=context).model_dump(mode="json"),
        "contacts": [
            ContactOut.from_orm(c, context=context).model_dump(mode="json") for c in view["contacts"]
        ],
        "contacts_moved_away": [
            {
                "contact_id": moved["contact"].pk,
                "name": moved["contact"].name,
                "title": moved["title"],
                "moved_at": moved["moved_at"].isoformat(),
                "to_customer": {"id": moved["to_customer"].pk, "name": moved["to_customer"].name}
                if moved["to_customer"]
                else None,
            }
            for moved in view["contacts_moved_away"]
        ],
        "major_events": [
            {"occurred_on": e.occurred_on.isoformat(), "title": e.title, "description": e.description}
            for e in view["major_events"]
        ],
        "grade_history": [
            {
                "scheme": g.scheme.name,
                "from": g.from_grade.name if g.from_grade else None,
                "to": g.to_grade.name if g.to_grade else None,
                "source": g.source,
                "reason": g.reason,
                "changed_at": g.changed_at.isoformat(),
            }
            for g in view["grade_history"]
        ],
    }


# --- Contacts ------------------------------------------------------------------------------------


@router.get("/contacts", response=list[ContactOut])
@requires("customers.view_contact")
@paginate(ContactPagination)
def contact_list(request, filters: Query[ContactQuery]):
    return selectors.contact_list(actor=request.user, customer_id=filters.customer_id, q=filters.q)


def _readable_customer(request, pk: int, field: str = "customer_id") -> Customer:
    try:
        return selectors.customer_get(actor=request.user, id=pk, channel="api")
    except NotFound as error:
        raise ValidationFailed(
            _("No such customer."), code="unknown_customer", details={field: [_("No such customer.")]}
        ) from error


def _contact_fields(payload: Schema) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True)
    fields.pop("customer_id", None)
    for name, value in list(fields.items()):
        if value is None and name not in {"birthday"}:
            if name in {"is_primary", "consent_contact", "consent_marketing", "active", "name"}:
                raise ValidationFailed(
                    _("This field cannot be null."), details={name: [_("Must not be null.")]}
                )
            fields[name] = ""
    return fields


@router.post("/contacts", response={201: ContactOut})
@requires("customers.add_contact")
def contact_create(request, payload: ContactIn):
    customer = _readable_customer(request, payload.customer_id)
    contact = services.contact_create(actor=request.user, customer=customer, **_contact_fields(payload))
    return Status(201, contact)


@router.get("/contacts/{int:contact_id}", response=ContactOut)
@requires("customers.view_contact")
def contact_detail(request, contact_id: int):
    return selectors.contact_get(actor=request.user, id=contact_id)


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
@requires("customers.change_contact")
def contact_update(request, contact_id: int, payload: ContactPatch):
    contact = selectors.contact_get(actor=request.user, id=contact_id)
    return services.contact_update(actor=request.user, contact=contact, **_contact_fields(payload))


@router.post("/contacts/{int:contact_id}/move", response=ContactOut)
@requires("customers.change_contact")
def contact_move(request, contact_id: int, payload: ContactMoveIn):
    contact = selectors.contact_get(actor=request.user, id=contact_id)
    target = _readable_customer(request, payload.customer_id)
    return services.contact_move(actor=request.user, contact=contact, to_customer=target, title=payload.title)


@router.delete("/contacts/{int:contact_id}", response={204: None})
@requires("customers.delete_contact")
def contact_delete(request, contact_id: int):
    contact = selectors.contact_get(actor=request.user, id=contact_id)
    services.contact_update(actor=request.user, contact=contact, active=False)
    return Status(204, None)
