"""The org page (组织架构, PLT-1/PLT-2/PLT-3): the department tree beside the employees of the chosen node.

Everything is read through ``selectors``, so the employee table and the counts in the tree show only
what the user's data scope allows; the tree itself is structure and is shown whole.
Clicking a node or changing a filter swaps only ``#org-results`` (htmx); without JavaScript the same
links and form load the full page.
"""

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from kestrel.core.errors import NotFound
from kestrel.org import selectors
from kestrel.org.models import Department, Employee
from kestrel.web.forms import TablerFormMixin

PAGE_SIZE = 20
RESULTS_TARGET = "org-results"
# Open on first view: the company and its first level (regions, head-office departments), so the
# branches show; deeper levels open along the path to the selected department.
EXPANDED_DEPTH = 2


class EmployeeFilterForm(TablerFormMixin, forms.Form):
    STATUS_ALL = "all"

    department = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, employee no., phone…")}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*Employee.Status.choices, (STATUS_ALL, _("All"))],
    )
    sub = forms.BooleanField(label=_("Include sub-departments"), required=False)

    @classmethod
    def from_query(cls, query: Any) -> "EmployeeFilterForm":
        data = query.copy()
        # The filter bar always sends "status" (a select); without it the request is a first visit or a
        # plain link to a department: show active staff of the whole subtree. With it, an unchecked
        # box (absent from the query, as browsers do) means "this department only".
        if "status" not in data:
            data["status"] = Employee.Status.ACTIVE
            data["sub"] = "1"
        return cls(data)

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"department": None, "q": "", "status": Employee.Status.ACTIVE, "sub": True}
        return self.cleaned_data


@dataclass
class TreeNode:
    department: Department
    employee_count: int
    total_count: int = 0
    children: list["TreeNode"] = field(default_factory=list)
    selected: bool = False
    expanded: bool = False


@login_required
@permission_required("org.view_employee", raise_exception=True)
def org_index(request: HttpRequest) -> HttpResponse:
    form = EmployeeFilterForm.from_query(request.GET)
    filters = form.values()
    tree = selectors.department_tree(actor=request.user)
    department = _selected_department(request, filters["department"], tree)
    employees = selectors.employee_list(
        actor=request.user,
        q=filters["q"].strip(),
        department_id=department.pk if department else None,
        include_subdepartments=filters["sub"],
        status=None if filters["status"] == EmployeeFilterForm.STATUS_ALL else filters["status"],
    )
    page = _page(request, employees)
    nodes, trail = _tree_nodes(tree, department)
    context = {
        "form": form,
        "department": department,
        "trail": trail,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "page_link": _page_link_prefix(request),
    }
    if request.htmx and not request.htmx.history_restore_request and request.htmx.target == RESULTS_TARGET:
        response = render(request, "org/_employee_results.html", {**context, "oob": True})
    else:
        response = render(request, "org/index.html", {**context, "nodes": nodes})
    # The same URL answers a full page or a fragment; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _selected_department(
    request: HttpRequest, department_id: int | None, tree: list[dict]
) -> Department | None:
    if department_id is None:
        return tree[0]["department"] if tree else None
    try:
        return selectors.department_get(actor=request.user, id=department_id)
    except NotFound as error:
        raise Http404(str(error)) from error


def _tree_nodes(tree: list[dict], selected: Department | None) -> tuple[list[TreeNode], list[Department]]:
    """View models for the tree: subtree totals, the selected node and which branches start open."""
    trail: list[Department] = []

    def build(raw: dict) -> TreeNode:
        department = raw["department"]
        node = TreeNode(department=department, employee_count=raw["employee_count"])
        node.children = [build(child) for child in raw["children"]]
        node.total_count = node.employee_count + sum(child.total_count for child in node.children)
        on_path = selected is not None and selected.path.startswith(department.path)
        node.selected = selected is not None and department.pk == selected.pk
        node.expanded = bool(node.children) and (department.depth < EXPANDED_DEPTH or on_path)
        if on_path:
            trail.append(department)
        return node

    nodes = [build(root) for root in tree]
    trail.sort(key=lambda d: d.depth)
    return nodes, trail


def _page(request: HttpRequest, employees: Any) -> Page:
    paginator = Paginator(employees, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _page_link_prefix(request: HttpRequest) -> str:
    """``?department=4&…&page=`` (or ``?page=``): the current filters, ready for a page number."""
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return f"?{encoded}&page=" if encoded else "?page="
