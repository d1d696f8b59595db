"""The customer pages in headless Chromium (ARC-10, ARC-13): sign in, filter the list, open a
customer's 360° page, add a contact in the dialog. Screenshots go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from kestrel.customers import services
from kestrel.customers.models import Region
from kestrel.customers.tests.test_views import Shop, shop  # noqa: F401  (the fixture)
from kestrel.org.tests.factories import PASSWORD
from kestrel.web.tests.browser import *  # noqa: F403  (the Playwright fixtures)
from kestrel.web.tests.browser import screenshot

# transaction=True: the live server sees only committed rows.
pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_arc10_arc13_filter_the_list_open_the_360_page_and_add_a_contact(browser_page, shop: Shop) -> None:  # noqa: F811
    services.contact_create(actor=None, customer=shop.dept_archive, name="陈静", mobile="13912345678")
    services.major_event_add(
        actor=None, customer=shop.dept_archive, occurred_on="2026-03-01", title="新厂区投产"
    )
    page = browser_page
    sign_in(page, "sh_rep1")

    page.click("[data-nav=customers]")
    page.wait_for_url("**/customers/")
    rows = page.locator("[data-testid=customer-table] tbody tr")
    expect(rows).to_have_count(3)
    screenshot(page, "customers-list-zh")

    # A province narrows the table without a page load and fills the city select (htmx, URL pushed).
    zhejiang = Region.objects.get(level=Region.Level.PROVINCE, name="浙江省")
    page.select_option("#customer-province", value=str(zhejiang.pk))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("杭州西溪茶叶贸易有限公司")
    expect(page.locator("#customer-city option", has_text="杭州市")).to_have_count(1)
    assert f"province={zhejiang.pk}" in page.url
    # The keyword box: pinyin initials.
    page.click("[data-testid=filter-reset]")
    page.fill("#customer-q", "shsj")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("上海申江精密机械有限公司")
    screenshot(page, "customers-list-filtered-zh")

    page.click("[data-testid=customer-link]")
    page.wait_for_url(f"**/customers/{shop.dept_archive.pk}/")
    expect(page.locator("[data-testid=customer-name]")).to_contain_text("上海申江精密机械有限公司")
    expect(page.locator("[data-testid=group-basic]")).to_be_visible()
    screenshot(page, "customer-360-zh")

    page.click("[data-testid=tab-contacts]")
    expect(page.locator("[data-testid=contact-mobile]").first).to_have_text("139****5678")  # ARC-14
    page.click("[data-testid=contact-add]")
    page.locator("[data-testid=contact-form]").wait_for()
    page.fill("#id_name", "李明")
    page.fill("#id_mobile", "12345")
    page.click("[data-testid=contact-save]")
    expect(page.locator("[data-testid=error-mobile]")).to_be_visible()
    screenshot(page, "customer-contact-dialog-zh")
    page.fill("#id_mobile", "13812345678")
    page.click("[data-testid=contact-save]")
    expect(page.locator("#customer-modal")).to_be_hidden()
    expect(page.locator("[data-testid=contacts] tbody tr")).to_have_count(2)
    expect(page.locator("#contacts-count")).to_have_text("2")

    assert page.problems.messages == [], "CSP violations, script errors or failed requests"


def test_arc6_arc11_approve_in_the_inbox_and_import_with_the_wizard(
    browser_page,
    shop: Shop,  # noqa: F811
    settings,
    tmp_path,
) -> None:
    from kestrel.customers import workflows
    from kestrel.org.tests.factories import EmployeeFactory, RoleFactory

    settings.KESTREL_IMPORT_DIR = tmp_path
    workflows.access_request_file(actor=shop.other_rep.user, reason="下周拜访", code=shop.dept_archive.code)
    page = browser_page
    sign_in(page, "sh_gm")
    page.goto("/customers/access/")
    rows = page.locator("[data-testid=access-table] tbody tr")
    expect(rows).to_have_count(1)
    page.click("[data-testid=access-decide]")
    page.locator("[data-testid=access-form]").wait_for()
    page.fill("#id_days", "3")
    page.click("[data-testid=access-approve]")
    expect(page.locator("#customer-modal")).to_be_hidden()
    expect(page.locator("[data-testid=access-decide]")).to_have_count(0)
    screenshot(page, "customer-access-inbox-zh")

    role = RoleFactory(name="信息部", permissions=["customers.view_customer", "customers.import_customer"])
    EmployeeFactory(name="陶丹", username="it", department=shop.shanghai, roles=[role])
    page.context.clear_cookies()
    sign_in(page, "it")
    page.goto("/customers/import/")
    csv = tmp_path / "客户.csv"
    csv.write_text("客户名称,电话\n宁波甬江建材有限公司,0574-87654321\n,12345\n", encoding="utf-8-sig")
    page.set_input_files("#id_file", str(csv))
    page.check("#id_skip_invalid")
    page.click("[data-testid=import-check]")
    expect(page.locator("[data-testid=import-job]")).to_have_attribute("data-status", "checked")
    expect(page.locator("[data-testid=import-bad-rows]")).to_have_text("1")
    page.click("[data-testid=import-commit]")
    expect(page.locator("[data-testid=import-job]")).to_have_attribute("data-status", "done")
    screenshot(page, "customer-import-done-zh")
    assert page.problems.messages == [], "CSP violations, script errors or failed requests"
