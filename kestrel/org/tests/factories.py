"""Factories for the org structure. They go through the services, as production code does, so the
materialised paths, logins and role checks are the real ones."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from kestrel.core.scope import DataScope
from kestrel.org import services
from kestrel.org.models import Department, Employee, Role

PASSWORD = "Kestrel-test-2026!"
READ_ORG = ["org.view_department", "org.view_employee", "org.view_position", "org.view_role"]


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


def company_root() -> Department:
    """The one top-level department, created on first use."""
    return Department.objects.filter(parent__isnull=True).first() or services.department_create(
        actor=None, name="客隼集团", parent=None, kind=Department.Kind.COMPANY, code="HQ"
    )


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")
    parent = factory.LazyFunction(company_root)
    kind = Department.Kind.DEPARTMENT
    code = ""

    @classmethod
    def _create(cls, model_class, **kwargs) -> Department:
        return services.department_create(actor=None, **kwargs)


class RoleFactory(DjangoModelFactory):
    """``permissions`` are codes (``org.view_employee``); ``departments`` only for ``departments``."""

    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"角色{n}")
    data_scope = DataScope.SELF
    permissions = factory.LazyFunction(lambda: list(READ_ORG))
    departments = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class, *, permissions, **kwargs) -> Role:
        return services.role_create(
            actor=None, permissions=services.permissions_from_codes(permissions), **kwargs
        )


class EmployeeFactory(DjangoModelFactory):
    """An employee with a login (``username``, password ``PASSWORD``) unless ``username=None``."""

    class Meta:
        model = Employee

    name = factory.Sequence(lambda n: f"员工{n}")
    department = factory.SubFactory(DepartmentFactory)
    username = factory.Sequence(lambda n: f"emp{n}")
    password = PASSWORD
    roles = factory.LazyFunction(list)
    status = Employee.Status.ACTIVE

    @classmethod
    def _create(cls, model_class, **kwargs) -> Employee:
        if not kwargs.get("username"):
            kwargs["password"] = None
        return services.employee_create(actor=None, **kwargs)
