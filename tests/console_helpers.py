"""A real browser for the console tests: Debian's chromium driven by Playwright.

Never a downloaded browser: the tests use ``/usr/bin/chromium`` (``scripts/test.sh``
installs it with apt-get when missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, StorageState, expect, sync_playwright

from tests.servers import ADMIN_TOKEN, ApicronProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def console_page(
    browser: Browser, state: StorageState | None = None, width: int = 1280, height: int = 800
) -> Iterator[Page]:
    """A page in a context of its own; ``state`` carries a logged-in session's cookie."""
    context = browser.new_context(viewport={"width": width, "height": height}, storage_state=state)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(
    page: Page, server: ApicronProcess, username: str = "", password: str = ADMIN_TOKEN
) -> None:
    """Log in through the form: as root (the admin token) unless a user is given."""
    page.goto(f"{server.url}/")
    expect(page).to_have_title("Log in · apicron console")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Instances", exact=True)).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def nav(page: Page, name: str) -> None:
    menu = page.get_by_role("navigation", name="Console")
    menu.get_by_role("link", name=name, exact=True).click()
