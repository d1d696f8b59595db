"""PLT-8 / SPEC §9: the OpenAPI document is valid, the docs page needs no CDN, and a property-based
fuzzer (schemathesis) finds no server error on any operation."""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from kestrel.org.tests.fixtures import ApiClient, token_for

pytestmark = pytest.mark.django_db


def test_plt8_openapi_document_is_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    paths = document["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/departments", "/api/v1/roles", "/api/v1/employees"):
        assert path in paths, path
    # The SPEC §9 field names.
    schemas = document["components"]["schemas"]
    assert {"id", "name", "parent_id"} <= set(schemas["DepartmentOut"]["properties"])
    assert {"id", "name", "data_scope", "department_ids", "permissions"} <= set(
        schemas["RoleOut"]["properties"]
    )
    employee_in = set(schemas["EmployeeIn"]["properties"])
    assert {
        "name",
        "username",
        "password",
        "department_id",
        "position",
        "role_ids",
        "manager_id",
        "status",
    } <= (employee_in)
    assert "password" not in schemas["EmployeeOut"]["properties"]


def test_plt8_docs_page_uses_only_local_assets(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html), (
        "the docs page must not load from a CDN"
    )
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", html):
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset


# --- Fuzzing every operation -----------------------------------------------------------------------

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def superuser_token(superuser):
    return token_for(superuser)


@pytest.fixture
def _same_connection_for_wsgi_calls():
    """The WSGI handler closes "old" database connections around each request; inside a test's
    transaction that would break it. Django's own test client does the same as this."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)
def test_plt8_no_operation_answers_a_server_error(
    case, org, superuser_token, _same_connection_for_wsgi_calls
):
    response = case.call(headers={"Authorization": f"Bearer {superuser_token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if 400 <= response.status_code < 500:
        assert set(response.json()) >= {"code", "message", "details"}, response.text


def test_plt8_anonymous_callers_get_401_on_every_non_public_operation(org):
    client = ApiClient()
    for operation in schema.get_all_operations():
        operation = operation.ok()
        if operation.path == "/api/v1/auth/token":
            continue
        path = re.sub(r"\{[^}]+\}", "1", operation.path).removeprefix("/api/v1")
        response = getattr(client, operation.method.lower())(path)
        assert response.status_code == 401, (operation.method, operation.path, response.status_code)
