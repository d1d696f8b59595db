"""The sidebar: every module of the SPEC in the order Chinese back-office users expect (PLT-3).

A module that is not built yet has no ``url_name``; it is shown greyed out with a "coming soon" hint
rather than as a link that would fail. A module lights up by naming its URL here.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Module:
    key: str
    label: str | Promise
    icon: str  # a Tabler icon name (https://tabler.io/icons), without the "ti-" prefix
    url_name: str | None = None
    permission: str | None = None  # hide the entry from users who could not open it
    namespaces: tuple[str, ...] = ()  # URL namespaces whose pages belong to this module
    views: tuple[str, ...] = ()  # further view names whose pages belong to this entry
    children: tuple["Module", ...] = ()  # entries shown under this one (a module's workflows)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str | Promise
    icon: str
    url: str | None
    active: bool
    children: tuple["MenuItem", ...] = ()

    @property
    def enabled(self) -> bool:
        return self.url is not None


# Short English labels so they fit beside the "coming soon" badge; the context keeps menu words apart
# from the same English words elsewhere (their Chinese differs: 客户档案 is the menu entry for "Customers").
MODULES: tuple[Module, ...] = (
    Module("home", pgettext_lazy("menu", "Workbench"), "layout-dashboard", url_name="web:home"),
    Module(
        "customers",
        pgettext_lazy("menu", "Customers"),
        "address-book",
        url_name="customers:index",
        permission="customers.view_customer",
        namespaces=("customers",),
        children=(
            Module(
                "customers-handover",
                pgettext_lazy("menu", "Handover"),
                "transfer",
                url_name="customers:handover_list",
                permission="customers.handover_customer",
                views=("customers:handover_new", "customers:handover_detail"),
            ),
            Module(
                "customers-duplicates",
                pgettext_lazy("menu", "Duplicates"),
                "copy",
                url_name="customers:duplicate_list",
                permission="customers.merge_customer",
                views=("customers:duplicate_compare",),
            ),
            Module(
                "customers-self-service",
                pgettext_lazy("menu", "Self-service forms"),
                "forms",
                url_name="customers:self_service_list",
                permission="customers.view_customer",
                views=(
                    "customers:self_service_new",
                    "customers:self_service_review",
                    "customers:self_service_invite",
                ),
            ),
        ),
    ),
    Module("engagement", pgettext_lazy("menu", "Engagement"), "messages"),
    Module("service", pgettext_lazy("menu", "Complaints"), "message-report"),
    Module("sales", pgettext_lazy("menu", "Sales & credit"), "report-money"),
    Module("alerts", pgettext_lazy("menu", "Alerts"), "alert-triangle"),
    Module("analytics", pgettext_lazy("menu", "Analytics"), "chart-bar"),
    Module("marketing", pgettext_lazy("menu", "Loyalty"), "gift"),
    Module(
        "org",
        pgettext_lazy("menu", "Organisation"),
        "sitemap",
        url_name="org:index",
        permission="org.view_employee",
        namespaces=("org",),
    ),
)


def menu_for(request: HttpRequest) -> list[MenuItem]:
    match = getattr(request, "resolver_match", None)
    current_name = match.view_name if match else ""
    current_namespaces = set(match.namespaces) if match else set()
    return _items(MODULES, request, current_name, current_namespaces)


def _items(
    modules: tuple[Module, ...], request: HttpRequest, current_name: str, current_namespaces: set[str]
) -> list[MenuItem]:
    items = []
    for module in modules:
        if module.permission and not request.user.has_perm(module.permission):
            continue
        url = None
        if module.url_name:
            try:
                url = reverse(module.url_name)
            except NoReverseMatch:
                url = None
        active = current_name in {module.url_name, *module.views} or bool(
            current_namespaces & set(module.namespaces)
        )
        children = tuple(_items(module.children, request, current_name, current_namespaces))
        items.append(MenuItem(module.key, module.label, module.icon, url, active, children))
    return items
