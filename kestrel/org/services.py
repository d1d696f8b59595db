"""Writes to the org structure (PLT-1, PLT-2). Every change is audited by django-auditlog."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Max, ProtectedError, Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import Conflict, PermissionDenied, ValidationFailed
from kestrel.core.scope import DataScope, forget_reach, reach_for
from kestrel.org import error_codes
from kestrel.org.models import PATH_SEPARATOR, Department, Employee, Position, Role

User = get_user_model()

UNSET: Any = object()  # distinguishes "leave as is" from an explicit None in partial updates


# --- Departments ---------------------------------------------------------------------------------


def department_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    parent: Department | None,
    kind: str = Department.Kind.DEPARTMENT,
    code: str = "",
    manager: Employee | None = None,
    sort_order: int = 0,
) -> Department:
    """Create a department under ``parent`` (``None``: the company root, of which there is one)."""
    name = _clean_name(name)
    if parent is None and Department.objects.filter(parent__isnull=True).exists():
        raise ValidationFailed(
            _("There is already a top-level department; choose a parent department."),
            code=error_codes.ROOT_DEPARTMENT_EXISTS,
            details={"parent_id": [_("A parent department is required.")]},
        )
    _ensure_name_free(name=name, parent=parent)
    with transaction.atomic():
        department = Department.objects.create(
            name=name, parent=parent, kind=kind, code=code, manager=manager, sort_order=sort_order
        )
        department.path = _child_path(parent, department.pk)
        _check_path_fits(len(department.path))
        department.depth = 0 if parent is None else parent.depth + 1
        department.save(update_fields=["path", "depth"])
    return department


def department_update(
    *,
    actor: AbstractBaseUser | None,
    department: Department,
    name: str = UNSET,
    parent: Department | None = UNSET,
    kind: str = UNSET,
    code: str = UNSET,
    manager: Employee | None = UNSET,
    sort_order: int = UNSET,
) -> Department:
    """Rename, re-parent (moving the whole subtree) or otherwise edit a department.

    A department cannot move under itself or one of its own descendants (a cycle).
    """
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        fields: list[str] = []
        new_parent = department.parent if parent is UNSET else parent
        new_name = department.name if name is UNSET else _clean_name(name)
        if parent is not UNSET and (parent.pk if parent else None) != department.parent_id:
            _department_move(department, parent)
            fields += ["parent"]
        if new_name != department.name or "parent" in fields:
            _ensure_name_free(name=new_name, parent=new_parent, exclude=department)
            department.name = new_name
            fields.append("name")
        for attribute, value in (
            ("kind", kind),
            ("code", code),
            ("manager", manager),
            ("sort_order", sort_order),
        ):
            if value is not UNSET:
                setattr(department, attribute, value)
                fields.append(attribute)
        if fields:
            department.save(update_fields=[*set(fields), "updated_at"])
    return department


def _department_move(department: Department, parent: Department | None) -> None:
    if parent is None:
        raise ValidationFailed(
            _("Only the company itself is at the top of the tree; choose a parent department."),
            code=error_codes.ROOT_DEPARTMENT_EXISTS,
            details={"parent_id": [_("A parent department is required.")]},
        )
    if parent.pk == department.pk or parent.path.startswith(department.path):
        raise ValidationFailed(
            _("A department cannot be moved under itself or one of its sub-departments."),
            code=error_codes.DEPARTMENT_CYCLE,
            details={"parent_id": [_("This would make a cycle in the department tree.")]},
        )
    old_prefix = department.path
    new_prefix = _child_path(parent, department.pk)
    longest = Department.objects.filter(path__startswith=old_prefix).aggregate(n=Max(Length("path")))["n"]
    _check_path_fits(longest - len(old_prefix) + len(new_prefix))
    depth_change = parent.depth + 1 - department.depth
    # One set-based UPDATE re-roots the whole subtree, however large.
    Department.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", Length(Value(old_prefix)) + 1)),
        depth=F("depth") + depth_change,
    )
    department.refresh_from_db(fields=["path", "depth"])
    department.parent = parent


def department_delete(*, actor: AbstractBaseUser | None, department: Department) -> None:
    """Delete an empty department; one with sub-departments, employees, or listed in a role's data
    scope is refused."""
    employee_count = Employee.objects.filter(department=department).count()
    child_count = Department.objects.filter(parent=department).count()
    if employee_count or child_count:
        raise Conflict(
            _(
                "The department still has %(employees)d employees and %(children)d sub-departments; "
                "move them first."
            )
            % {"employees": employee_count, "children": child_count},
            code=error_codes.DEPARTMENT_NOT_EMPTY,
            details={"employees": employee_count, "sub_departments": child_count},
        )
    # Deleting would silently drop it from roles' listed departments, possibly leaving a "listed
    # departments" role with none (PLT-2) — the roles are changed first, deliberately.
    role_names = list(department.scoped_roles.values_list("name", flat=True))
    if role_names:
        raise Conflict(
            _("Roles still list this department in their data scope: %(roles)s.")
            % {"roles": ", ".join(role_names)},
            code=error_codes.DEPARTMENT_IN_USE,
            details={"roles": role_names},
        )
    try:
        with transaction.atomic():
            department.delete()
    except ProtectedError as error:
        raise Conflict(
            _("The department is still referred to by other records."),
            code=error_codes.DEPARTMENT_NOT_EMPTY,
            details={"referenced_by": sorted({type(o)._meta.verbose_name for o in error.protected_objects})},
        ) from error


def _check_path_fits(length: int) -> None:
    # Past the column's size PostgreSQL would fail the write (SQLite would silently store it).
    if length > Department._meta.get_field("path").max_length:
        raise ValidationFailed(
            _("The department tree would be too deep here."),
            code=error_codes.DEPARTMENT_TOO_DEEP,
            details={"parent_id": [_("Choose a parent department higher up in the tree.")]},
        )


def _child_path(parent: Department | None, pk: int) -> str:
    return f"{parent.path if parent else PATH_SEPARATOR}{pk}{PATH_SEPARATOR}"


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("The name must not be empty."), details={"name": [_("This field is required.")]}
        )
    return name


def _ensure_name_free(*, name: str, parent: Department | None, exclude: Department | None = None) -> None:
    siblings = Department.objects.filter(parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        raise Conflict(
            _("A department named “%(name)s” already exists there.") % {"name": name},
            code=error_codes.DEPARTMENT_NAME_TAKEN,
            details={"name": [_("Already used by another department under the same parent.")]},
        )


# --- Positions -----------------------------------------------------------------------------------


def position_ensure(*, code: str, name: str, rank: int, description: str = "") -> Position:
    """Create or refresh a position (used by presets and the demo company)."""
    position, _created = Position.objects.update_or_create(
        code=code, defaults={"name": name, "rank": rank, "description": description}
    )
    return position


# --- Roles ---------------------------------------------------------------------------------------


def role_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    data_scope: str,
    permissions: Iterable[Permission] = (),
    departments: Iterable[Department] = (),
    description: str = "",
) -> Role:
    name = _clean_name(name)
    permissions, departments = list(permissions), list(departments)
    _ensure_role_name_free(name)
    _check_scope_departments(data_scope, departments)
    _check_no_escalation(actor, permissions)
    _check_scope_grantable(actor, data_scope=data_scope, departments=departments, holders=[])
    with transaction.atomic():
        role = Role.objects.create(name=name, data_scope=data_scope, description=description)
        role.permissions.set(permissions)
        role.departments.set(departments if data_scope == DataScope.DEPARTMENTS else [])
    return role


def role_update(
    *,
    actor: AbstractBaseUser | None,
    role: Role,
    name: str = UNSET,
    data_scope: str = UNSET,
    permissions: Iterable[Permission] = UNSET,
    departments: Iterable[Department] = UNSET,
    description: str = UNSET,
) -> Role:
    new_scope = role.data_scope if data_scope is UNSET else data_scope
    new_departments = list(role.departments.all()) if departments is UNSET else list(departments)
    _check_scope_departments(new_scope, new_departments)
    if data_scope is not UNSET or departments is not UNSET:
        holders = list(Department.objects.filter(employees__roles=role).distinct())
        _check_scope_grantable(actor, data_scope=new_scope, departments=new_departments, holders=holders)
    if permissions is not UNSET:
        permissions = list(permissions)
        _check_no_escalation(actor, permissions)
    with transaction.atomic():
        fields = ["updated_at"]
        if name is not UNSET:
            name = _clean_name(name)
            if name != role.name:
                _ensure_role_name_free(name, exclude=role)
            role.name = name
            fields.append("name")
        if description is not UNSET:
            role.description = description
            fields.append("description")
        role.data_scope = new_scope
        fields.append("data_scope")
        role.save(update_fields=fields)
        if permissions is not UNSET:
            role.permissions.set(permissions)
        role.departments.set(new_departments if new_scope == DataScope.DEPARTMENTS else [])
    return role


def role_delete(*, actor: AbstractBaseUser | None, role: Role) -> None:
    holders = role.employees.count()
    if holders:
        raise Conflict(
            _("%(count)d employees still hold this role; take it away from them first.") % {"count": holders},
            code=error_codes.ROLE_IN_USE,
            details={"employees": holders},
        )
    role.delete()


def permissions_from_codes(codes: Iterable[str]) -> list[Permission]:
    """``["org.view_employee", …]`` → Permission rows; an unknown code is a validation error."""
    wanted = {code.strip() for code in codes}
    malformed = sorted(code for code in wanted if code.count(".") != 1)
    if malformed:
        raise ValidationFailed(
            _("Permissions are written as app_label.codename."),
            code=error_codes.UNKNOWN_PERMISSION,
            details={"permissions": malformed},
        )
    condition = Q(pk__in=[])
    for code in wanted:
        app_label, codename = code.split(".")
        condition |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(condition).select_related("content_type"))
    unknown = sorted(wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found})
    if unknown:
        raise ValidationFailed(
            _("Unknown permissions: %(codes)s") % {"codes": ", ".join(unknown)},
            code=error_codes.UNKNOWN_PERMISSION,
            details={"permissions": unknown},
        )
    return found


def _ensure_role_name_free(name: str, exclude: Role | None = None) -> None:
    others = Role.objects.filter(name=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise Conflict(
            _("A role named “%(name)s” already exists.") % {"name": name},
            code=error_codes.ROLE_NAME_TAKEN,
            details={"name": [_("Already used by another role.")]},
        )


def _check_scope_departments(data_scope: str, departments: list[Department]) -> None:
    if data_scope not in DataScope.values:
        raise ValidationFailed(
            _("Unknown data scope."),
            details={"data_scope": [_("Choose one of: %s") % ", ".join(DataScope.values)]},
        )
    if data_scope == DataScope.DEPARTMENTS and not departments:
        raise ValidationFailed(
            _("The data scope “listed departments” needs at least one department."),
            code=error_codes.ROLE_SCOPE_DEPARTMENTS_REQUIRED,
            details={"department_ids": [_("List at least one department.")]},
        )


def _check_no_escalation(actor: AbstractBaseUser | None, permissions: list[Permission]) -> None:
    """Nobody hands out a function permission they do not hold themselves."""
    if actor is None or actor.is_superuser:
        return
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
    missing = sorted(code for code in codes if not actor.has_perm(code))
    if missing:
        raise PermissionDenied(
            _("You cannot grant permissions you do not hold yourself."),
            code=error_codes.PRIVILEGE_ESCALATION,
            details={"permissions": missing},
        )


# --- Employees -----------------------------------------------------------------------------------


def employee_create(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    department: Department,
    position: Position | None = None,
    manager: Employee | None = None,
    roles: Iterable[Role] = (),
    username: str | None = None,
    password: str | None = None,
    employee_no: str | None = None,
    mobile: str = "",
    email: str = "",
    gender: str = "",
    hired_on: date | None = None,
    status: str = Employee.Status.ACTIVE,
) -> Employee:
    """Create an employee; with ``username`` (and ``password``) also their login."""
    name = _clean_name(name)
    roles = list(roles)
    _check_department_in_reach(actor, department)
    _check_roles_grantable(actor, roles, department=department)
    if password and not username:
        raise ValidationFailed(
            _("A password needs a username."),
            code=error_codes.PASSWORD_WITHOUT_USERNAME,
            details={"username": [_("Give a username to create a login.")]},
        )
    _ensure_employee_no_free(employee_no)
    with transaction.atomic():
        user = None
        if username:
            user = _login_create(username=username, password=password, email=email, active=status == "active")
        employee = Employee.objects.create(
            user=user,
            name=name,
            department=department,
            position=position,
            manager=manager,
            employee_no=employee_no or None,
            mobile=mobile,
            email=email,
            gender=gender,
            hired_on=hired_on,
            status=status,
            departed_on=timezone.localdate() if status == Employee.Status.DEPARTED else None,
        )
        employee.roles.set(roles)
    return employee


def employee_update(
    *,
    actor: AbstractBaseUser | None,
    employee: Employee,
    name: str = UNSET,
    department: Department = UNSET,
    position: Position | None = UNSET,
    manager: Employee | None = UNSET,
    roles: Iterable[Role] = UNSET,
    username: str | None = UNSET,
    password: str | None = UNSET,
    employee_no: str | None = UNSET,
    mobile: str = UNSET,
    email: str = UNSET,
    gender: str = UNSET,
    hired_on: date | None = UNSET,
    status: str = UNSET,
) -> Employee:
    """Edit an employee. Setting ``status`` to departed also disables their login (ARC-8 hands their
    customers over separately); setting ``username``/``password`` creates or updates the login."""
    with transaction.atomic():
        # of=self: PostgreSQL cannot lock the nullable side of the outer join to the login.
        employee = Employee.objects.select_for_update(of=("self",)).select_related("user").get(pk=employee.pk)
        fields = ["updated_at"]
        if department is not UNSET and department.pk != employee.department_id:
            _check_department_in_reach(actor, department)
            employee.department = department
            fields.append("department")
        if manager is not UNSET:
            _check_manager_chain(employee, manager)
            employee.manager = manager
            fields.append("manager")
        if employee_no is not UNSET and (employee_no or None) != employee.employee_no:
            _ensure_employee_no_free(employee_no, exclude=employee)
            employee.employee_no = employee_no or None
            fields.append("employee_no")
        if name is not UNSET:
            employee.name = _clean_name(name)
            fields.append("name")
        for attribute, value in (
            ("position", position),
            ("mobile", mobile),
            ("email", email),
            ("gender", gender),
            ("hired_on", hired_on),
        ):
            if value is not UNSET:
                setattr(employee, attribute, value)
                fields.append(attribute)
        if status is not UNSET and status != employee.status:
            employee.status = status
            employee.departed_on = timezone.localdate() if status == Employee.Status.DEPARTED else None
            fields += ["status", "departed_on"]
        _employee_login_sync(employee, username=username, password=password)
        employee.save(update_fields=[*dict.fromkeys([*fields, "user"])])
        if roles is not UNSET:
            roles = list(roles)
            held = set(employee.roles.values_list("pk", flat=True))
            _check_roles_grantable(
                actor, [r for r in roles if r.pk not in held], department=employee.department
            )
            employee.roles.set(roles)
    if employee.user is not None:
        forget_reach(employee.user)
    return employee


def employee_delete(*, actor: AbstractBaseUser | None, employee: Employee) -> None:
    """Delete an employee entered by mistake. One with history (a login used, reports, a managed
    department) is kept: set the status to departed instead, so the audit trail stays whole."""
    reasons = []
    if employee.user is not None and employee.user.last_login is not None:
        reasons.append(_("has signed in before"))
    if employee.reports.exists():
        reasons.append(_("manages other employees"))
    if employee.managed_departments.exists():
        reasons.append(_("manages a department"))
    if reasons:
        raise Conflict(
            _("This employee cannot be deleted (%(reasons)s); set the status to departed instead.")
            % {"reasons": "; ".join(reasons)},
            code=error_codes.EMPLOYEE_IN_USE,
            details={"reasons": reasons},
        )
    try:
        with transaction.atomic():
            user = employee.user
            employee.delete()
            if user is not None:
                user.delete()
    except ProtectedError as error:
        raise Conflict(
            _("This employee is still referred to by other records; set the status to departed instead."),
            code=error_codes.EMPLOYEE_IN_USE,
            details={},
        ) from error


def _login_create(*, username: str, password: str | None, email: str, active: bool):
    username = username.strip()
    _ensure_username_free(username)
    user = User(username=username, email=email, is_active=active)
    if password:
        _validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError as error:
        raise ValidationFailed(_("The username is not valid."), details=error.message_dict) from error
    user.save()
    return user


def _employee_login_sync(employee: Employee, *, username: str | None, password: str | None) -> None:
    user = employee.user
    if user is None:
        if username not in (UNSET, None, ""):
            employee.user = _login_create(
                username=username,
                password=None if password is UNSET else password,
                email=employee.email,
                active=employee.status == Employee.Status.ACTIVE,
            )
        elif password not in (UNSET, None, ""):
            raise ValidationFailed(
                _("A password needs a username."),
                code=error_codes.PASSWORD_WITHOUT_USERNAME,
                details={"username": [_("Give a username to create a login.")]},
            )
        return
    fields = []
    if username not in (UNSET, None, "") and username.strip() != user.username:
        _validate_username(username.strip())
        _ensure_username_free(username.strip(), exclude_pk=user.pk)
        user.username = username.strip()
        fields.append("username")
    if password not in (UNSET, None, ""):
        _validate_password(password, user)
        user.set_password(password)
        fields.append("password")
    active = employee.status == Employee.Status.ACTIVE
    if user.is_active != active:
        user.is_active = active
        fields.append("is_active")
    if fields:
        user.save(update_fields=fields)


def _validate_username(username: str) -> None:
    # A rename skips the full_clean() of a new login, so the field's own validators run here.
    try:
        User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The username is not valid."), details={"username": list(error.messages)}
        ) from error


def _validate_password(password: str, user) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("The password is not strong enough."),
            code=error_codes.PASSWORD_INVALID,
            details={"password": list(error.messages)},
        ) from error


def _ensure_username_free(username: str, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise Conflict(
            _("The username “%(username)s” is already taken.") % {"username": username},
            code=error_codes.USERNAME_TAKEN,
            details={"username": [_("Already taken.")]},
        )


def _ensure_employee_no_free(employee_no: str | None, exclude: Employee | None = None) -> None:
    if not employee_no:
        return
    taken = Employee.objects.filter(employee_no=employee_no)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise Conflict(
            _("The employee number “%(no)s” is already used.") % {"no": employee_no},
            code=error_codes.EMPLOYEE_NUMBER_TAKEN,
            details={"employee_no": [_("Already used.")]},
        )


def _check_manager_chain(employee: Employee, manager: Employee | None) -> None:
    seen = {employee.pk}
    current = manager
    while current is not None:
        if current.pk in seen:
            raise ValidationFailed(
                _("An employee cannot report to themselves, directly or through others."),
                code=error_codes.MANAGER_CYCLE,
                details={"manager_id": [_("This would make a cycle in the reporting line.")]},
            )
        seen.add(current.pk)
        current = current.manager


def _check_department_in_reach(actor: AbstractBaseUser | None, department: Department) -> None:
    """One cannot place an employee where one could no longer see them."""
    if actor is None:
        return
    reach = reach_for(actor)
    if reach.everything:
        return
    subquery = reach.department_subquery()
    if subquery is None or not subquery.filter(pk=department.pk).exists():
        raise PermissionDenied(
            _("That department is outside your data scope."),
            code=error_codes.OUT_OF_SCOPE_DEPARTMENT,
            details={"department_id": [_("Outside your data scope.")]},
        )


def _check_roles_grantable(
    actor: AbstractBaseUser | None, roles: list[Role], *, department: Department
) -> None:
    """Giving roles to an employee of ``department``: neither their permissions nor their data scope
    may exceed the actor's own."""
    if actor is None or actor.is_superuser or not roles:
        return
    permissions = list(Permission.objects.filter(kestrel_roles__in=roles).select_related("content_type"))
    _check_no_escalation(actor, permissions)
    for role in roles:
        _check_scope_grantable(
            actor, data_scope=role.data_scope, departments=list(role.departments.all()), holders=[department]
        )


def _check_scope_grantable(
    actor: AbstractBaseUser | None,
    *,
    data_scope: str,
    departments: list[Department],
    holders: list[Department],
) -> None:
    """PLT-2: a data scope (数据权限) is a permission too; nobody hands out one reaching further than
    their own. ``holders`` are the departments of the employees who would hold it, which the
    relative scopes (own department, own department and below) depend on."""
    if actor is None or actor.is_superuser:
        return
    reach = reach_for(actor)
    if reach.everything or data_scope == DataScope.SELF:
        return
    needed = Q(pk__in=[])
    if data_scope == DataScope.DEPARTMENTS:
        needed |= Q(pk__in=[d.pk for d in departments])
    elif data_scope == DataScope.DEPARTMENT:
        needed |= Q(pk__in=[d.pk for d in holders])
    elif data_scope == DataScope.DEPARTMENT_TREE:
        for holder in holders:
            needed |= Q(path__startswith=holder.path)
    reachable = reach.department_subquery()
    beyond = Department.objects.filter(needed)
    if reachable is not None:
        beyond = beyond.exclude(pk__in=reachable)
    if data_scope == DataScope.ALL or beyond.exists():
        raise PermissionDenied(
            _("You cannot grant a data scope wider than your own."),
            code=error_codes.PRIVILEGE_ESCALATION,
            details={"data_scope": [_("Reaches beyond your own data scope.")]},
        )
