"""PLT-7 in headless Chromium: the bell shows the unread count, the inbox opens, marking read works."""

import re

import pytest
from playwright.sync_api import expect

from kestrel.notify.services import notify
from kestrel.org.tests.factories import PASSWORD, EmployeeFactory
from kestrel.web.tests import browser
from kestrel.web.tests.browser import screenshot

# The Playwright fixtures (web's conftest provides them to web's tests only).
chromium_browser = browser.chromium_browser
browser_page = browser.browser_page

# transaction=True: the live server sees only committed rows.
pytestmark = [pytest.mark.ui, pytest.mark.django_db(transaction=True)]


def test_plt7_bell_inbox_and_mark_all_read_in_the_browser(browser_page) -> None:
    page = browser_page
    rep = EmployeeFactory(name="吴雪梅", username="sh_rep1", mobile="15383280227")
    notify(
        event_key="alert:1024:overdue",
        kind="alert",
        recipients=[rep],
        title="客户预警：上海华东精细化工 已 45 天未回访",
        body="A 类重点客户，制度要求每 30 天至少回访一次。",
        link="/org/",
    )
    notify(
        event_key="complaint:88:escalate",
        kind="complaint",
        recipients=[rep],
        title="投诉超时升级：TS-2026-0088 产品包装破损",
        body="超过 3 个工作日未处理，已升级至分支机构总经理。",
    )
    notify(event_key="task:visit:552", kind="task", recipients=[rep], title="回访任务：苏州新锐电子 季度回访")

    page.goto("/accounts/login/")
    page.fill("#id_username", "sh_rep1")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("[data-testid=bell-count]")).to_have_text("3")

    page.click("[data-testid=bell]")
    page.wait_for_url("**/notifications/")
    items = page.locator("[data-notification]")
    expect(items).to_have_count(3)
    expect(page.locator(".kestrel-notification.is-unread")).to_have_count(3)
    screenshot(page, "inbox-zh")

    # One message: swapped in place; the tab count and the bell follow out of band.
    first = items.first
    first.locator("[data-testid=mark-read]").click()
    expect(page.locator(".kestrel-notification.is-unread")).to_have_count(2)
    expect(page.locator("[data-testid=bell-count]")).to_have_text("2")
    expect(page.locator("[data-testid=unread-count]")).to_have_text("2")

    # The unread tab, then everything at once.
    page.click("[data-testid=tab-unread]")
    expect(items).to_have_count(2)
    assert "unread=1" in page.url  # pushed to history
    page.click("[data-testid=mark-all-read]")
    expect(page.locator("[data-testid=inbox-empty]")).to_be_visible()
    expect(page.locator("[data-testid=bell-count]")).to_have_count(0)
    expect(page.locator("[data-testid=mark-all-read]")).to_have_count(0)
    path = screenshot(page, "inbox-all-read-zh")
    assert path.exists()

    page.click("[data-testid=tab-all]")
    expect(items).to_have_count(3)
    expect(page.locator(".kestrel-notification.is-unread")).to_have_count(0)
    assert page.problems.messages == [], "CSP violations, script errors or failed requests"
