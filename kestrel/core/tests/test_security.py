"""Security baseline (issue 2, item 9): bearer tokens, lockout on the token endpoint and the web
login (django-axes), argon2, CSRF on session-authenticated API writes, CSP, ``check --deploy``."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

import kestrel.settings
from kestrel.core.models import ApiToken
from kestrel.org.tests.factories import PASSWORD, EmployeeFactory, RoleFactory, UserFactory
from kestrel.org.tests.fixtures import ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def lockout_after_3(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def _token(username: str, password: str):
    return ApiClient().post("/auth/token", {"username": username, "password": password})


def test_plt8_token_for_good_credentials_and_401_for_bad(db):
    user = UserFactory(username="alice")
    response = _token("alice", PASSWORD)
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token.startswith("kst_") and response.json()["token_type"] == "Bearer"
    # Only a hash is stored.
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert ApiToken.objects.get(user=user).key_hash == ApiToken.hash_key(token)
    assert ApiClient(token).get("/auth/me").json()["username"] == "alice"

    assert_error(_token("alice", "wrong"), 401, "authentication_failed")
    assert_error(_token("nobody", PASSWORD), 401, "authentication_failed")
    # Same answer for an unknown user and a wrong password: no user enumeration.
    assert _token("alice", "wrong").json() == _token("nobody", "wrong").json()


def test_plt8_token_endpoint_locks_out_after_repeated_failures(db, lockout_after_3):
    UserFactory(username="bob")
    for _attempt in range(lockout_after_3 - 1):
        assert_error(_token("bob", "wrong"), 401, "authentication_failed")
    # The failure that reaches the limit, and every attempt after it — even with the right
    # password — answers 429 locked_out.
    assert_error(_token("bob", "wrong"), 429, "locked_out")
    body = assert_error(_token("bob", PASSWORD), 429, "locked_out")
    assert body["message"]
    # Other accounts are not affected.
    UserFactory(username="carol")
    assert _token("carol", PASSWORD).status_code == 200


def test_plt8_successful_login_resets_the_failure_count(db, lockout_after_3):
    UserFactory(username="dave")
    for _round in range(3):
        for _attempt in range(lockout_after_3 - 1):
            assert _token("dave", "wrong").status_code == 401
        assert _token("dave", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(username="dave").exists()


def test_plt8_web_login_locks_out_after_repeated_failures(db, lockout_after_3):
    UserFactory(username="erin")
    client = Client()
    url = reverse("web:login")
    for _attempt in range(lockout_after_3 - 1):
        response = client.post(url, {"username": "erin", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    assert client.post(url, {"username": "erin", "password": "wrong"}).status_code == 429
    locked = client.post(url, {"username": "erin", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The token endpoint shares the same lockout for that account.
    assert_error(_token("erin", PASSWORD), 429, "locked_out")


def test_plt8_web_login_works(db):
    UserFactory(username="frank")
    client = Client()
    response = client.post(reverse("web:login"), {"username": "frank", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_plt8_expired_token_is_401(db):
    user = UserFactory()
    assert_error(ApiClient(token_for(user, hours=-0.01)).get("/auth/me"), 401, "authentication_required")
    assert ApiClient(token_for(user)).get("/auth/me").status_code == 200


def test_plt8_token_of_an_inactive_user_is_401(db):
    user = UserFactory()
    token = token_for(user)
    user.is_active = False
    user.save()
    assert_error(ApiClient(token).get("/auth/me"), 401, "authentication_required")


def test_plt8_token_of_a_departed_employee_is_401(api):
    employee = EmployeeFactory(roles=[RoleFactory()])
    token = token_for(employee.user)
    assert ApiClient(token).get("/auth/me").status_code == 200
    api.patch(f"/employees/{employee.pk}", {"status": "departed"})
    assert_error(ApiClient(token).get("/auth/me"), 401, "authentication_required")


def test_plt8_production_passwords_are_hashed_with_argon2():
    # The root conftest swaps in a fast hasher for tests; the settings module itself must use argon2.
    assert kestrel.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_plt8_argon2_hash_is_stored(db, settings):
    settings.PASSWORD_HASHERS = kestrel.settings.PASSWORD_HASHERS
    user = UserFactory()
    assert user.password.startswith("argon2$")


def test_plt8_csrf_is_enforced_on_session_authenticated_api_writes(superuser, org):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("web:login"))  # sets the CSRF cookie, as the UI's first page does
    csrf = client.cookies["csrftoken"].value
    client.force_login(superuser)
    parent = org.departments["hq"].pk
    # Reads need no token.
    assert client.get("/api/v1/employees").status_code == 200
    # A write without the CSRF token is refused, in the API's error format.
    response = client.post(
        "/api/v1/departments", {"name": "新部门", "parent_id": parent}, content_type="application/json"
    )
    assert_error(response, 403)
    # With the token (cookie + header, as the UI's htmx sends it) it goes through.
    response = client.post(
        "/api/v1/departments",
        {"name": "新部门", "parent_id": parent},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content


def test_plt8_bearer_token_writes_need_no_csrf_token(superuser, org):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/departments",
        {"name": "新部门", "parent_id": org.departments["hq"].pk},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(superuser)}"},
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/docs"])
def test_plt8_html_pages_carry_a_content_security_policy(db, client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_plt8_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kestrel.settings",
        "KESTREL_PRODUCTION": "1",
        "KESTREL_SECRET_KEY": secrets.token_urlsafe(64),
        "KESTREL_ALLOWED_HOSTS": "kestrel.example.com",
        "KESTREL_VAR_DIR": str(tmp_path),
        "KESTREL_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("KESTREL_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
