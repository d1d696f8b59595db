"""The web shell (PLT-3) and the org page (PLT-1, PLT-2) through Django's test client."""

import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kestrel.org.models import Employee
from kestrel.org.tests.factories import PASSWORD, EmployeeFactory, SuperuserFactory
from kestrel.web.tests.conftest import Company, login

pytestmark = pytest.mark.django_db

LOGIN = reverse("web:login")
HOME = reverse("web:home")
ORG = reverse("org:index")
PROFILE = reverse("web:profile")


def names_in_table(response) -> list[str]:
    return [employee.name for employee in response.context["page"].object_list]


# --- Login, logout, redirects ---------------------------------------------------------------------


def test_plt3_login_page_is_chinese_by_default(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录您的账号" in html
    assert "用户名" in html and "密码" in html
    assert "Sign in" not in html


@pytest.mark.parametrize("url", [HOME, ORG, PROFILE])
def test_pages_redirect_anonymous_users_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url}"


def test_login_with_username_and_password_opens_the_workbench(client: Client, company: Company) -> None:
    response = client.post(LOGIN, {"username": "sh_rep1", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    html = response.content.decode()
    assert "您好，吴雪梅" in html
    assert "上海分公司" in html and "销售一部" in html  # the department trail
    assert "销售代表" in html  # position and role
    assert "仅本人" in html  # the role's data scope, in Chinese


def test_login_follows_next(client: Client, company: Company) -> None:
    response = client.post(
        f"{LOGIN}?next={PROFILE}", {"username": "sh_rep1", "password": PASSWORD, "next": PROFILE}
    )
    assert response.status_code == 302
    assert response["Location"] == PROFILE


def test_wrong_password_is_refused_in_chinese(client: Client, company: Company) -> None:
    response = client.post(LOGIN, {"username": "sh_rep1", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()  # Django's own zh_Hans message
    assert "_auth_user_id" not in client.session


def test_lockout_renders_the_login_template_with_the_message(client: Client, company: Company) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "sh_rep1", "password": "wrong"})
    response = client.post(LOGIN, {"username": "sh_rep1", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多" in html
    assert 'data-testid="lockout"' in html
    assert 'name="password"' not in html  # form=None: no form while locked out
    assert AccessAttempt.objects.filter(username="sh_rep1").exists()


def test_logout_is_a_post_and_ends_the_session(client: Client, company: Company) -> None:
    login(client, company.rep)
    assert client.get(reverse("web:logout")).status_code == 405  # a link cannot log anyone out
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(HOME).status_code == 302


def test_signed_in_user_visiting_login_goes_to_the_workbench(client: Client, company: Company) -> None:
    login(client, company.rep)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == HOME


# --- Language (PLT-3) ----------------------------------------------------------------------------


def test_plt3_language_switch_to_english_and_back(client: Client, company: Company) -> None:
    login(client, company.rep)
    response = client.post(reverse("set_language"), {"language": "en", "next": ORG}, follow=True)
    assert response.redirect_chain[-1] == (ORG, 302)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Organisation" in html and "Include sub-departments" in html
    assert "组织架构" not in html

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": HOME}, follow=True)
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "工作台" in response.content.decode()


def test_plt3_language_switch_on_the_login_page(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN}, follow=True)
    html = response.content.decode()
    assert "Sign in to your account" in html
    assert 'data-testid="language-zh-hans"' in html


def test_plt3_dates_are_shown_as_yyyy_mm_dd(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    html = client.get(ORG).content.decode()
    assert "2024-09-05" in html  # hired_on of the rep
    client.post(reverse("set_language"), {"language": "en", "next": ORG})
    assert "2024-09-05" in client.get(ORG).content.decode()


# --- Frame: navigation ----------------------------------------------------------------------------


def test_sidebar_lists_every_module_and_unbuilt_ones_are_not_links(client: Client, company: Company) -> None:
    login(client, company.rep)
    html = client.get(HOME).content.decode()
    for label in (
        "工作台",
        "客户接触",
        "售后投诉",
        "销售信用",
        "客户预警",
        "客户分析",
        "营销忠诚",
        "组织架构",
    ):
        assert label in html, label
    soon = re.findall(r'<span class="nav-link disabled kestrel-nav-soon"[^>]*data-nav="(\w+)"', html)
    # Built modules are links, shown to those who may open them (客户档案: see customers' test_views).
    assert soon == ["engagement", "service", "sales", "alerts", "analytics", "marketing"]
    assert html.count("即将推出") >= len(soon)
    assert f'href="{ORG}"' in html


def test_sidebar_hides_org_without_permission_and_links_admin_for_staff(
    client: Client, company: Company
) -> None:
    login(client, company.outsider)
    html = client.get(HOME).content.decode()
    assert 'data-nav="org"' not in html
    assert 'data-nav="admin"' not in html

    client.force_login(SuperuserFactory())
    html = client.get(HOME).content.decode()
    assert 'data-nav="org"' in html
    assert f'href="{reverse("admin:index")}"' in html


def test_home_for_a_superuser_without_employee_record(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory(username="root"))
    response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "您好，root" in html
    assert "未关联员工档案" in html
    assert "超级管理员" in html


def test_home_shows_data_scope_summary(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    response = client.get(HOME)
    assert response.context["visible_employee_count"] == 3  # gm, rep, colleague (departed not counted)
    html = response.content.decode()
    assert "本部门及下级" in html
    # The chart drills into the one branch the scope covers instead of showing one bar.
    assert response.context["chart"].labels == ["上海分公司（本级）", "销售一部"]
    assert response.context["chart"].values == [1, 2]


def test_home_skips_the_chart_when_everyone_visible_is_in_one_unit(client: Client, company: Company) -> None:
    login(client, company.rep)
    html = client.get(HOME).content.decode()
    assert 'data-testid="chart-single-unit"' in html
    assert "您数据权限范围内的 1 名员工在销售一部。" in html
    assert "echarts" not in html


# --- Org page: data scope (PLT-2) ----------------------------------------------------------------


def test_plt2_self_scope_sees_only_themselves(client: Client, company: Company) -> None:
    login(client, company.rep)
    response = client.get(ORG)
    assert response.status_code == 200
    assert names_in_table(response) == ["吴雪梅"]
    html = response.content.decode()
    assert "杨小红" not in html and "周杭生" not in html

    # Even when asking for the team, or a keyword that matches a colleague.
    assert names_in_table(client.get(ORG, {"department": company.shanghai_team.pk})) == ["吴雪梅"]
    assert names_in_table(client.get(ORG, {"q": "杨小红"})) == []


def test_plt2_department_tree_scope_sees_the_branch_only(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    assert sorted(names_in_table(client.get(ORG))) == sorted(["任兰英", "吴雪梅", "杨小红"])
    assert names_in_table(client.get(ORG, {"department": company.hangzhou.pk})) == []


def test_plt2_tree_counts_follow_the_data_scope(client: Client, company: Company) -> None:
    login(client, company.rep)
    nodes = client.get(ORG).context["nodes"]
    root = nodes[0]
    assert root.department == company.root
    assert root.total_count == 1  # only the rep is visible, anywhere in the tree
    region = next(node for node in root.children if node.department == company.region)
    hangzhou = next(node for node in region.children if node.department == company.hangzhou)
    assert hangzhou.total_count == 0


def test_org_page_needs_the_view_employee_permission(client: Client, company: Company) -> None:
    login(client, company.outsider)
    response = client.get(ORG)
    assert response.status_code == 403
    html = response.content.decode()
    assert "您没有访问此页面的权限" in html
    assert 'data-testid="error-page"' in html
    assert "kestrel-sidebar" in html  # the 403 page keeps the frame for signed-in users


def test_org_unknown_department_is_404(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    assert client.get(ORG, {"department": 999_999}).status_code == 404


# --- Org page: tree, filters, htmx ---------------------------------------------------------------


def test_org_default_is_the_company_with_sub_departments_and_active_staff(
    client: Client, company: Company
) -> None:
    client.force_login(SuperuserFactory())
    response = client.get(ORG)
    assert response.context["department"] == company.root
    assert set(names_in_table(response)) == {"任兰英", "吴雪梅", "杨小红", "周杭生", "孙无权"}
    form = response.context["form"]
    assert form.cleaned_data["sub"] is True
    assert form.cleaned_data["status"] == Employee.Status.ACTIVE


def test_org_filters_keyword_status_and_sub_departments(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory())
    shanghai = company.shanghai.pk
    # The filter bar always sends status; an unchecked "include sub-departments" box sends nothing.
    assert names_in_table(client.get(ORG, {"department": shanghai, "status": "active"})) == ["任兰英"]
    with_sub = client.get(ORG, {"department": shanghai, "status": "active", "sub": "1"})
    assert sorted(names_in_table(with_sub)) == sorted(["任兰英", "吴雪梅", "杨小红"])
    departed = client.get(ORG, {"department": shanghai, "status": "departed", "sub": "1"})
    assert names_in_table(departed) == ["钱多多"]
    everyone = client.get(ORG, {"department": shanghai, "status": "all", "sub": "1"})
    assert len(names_in_table(everyone)) == 4
    by_number = client.get(ORG, {"q": "E0013", "status": "active", "sub": "1"})
    assert names_in_table(by_number) == ["吴雪梅"]
    by_mobile = client.get(ORG, {"q": "1538328", "status": "active", "sub": "1"})
    assert names_in_table(by_mobile) == ["吴雪梅"]


def test_org_bad_filter_values_fall_back_to_defaults(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory())
    response = client.get(ORG, {"department": "abc", "status": "nonsense", "page": "x"})
    assert response.status_code == 200
    assert response.context["department"] == company.root


def test_org_tree_click_answers_an_htmx_fragment(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory())
    response = client.get(
        ORG,
        {"department": company.shanghai_team.pk, "status": "active", "sub": "1"},
        headers={"HX-Request": "true", "HX-Target": "org-results"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "kestrel-sidebar" not in html
    assert sorted(names_in_table(response)) == sorted(["吴雪梅", "杨小红"])
    # The panel title and the filter bar's department follow out of band.
    assert 'id="org-panel-heading" hx-swap-oob="true"' in html
    assert f'id="org-department" value="{company.shanghai_team.pk}" hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_org_htmx_history_restore_gets_the_full_page(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory())
    response = client.get(
        ORG,
        {"department": company.shanghai_team.pk},
        headers={"HX-Request": "true", "HX-Target": "org-results", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_org_tree_opens_the_path_to_the_selected_department(client: Client, company: Company) -> None:
    client.force_login(SuperuserFactory())
    response = client.get(ORG, {"department": company.shanghai_team.pk})
    assert [d.name for d in response.context["trail"]] == ["客隼集团", "华东大区", "上海分公司", "销售一部"]
    html = response.content.decode()
    assert f'id="org-node-{company.shanghai.pk}"' in html
    assert re.search(rf'class="kestrel-tree collapse show" id="org-node-{company.shanghai.pk}"', html)
    assert re.search(
        rf'kestrel-tree-link active" aria-current="true"\s+data-org-node="{company.shanghai_team.pk}"', html
    )


def test_org_pagination(client: Client, company: Company) -> None:
    for number in range(25):
        EmployeeFactory(name=f"批量{number:02d}", username=None, department=company.hangzhou)
    client.force_login(SuperuserFactory())
    first = client.get(ORG, {"department": company.hangzhou.pk, "status": "active", "sub": "1"})
    assert len(names_in_table(first)) == 20
    assert first.context["page"].paginator.count == 27
    second = client.get(ORG, {"department": company.hangzhou.pk, "status": "active", "sub": "1", "page": 2})
    assert len(names_in_table(second)) == 7
    assert second.context["page_link"] == f"?department={company.hangzhou.pk}&status=active&sub=1&page="
    assert client.get(ORG).context["page_link"] == "?page="


def test_org_query_count_does_not_grow_with_employees(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    client.get(ORG)  # warm the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ORG, {"status": "all", "sub": "1"}).status_code == 200
        return len(captured)

    few = queries()
    for number in range(15):
        EmployeeFactory(name=f"批量{number:02d}", username=None, department=company.shanghai_team)
    assert queries() == few
    assert few <= 15


# --- Profile -------------------------------------------------------------------------------------


def test_profile_shows_record_roles_and_permissions(client: Client, company: Company) -> None:
    login(client, company.rep)
    response = client.get(PROFILE)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("吴雪梅", "sh_rep1", "E0013", "任兰英", "2024-09-05", "销售代表", "仅本人", "员工", "查看"):
        assert text in html, text
    groups = {group.label: group.actions for group in response.context["permission_groups"]}
    assert groups["员工"] == ["查看"]


def test_profile_changes_the_password_and_keeps_the_session(client: Client, company: Company) -> None:
    login(client, company.rep)
    new_password = "Qingdao-harbour-2027"
    response = client.post(
        PROFILE,
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
        follow=True,
    )
    assert response.redirect_chain == [(PROFILE, 302)]
    assert "密码已修改" in response.content.decode()
    assert client.get(HOME).status_code == 200  # still signed in
    company.rep.user.refresh_from_db()
    assert company.rep.user.check_password(new_password)


def test_profile_password_errors_are_shown_in_chinese(client: Client, company: Company) -> None:
    login(client, company.rep)
    response = client.post(PROFILE, {"old_password": "wrong", "new_password1": "123", "new_password2": "456"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-invalid" in html
    assert "旧密码不正确" in html
    company.rep.user.refresh_from_db()
    assert company.rep.user.check_password(PASSWORD)


# --- Content-Security-Policy (no inline script or style without the nonce) ----------------------


class _InlineCodeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.nonces: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
        if tag in ("script", "style"):
            kind = attributes.get("type") or ""
            if tag == "script" and kind == "application/json":
                return  # json_script data blocks are not executed
            if tag == "script" and attributes.get("src"):
                return  # a file from 'self'
            if attributes.get("nonce"):
                self.nonces.add(attributes["nonce"] or "")
                return
            self.problems.append(f"inline <{tag}> without nonce")


@pytest.mark.parametrize("url", [LOGIN, HOME, ORG, PROFILE, "/no-such-page/"])
def test_plt3_pages_have_no_inline_code_the_csp_would_block(
    client: Client, company: Company, url: str
) -> None:
    if url != LOGIN:
        login(client, company.branch_gm)
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    finder = _InlineCodeFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []
    for nonce in finder.nonces:
        assert f"'nonce-{nonce}'" in policy


def test_static_assets_are_local(client: Client, company: Company) -> None:
    login(client, company.branch_gm)
    html = client.get(HOME).content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html), "no CDN: every asset is served by Kestrel"
    for asset in (
        "vendor/tabler/css/tabler.min.css",
        "vendor/tabler/js/tabler.min.js",
        "django_htmx/htmx-2.min.js",
    ):
        assert asset in html


def test_favicon_points_at_the_logo(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("web/kestrel-mark.svg")
