"""The web shell (PLT-3): login, the workbench (工作台) and the profile page (个人资料).

Views are thin: reads go through the org selectors, so data scope applies exactly as in the API.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kestrel.core.scope import DataScope
from kestrel.notify.forms import ChannelPreferencesForm
from kestrel.org import selectors
from kestrel.org.models import Department, Employee, Role
from kestrel.web.context_processors import current_employee
from kestrel.web.forms import LoginForm, PasswordForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return redirect(static("web/kestrel-mark.svg"))


@dataclass
class RoleSummary:
    name: str
    scope: str
    scope_kind: str
    departments: list[str] = field(default_factory=list)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    employee = current_employee(request)
    tree = selectors.department_tree(actor=request.user)
    context = {
        "employee": employee,
        "department_trail": _department_trail(request.user, employee),
        "roles": _role_summaries(request.user, employee),
        "visible_employee_count": selectors.employee_list(
            actor=request.user, status=Employee.Status.ACTIVE
        ).count(),
        "chart": _employees_by_unit(tree),
    }
    return render(request, "web/home.html", context)


CHANNELS_FORM = "channels"


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Own employee record, roles and permissions; POST changes the password or the notification
    channels (PLT-7), told apart by the ``form`` field."""
    employee = current_employee(request)
    form = PasswordForm(request.user)
    channels_form = None
    if request.method == "POST" and request.POST.get("form") == CHANNELS_FORM:
        if employee is None:
            raise Http404(_("You have no employee record, so no inbox."))
        channels_form = ChannelPreferencesForm(request.POST, employee=employee)
        if channels_form.save():
            messages.success(request, _("Your notification channels have been saved."))
            return redirect(reverse("web:profile") + "#channels")
    elif request.method == "POST":
        form = PasswordForm(request.user, request.POST)
        if form.is_valid():
            form.save()
            # Changing the password rotates the session hash; keep this session signed in.
            update_session_auth_hash(request, form.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("web:profile")
    if channels_form is None and employee is not None:
        channels_form = ChannelPreferencesForm(employee=employee)
    context = {
        "employee": employee,
        "department_trail": _department_trail(request.user, employee),
        "roles": _role_summaries(request.user, employee),
        "permission_groups": _permission_groups(request.user, employee),
        "form": form,
        "channels_form": channels_form,
    }
    return render(request, "web/profile.html", context)


def _department_trail(actor: AbstractBaseUser, employee: Employee | None) -> list[Department]:
    """The employee's department and its ancestors, root first (上级部门 / 本部门)."""
    if employee is None:
        return []
    ids = [int(part) for part in employee.department.path.strip("/").split("/") if part]
    return list(selectors.department_list(actor=actor).filter(pk__in=ids).order_by("depth"))


def _roles_of(actor: AbstractBaseUser, employee: Employee | None) -> list[Role]:
    if employee is None:
        return []
    return list(selectors.role_list(actor=actor).filter(employees=employee))


def _role_summaries(actor: AbstractBaseUser, employee: Employee | None) -> list[RoleSummary]:
    summaries = []
    for role in _roles_of(actor, employee):
        departments = []
        if role.data_scope == DataScope.DEPARTMENTS:
            departments = [d.name for d in role.departments.all()]
        elif role.data_scope in (DataScope.DEPARTMENT, DataScope.DEPARTMENT_TREE) and employee:
            departments = [employee.department.name]
        summaries.append(
            RoleSummary(
                name=role.name,
                scope=role.get_data_scope_display(),
                scope_kind=role.data_scope,
                departments=departments,
            )
        )
    return summaries


@dataclass
class PermissionGroup:
    label: str
    actions: list[str]


ACTION_ORDER = ("view", "add", "change", "delete")


def _permission_groups(actor: AbstractBaseUser, employee: Employee | None) -> list[PermissionGroup]:
    """Function permissions from the user's roles, grouped by what they apply to (员工: 查看, 新增 …)."""
    permissions: dict[int, Permission] = {}
    for role in _roles_of(actor, employee):
        for permission in role.permissions.all():
            permissions[permission.pk] = permission
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for permission in permissions.values():
        model = permission.content_type.model_class()
        action, _sep, _rest = permission.codename.partition("_")
        label = str(model._meta.verbose_name_plural) if model else permission.content_type.model
        if action in ACTION_ORDER:
            groups[label].append((ACTION_ORDER.index(action), _action_label(action)))
        else:
            groups[label].append((len(ACTION_ORDER), permission.name))
    return [
        PermissionGroup(label=label, actions=[name for _order, name in sorted(actions)])
        for label, actions in sorted(groups.items())
    ]


def _action_label(action: str) -> str:
    return {"view": _("View"), "add": _("Create"), "change": _("Edit"), "delete": _("Delete")}[action]


@dataclass
class ChartData:
    labels: list[str]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


def _employees_by_unit(tree: list[dict]) -> ChartData:
    """Visible active employees per unit, at the first level where they spread over several units.

    A company-wide user sees regions and head-office departments; a branch manager, whose scope is
    one branch, sees that branch split into its teams instead of one bar and a row of zeros.
    """

    def total(node: dict) -> int:
        return node["employee_count"] + sum(total(child) for child in node["children"])

    def units(node: dict) -> list[tuple[str, int]]:
        rows = [(child["department"].name, total(child)) for child in node["children"]]
        if node["employee_count"]:
            # People attached to the node itself (the company's leadership, a branch's management).
            rows.insert(
                0, (_("%(unit)s (direct)") % {"unit": node["department"].name}, node["employee_count"])
            )
        return [(label, count) for label, count in rows if count]

    node = tree[0] if len(tree) == 1 else {"department": None, "employee_count": 0, "children": tree}
    rows = units(node)
    while len(rows) == 1:
        only = next((child for child in node["children"] if total(child)), None)
        if only is None or not only["children"]:
            break
        node, rows = only, units(only)
    return ChartData(labels=[label for label, _count in rows], values=[count for _label, count in rows])
