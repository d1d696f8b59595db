"""PLT-8 / issue 2 item 6: the ``kestrel`` command — help, migrate, createadmin (twice: a clear
error and a non-zero exit), seed-demo (idempotent), unknown commands."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from kestrel.core.scope import DataScope
from kestrel.org.models import Department, Employee, Role

KESTREL = str(Path(sys.executable).with_name("kestrel"))


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Runs ``kestrel …`` against a fresh SQLite file, migrated once for the module."""
    var = tmp_path_factory.mktemp("kestrel-var")
    env = {
        **os.environ,
        "KESTREL_DATABASE_URL": f"sqlite:///{var / 'kestrel.sqlite3'}",
        "KESTREL_VAR_DIR": str(var),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([KESTREL, *args], env=env, capture_output=True, text=True, timeout=300)

    migrated = run("migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return run


def test_plt8_help_lists_the_commands(cli):
    for flag in ("--help", "-h"):
        result = cli(flag)
        assert result.returncode == 0
        for command in ("serve", "migrate", "createadmin", "seed-demo"):
            assert command in result.stdout


def test_plt8_unknown_command_exits_2(cli):
    result = cli("fly")
    assert result.returncode == 2
    assert "unknown command 'fly'" in result.stderr
    assert "usage: kestrel" in result.stderr


def test_plt8_createadmin_twice_is_a_clear_error(cli):
    first = cli("createadmin", "--username", "boss", "--password", "Kestrel-admin-2026")
    assert first.returncode == 0, first.stdout + first.stderr
    second = cli("createadmin", "--username", "boss", "--password", "Kestrel-admin-2026")
    assert second.returncode != 0
    assert "boss" in second.stderr and "already exists" in second.stderr
    assert "Traceback" not in second.stderr
    # Case does not make a new user either.
    assert cli("createadmin", "--username", "BOSS", "--password", "Kestrel-admin-2026").returncode != 0


def test_plt8_createadmin_refuses_a_weak_password(cli):
    result = cli("createadmin", "--username", "weakling", "--password", "123")
    assert result.returncode != 0
    assert "password" in result.stderr.lower()


def test_plt8_createadmin_needs_its_arguments(cli):
    result = cli("createadmin")
    assert result.returncode != 0
    assert "--username" in result.stderr


@pytest.mark.django_db
def test_plt1_seed_demo_builds_the_demo_company_and_is_idempotent():
    call_command("seed_demo", verbosity=0)

    def counts() -> dict[str, int]:
        return {
            "departments": Department.objects.count(),
            "employees": Employee.objects.count(),
            "roles": Role.objects.count(),
            "role_permissions": Role.permissions.through.objects.count(),
            "employee_roles": Employee.roles.through.objects.count(),
        }

    first = counts()
    assert Department.objects.filter(kind=Department.Kind.REGION).count() == 3
    assert Department.objects.filter(kind=Department.Kind.BRANCH).count() == 6
    assert 35 <= first["employees"] <= 45
    assert set(Role.objects.values_list("data_scope", flat=True)) == set(DataScope.values)
    # Every demo employee can sign in and holds a role; names are Chinese.
    assert not Employee.objects.filter(user__isnull=True).exists()
    assert not Employee.objects.filter(roles__isnull=True).exists()
    assert all("\u4e00" <= name[0] <= "\u9fff" for name in Employee.objects.values_list("name", flat=True))

    call_command("seed_demo", verbosity=0)
    assert counts() == first
