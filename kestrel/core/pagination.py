"""List pagination for the API (SPEC §9): ``?page=&page_size=`` (≤ 500) → ``{items, count}``.

Counting a million rows costs more than fetching a page, so ``count`` is exact up to
``COUNT_CAP`` and then reported as capped (``count_capped: true``).
"""

from typing import Any

from django.db.models import QuerySet
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
        items = list(queryset[offset : offset + pagination.page_size])
        if isinstance(queryset, QuerySet):
            count = queryset.order_by()[: COUNT_CAP + 1].count()
        else:
            count = len(queryset)
        capped = count > COUNT_CAP
        return {"items": items, "count": COUNT_CAP if capped else count, "count_capped": capped}
