"""Data scope (数据权限, PLT-2): the one mechanism every list, detail, search, export and report uses.

A role carries one scope kind. A user's *reach* is the union of the scopes of all their roles, and
always includes the records they own themselves. A scoped model names two lookups:

- ``scope_owner``: the employee a record belongs to (for an employee row, the row itself: ``"pk"``);
- ``scope_department``: the department a record belongs to (a foreign key to ``org.Department``).

``Model.objects.visible_to(user)`` turns the reach into one WHERE clause: the owner column, and the
department column against a single sub-select on the indexed materialised path, so it stays an
index lookup however deep the tree and however many records there are.
"""

from dataclasses import dataclass, field
from typing import Any, Self

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    ALL = "all", _("All data")
    DEPARTMENTS = "departments", _("Listed departments")
    DEPARTMENT = "department", _("Own department")
    DEPARTMENT_TREE = "department_tree", _("Own department and below")
    SELF = "self", _("Self only")


@dataclass(frozen=True)
class Reach:
    """What one user may see: everything, or these departments/subtrees plus their own records."""

    everything: bool = False
    employee_id: int | None = None
    department_ids: frozenset[int] = field(default_factory=frozenset)
    subtree_paths: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.employee_id or self.department_ids or self.subtree_paths)

    def department_subquery(self) -> models.QuerySet | None:
        if not (self.department_ids or self.subtree_paths):
            return None
        department = apps.get_model("org", "Department")
        condition = Q(pk__in=self.department_ids) if self.department_ids else Q()
        for path in self.subtree_paths:
            condition |= Q(path__startswith=path)
        return department.objects.filter(condition).values("pk")

    def as_q(self, *, owner: str, department: str | None) -> Q | None:
        """The filter for a model; ``None`` means no restriction."""
        if self.everything:
            return None
        condition = Q(pk__in=[])
        if self.employee_id:
            condition |= Q(**{owner: self.employee_id})
        subquery = self.department_subquery()
        if department and subquery is not None:
            condition |= Q(**{f"{department}__in": subquery})
        return condition


NO_REACH = Reach()


def reach_for(user: Any) -> Reach:
    """The union of the data scopes of the user's roles (cached on the user object for a request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_REACH
    cached = getattr(user, "_kestrel_reach", None)
    if cached is not None:
        return cached
    reach = _compute_reach(user)
    user._kestrel_reach = reach
    return reach


def _compute_reach(user: Any) -> Reach:
    if user.is_superuser:
        return Reach(everything=True)
    employee_model = apps.get_model("org", "Employee")
    employee = (
        employee_model.objects.filter(user=user, status=employee_model.Status.ACTIVE)
        .select_related("department")
        .first()
    )
    if employee is None:
        return NO_REACH
    department_ids: set[int] = set()
    subtree_paths: set[str] = set()
    for role in employee.roles.prefetch_related("departments"):
        match role.data_scope:
            case DataScope.ALL:
                return Reach(everything=True, employee_id=employee.pk)
            case DataScope.DEPARTMENTS:
                department_ids.update(d.pk for d in role.departments.all())
            case DataScope.DEPARTMENT:
                department_ids.add(employee.department_id)
            case DataScope.DEPARTMENT_TREE:
                subtree_paths.add(employee.department.path)
            case DataScope.SELF:
                pass
    return Reach(
        employee_id=employee.pk,
        department_ids=frozenset(department_ids),
        subtree_paths=frozenset(_outermost(subtree_paths)),
    )


def _outermost(paths: set[str]) -> set[str]:
    return {p for p in paths if not any(p != q and p.startswith(q) for q in paths)}


def forget_reach(user: Any) -> None:
    """Drop the cached reach after the user's roles or department changed."""
    if hasattr(user, "_kestrel_reach"):
        del user._kestrel_reach


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows the data scope. A scope filter that is an OR of indexed conditions also
    keeps its arms (``page_branches``), so that a page can be read arm by arm — each from its own
    index, newest first, stopping at the page — instead of sorting every row the OR matches
    (``kestrel.core.pagination.page_of``)."""

    page_branches: list[Q] | None = None
    page_scope: Any = None  # the OR's node in ``query.where``, to leave out of an arm
    count_cap: int | None = None  # kestrel.core.pagination.count_cap; None: the lists' default

    def _clone(self) -> Self:
        clone = super()._clone()
        clone.page_branches, clone.page_scope = self.page_branches, self.page_scope
        clone.count_cap = self.count_cap
        return clone

    def __or__(self, other: Any) -> Self:
        combined = super().__or__(other)
        combined.page_branches = combined.page_scope = None  # rows of ``other`` may match no arm
        return combined

    def __xor__(self, other: Any) -> Self:
        combined = super().__xor__(other)
        combined.page_branches = combined.page_scope = None
        return combined

    def with_page_branches(self, branches: list[Q]) -> Self:
        """``self`` filtered by the OR of ``branches``, the arms kept for pagination."""
        condition = Q(pk__in=[])  # not Q(): an empty Q() would vanish from the OR
        for branch in branches:
            condition |= branch
        clone = self.filter(condition)
        clone.page_branches = list(branches)
        clone.page_scope = clone.query.where.children[-1]
        return clone

    def page_in_one_query(self) -> Self:
        """Forget the arms: for a filter that already narrows the rows to a few (a search), one query
        over the OR is cheaper than repeating the filter once per arm."""
        clone = self._chain()
        clone.page_branches = clone.page_scope = None
        return clone

    def counted_up_to(self, cap: int) -> Self:
        """A list of these rows counts them exactly up to ``cap``, then reports "more than ``cap``"."""
        clone = self._chain()
        clone.count_cap = cap
        return clone

    def page_arm(self, branch: Q) -> Self:
        """The rows of one arm: ``self`` filtered by ``branch``, without the OR of all arms — the arm
        implies it, and without it the database can answer from the arm's index alone."""
        arm = self.filter(branch)
        if self.page_scope is not None:
            arm.query.where.children = [
                child for child in arm.query.where.children if child != self.page_scope
            ]
        return arm

    def visible_to(self, user: Any) -> Self:
        reach = reach_for(user)
        if reach.is_empty:
            return self.none()
        condition = reach.as_q(
            owner=self.model.scope_owner,
            department=getattr(self.model, "scope_department", None),
        )
        return self if condition is None else self.filter(condition)
