"""Writes to the customer archive (ARC-1 … ARC-3, ARC-5). Every change is audited (django-auditlog)."""

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import Conflict, ValidationFailed
from kestrel.core.services import sequence_next
from kestrel.customers import error_codes
from kestrel.customers.custom_fields import custom_fields_clean
from kestrel.customers.models import (
    ArchiveView,
    Contact,
    ContactMove,
    Customer,
    CustomerCharacteristics,
    MajorEvent,
    Tag,
)
from kestrel.customers.pinyin import name_search_keys
from kestrel.customers.validators import normalise_credit_code, normalise_phone
from kestrel.org.models import Employee

# Fields a caller may set directly; relations and derived columns are handled below.
CUSTOMER_FIELDS = {
    "name", "short_name", "credit_code", "kind", "industry", "tags", "province", "city", "district",
    "address", "postal_code", "phone", "other_phones", "fax", "email", "website", "legal_representative",
    "founded_on", "registered_capital", "organisation_form", "staff_count", "annual_sales", "assets",
    "currency", "taxpayer_type", "tax_rate", "invoice_title", "invoice_address", "payment_terms",
    "discount_terms", "credit_limit", "sales_limit", "payment_credit_record", "relationship_manager",
    "commission_code", "source", "referrer", "lifecycle_stage", "confidentiality", "status", "custom_fields",
}  # fmt: skip


def customer_code_next() -> str:
    """The next customer code from ``KESTREL_CUSTOMER_CODE_PATTERN`` (default ``C{year}{seq:06d}``)."""
    year = timezone.localdate().year
    pattern = settings.KESTREL_CUSTOMER_CODE_PATTERN
    key = f"customer_code:{year}" if "{year}" in pattern else "customer_code"
    return pattern.format(year=year, seq=sequence_next(key=key))


def customer_create(
    *, actor: AbstractBaseUser | None, owner: Employee, code: str | None = None, **fields: Any
) -> Customer:
    """Create a customer owned by ``owner`` (the department follows the owner, for data scope).

    ``custom_fields``, when given, are checked against their definitions, required ones included (the
    form and the API always give them; a prospect accepted from a self-service form does not, and
    its required custom fields are filled in later)."""
    unknown = set(fields) - CUSTOMER_FIELDS - {"characteristics", "co_owners"}
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %s") % ", ".join(sorted(unknown)), details={"fields": sorted(unknown)}
        )
    characteristics = fields.pop("characteristics", None) or {}
    co_owners = list(fields.pop("co_owners", None) or [])
    tags = fields.pop("tags", None)
    customer = Customer(
        code=(code or "").strip() or customer_code_next(), owner=owner, department_id=owner.department_id
    )
    if "custom_fields" in fields:
        fields["custom_fields"] = _custom_fields(fields["custom_fields"], current=None, creating=True)
    _assign(customer, fields)
    now = timezone.now()
    customer.archive_updated_at = now
    _validate(customer)
    try:
        with transaction.atomic():
            customer.save()
            if co_owners:
                customer.co_owners.set(co_owners)
            if tags:
                customer.tags.set(_tags(tags))
            if characteristics:
                CustomerCharacteristics.objects.create(customer=customer, **characteristics)
    except IntegrityError as error:
        raise _conflict(customer) from error
    return customer


def customer_update(*, actor: AbstractBaseUser | None, customer: Customer, **fields: Any) -> Customer:
    """Edit the master file. Changing the owner moves the customer to the owner's department.

    ``custom_fields`` are merged into the stored ones: a key given as null or empty is removed, keys
    not given stay (values of fields since deactivated among them)."""
    unknown = set(fields) - CUSTOMER_FIELDS - {"characteristics", "co_owners", "owner", "code"}
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %s") % ", ".join(sorted(unknown)), details={"fields": sorted(unknown)}
        )
    characteristics = fields.pop("characteristics", None)
    co_owners = fields.pop("co_owners", None)
    tags = fields.pop("tags", None)
    owner = fields.pop("owner", None)
    with transaction.atomic():
        customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
        if "code" in fields:
            customer.code = (fields.pop("code") or "").strip() or customer.code
        if owner is not None and owner.pk != customer.owner_id:
            customer.owner = owner
            customer.department_id = owner.department_id
        if "custom_fields" in fields:
            fields["custom_fields"] = _custom_fields(
                fields["custom_fields"], current=customer.custom_fields, creating=False
            )
        _assign(customer, fields)
        customer.archive_updated_at = timezone.now()
        _validate(customer)
        try:
            with transaction.atomic():
                customer.save()
        except IntegrityError as error:
            raise _conflict(customer) from error
        if co_owners is not None:
            customer.co_owners.set(co_owners)
        if tags is not None:
            customer.tags.set(_tags(tags))
        if characteristics:
            CustomerCharacteristics.objects.update_or_create(customer=customer, defaults=characteristics)
    return customer


def customers_follow_owner(*, owner: Employee) -> int:
    """After an employee moved department, their customers move with them (one UPDATE)."""
    return (
        Customer.objects.filter(owner=owner)
        .exclude(department_id=owner.department_id)
        .update(department_id=owner.department_id)
    )


def _tags(names: list[str]) -> list[Tag]:
    wanted = sorted({name.strip() for name in names if name and name.strip()})
    Tag.objects.bulk_create([Tag(name=name) for name in wanted], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=wanted))


def _assign(customer: Customer, fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        if field == "credit_code":
            value = normalise_credit_code(value) or None
        elif field == "phone":
            value = normalise_phone(value)
        elif field in {"name", "short_name"}:
            value = (value or "").strip()
        setattr(customer, field, value)
    customer.name_pinyin, customer.name_initials = name_search_keys(f"{customer.name}")


def _custom_fields(given: Any, *, current: dict[str, Any] | None, creating: bool) -> dict[str, Any]:
    try:
        return custom_fields_clean(given, current=current, creating=creating)
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The custom fields are not valid."),
            code=error_codes.CUSTOMER_INVALID,
            details={"custom_fields": error.message_dict},
        ) from error


def _validate(customer: Customer) -> None:
    try:
        customer.full_clean(exclude=["owner", "department", "grade", "code"], validate_unique=False)
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The customer data is not valid."),
            code=error_codes.CUSTOMER_INVALID,
            details=error.message_dict,
        ) from error
    if customer.credit_code:
        duplicate = Customer.objects.filter(credit_code=customer.credit_code).exclude(pk=customer.pk)
        if duplicate.exists():
            # ARC-9: the same credit code is refused (without telling who holds it: it may be confidential).
            raise Conflict(
                _("A customer with this credit code already exists."),
                code=error_codes.DUPLICATE_CREDIT_CODE,
                details={"credit_code": [_("Already registered.")]},
            )


def _conflict(customer: Customer) -> Conflict:
    if Customer.objects.filter(code=customer.code).exclude(pk=customer.pk).exists():
        return Conflict(
            _("The customer code “%(code)s” is already used.") % {"code": customer.code},
            code=error_codes.DUPLICATE_CODE,
            details={"code": [_("Already used.")]},
        )
    return Conflict(
        _("A customer with this credit code already exists."),
        code=error_codes.DUPLICATE_CREDIT_CODE,
        details={"credit_code": [_("Already registered.")]},
    )


def customer_contacted(*, customer: Customer, at=None) -> None:
    """Record that someone was in touch with the customer (ENG-1 calls this)."""
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=at or timezone.now())


# --- Major events (ARC-2) ------------------------------------------------------------------------


def major_event_add(
    *,
    actor: AbstractBaseUser | None,
    customer: Customer,
    occurred_on: date,
    title: str,
    description: str = "",
) -> MajorEvent:
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(
            _("The event needs a title."), details={"title": [_("This field is required.")]}
        )
    employee = getattr(actor, "employee", None) if actor is not None else None
    return MajorEvent.objects.create(
        customer=customer, occurred_on=occurred_on, title=title, description=description, recorded_by=employee
    )


# --- Contacts (ARC-3) ----------------------------------------------------------------------------

CONTACT_FIELDS = {
    "name", "title", "department", "mobile", "phone", "email", "wechat", "birthday", "gender",
    "education", "hobbies", "family_notes", "decision_role", "is_primary", "consent_contact",
    "consent_marketing", "active",
}  # fmt: skip


def contact_create(*, actor: AbstractBaseUser | None, customer: Customer, **fields: Any) -> Contact:
    contact = Contact(customer=customer)
    _contact_assign(contact, fields)
    with transaction.atomic():
        if contact.is_primary:
            Contact.objects.filter(customer=customer, is_primary=True).update(is_primary=False)
        contact.save()
    return contact


def contact_update(*, actor: AbstractBaseUser | None, contact: Contact, **fields: Any) -> Contact:
    _contact_assign(contact, fields)
    with transaction.atomic():
        if contact.is_primary:
            Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
                pk=contact.pk
            ).update(is_primary=False)
        contact.save()
    return contact


def contact_move(
    *, actor: AbstractBaseUser | None, contact: Contact, to_customer: Customer, title: str = ""
) -> Contact:
    """A contact changed employer: they move, and the history keeps where they were (ARC-3)."""
    if to_customer.pk == contact.customer_id:
        raise ValidationFailed(
            _("The contact already belongs to this customer."),
            code=error_codes.CONTACT_SAME_CUSTOMER,
            details={"customer_id": [_("Choose another customer.")]},
        )
    with transaction.atomic():
        ContactMove.objects.create(
            contact=contact,
            from_customer_id=contact.customer_id,
            to_customer=to_customer,
            from_title=contact.title,
            moved_by=actor if actor is not None and actor.is_authenticated else None,
        )
        contact.customer = to_customer
        contact.is_primary = False
        if title:
            contact.title = title
        contact.save(update_fields=["customer", "is_primary", "title", "updated_at"])
    return contact


def _contact_assign(contact: Contact, fields: dict[str, Any]) -> None:
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %s") % ", ".join(sorted(unknown)), details={"fields": sorted(unknown)}
        )
    for field, value in fields.items():
        if field in {"mobile", "phone"}:
            value = normalise_phone(value)
        setattr(contact, field, value)
    if "consent_contact" in fields or "consent_marketing" in fields:
        contact.consent_recorded_at = timezone.now()
    try:
        contact.full_clean(exclude=["customer"])
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The contact data is not valid."), code=error_codes.CONTACT_INVALID, details=error.message_dict
        ) from error


def archive_reads_log(*, actor: AbstractBaseUser, customer_ids: list[int], channel: str) -> None:
    """ARC-6: the archives a list, search or contact page showed, each logged as read — so that every
    read of an archive is in the view log, not only detail pages. One ``INSERT … SELECT`` for the
    page: building 50 log rows as models cost more than the page's own query."""
    if not customer_ids or not actor.is_authenticated:
        return
    log, customer = ArchiveView._meta, Customer._meta
    columns = ", ".join(
        connection.ops.quote_name(log.get_field(name).column)
        for name in ("customer", "viewer", "channel", "outcome", "viewed_at")
    )
    keys = list(dict.fromkeys(customer_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(log.db_table)} ({columns}) "  # noqa: S608 — names from _meta
            f"SELECT {connection.ops.quote_name(customer.pk.column)}, %s, %s, %s, %s "
            f"FROM {connection.ops.quote_name(customer.db_table)} "
            f"WHERE {connection.ops.quote_name(customer.pk.column)} IN ({', '.join(['%s'] * len(keys))})",
            [actor.pk, channel, ArchiveView.Outcome.READ.value, timezone.now(), *keys],
        )
