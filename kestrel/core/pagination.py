"""List pagination for the API (SPEC §9): ``?page=&page_size=`` (≤ 500) → ``{items, count}``.

Counting a million rows costs more than fetching a page, so ``count`` is exact up to
``COUNT_CAP`` and then reported as capped (``count_capped: true``).
"""

from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from ninja import Field, Schema
from ninja.pagination import PaginationBase

COUNT_CAP = 10_000
MAX_PAGE_SIZE = 500


class PageNumberPagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000, description="1-based page number")
        page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="items per page, at most 500")

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet | list, pagination: Input, **params: Any) -> dict:
        offset = (pagination.page - 1) * pagination.page_size
        if isinstance(queryset, QuerySet):
            items = _page(queryset, offset, pagination.page_size)
            count = queryset.order_by()[: COUNT_CAP + 1].count()
        else:
            items = list(queryset[offset : offset + pagination.page_size])
            count = len(queryset)
        capped = count > COUNT_CAP
        return {"items": items, "count": COUNT_CAP if capped else count, "count_capped": capped}


def _page(queryset: QuerySet, offset: int, size: int) -> list:
    """One page of a queryset. On SQLite, the page's primary keys first, then their rows: when the
    WHERE is an OR that SQLite answers from several indexes (a data scope's departments, owner,
    holders), it sorts every matching row — with all of its ``select_related`` joins — to keep 50;
    sorting the bare keys and joining only the page's rows is several times faster at 1M rows."""
    query = queryset.query
    if (
        connections[queryset.db].vendor != "sqlite"
        or queryset._iterable_class is not ModelIterable
        or query.combinator
        or query.distinct
        or query.is_sliced
        or not query.order_by
    ):
        return list(queryset[offset : offset + size])
    keys = list(queryset.values_list("pk", flat=True)[offset : offset + size])
    rows = {row.pk: row for row in queryset.filter(pk__in=keys)} if keys else {}
    return [rows[key] for key in keys if key in rows]
