"""SPEC §9 / acceptance: bad input to any endpoint answers a 4xx JSON error ``{code, message,
details}``, never a 500 — missing fields, wrong types, unknown ids, extra fields, broken JSON, huge
numbers, long strings, NUL characters, wrong methods and unknown paths."""

import pytest

from kestrel.org.tests.factories import DepartmentFactory, EmployeeFactory, RoleFactory, company_root
from kestrel.org.tests.fixtures import ApiClient, Org, assert_error, token_for

pytestmark = pytest.mark.django_db

HUGE = 2**70  # beyond bigint
BIGINT_MAX = 2**63 - 1
LONG = "长" * 20_000

# Bodies that are wrong for every write endpoint, as raw text.
RAW_BODIES = {
    "malformed_json": ("{", 400),
    "truncated_json": ('{"name": "x"', 400),
    "not_utf8": (b"\xff\xfe\x00", 400),
    "array": ("[]", 422),
    "null": ("null", 422),
    "string": ('"x"', 422),
    "number": ("1e999", 422),
    "nul_in_text": ('{"name": "a\\u0000b"}', 400),
    "nul_in_key": ('{"na\\u0000me": "a"}', 400),
}

# (endpoint key, body) for create endpoints; {parent}/{department}/... are filled from the org.
CREATE = {
    "/departments": {
        "missing_fields": {},
        "wrong_types": {"name": ["a"], "parent_id": "abc", "kind": 7, "sort_order": "many"},
        "extra_field": {"name": "新", "parent_id": "{parent}", "is_admin": True},
        "unknown_parent": {"name": "新", "parent_id": 10**15},
        "parent_beyond_bigint": {"name": "新", "parent_id": HUGE},
        "zero_id": {"name": "新", "parent_id": 0},
        "negative_id": {"name": "新", "parent_id": -5},
        "float_id": {"name": "新", "parent_id": 1.5},
        "huge_sort_order": {"name": "新", "parent_id": "{parent}", "sort_order": 10**30},
        "long_name": {"name": LONG, "parent_id": "{parent}"},
        "blank_name": {"name": "   ", "parent_id": "{parent}"},
        "unknown_kind": {"name": "新", "parent_id": "{parent}", "kind": "planet"},
        "unknown_manager": {"name": "新", "parent_id": "{parent}", "manager_id": BIGINT_MAX},
        "nested_object": {"name": {"zh": "新"}, "parent_id": {"id": 1}},
    },
    "/roles": {
        "missing_fields": {},
        "wrong_types": {"name": 5, "data_scope": ["all"], "permissions": "org.view_employee"},
        "extra_field": {"name": "新", "data_scope": "all", "superuser": True},
        "unknown_scope": {"name": "新", "data_scope": "galaxy"},
        "unknown_department": {"name": "新", "data_scope": "departments", "department_ids": [10**15]},
        "department_beyond_bigint": {"name": "新", "data_scope": "departments", "department_ids": [HUGE]},
        "department_ids_strings": {"name": "新", "data_scope": "departments", "department_ids": ["a"]},
        "unknown_permission": {"name": "新", "data_scope": "all", "permissions": ["org.rule_world"]},
        "malformed_permission": {"name": "新", "data_scope": "all", "permissions": ["a.b.c", "", "."]},
        "permission_not_string": {"name": "新", "data_scope": "all", "permissions": [1, None]},
        "long_name": {"name": LONG, "data_scope": "all"},
        "too_many_departments": {"name": "新", "data_scope": "departments", "department_ids": [1] * 5000},
    },
    "/employees": {
        "missing_fields": {},
        "wrong_types": {"name": ["a"], "department_id": "abc", "role_ids": "1", "hired_on": 20260101},
        "extra_field": {"name": "新", "department_id": "{department}", "salary": 1},
        "unknown_department": {"name": "新", "department_id": 10**15},
        "department_beyond_bigint": {"name": "新", "department_id": HUGE},
        "unknown_roles": {"name": "新", "department_id": "{department}", "role_ids": [10**15, HUGE]},
        "unknown_manager": {"name": "新", "department_id": "{department}", "manager_id": 10**15},
        "unknown_position": {"name": "新", "department_id": "{department}", "position": "宇航员"},
        "bad_date": {"name": "新", "department_id": "{department}", "hired_on": "2026-02-30"},
        "huge_year": {"name": "新", "department_id": "{department}", "hired_on": "99999-01-01"},
        "unknown_status": {"name": "新", "department_id": "{department}", "status": "retired"},
        "long_name": {"name": LONG, "department_id": "{department}"},
        "long_username": {"name": "新", "department_id": "{department}", "username": "u" * 151},
        "long_password": {"name": "新", "department_id": "{department}", "username": "u1", "password": LONG},
        "invalid_username": {"name": "新", "department_id": "{department}", "username": "a b/c"},
        "weak_password": {"name": "新", "department_id": "{department}", "username": "u2", "password": "1"},
        "password_without_username": {"name": "新", "department_id": "{department}", "password": "Lotus-88!"},
        "taken_username": {"name": "新", "department_id": "{department}", "username": "gm"},
        "long_mobile": {"name": "新", "department_id": "{department}", "mobile": "1" * 500},
    },
    "/auth/token": {
        "missing_fields": {},
        "wrong_types": {"username": ["a"], "password": {"x": 1}},
        "extra_field": {"username": "gm", "password": "x", "remember": True},
        "long_username": {"username": LONG, "password": "x"},
        "empty": {"username": "", "password": ""},
    },
}

# PATCH bodies, against an existing object (the path's id is filled in).
PATCH = {
    "/departments/{department}": {
        "wrong_types": {"name": 1, "parent_id": "abc"},
        "extra_field": {"path": "/1/"},
        "null_name": {"name": None},
        "null_kind": {"kind": None},
        "null_code": {"code": None},
        "null_sort_order": {"sort_order": None},
        "unknown_parent": {"parent_id": 10**15},
        "parent_beyond_bigint": {"parent_id": HUGE},
        "cycle": {"parent_id": "{department}"},
        "to_root": {"parent_id": None},
        "long_name": {"name": LONG},
    },
    "/roles/{role}": {
        "wrong_types": {"name": 1, "department_ids": "x"},
        "extra_field": {"id": 5},
        "unknown_scope": {"data_scope": "galaxy"},
        "departments_without_any": {"data_scope": "departments", "department_ids": []},
        "unknown_permission": {"permissions": ["org.rule_world"]},
    },
    "/employees/{employee}": {
        "wrong_types": {"name": 1, "manager_id": "boss"},
        "extra_field": {"user_id": 1},
        "null_department": {"department_id": None},
        "null_status": {"status": None},
        "null_role_ids": {"role_ids": None},
        "null_name": {"name": None},
        "null_gender": {"gender": None},
        "manager_self": {"manager_id": "{employee}"},
        "unknown_manager": {"manager_id": 10**15},
        "manager_beyond_bigint": {"manager_id": HUGE},
        "unknown_roles": {"role_ids": [10**15]},
        "weak_password": {"password": "1"},
        "taken_username": {"username": "gm"},
        "invalid_username": {"username": "a b/c"},
    },
}

# Query strings on lists.
LISTS = ["/departments", "/roles", "/employees", "/positions"]
QUERIES = {
    "page_zero": {"page": 0},
    "page_huge": {"page": 10**12},
    "page_not_a_number": {"page": "x"},
    "page_size_too_big": {"page_size": 501},
    "page_size_negative": {"page_size": -1},
    "q_very_long": {"q": "长" * 60_000},
    "q_nul": {"q": "a\x00"},
}
FILTERS = {
    "/departments": {"parent_id": [HUGE, "abc", -1]},
    "/employees": {
        "department_id": [HUGE, "abc"],
        "role_id": [HUGE, "1.5"],
        "status": ["retired"],
        "include_subdepartments": ["maybe"],
        "position": ["p" * 5000, "\x00"],
    },
}

WRONG_METHODS = [
    ("put", "/departments"),
    ("delete", "/employees"),
    ("patch", "/roles"),
    ("post", "/departments/{department}"),
    ("put", "/employees/{employee}"),
    ("get", "/auth/token"),
    ("delete", "/auth/me"),
    ("post", "/positions"),
]
UNKNOWN_PATHS = [
    "/nothing",
    "/employees/{employee}/salary",
    "/employees/-1",
    "/employees/abc",
    "/employees/1.0",
    "/../admin/",
]
UNKNOWN_IDS = [
    f"/employees/{HUGE}",
    f"/departments/{BIGINT_MAX + 1}",
    "/roles/0",
    "/employees/10000000000000",
    "/departments/" + "9" * 5000,
]


def _fill(value, org, role):
    ids = {
        "{parent}": org.departments["hq"].pk,
        "{department}": org.departments["sh_a"].pk,
        "{employee}": org.employees["sh_a_rep1"].pk,
        "{role}": role.pk,
    }
    if isinstance(value, str):
        if value in ids:
            return ids[value]
        for placeholder, pk in ids.items():
            value = value.replace(placeholder, str(pk))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, org, role) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, org, role) for v in value]
    return value


@pytest.fixture
def org(db):
    """Just enough org for ids that exist: the company, one team, two employees."""
    small = Org()
    small.departments["hq"] = company_root()
    small.departments["sh_a"] = DepartmentFactory(parent=small.departments["hq"])
    small.employees["sh_a_rep1"] = EmployeeFactory(username="rep1", department=small.departments["sh_a"])
    small.employees["gm"] = EmployeeFactory(username="gm", department=small.departments["sh_a"])
    return small


@pytest.fixture
def client(api, org):
    api.client.raise_request_exception = False  # a 500 must show up as a status, not an exception
    return api


@pytest.fixture
def role(db):
    return RoleFactory()


def _assert_4xx(response, expected_status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert_error(response, expected_status or response.status_code)


@pytest.mark.parametrize(("path", "case"), [(path, case) for path, cases in CREATE.items() for case in cases])
def test_plt8_create_with_bad_body_is_4xx(client, org, role, path, case):
    _assert_4xx(client.post(path, _fill(CREATE[path][case], org, role)))


@pytest.mark.parametrize(("path", "case"), [(path, case) for path, cases in PATCH.items() for case in cases])
def test_plt8_patch_with_bad_body_is_4xx(client, org, role, path, case):
    _assert_4xx(client.patch(_fill(path, org, role), _fill(PATCH[path][case], org, role)))


@pytest.mark.parametrize("raw", RAW_BODIES)
@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m in ("post",) for p in CREATE] + [("patch", p) for p in PATCH],
)
def test_plt8_unparsable_body_is_4xx(client, org, role, method, path, raw):
    body, status = RAW_BODIES[raw]
    _assert_4xx(getattr(client, method)(_fill(path, org, role), raw=body), status)


@pytest.mark.parametrize("path", [*CREATE, *PATCH])
def test_plt8_form_encoded_body_is_4xx(client, org, role, path):
    response = client.client.post(
        "/api/v1" + _fill(path, org, role),
        "name=x&parent_id=1",
        content_type="application/x-www-form-urlencoded",
        headers=client._headers(),
    )
    _assert_4xx(response)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", LISTS)
def test_plt8_list_with_bad_query_is_4xx_or_empty(client, path, query):
    response = client.get(path, QUERIES[query])
    if response.status_code == 200:  # e.g. an unknown query parameter is ignored
        assert set(response.json()) >= {"items", "count"}
    else:
        _assert_4xx(response)


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        (path, name, value)
        for path, fields in FILTERS.items()
        for name, values in fields.items()
        for value in values
    ],
)
def test_plt8_list_with_bad_filter_is_4xx_or_empty(client, path, name, value):
    response = client.get(path, {name: value})
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        _assert_4xx(response)


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_plt8_wrong_method_is_405_json(client, org, role, method, path):
    response = getattr(client, method)(_fill(path, org, role))
    body = assert_error(response, 405, "method_not_allowed")
    assert body["details"]["allowed_methods"]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_plt8_unknown_path_is_404_json(client, org, role, method, path):
    assert_error(getattr(client, method)(_fill(path, org, role)), 404, "not_found")


@pytest.mark.parametrize("path", UNKNOWN_IDS)
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_plt8_unknown_id_is_404_json(client, method, path):
    body = assert_error(getattr(client, method)(path), 404, "not_found")
    assert set(body["details"]) <= {"id"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer kst_" + "x" * 5000},
        {"Authorization": "Bearer kst_é中文"},
        {"Authorization": "Basic Z206eA=="},
        {"Authorization": "bearer nonsense"},
        {"Cookie": "sessionid=" + "x" * 100},
    ],
    ids=["none", "empty", "blank", "long", "non_ascii", "basic", "nonsense", "bad_session"],
)
@pytest.mark.parametrize(
    ("method", "path"), [("get", "/employees"), ("post", "/departments"), ("get", "/auth/me")]
)
def test_plt8_bad_credentials_are_401_json(org, method, path, headers):
    client = ApiClient()
    client.client.raise_request_exception = False
    response = getattr(client.client, method)("/api/v1" + path, headers=headers)
    body = assert_error(response, 401, "authentication_required")
    assert response["WWW-Authenticate"] == "Bearer"
    assert body["details"] == {}


def test_plt8_expired_token_is_401(org):
    client = ApiClient(token_for(org.employees["sh_a_rep1"].user, hours=-1))
    assert_error(client.get("/auth/me"), 401, "authentication_required")


def test_plt8_errors_are_in_chinese_by_default_and_english_on_request(client):
    zh = client.get("/employees/999999").json()
    en = client.client.get(
        "/api/v1/employees/999999", headers={**client._headers(), "Accept-Language": "en"}
    ).json()
    assert zh["code"] == en["code"] == "not_found"
    assert en["message"] == "Employee not found."


def test_plt8_oversized_body_is_4xx(client, org):
    huge = '{"name": "' + "x" * (3 * 1024 * 1024) + '"}'  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE
    _assert_4xx(client.post("/departments", raw=huge))


def test_plt8_an_unexpected_failure_is_still_json(client, monkeypatch):
    # Not bad input — a bug; but even then the client gets the error format, and no traceback.
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("kestrel.org.selectors.employee_list", broken)
    response = client.get("/employees")
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": "Internal Server Error", "details": {}}
