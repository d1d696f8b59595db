"""Fixtures shared by the core and org tests: API clients with bearer tokens and a small org tree.

Imported into each app's ``conftest.py`` (``from kestrel.org.tests.fixtures import *``).
"""

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from kestrel.core.models import ApiToken
from kestrel.core.scope import DataScope
from kestrel.core.services import TOKEN_PREFIX
from kestrel.org.models import Department, Employee, Role
from kestrel.org.tests.factories import (
    DepartmentFactory,
    EmployeeFactory,
    RoleFactory,
    SuperuserFactory,
    company_root,
)

API = "/api/v1"


def token_for(user: AbstractBaseUser, *, hours: float = 1) -> str:
    """A bearer token without going through the login (and its lockout counting)."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=ApiToken.hash_key(key), expires_at=timezone.now() + timedelta(hours=hours)
    )
    return key


class ApiClient:
    """Django's test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.token = token
        self.client = client or Client()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(API + path, params or {}, headers=self._headers())

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("post", path, body, raw)

    def patch(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("patch", path, body, raw)

    def put(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("put", path, body, raw)

    def delete(self, path: str):
        return self.client.delete(API + path, headers=self._headers())

    def _send(self, method: str, path: str, body: Any, raw: str | bytes | None):
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return getattr(self.client, method)(
            API + path, data, content_type="application/json", headers=self._headers()
        )


def assert_error(response, status: int, code: str | None = None) -> dict:
    """A 4xx answer in the SPEC §9 format ``{code, message, details}``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "details"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict | list)
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def superuser(db):
    return SuperuserFactory()


@pytest.fixture
def api(superuser) -> ApiClient:
    """A superuser's API client."""
    return ApiClient(token_for(superuser))


@pytest.fixture
def api_for(db):
    """``api_for(user_or_employee)`` → an API client acting as that user."""

    def make(who: AbstractBaseUser | Employee) -> ApiClient:
        user = who.user if isinstance(who, Employee) else who
        return ApiClient(token_for(user))

    return make


@dataclass
class Org:
    """company → 2 regions → branches → teams, with employees keyed by short names."""

    departments: dict[str, Department] = field(default_factory=dict)
    employees: dict[str, Employee] = field(default_factory=dict)

    def ids(self, *keys: str) -> set[int]:
        return {self.employees[key].pk for key in keys}

    def in_departments(self, *department_keys: str) -> set[str]:
        wanted = {self.departments[key].pk for key in department_keys}
        return {key for key, e in self.employees.items() if e.department_id in wanted}

    def key_of(self, employee_id: int) -> str:
        return next(key for key, e in self.employees.items() if e.pk == employee_id)

    def viewer(self, key: str, *scopes: DataScope | tuple[DataScope, list[str]]) -> Employee:
        """Give the employee ``key`` one role per scope (with read permissions on the org)."""
        roles: list[Role] = []
        for scope in scopes:
            scope, departments = scope if isinstance(scope, tuple) else (scope, [])
            roles.append(
                RoleFactory(data_scope=scope, departments=[self.departments[d] for d in departments])
            )
        employee = self.employees[key]
        employee.roles.set(roles)
        return employee


# (key, parent key, kind); the company root is "hq".
TREE = [
    ("east", "hq", Department.Kind.REGION),
    ("north", "hq", Department.Kind.REGION),
    ("sh", "east", Department.Kind.BRANCH),
    ("hz", "east", Department.Kind.BRANCH),
    ("bj", "north", Department.Kind.BRANCH),
    ("sh_a", "sh", Department.Kind.TEAM),
    ("sh_b", "sh", Department.Kind.TEAM),
    ("hz_a", "hz", Department.Kind.TEAM),
    ("bj_a", "bj", Department.Kind.TEAM),
]
# (key, department key); sales reps are named 销售… so a search for 销售 finds exactly them.
STAFF = [
    ("gm", "hq"),
    ("east_rm", "east"),
    ("north_rm", "north"),
    ("sh_gm", "sh"),
    ("hz_gm", "hz"),
    ("bj_gm", "bj"),
    ("sh_a_lead", "sh_a"),
    ("sh_a_rep1", "sh_a"),
    ("sh_a_rep2", "sh_a"),
    ("sh_b_rep1", "sh_b"),
    ("hz_a_rep1", "hz_a"),
    ("bj_a_rep1", "bj_a"),
    ("bj_a_rep2", "bj_a"),
]


@pytest.fixture
def org(db) -> Org:
    built = Org()
    built.departments["hq"] = company_root()
    for key, parent, kind in TREE:
        built.departments[key] = DepartmentFactory(
            name=f"{key}部", code=key.upper(), parent=built.departments[parent], kind=kind
        )
    for key, department in STAFF:
        name = f"销售{key}" if "_rep" in key else f"经理{key}"
        built.employees[key] = EmployeeFactory(
            name=name, username=key, department=built.departments[department], employee_no=key.upper()
        )
    return built
