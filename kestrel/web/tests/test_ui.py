"""The UI in headless Chromium (issue 2 acceptance): log in, open the org tree, click a department."""

import re

import pytest
from playwright.sync_api import expect

from kestrel.org.tests.factories import PASSWORD
from kestrel.web.tests.browser import screenshot
from kestrel.web.tests.conftest import Company

# transaction=True: the live server sees only committed rows (the company fixture's).
pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_plt3_login_org_tree_click_shows_its_employees(browser_page, company: Company) -> None:
    page = browser_page
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert page.locator("h2").first.inner_text() == "登录您的账号"
    screenshot(page, "login-zh")

    # The password eye is an Alpine (CSP build) component: it must run under our CSP.
    page.fill("#id_password", "secret")
    page.click("[aria-label='显示或隐藏密码']")
    assert page.get_attribute("#id_password", "type") == "text"

    sign_in(page, "sh_gm")
    assert "您好，任兰英" in page.inner_text("[data-testid=welcome-card]")
    # No wait_for_function here: it evaluates a string, which our CSP (rightly) refuses.
    page.locator("#employees-by-unit canvas").wait_for()  # ECharts drew the chart
    screenshot(page, "home-zh")

    page.click("[data-nav=org]")
    page.wait_for_url("**/org/")
    table = page.locator("[data-testid=employee-table]")
    assert table.locator("tbody tr").count() == 3  # the branch, within the GM's data scope

    # Branches start collapsed below the first level: open Shanghai, then pick its sales team.
    team = page.locator(f"[data-org-node='{company.shanghai_team.pk}']")
    assert not team.is_visible()
    page.click(f"[data-bs-target='#org-node-{company.shanghai.pk}']")
    team.wait_for(state="visible")
    with page.expect_response(lambda response: f"department={company.shanghai_team.pk}" in response.url):
        team.click()
    expect(page.locator("[data-testid=panel-title]")).to_contain_text("销售一部")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("td:nth-child(1) .fw-medium").all_inner_texts()) == ["吴雪梅", "杨小红"]
    assert "任兰英" not in table.inner_text()
    assert "active" in (team.get_attribute("class") or "")
    assert f"department={company.shanghai_team.pk}" in page.url  # pushed to history: shareable, back works
    assert page.locator("#org-department").input_value() == str(company.shanghai_team.pk)

    # Filter bar: a keyword narrows the table without a page load.
    page.fill("#org-q", "杨")
    expect(rows).to_have_count(1)
    assert "杨小红" in table.inner_text()
    path = screenshot(page, "org-tree-zh")
    assert path.exists()

    assert page.problems.messages == [], "CSP violations, script errors or failed requests"


def test_plt3_language_switch_and_logout_in_the_browser(browser_page, company: Company) -> None:
    page = browser_page
    sign_in(page, "sh_rep1")
    page.click("[data-testid=language-menu]")
    page.click("[data-testid=language-en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Hello, 吴雪梅" in page.inner_text("[data-testid=welcome-card]")
    assert "Self only" in page.inner_text("[data-testid=scope-card]")

    page.click("[data-nav=org]")
    page.wait_for_url("**/org/")
    assert page.locator("[data-testid=employee-table] tbody tr").count() == 1  # self scope: only themselves
    screenshot(page, "org-en")

    page.click("[data-testid=user-menu]")
    page.click("[data-testid=logout]")
    page.wait_for_url("**/accounts/login/")
    assert page.locator("h2").first.inner_text() == "Sign in to your account"
    assert page.problems.messages == [], "CSP violations, script errors or failed requests"
