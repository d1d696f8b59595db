"""A demo company (``kestrel seed-demo``): 3 regions, 6 branches, ~40 employees, a role per scope kind.

Idempotent: departments are matched by code, employees by employee number, roles by name, so running
it twice changes nothing. Names come from Faker (zh_CN) with a fixed seed, so every installation
shows the same people.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from faker import Faker

from kestrel.core.scope import DataScope
from kestrel.org import services
from kestrel.org.models import Department, Employee, Position, Role

DEMO_PASSWORD = "kestrel-demo-2026"
PRESETS = Path(__file__).resolve().parent.parent / "presets"

REGIONS = [
    ("R-EAST", "华东大区", [("B-SH", "上海分公司"), ("B-HZ", "杭州分公司")]),
    ("R-NORTH", "华北大区", [("B-BJ", "北京分公司"), ("B-TJ", "天津分公司")]),
    ("R-SOUTH", "华南大区", [("B-GZ", "广州分公司"), ("B-SZ", "深圳分公司")]),
]
HQ_DEPARTMENTS = [
    ("D-MKT", "营销中心"),
    ("D-CS", "客户服务中心"),
    ("D-HR", "行政人事部"),
    ("D-IT", "信息部"),
    ("D-FIN", "财务部"),
]

READ_ORG = ["org.view_department", "org.view_employee", "org.view_position", "org.view_role"]
MANAGE_EMPLOYEES = ["org.add_employee", "org.change_employee"]
MANAGE_ORG = [
    *MANAGE_EMPLOYEES,
    "org.delete_employee",
    "org.add_department",
    "org.change_department",
    "org.delete_department",
    "org.add_role",
    "org.change_role",
    "org.delete_role",
]


# Customer archive (ARC-1 … ARC-14): what each demo role may do with customers and contacts.
SELL_CUSTOMERS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_contact",
    "customers.add_contact",
    "customers.change_contact",
]
LEAD_CUSTOMERS = [
    *SELL_CUSTOMERS,
    "customers.read_all_levels",
    "customers.approve_access",
    "customers.view_sensitive",
    "customers.export_customer",
    "customers.grade_customer",
]
CUSTOMER_PERMISSIONS: dict[str, list[str]] = {
    "公司管理层": LEAD_CUSTOMERS,
    "营销总监": LEAD_CUSTOMERS,
    "大区经理": SELL_CUSTOMERS,
    "分支机构总经理": SELL_CUSTOMERS,
    "销售经理": SELL_CUSTOMERS,
    "销售代表": SELL_CUSTOMERS,
    "华东客服": ["customers.view_customer", "customers.view_contact"],
    "人事管理": ["customers.view_customer", "customers.handover_customer"],
    "系统管理员": [
        "customers.view_customer",
        "customers.view_contact",
        "customers.import_customer",
        "customers.export_customer",
        "customers.merge_customer",
    ],
}


@dataclass(frozen=True)
class DemoRole:
    name: str
    scope: str
    permissions: list[str]
    description: str
    department_codes: tuple[str, ...] = ()


ROLES = [
    DemoRole("公司管理层", DataScope.ALL, READ_ORG, "总经理、副总经理：全公司数据"),
    DemoRole("营销总监", DataScope.ALL, READ_ORG, "营销总监、市场经理：全公司数据"),
    DemoRole("大区经理", DataScope.DEPARTMENT_TREE, READ_ORG, "本大区及下属分支机构"),
    DemoRole("分支机构总经理", DataScope.DEPARTMENT_TREE, READ_ORG, "本分支机构及下属部门"),
    DemoRole("销售经理", DataScope.DEPARTMENT, READ_ORG, "本部门数据"),
    DemoRole("销售代表", DataScope.SELF, READ_ORG, "仅本人数据"),
    DemoRole(
        "华东客服", DataScope.DEPARTMENTS, READ_ORG, "客服：华东两家分公司的数据", ("B-SH", "B-HZ", "D-CS")
    ),
    DemoRole("财务", DataScope.ALL, READ_ORG, "财务：全公司数据（只读）"),
    DemoRole("人事管理", DataScope.ALL, [*READ_ORG, *MANAGE_EMPLOYEES], "行政人事：维护员工档案"),
    DemoRole("系统管理员", DataScope.ALL, [*READ_ORG, *MANAGE_ORG], "信息部：组织架构与角色"),
]

# (department code, position code, role name, username or None, how many)
STAFF = [
    ("HQ", "general_manager", "公司管理层", "gm", 1),
    ("HQ", "deputy_gm", "公司管理层", "deputy", 1),
    ("D-MKT", "marketing_director", "营销总监", "director", 1),
    ("D-MKT", "marketing_manager", "营销总监", None, 1),
    ("D-CS", "customer_service", "华东客服", "service", 2),
    ("D-HR", "admin_hr", "人事管理", "hr", 1),
    ("D-IT", "information", "系统管理员", "it", 1),
    ("D-FIN", "finance", "财务", "finance", 1),
]


def demo_company_seed(*, stdout=None) -> dict[str, int]:
    """Create or complete the demo company. Returns counts of what exists afterwards."""
    fake = Faker("zh_CN")
    fake.seed_instance(20261124)
    with transaction.atomic():
        positions_ensure()
        departments = _departments()
        roles = _roles(departments)
        _employees(fake, departments, roles)
    return {
        "departments": Department.objects.count(),
        "employees": Employee.objects.count(),
        "roles": Role.objects.count(),
    }


def positions_ensure() -> list[Position]:
    rows = json.loads((PRESETS / "positions.json").read_text(encoding="utf-8"))
    return [services.position_ensure(**row) for row in rows]


def _department(code: str, name: str, parent: Department | None, kind: str) -> Department:
    existing = Department.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return services.department_create(actor=None, name=name, parent=parent, kind=kind, code=code)


def _departments() -> dict[str, Department]:
    root = Department.objects.filter(parent__isnull=True).first() or services.department_create(
        actor=None, name="客隼示范集团有限公司", parent=None, kind=Department.Kind.COMPANY, code="HQ"
    )
    departments = {"HQ": root}
    for code, name in HQ_DEPARTMENTS:
        departments[code] = _department(code, name, root, Department.Kind.DEPARTMENT)
    for region_code, region_name, branches in REGIONS:
        region = _department(region_code, region_name, root, Department.Kind.REGION)
        departments[region_code] = region
        for branch_code, branch_name in branches:
            branch = _department(branch_code, branch_name, region, Department.Kind.BRANCH)
            departments[branch_code] = branch
            departments[f"{branch_code}-S1"] = _department(
                f"{branch_code}-S1", "销售一部", branch, Department.Kind.TEAM
            )
    return departments


def _roles(departments: dict[str, Department]) -> dict[str, Role]:
    roles = {}
    for spec in ROLES:
        wanted = services.permissions_from_codes(
            [*spec.permissions, *CUSTOMER_PERMISSIONS.get(spec.name, [])]
        )
        role = Role.objects.filter(name=spec.name).first()
        if role is None:
            role = services.role_create(
                actor=None,
                name=spec.name,
                data_scope=spec.scope,
                description=spec.description,
                permissions=wanted,
                departments=[departments[c] for c in spec.department_codes],
            )
        else:
            # A role seeded before the customer archive existed gets its customer permissions too;
            # nothing is taken away, and a role that holds them all is left untouched (idempotent).
            held = set(role.permissions.all())
            if not set(wanted) <= held:
                services.role_update(actor=None, role=role, permissions=held | set(wanted))
        roles[spec.name] = role
    return roles


def _employees(fake: Faker, departments: dict[str, Department], roles: dict[str, Role]) -> None:
    positions = {p.code: p for p in Position.objects.all()}
    number = 0

    def hire(
        department: Department, position: str, role: str, username: str | None, manager=None
    ) -> Employee:
        nonlocal number
        number += 1
        employee_no = f"E{number:04d}"
        name = fake.name()  # drawn even when the employee exists, so the sequence of names stays stable
        existing = Employee.objects.filter(employee_no=employee_no).first()
        if existing is not None:
            return existing
        employee = services.employee_create(
            actor=None,
            name=name,
            department=department,
            position=positions[position],
            manager=manager,
            roles=[roles[role]],
            username=username or employee_no.lower(),
            password=DEMO_PASSWORD,
            employee_no=employee_no,
            mobile=fake.phone_number(),
            gender=fake.random_element(["male", "female"]),
            hired_on=fake.date_between(start_date="-8y", end_date="-30d"),
        )
        if (
            position
            in {
                "general_manager",
                "marketing_director",
                "regional_manager",
                "branch_gm",
                "branch_sales_manager",
                "admin_hr",
                "information",
                "finance",
            }
            and department.manager_id is None
        ):
            services.department_update(actor=None, department=department, manager=employee)
        return employee

    gm = None
    for code, position, role, username, count in STAFF:
        for index in range(count):
            employee = hire(departments[code], position, role, username if index == 0 else None, manager=gm)
            if position == "general_manager":
                gm = employee
    director = Employee.objects.get(employee_no="E0003")
    for region_index, (region_code, _name, branches) in enumerate(REGIONS, start=1):
        regional = hire(
            departments[region_code], "regional_manager", "大区经理", f"rm{region_index}", manager=director
        )
        for branch_code, _branch_name in branches:
            slug = branch_code.split("-")[1].lower()
            branch_gm = hire(departments[branch_code], "branch_gm", "分支机构总经理", f"{slug}_gm", regional)
            team = departments[f"{branch_code}-S1"]
            sales_manager = hire(team, "branch_sales_manager", "销售经理", f"{slug}_sm", branch_gm)
            for rep in range(1, 4 if region_index == 1 else 3):
                hire(team, "sales_rep", "销售代表", f"{slug}_rep{rep}", sales_manager)
