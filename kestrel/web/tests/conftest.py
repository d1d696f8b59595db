"""Web UI fixtures: a small company with one employee per data-scope situation, and a browser."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client

from kestrel.core.scope import DataScope
from kestrel.org.demo import positions_ensure
from kestrel.org.models import Department, Employee
from kestrel.org.tests.factories import DepartmentFactory, EmployeeFactory, RoleFactory, company_root
from kestrel.web.tests.browser import *  # noqa: F403  (the Playwright fixtures)


@dataclass
class Company:
    root: Department
    region: Department
    shanghai: Department
    shanghai_team: Department
    hangzhou: Department
    rep: Employee  # 销售代表, data scope "self"
    colleague: Employee  # same team as rep
    departed: Employee  # same team, left the company
    branch_gm: Employee  # 分支机构总经理 of Shanghai, "own department and below"
    hangzhou_rep: Employee  # another branch
    outsider: Employee  # no roles at all: no org.view_employee


@pytest.fixture
def company(db) -> Company:
    root = company_root()
    region = DepartmentFactory(name="华东大区", parent=root, kind=Department.Kind.REGION)
    shanghai = DepartmentFactory(name="上海分公司", parent=region, kind=Department.Kind.BRANCH)
    shanghai_team = DepartmentFactory(name="销售一部", parent=shanghai, kind=Department.Kind.TEAM)
    hangzhou = DepartmentFactory(name="杭州分公司", parent=region, kind=Department.Kind.BRANCH)
    rep_role = RoleFactory(name="销售代表", data_scope=DataScope.SELF)
    gm_role = RoleFactory(name="分支机构总经理", data_scope=DataScope.DEPARTMENT_TREE)
    # From the preset, not the migration's rows: a live-server test's flush removes those.
    positions = {p.code: p for p in positions_ensure()}
    gm = EmployeeFactory(
        name="任兰英",
        username="sh_gm",
        department=shanghai,
        roles=[gm_role],
        position=positions["branch_gm"],
        employee_no="E0011",
        hired_on=date(2020, 6, 29),
    )
    return Company(
        root=root,
        region=region,
        shanghai=shanghai,
        shanghai_team=shanghai_team,
        hangzhou=hangzhou,
        rep=EmployeeFactory(
            name="吴雪梅",
            username="sh_rep1",
            department=shanghai_team,
            roles=[rep_role],
            position=positions["sales_rep"],
            manager=gm,
            employee_no="E0013",
            mobile="15383280227",
            hired_on=date(2024, 9, 5),
        ),
        colleague=EmployeeFactory(
            name="杨小红", username="sh_rep2", department=shanghai_team, roles=[rep_role], employee_no="E0015"
        ),
        departed=EmployeeFactory(
            name="钱多多",
            username="sh_rep_old",
            department=shanghai_team,
            roles=[rep_role],
            status=Employee.Status.DEPARTED,
        ),
        branch_gm=gm,
        hangzhou_rep=EmployeeFactory(
            name="周杭生", username="hz_rep1", department=hangzhou, roles=[rep_role]
        ),
        outsider=EmployeeFactory(name="孙无权", username="nobody", department=hangzhou, roles=[]),
    )


def login(client: Client, employee: Employee) -> Client:
    # force_login: django-axes wants a request in authenticate(), which Client.login does not pass;
    # the real login form is tested on its own.
    client.force_login(employee.user, backend="kestrel.org.backends.RolePermissionBackend")
    return client
