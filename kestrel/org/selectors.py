"""Reads of the org structure. Employees are filtered by data scope (PLT-2); the department tree and
the role catalogue are structure, readable by anyone holding the matching view permission."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kestrel.core.errors import NotFound
from kestrel.org.models import Department, Employee, Position, Role


def department_list(
    *, actor: AbstractBaseUser, parent_id: int | None = None, q: str = ""
) -> QuerySet[Department]:
    departments = Department.objects.select_related("manager").order_by("path")
    if parent_id is not None:
        departments = departments.filter(parent_id=parent_id)
    if q:
        departments = departments.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return departments


def department_get(*, actor: AbstractBaseUser, id: int) -> Department:
    department = Department.objects.filter(pk=id).first()
    if department is None:
        raise NotFound(_("Department not found."), details={"id": id})
    return department


def department_subtree(*, department: Department) -> QuerySet[Department]:
    return Department.objects.filter(path__startswith=department.path)


def department_tree(*, actor: AbstractBaseUser) -> list[dict]:
    """The whole tree as nested dicts with employee counts visible to the actor, in one pass."""
    from django.db.models import Count

    counts = dict(
        Employee.objects.visible_to(actor)
        .active()
        .values("department")
        .annotate(n=Count("pk"))
        .values_list("department", "n")
    )
    nodes: dict[int, dict] = {}
    roots: list[dict] = []
    for department in Department.objects.order_by("depth", "sort_order", "name"):
        node = {"department": department, "employee_count": counts.get(department.pk, 0), "children": []}
        nodes[department.pk] = node
        parent = nodes.get(department.parent_id) if department.parent_id else None
        (parent["children"] if parent else roots).append(node)
    return roots


def employee_list(
    *,
    actor: AbstractBaseUser,
    q: str = "",
    department_id: int | None = None,
    include_subdepartments: bool = False,
    status: str | None = None,
    position: str | None = None,
    role_id: int | None = None,
) -> QuerySet[Employee]:
    employees = (
        Employee.objects.visible_to(actor)
        .select_related("department", "position", "user", "manager")
        .prefetch_related("roles")
        .order_by("department__path", "position__rank", "name", "pk")
    )
    if q:
        employees = employees.filter(
            Q(name__icontains=q)
            | Q(user__username__icontains=q)
            | Q(employee_no__icontains=q)
            | Q(mobile__contains=q)
            | Q(email__icontains=q)
        )
    if department_id is not None:
        if include_subdepartments:
            path = Department.objects.filter(pk=department_id).values_list("path", flat=True).first()
            # An unknown department has no subtree (a NUL sentinel path would fail on PostgreSQL).
            employees = employees.filter(department__path__startswith=path) if path else employees.none()
        else:
            employees = employees.filter(department_id=department_id)
    if status:
        employees = employees.filter(status=status)
    if position:
        employees = employees.filter(Q(position__code=position) | Q(position__name=position))
    if role_id is not None:
        employees = employees.filter(roles__pk=role_id)
    return employees


def employee_get(*, actor: AbstractBaseUser, id: int) -> Employee:
    """An employee the actor may see; an invisible one is "not found", so existence does not leak."""
    employee = (
        Employee.objects.visible_to(actor)
        .select_related("department", "position", "user", "manager")
        .prefetch_related("roles")
        .filter(pk=id)
        .first()
    )
    if employee is None:
        raise NotFound(_("Employee not found."), details={"id": id})
    return employee


def employee_for_user(*, user: AbstractBaseUser) -> Employee | None:
    if not user.is_authenticated:
        return None
    return Employee.objects.select_related("department", "position", "manager").filter(user=user).first()


def role_list(*, actor: AbstractBaseUser, q: str = "") -> QuerySet[Role]:
    roles = Role.objects.prefetch_related("departments", "permissions__content_type").order_by("name")
    if q:
        roles = roles.filter(name__icontains=q)
    return roles


def role_get(*, actor: AbstractBaseUser, id: int) -> Role:
    role = Role.objects.prefetch_related("departments", "permissions__content_type").filter(pk=id).first()
    if role is None:
        raise NotFound(_("Role not found."), details={"id": id})
    return role


def position_list() -> QuerySet[Position]:
    return Position.objects.order_by("rank", "code")
