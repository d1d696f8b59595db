"""/api/v1/departments, /roles, /employees, /positions (SPEC §9)."""

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StringConstraints

from kestrel.core.errors import NotFound, ValidationFailed
from kestrel.core.pagination import PageNumberPagination
from kestrel.core.permissions import requires
from kestrel.org import error_codes, selectors, services
from kestrel.org.models import Department, Employee, Position, Role
from kestrel.org.schemas import (
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    EmployeeIn,
    EmployeeOut,
    EmployeePatch,
    Id,
    PositionOut,
    RoleIn,
    RoleOut,
    RolePatch,
    SearchText,
)

router = Router(tags=["org"])


class DepartmentFilter(Schema):
    parent_id: Id | None = None
    q: SearchText = ""


class EmployeeFilter(Schema):
    q: SearchText = ""
    department_id: Id | None = None
    include_subdepartments: bool = False
    status: Employee.Status | None = None
    position: Annotated[str, StringConstraints(max_length=50)] | None = None
    role_id: Id | None = None


class RoleFilter(Schema):
    q: SearchText = ""


# --- References in request bodies: an unknown id is a validation error on that field -------------


def _department_ref(request, id: int | None, field: str = "department_id") -> Department | None:
    if id is None:
        return None
    try:
        return selectors.department_get(actor=request.user, id=id)
    except NotFound as error:
        raise _unknown(field, id, error_codes.UNKNOWN_DEPARTMENT, _("No such department.")) from error


def _employee_ref(request, id: int | None, field: str) -> Employee | None:
    if id is None:
        return None
    try:
        return selectors.employee_get(actor=request.user, id=id)
    except NotFound as error:
        raise _unknown(field, id, error_codes.UNKNOWN_MANAGER, _("No such employee.")) from error


def _roles_ref(request, ids: list[int]) -> list[Role]:
    roles = list(Role.objects.filter(pk__in=set(ids)))
    missing = sorted(set(ids) - {r.pk for r in roles})
    if missing:
        raise _unknown("role_ids", missing, error_codes.UNKNOWN_ROLE, _("No such role."))
    return roles


def _departments_ref(request, ids: list[int]) -> list[Department]:
    departments = list(Department.objects.filter(pk__in=set(ids)))
    missing = sorted(set(ids) - {d.pk for d in departments})
    if missing:
        raise _unknown("department_ids", missing, error_codes.UNKNOWN_DEPARTMENT, _("No such department."))
    return departments


def _position_ref(value: str | None) -> Position | None:
    if not value:
        return None
    position = Position.objects.filter(code=value).first() or Position.objects.filter(name=value).first()
    if position is None:
        raise _unknown("position", value, error_codes.UNKNOWN_POSITION, _("No such position."))
    return position


def _unknown(field: str, value, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, details={field: [message], "value": value})


def _changes(payload: Schema, *, not_null: tuple[str, ...] = ()) -> dict:
    """The fields the client sent. ``null`` means "clear" only where a field may be empty; for the
    ``not_null`` fields it is a validation error rather than a database one."""
    changes = payload.model_dump(exclude_unset=True)
    for field in not_null:
        if field in changes and changes[field] is None:
            raise ValidationFailed(_("This field cannot be null."), details={field: [_("Must not be null.")]})
    return changes


# --- Departments ---------------------------------------------------------------------------------


@router.get("/departments", response=list[DepartmentOut])
@requires("org.view_department")
@paginate(PageNumberPagination)
def department_list(request, filters: Query[DepartmentFilter]):
    return selectors.department_list(actor=request.user, parent_id=filters.parent_id, q=filters.q)


@router.post("/departments", response={201: DepartmentOut})
@requires("org.add_department")
def department_create(request, payload: DepartmentIn):
    department = services.department_create(
        actor=request.user,
        name=payload.name,
        parent=_department_ref(request, payload.parent_id, "parent_id"),
        kind=payload.kind,
        code=payload.code,
        manager=_employee_ref(request, payload.manager_id, "manager_id"),
        sort_order=payload.sort_order,
    )
    return Status(201, department)


@router.get("/departments/{int:department_id}", response=DepartmentOut)
@requires("org.view_department")
def department_detail(request, department_id: int):
    return selectors.department_get(actor=request.user, id=department_id)


@router.patch("/departments/{int:department_id}", response=DepartmentOut)
@requires("org.change_department")
def department_update(request, department_id: int, payload: DepartmentPatch):
    department = selectors.department_get(actor=request.user, id=department_id)
    changes = _changes(payload, not_null=("name", "kind", "code", "sort_order"))
    if "parent_id" in changes:
        changes["parent"] = _department_ref(request, changes.pop("parent_id"), "parent_id")
    if "manager_id" in changes:
        changes["manager"] = _employee_ref(request, changes.pop("manager_id"), "manager_id")
    return services.department_update(actor=request.user, department=department, **changes)


@router.delete("/departments/{int:department_id}", response={204: None})
@requires("org.delete_department")
def department_delete(request, department_id: int):
    department = selectors.department_get(actor=request.user, id=department_id)
    services.department_delete(actor=request.user, department=department)
    return Status(204, None)


# --- Roles ---------------------------------------------------------------------------------------


@router.get("/roles", response=list[RoleOut])
@requires("org.view_role")
@paginate(PageNumberPagination)
def role_list(request, filters: Query[RoleFilter]):
    return selectors.role_list(actor=request.user, q=filters.q)


@router.post("/roles", response={201: RoleOut})
@requires("org.add_role")
def role_create(request, payload: RoleIn):
    role = services.role_create(
        actor=request.user,
        name=payload.name,
        description=payload.description,
        data_scope=payload.data_scope,
        departments=_departments_ref(request, payload.department_ids),
        permissions=services.permissions_from_codes(payload.permissions),
    )
    return Status(201, selectors.role_get(actor=request.user, id=role.pk))


@router.get("/roles/{int:role_id}", response=RoleOut)
@requires("org.view_role")
def role_detail(request, role_id: int):
    return selectors.role_get(actor=request.user, id=role_id)


@router.patch("/roles/{int:role_id}", response=RoleOut)
@requires("org.change_role")
def role_update(request, role_id: int, payload: RolePatch):
    role = selectors.role_get(actor=request.user, id=role_id)
    changes = {k: v for k, v in _changes(payload).items() if v is not None}
    if "department_ids" in changes:
        changes["departments"] = _departments_ref(request, changes.pop("department_ids"))
    if "permissions" in changes:
        changes["permissions"] = services.permissions_from_codes(changes["permissions"])
    services.role_update(actor=request.user, role=role, **changes)
    return selectors.role_get(actor=request.user, id=role.pk)


@router.delete("/roles/{int:role_id}", response={204: None})
@requires("org.delete_role")
def role_delete(request, role_id: int):
    services.role_delete(actor=request.user, role=selectors.role_get(actor=request.user, id=role_id))
    return Status(204, None)


# --- Employees -----------------------------------------------------------------------------------


@router.get("/employees", response=list[EmployeeOut])
@requires("org.view_employee")
@paginate(PageNumberPagination)
def employee_list(request, filters: Query[EmployeeFilter]):
    return selectors.employee_list(actor=request.user, **filters.model_dump())


@router.post("/employees", response={201: EmployeeOut})
@requires("org.add_employee")
def employee_create(request, payload: EmployeeIn):
    employee = services.employee_create(
        actor=request.user,
        name=payload.name,
        department=_department_ref(request, payload.department_id),
        position=_position_ref(payload.position),
        manager=_employee_ref(request, payload.manager_id, "manager_id"),
        roles=_roles_ref(request, payload.role_ids),
        username=payload.username,
        password=payload.password,
        employee_no=payload.employee_no,
        mobile=payload.mobile,
        email=payload.email,
        gender=payload.gender,
        hired_on=payload.hired_on,
        status=payload.status,
    )
    return Status(201, selectors.employee_get(actor=request.user, id=employee.pk))


@router.get("/employees/{int:employee_id}", response=EmployeeOut)
@requires("org.view_employee")
def employee_detail(request, employee_id: int):
    return selectors.employee_get(actor=request.user, id=employee_id)


@router.patch("/employees/{int:employee_id}", response=EmployeeOut)
@requires("org.change_employee")
def employee_update(request, employee_id: int, payload: EmployeePatch):
    employee = selectors.employee_get(actor=request.user, id=employee_id)
    changes = _changes(
        payload, not_null=("name", "department_id", "status", "gender", "mobile", "email", "role_ids")
    )
    if "department_id" in changes:
        changes["department"] = _department_ref(request, changes.pop("department_id"))
    if "manager_id" in changes:
        changes["manager"] = _employee_ref(request, changes.pop("manager_id"), "manager_id")
    if "role_ids" in changes:
        changes["roles"] = _roles_ref(request, changes.pop("role_ids"))
    if "position" in changes:
        changes["position"] = _position_ref(changes["position"])
    services.employee_update(actor=request.user, employee=employee, **changes)
    return selectors.employee_get(actor=request.user, id=employee.pk)


@router.delete("/employees/{int:employee_id}", response={204: None})
@requires("org.delete_employee")
def employee_delete(request, employee_id: int):
    services.employee_delete(
        actor=request.user, employee=selectors.employee_get(actor=request.user, id=employee_id)
    )
    return Status(204, None)


# --- Positions (read-only catalogue; edited in the admin) -----------------------------------------


@router.get("/positions", response=list[PositionOut])
@requires("org.view_position")
@paginate(PageNumberPagination)
def position_list(request):
    return selectors.position_list()
