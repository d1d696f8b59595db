from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

from kestrel.core.scope import DataScope
from kestrel.org.models import Department, Employee

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # a bigint primary key; beyond it SQLite overflows
# Search terms become LIKE patterns; SQLite refuses patterns over 50,000 bytes, and nobody types more.
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class DepartmentIn(StrictIn):
    name: Name
    parent_id: Id | None = None
    kind: Department.Kind = Department.Kind.DEPARTMENT
    code: Annotated[str, StringConstraints(max_length=50)] = ""
    manager_id: Id | None = None
    sort_order: int = Field(0, ge=-1_000_000, le=1_000_000)


class DepartmentPatch(StrictIn):
    name: Name | None = None
    parent_id: Id | None = None
    kind: Department.Kind | None = None
    code: Annotated[str, StringConstraints(max_length=50)] | None = None
    manager_id: Id | None = None
    sort_order: int | None = Field(None, ge=-1_000_000, le=1_000_000)


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    kind: str
    code: str
    path: str
    depth: int
    manager_id: int | None
    sort_order: int


class RoleIn(StrictIn):
    name: Name
    description: Annotated[str, StringConstraints(max_length=300)] = ""
    data_scope: DataScope
    department_ids: list[Id] = Field(default_factory=list, max_length=1000)
    permissions: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=1000, description="app_label.codename, e.g. org.view_employee"
    )


class RolePatch(StrictIn):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=300)] | None = None
    data_scope: DataScope | None = None
    department_ids: list[Id] | None = Field(None, max_length=1000)
    permissions: list[Annotated[str, StringConstraints(max_length=200)]] | None = Field(None, max_length=1000)


class RoleOut(Schema):
    id: int
    name: str
    description: str
    data_scope: str
    department_ids: list[int]
    permissions: list[str]

    @staticmethod
    def resolve_department_ids(role) -> list[int]:
        return sorted(d.pk for d in role.departments.all())

    @staticmethod
    def resolve_permissions(role) -> list[str]:
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all())


Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Mobile = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class EmployeeIn(StrictIn):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    department_id: Id
    position: Annotated[str, StringConstraints(max_length=50)] | None = Field(
        None, description="position code or name, e.g. sales_rep or 销售代表"
    )
    manager_id: Id | None = None
    role_ids: list[Id] = Field(default_factory=list, max_length=100)
    username: Username | None = None
    password: Password | None = Field(None, description="write-only; sets the login's password")
    employee_no: Annotated[str, StringConstraints(max_length=30)] | None = None
    mobile: Mobile = ""
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    gender: Employee.Gender = Employee.Gender.UNKNOWN
    hired_on: date | None = None
    status: Employee.Status = Employee.Status.ACTIVE


class EmployeePatch(StrictIn):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    department_id: Id | None = None
    position: Annotated[str, StringConstraints(max_length=50)] | None = None
    manager_id: Id | None = None
    role_ids: list[Id] | None = Field(None, max_length=100)
    username: Username | None = None
    password: Password | None = None
    employee_no: Annotated[str, StringConstraints(max_length=30)] | None = None
    mobile: Mobile | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    gender: Employee.Gender | None = None
    hired_on: date | None = None
    status: Employee.Status | None = None


class EmployeeOut(Schema):
    id: int
    name: str
    username: str | None
    employee_no: str | None
    department_id: int
    department_name: str
    position: str | None
    position_code: str | None
    role_ids: list[int]
    manager_id: int | None
    status: str
    mobile: str
    email: str
    gender: str
    hired_on: date | None
    departed_on: date | None
    updated_at: datetime

    @staticmethod
    def resolve_username(employee) -> str | None:
        return employee.user.username if employee.user_id else None

    @staticmethod
    def resolve_department_name(employee) -> str:
        return employee.department.name

    @staticmethod
    def resolve_position(employee) -> str | None:
        return employee.position.name if employee.position_id else None

    @staticmethod
    def resolve_position_code(employee) -> str | None:
        return employee.position.code if employee.position_id else None

    @staticmethod
    def resolve_role_ids(employee) -> list[int]:
        return sorted(r.pk for r in employee.roles.all())


class PositionOut(Schema):
    id: int
    code: str
    name: str
    rank: int
