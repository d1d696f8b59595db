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
