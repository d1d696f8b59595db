"""Org structure (PLT-1) and roles with data scope (PLT-2)."""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models
from django.utils.translation import gettext_lazy as _

from kestrel.core.models import TimeStampedModel
from kestrel.core.scope import DataScope, ScopedQuerySet

PATH_SEPARATOR = "/"


class Department(TimeStampedModel):
    """A node of the org tree: company → regions (大区) → branches (分支机构) → departments/teams.

    ``path`` is the materialised path of ids (``/1/4/9/``): a subtree is one indexed
    ``path LIKE '/1/4/%'`` on SQLite and PostgreSQL alike; services keep it in step with ``parent``.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        REGION = "region", _("Region")
        BRANCH = "branch", _("Branch")
        DEPARTMENT = "department", _("Department")
        TEAM = "team", _("Team")

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent department"),
    )
    path = models.CharField(_("path"), max_length=1000, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    manager = models.ForeignKey(
        "Employee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_departments",
        verbose_name=_("manager"),
    )
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="org_department_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_ancestor_of(self, other: "Department") -> bool:
        return other.path.startswith(self.path) and other.pk != self.pk


class Position(models.Model):
    """A job title from the policy documents (总经理, 大区经理, 客户经理, …), kept as data."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=100, help_text=_("Lower is more senior; used for ordering and escalation.")
    )
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return self.name


class Role(TimeStampedModel):
    """Function permissions plus one data scope (PLT-2)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    data_scope = models.CharField(
        _("data scope"), max_length=20, choices=DataScope.choices, default=DataScope.SELF
    )
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="scoped_roles",
        verbose_name=_("departments"),
        help_text=_("Only for the data scope “listed departments”."),
    )
    permissions = models.ManyToManyField(
        Permission, blank=True, related_name="kestrel_roles", verbose_name=_("permissions")
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmployeeQuerySet(ScopedQuerySet):
    def active(self) -> "EmployeeQuerySet":
        return self.filter(status=Employee.Status.ACTIVE)


class Employee(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DEPARTED = "departed", _("Departed")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employee",
        verbose_name=_("login"),
    )
    employee_no = models.CharField(_("employee number"), max_length=30, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="employees", verbose_name=_("department")
    )
    position = models.ForeignKey(
        Position,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("position"),
    )
    extra_positions = models.ManyToManyField(
        Position, blank=True, related_name="+", verbose_name=_("additional positions")
    )
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("manager"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="employees", verbose_name=_("roles"))
    mobile = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    departed_on = models.DateField(_("departed on"), null=True, blank=True)

    objects = EmployeeQuerySet.as_manager()

    # Data scope: an employee row is "owned" by that employee and belongs to its department.
    scope_owner = "pk"
    scope_department = "department"

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["department__path", "position__rank", "name"]
        indexes = [models.Index(fields=["department", "status"], name="org_employee_dept_status")]

    def __str__(self) -> str:
        return self.name
