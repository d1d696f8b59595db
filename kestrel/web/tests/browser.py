"""Playwright fixtures for UI tests (``@pytest.mark.ui``): Debian's Chromium against ``live_server``.

Other apps' UI tests reuse them with ``from kestrel.web.tests.browser import *`` in their conftest.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path(os.environ.get("KESTREL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
__all__ = ["browser_page", "chromium_browser"]

ROOT = Path(__file__).resolve().parents[3]
VENDOR_STAMP = ROOT / "kestrel" / "web" / "static" / "vendor" / ".stamp"
ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 1440, "height": 900}


@dataclass
class PageProblems:
    """What the browser complained about: CSP violations, script errors, failed or 4xx/5xx requests."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on(
            "response",
            lambda response: (
                self.messages.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 400
                else None
            ),
        )

    def _request_failed(self, request) -> None:
        # A load the page itself abandoned by navigating on (an image still loading when a link is
        # followed) is not a failure of the server.
        if (request.failure or "") == "net::ERR_ABORTED":
            return
        self.messages.append(f"request failed: {request.url} ({request.failure})")

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.messages.append(f"console {message.type}: {message.text}")


@pytest.fixture(scope="module")
def chromium_browser(django_db_setup) -> Iterator:
    """One Chromium per test module.

    The sync Playwright API keeps an asyncio loop running in this thread, and Django refuses ORM calls
    from a thread with a running loop (SynchronousOnlyOperation). Here that is safe: the loop only
    talks to the browser, and the live server answers from its own thread. So the guard is lifted while
    the browser lives, for this module only; the test database exists before the loop starts.
    Tests using it need ``django_db(transaction=True)``: the live server sees only committed data.
    (Not serialized_rollback: it collides with content types re-created by earlier flushes.)
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} does not exist; `apt-get install -y chromium` to run the UI tests")
    if not VENDOR_STAMP.exists():
        pytest.fail(
            "kestrel/web/static/vendor/ is missing: run `python scripts/fetch_assets.py` "
            "(make test does) before the UI tests",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Django keeps connections in an asgiref Local, which gives code running under the loop its own
    # connection objects (same test database). Close them when the loop ends, or PostgreSQL cannot
    # drop the test database at the end of the session.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
                connections.close_all()


@pytest.fixture
def browser_page(chromium_browser, live_server) -> Iterator:
    """A fresh browser context at 1440×900, Chinese locale, with ``page.problems`` recording trouble."""
    context = chromium_browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    page.problems = problems
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
