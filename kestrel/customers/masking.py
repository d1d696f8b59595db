"""Sensitive fields (ARC-14): masked for everyone without ``customers.view_sensitive``, wherever
they appear — API, pages, search results, exports, notifications. One function decides."""

from typing import Any

from django.conf import settings

MASK = "****"


def sees_sensitive(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("customers.view_sensitive"))


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; 010-87654321 → 010-****4321."""
    if not value:
        return value
    if len(value) <= 4:
        return MASK
    return value[:3] + MASK + value[-4:]


def mask_account(value: str) -> str:
    return (MASK + value[-4:]) if value else value


def mask_amount(value: Any) -> Any:
    return None if value is None else MASK


def masked_amount_fields() -> set[str]:
    """Amounts masked where configured (``KESTREL_MASKED_AMOUNTS``, e.g. "credit_limit,annual_sales")."""
    return set(settings.KESTREL_MASKED_AMOUNTS)


def customer_value(user: Any, field: str, value: Any) -> Any:
    if sees_sensitive(user):
        return value
    if field in masked_amount_fields():
        return mask_amount(value)
    return value


def customer_rows_masked(user: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (dicts of customer fields) with what ``user`` may not see masked, in place — the
    permission looked up once for a page of rows, not per value."""
    if not rows or sees_sensitive(user):
        return rows
    for field in masked_amount_fields() & rows[0].keys():
        for row in rows:
            row[field] = mask_amount(row[field])
    return rows


def contact_value(user: Any, field: str, value: Any) -> Any:
    if sees_sensitive(user) or field not in {"mobile", "wechat"}:
        return value
    return mask_phone(value) if field == "mobile" else MASK if value else value
