"""Export of customers and contacts to .xlsx and .csv (ARC-11, ARC-14).

Only what the actor may read leaves: the rows come from the list selectors (data scope,
confidentiality and access grants in one WHERE clause, the list's own filters), values go through
``masking`` exactly as in the API, and cells a spreadsheet would run as formulas are neutralised.
Rows are streamed (``iterator(chunk_size=…)``, openpyxl write-only). Every export is logged: one
``ArchiveView`` row per exported customer (channel "export", one bulk insert per chunk) and an
audit entry with who exported how many rows with which filters.
"""

import dataclasses
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from kestrel.core.errors import ValidationFailed
from kestrel.customers import import_messages as msg
from kestrel.customers import masking, selectors, spreadsheets
from kestrel.customers.models import ArchiveView, Contact, Customer

logger = logging.getLogger(__name__)

CHUNK = 2000
FORMATS = ("xlsx", "csv")
MONEY_FIELDS = ("registered_capital", "annual_sales", "assets", "credit_limit", "sales_limit")


def _label(value: Any, field: str) -> str:
    return msg.CHOICE_LABELS.get(field, {}).get(value, value or "")


def _region(customer: Customer) -> str:
    return "/".join(r.name for r in (customer.province, customer.city, customer.district) if r is not None)


def customer_columns(actor: AbstractBaseUser) -> list[tuple[str, Callable[[Customer], Any]]]:
    """(Chinese header, value) — the import template's headers, so an export can be re-imported."""
    labels = msg.CUSTOMER_LABELS

    def plain(name: str) -> Callable[[Customer], Any]:
        return lambda c: getattr(c, name)

    def money(name: str) -> Callable[[Customer], Any]:
        return lambda c: masking.customer_value(actor, name, getattr(c, name))

    def choice(name: str) -> Callable[[Customer], Any]:
        return lambda c: _label(getattr(c, name), name)

    getters: dict[str, Callable[[Customer], Any]] = {
        "region": _region,
        "industry": lambda c: c.industry.name if c.industry_id else "",
        "owner": lambda c: c.owner.employee_no or c.owner.name,
        "grade": lambda c: c.grade.name if c.grade_id else "",
        "tags": lambda c: ";".join(sorted(t.name for t in c.tags.all())),
    }
    columns = []
    for name, label in labels.items():
        if name in getters:
            getter = getters[name]
        elif name in MONEY_FIELDS:
            getter = money(name)
        elif name in msg.CHOICE_LABELS:
            getter = choice(name)
        else:
            getter = plain(name)
        columns.append((label, getter))
    return columns


def contact_columns(actor: AbstractBaseUser) -> list[tuple[str, Callable[[Contact], Any]]]:
    columns: list[tuple[str, Callable[[Contact], Any]]] = []
    for name, label in msg.CONTACT_LABELS.items():
        if name == "customer":
            columns.append((label, lambda c: c.customer.code))
        elif name in {"mobile", "wechat"}:
            columns.append((label, lambda c, n=name: masking.contact_value(actor, n, getattr(c, n))))
        elif name in msg.CHOICE_LABELS:
            columns.append((label, lambda c, n=name: _label(getattr(c, n), n)))
        elif name in {"is_primary", "consent_contact", "consent_marketing"}:
            columns.append((label, lambda c, n=name: "是" if getattr(c, n) else "否"))
        else:
            columns.append((label, lambda c, n=name: getattr(c, n)))
    return columns


def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValidationFailed(_("Export as xlsx or csv."), details={"format": [format]})
    return format


def _write(format: str, target: Any, title: str, header: list[str], rows: Iterator[list[Any]]) -> int:
    if format == "csv":
        text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
        try:
            return spreadsheets.write_csv(text, header, rows)
        finally:
            text.detach()
    return spreadsheets.write_xlsx(target, [(title, header, rows)])


def customers_export(
    *,
    actor: AbstractBaseUser,
    target: Any,
    format: str = "xlsx",
    filters: selectors.CustomerFilter | None = None,
) -> int:
    """Write the customers ``actor`` may read (with the list's ``filters``) to ``target`` (a binary
    file or path); returns the number of rows. Logs the export."""
    format = _check_format(format)
    filters = filters or selectors.CustomerFilter()
    customers = selectors.customer_list(actor=actor, filters=filters)
    columns = customer_columns(actor)
    exported: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for customer in customers.iterator(chunk_size=CHUNK):
            exported.append(customer.pk)
            if len(exported) % CHUNK == 0:
                _log_views(actor, exported[-CHUNK:])
            yield [getter(customer) for _label_, getter in columns]

    count = _write(format, target, "客户", [label for label, _getter in columns], rows())
    _log_views(actor, exported[len(exported) - len(exported) % CHUNK :])
    _audit(actor, "customers", count, format, dataclasses.asdict(filters))
    return count


def contacts_export(
    *,
    actor: AbstractBaseUser,
    target: Any,
    format: str = "xlsx",
    customer_id: int | None = None,
    q: str = "",
) -> int:
    format = _check_format(format)
    contacts = selectors.contact_list(actor=actor, customer_id=customer_id, q=q)
    columns = contact_columns(actor)
    customer_ids: set[int] = set()

    def rows() -> Iterator[list[Any]]:
        for contact in contacts.iterator(chunk_size=CHUNK):
            customer_ids.add(contact.customer_id)
            yield [getter(contact) for _label_, getter in columns]

    count = _write(format, target, "联系人", [label for label, _getter in columns], rows())
    _log_views(actor, sorted(customer_ids))
    _audit(actor, "contacts", count, format, {"customer_id": customer_id, "q": q})
    return count


def _log_views(actor: AbstractBaseUser, customer_ids: list[int]) -> None:
    if customer_ids:
        ArchiveView.objects.bulk_create(
            [
                ArchiveView(customer_id=pk, viewer=actor, channel="export", outcome=ArchiveView.Outcome.READ)
                for pk in customer_ids
            ],
            batch_size=CHUNK,
        )


def _audit(actor: AbstractBaseUser, kind: str, count: int, format: str, filters: dict[str, Any]) -> None:
    used = {key: value for key, value in filters.items() if value not in (None, "")}
    LogEntry.objects.log_create(
        actor,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=actor,
        additional_data={"event": "export", "kind": kind, "rows": count, "format": format, "filters": used},
        force_log=True,
    )
    logger.info("%s exported %d %s as %s, filters %s", actor.get_username(), count, kind, format, used)
