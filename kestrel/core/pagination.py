"""List pagination for the API (SPEC §9): ``?page=&page_size=`` (≤ 500) → ``{items, count}``.

Counting a million rows costs more than fetching a page, so ``count`` is exact up to
``COUNT_CAP`` and then reported as capped (``count_capped: true``: at least that many). A queryset may
ask for a lower cap (``ScopedQuerySet.counted_up_to``): a search counts up to ``SEARCH_COUNT_CAP``,
since each match it counts is a row to check against the viewer's scope.
"""

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from ninja import Field, Schema
from ninja.pagination import PaginationBase

COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000
MAX_PAGE_SIZE = 500


class CappedPage(Page):
    def has_next(self) -> bool:
        # Past a capped count the rows go on: a full page has a next one (an empty one, at worst).
        if self.paginator.capped and self.number >= self.paginator.num_pages:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


class CappedPaginator(Paginator):
    """Django's paginator for pages (the web lists): counts at most the queryset's cap + 1 rows, like
    the API, and reads each page with ``page_of``. A capped count is not the last page: the pages
    after it are served ("1,000+" customers found, 20 a page, go on past page 50)."""

    capped = False

    def validate_number(self, number: Any) -> int:
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Served down to COUNT_CAP rows, as deep as a list counts anywhere: each page reads the rows
            # before it, and past ten thousand a filter finds a customer sooner than paging does.
            if self.capped and 1 <= int(number) <= -(-max(self.cap, COUNT_CAP) // self.per_page):
                return int(number)
            raise

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return CappedPage(*args, **kwargs)

    @cached_property
    def cap(self) -> int:
        return count_cap(self.object_list)

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            counted = count_of(self.object_list)
        else:
            counted = len(self.object_list)
        self.capped = counted > self.cap
        return min(counted, self.cap)

    def page(self, number: Any) -> Page:
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count and not self.capped:  # a capped count is not the end
            top = self.count
        return self._get_page(page_of(self.object_list, bottom, top - bottom), number, self)


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
            items = self.page_items(queryset, offset, pagination.page_size, params["request"])
            count = count_of(queryset)
        else:
            items = list(queryset[offset : offset + pagination.page_size])
            count = len(queryset)
        cap = count_cap(queryset)
        return {"items": items, "count": min(count, cap), "count_capped": count > cap}

    def page_items(self, queryset: QuerySet, offset: int, size: int, request: Any) -> list:
        """The page's items. An endpoint whose rows are cheaper built from the page's keys than as
        model instances (a list of wide rows) overrides this with ``page_keys`` and its own rows."""
        return page_of(queryset, offset, size)


def page_of(queryset: QuerySet, offset: int, size: int) -> list:
    """One page of a queryset. A plain ordered model queryset whose class asks for it
    (``page_in_two_steps``: the customers, wide rows with many relations) is read in two steps:

    1. The page's primary keys, without joins (``page_keys``).
    2. The rows of those keys, looked up by key alone — the keys passed the queryset's filters
       already, and repeating a search's sub-select there cost SQLite 20 ms at 1M customers — with
       what the queryset ``select_related`` loaded by ``related_loaded`` (prefetched on PostgreSQL,
       whose planner is slow on an eight-table join; joined on SQLite).
    """
    if not _in_two_steps(queryset):
        return list(queryset[offset : offset + size])
    keys = _page_keys(queryset, offset, size)
    if not keys:
        return []
    query = queryset.query
    if query.annotations or query.extra:  # they may read the filters' joins: keep the filters
        rows = queryset.filter(pk__in=keys)
    else:
        rows = queryset.model._base_manager.db_manager(queryset.db).filter(pk__in=keys)
        names, deferred = query.deferred_loading
        if names:
            rows = rows.defer(*names) if deferred else rows.only(*names)
        if queryset._prefetch_related_lookups:
            rows = rows.prefetch_related(*queryset._prefetch_related_lookups)
    if query.select_related:
        rows = related_loaded(rows.select_related(None), *_related_paths(query.select_related))
    by_key = {row.pk: row for row in rows.order_by()}
    return [by_key[key] for key in keys if key in by_key]


def page_keys(queryset: QuerySet, offset: int, size: int) -> list:
    """The primary keys of one page of ``queryset``, in its order. When the queryset keeps the arms
    of its data-scope OR (``ScopedQuerySet.page_branches``) and is ordered by primary key, each arm's
    newest ``offset + size`` keys are read from that arm's own index and merged here: a single
    query over the OR makes both databases collect and sort every matching row (a branch's 200,000
    customers at 1M) to keep 50."""
    if not _in_two_steps(queryset):
        return list(queryset.values_list("pk", flat=True)[offset : offset + size])
    return _page_keys(queryset, offset, size)


def count_cap(rows: Any) -> int:
    """Up to how many rows a list counts exactly: the queryset's own cap, else ``COUNT_CAP``."""
    return getattr(rows, "count_cap", None) or COUNT_CAP


def count_of(queryset: QuerySet) -> int:
    """How many rows ``queryset`` has, counted up to its ``count_cap`` + 1. With the arms of a data-scope
    OR kept (``page_branches``), as a sum over disjoint parts — the first arm, then each next arm
    without the rows of those before it — so that each part is counted from its arm's index (the
    big one, a department's archives, from the department index) instead of the OR making the
    database test row after row; the sum is exact."""
    cap = count_cap(queryset)
    branches = getattr(queryset, "page_branches", None) or []
    if len(branches) < 2 or not getattr(queryset, "page_in_two_steps", False) or queryset.query.distinct:
        return queryset.order_by()[: cap + 1].count()
    total = 0
    for index, branch in enumerate(branches):
        part = queryset.page_arm(branch)
        for earlier in branches[:index]:
            part = part.exclude(earlier)
        total += part.order_by()[: cap + 1 - total].count()
        if total > cap:
            break
    return total


def related_loaded(queryset: QuerySet, *paths: str) -> QuerySet:
    """``queryset`` with the related rows at ``paths`` loaded with it: joined on SQLite, prefetched
    on PostgreSQL, whose planner spends 20–60 ms ordering a join of eight or nine tables — more than
    the lookups cost — while SQLite plans it in microseconds and Django's prefetch costs more there."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.prefetch_related(*paths)
    return queryset.select_related(*paths)


def _in_two_steps(queryset: QuerySet) -> bool:
    query = queryset.query
    return not (
        not getattr(queryset, "page_in_two_steps", False)
        or queryset._iterable_class is not ModelIterable
        or query.combinator
        or query.distinct
        or query.is_sliced
        or not query.order_by
        or query.select_related is True
        or any("__" in name for name in query.deferred_loading[0])  # only()/defer() through a join
    )


def _page_keys(queryset: QuerySet, offset: int, size: int) -> list:
    order = tuple(queryset.query.order_by)
    branches = getattr(queryset, "page_branches", None) or []
    by_key = order in {("pk",), ("-pk",), ("id",), ("-id",)} and queryset.model._meta.pk.name == "id"
    if len(branches) < 2 or not by_key:
        return list(queryset.values_list("pk", flat=True)[offset : offset + size])
    keys: set = set()
    for branch in branches:
        keys.update(queryset.page_arm(branch).values_list("pk", flat=True)[: offset + size])
    return sorted(keys, reverse=order[0].startswith("-"))[offset : offset + size]


def _related_paths(tree: dict, prefix: str = "") -> Iterator[str]:
    for name, below in tree.items():
        yield prefix + name
        yield from _related_paths(below, f"{prefix}{name}__")
