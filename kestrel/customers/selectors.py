"""Reads of the customer archive. Every read goes through ``Customer.objects.readable_by(actor)``:
data scope (PLT-2) and confidentiality with access grants (ARC-6) in one WHERE clause."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kestrel.core.errors import NotFound
from kestrel.core.pagination import SEARCH_COUNT_CAP, related_loaded
from kestrel.customers import masking, search
from kestrel.customers.models import ArchiveView, Contact, ContactMove, Customer
from kestrel.customers.validators import normalise_phone


@dataclass(frozen=True)
class CustomerFilter:
    q: str = ""
    kind: str | None = None
    status: str | None = None
    grade_id: int | None = None
    industry_id: int | None = None
    province_id: int | None = None
    city_id: int | None = None
    district_id: int | None = None
    owner_id: int | None = None
    department_id: int | None = None
    confidentiality: str | None = None
    lifecycle_stage: str | None = None
    source: str | None = None
    tag: str | None = None


# What a list row or an archive shows of its relations.
CUSTOMER_RELATED = ("owner", "department", "grade", "province", "city", "district", "industry")

# A search text is common when this share of the newest customers match it: its page is then read
# newest first, row by row (kestrel/customers/search.py).
COMMON_TEXT_SAMPLE = 300
COMMON_TEXT_SHARE = 0.05
# Up to this many customers found, a search holds their ids and checks each against the viewer's scope
# (a key lookup); beyond it the search stays a sub-select of the query. Holding more cost more than it
# saved (at 1M: 3,700 ids, 2 ms more on both databases; benchmarks/RESULTS.md).
SEARCH_CANDIDATES = 1_000


def customer_list(*, actor: AbstractBaseUser, filters: CustomerFilter | None = None) -> QuerySet[Customer]:
    filters = filters or CustomerFilter()
    customers = Customer.objects.readable_by(actor).select_related(*CUSTOMER_RELATED).prefetch_related("tags")
    exact = {
        "kind": filters.kind,
        "status": filters.status,
        "grade_id": filters.grade_id,
        "industry_id": filters.industry_id,
        "province_id": filters.province_id,
        "city_id": filters.city_id,
        "district_id": filters.district_id,
        "owner_id": filters.owner_id,
        "department_id": filters.department_id,
        "confidentiality": filters.confidentiality,
        "lifecycle_stage": filters.lifecycle_stage,
        "source": filters.source,
    }
    customers = customers.filter(
        **{field: value for field, value in exact.items() if value not in (None, "")}
    )
    if filters.tag:
        customers = customers.filter(
            pk__in=Customer.tags.through.objects.filter(tag__name=filters.tag).values("customer_id")
        )
    if filters.q:
        customers = _searched(customers, filters.q).counted_up_to(SEARCH_COUNT_CAP)
    return customers.order_by("-pk")


def _searched(customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """``customers`` that ``text`` finds (ARC-10), by the cheapest of three ways that find the same:

    - a common text (公司, a single letter): newest first, row by row, a page stopping when full;
    - a text found a few times (most): its ids, read once from the indexes, checked by key;
    - else the indexes as a sub-select of the query.

    Where the index yields its matches one by one (``search.matches_stream``), reading up to
    ``SEARCH_CANDIDATES`` of them costs less than asking whether the text is common, so that comes
    first; where it lists them all first, the common-text probe does.
    """

    def common() -> bool:
        return search.text_is_common(text, sample=COMMON_TEXT_SAMPLE, share=COMMON_TEXT_SHARE)

    streams = search.matches_stream()
    if not streams and common():
        return customers.filter(search.customer_match_condition(text))
    found = search.customer_search_candidates(text, limit=SEARCH_CANDIDATES)
    if found is not None:
        return customers.filter(search.customer_ids_condition(found)).page_in_one_query()
    if streams and common():
        return customers.filter(search.customer_match_condition(text))
    return customers.filter(customer_search_condition(text)).page_in_one_query()


# A list row (``schemas.CustomerOut``): the columns it shows, read as values — building 50 wide models
# with seven related objects each cost more than the whole rest of a list request.
CUSTOMER_ROW_COLUMNS = (
    "id",
    "code",
    "name",
    "short_name",
    "credit_code",
    "kind",
    "grade_id",
    "province_id",
    "city_id",
    "district_id",
    "industry_id",
    "owner_id",
    "department_id",
    "confidentiality",
    "status",
    "lifecycle_stage",
    "phone",
    "credit_limit",
    "annual_sales",
    "last_contact_at",
    "archive_updated_at",
    "created_at",
    "updated_at",
)
CUSTOMER_ROW_NAMES = {
    "grade": "grade__name",
    "owner_name": "owner__name",
    "province": "province__name",
    "city": "city__name",
    "district": "district__name",
}


def customer_rows(*, actor: AbstractBaseUser, ids: list[int]) -> list[dict[str, Any]]:
    """The list rows of customers already found readable (a page's keys), in the order of ``ids``,
    amounts masked for ``actor`` (ARC-14): one query for the rows with their relations' names, one
    for their tags."""
    if not ids:
        return []
    found = {
        row["id"]: row
        for row in Customer.objects.filter(search.customer_ids_condition(ids)).values(
            *CUSTOMER_ROW_COLUMNS, *CUSTOMER_ROW_NAMES.values()
        )
    }
    tags = defaultdict(list)
    for customer_id, name in Customer.tags.through.objects.filter(
        search.customer_ids_condition(ids, "customer_id")
    ).values_list("customer_id", "tag__name"):
        tags[customer_id].append(name)
    rows = []
    for pk in ids:
        row = found.get(pk)
        if row is None:  # deleted since its key was read
            continue
        names = {field: row.pop(column) for field, column in CUSTOMER_ROW_NAMES.items()}
        row["grade"] = names["grade"]
        row["owner_name"] = names["owner_name"]
        row["region"] = "".join(names[level] or "" for level in ("province", "city", "district"))
        row["tags"] = sorted(tags[pk])
        rows.append(row)
    return masking.customer_rows_masked(actor, rows)


def customer_search_condition(text: str) -> Q:
    """ARC-10: name, short name, full pinyin, pinyin initials, code, credit code, phone, contact name,
    Chinese substring — each through its index (kestrel/customers/search.py), as one ``pk IN``."""
    return search.customer_search_condition(text)


def customer_get(*, actor: AbstractBaseUser, id: int, channel: str = "detail") -> Customer:
    """A readable customer, its read logged (ARC-6). An unreadable one is "not found" — whether it
    exists or not — and an attempt on an existing one is logged as denied."""
    customer = (
        related_loaded(Customer.objects.readable_by(actor), *CUSTOMER_RELATED, "relationship_manager")
        .prefetch_related("tags", "co_owners")
        .filter(pk=id)
        .first()
    )
    if customer is None:
        if Customer.objects.filter(pk=id).exists():
            ArchiveView.objects.create(
                customer_id=id, viewer=actor, channel=channel, outcome=ArchiveView.Outcome.DENIED
            )
        raise NotFound(_("Customer not found."), details={"id": id})
    ArchiveView.objects.create(
        customer=customer, viewer=actor, channel=channel, outcome=ArchiveView.Outcome.READ
    )
    return customer


def customer_360(*, actor: AbstractBaseUser, id: int) -> dict[str, Any]:
    """ARC-13: everything known about one customer. Sections of modules not built yet are absent."""
    customer = customer_get(actor=actor, id=id, channel="360")
    return {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "contacts_moved_away": contacts_moved_away(actor=actor, customer=customer),
        "major_events": list(customer.major_events.select_related("recorded_by")[:50]),
        "grade_history": list(
            customer.grade_changes.select_related("from_grade", "to_grade", "scheme", "changed_by")[:50]
        ),
    }


MOVED_AWAY_SHOWN = 50


def contacts_moved_away(*, actor: AbstractBaseUser, customer: Customer) -> list[dict[str, Any]]:
    """ARC-3: the contacts who left ``customer`` for another one, the latest move of each, newest
    first — who, in what title, when, and where to. The new customer is named only if ``actor`` may
    read its archive; a contact who came back is among the contacts again, not here."""
    moves = (
        ContactMove.objects.filter(from_customer=customer)
        .exclude(contact__customer=customer)
        .select_related("contact", "to_customer")
        .order_by("-moved_at", "-pk")
    )
    latest: dict[int, ContactMove] = {}
    for move in moves[: MOVED_AWAY_SHOWN * 2]:
        latest.setdefault(move.contact_id, move)
    shown = list(latest.values())[:MOVED_AWAY_SHOWN]
    readable = set(
        Customer.objects.readable_by(actor)
        .filter(pk__in={move.to_customer_id for move in shown})
        .values_list("pk", flat=True)
    )
    return [
        {
            "contact": move.contact,
            "title": move.from_title,
            "moved_at": move.moved_at,
            "to_customer": move.to_customer if move.to_customer_id in readable else None,
        }
        for move in shown
    ]


def contact_list(
    *, actor: AbstractBaseUser, customer_id: int | None = None, q: str = ""
) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(
        customer__in=Customer.objects.readable_by(actor).values("pk")
    ).select_related("customer")
    if customer_id is not None:
        contacts = contacts.filter(customer_id=customer_id)
    if q:
        contacts = contacts.filter(Q(name__icontains=q) | Q(mobile=normalise_phone(q)))
    return contacts.order_by("customer_id", "-is_primary", "name", "pk")


def contact_get(*, actor: AbstractBaseUser, id: int) -> Contact:
    contact = contact_list(actor=actor).filter(pk=id).first()
    if contact is None:
        raise NotFound(_("Contact not found."), details={"id": id})
    return contact
