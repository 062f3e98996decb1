"""A real browser for the console tests: Debian's chromium driven by Playwright.

Never a downloaded browser: the tests use ``/usr/bin/chromium`` (``scripts/test.sh``
installs it with apt-get when missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
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


def module_fixtures(
    data_dir: str, *, server: str = "server", state: str = "state", timeout: float = 90
) -> tuple[Any, Any, Any]:
    """The module-scoped fixtures a console test module needs, made once here: a server of
    the module's own in ``tmp/<data_dir>`` (started within ``timeout`` seconds), Debian's
    chromium (``browser``), and a signed-in root session's storage state. The fixtures
    are named ``server`` and ``state`` unless the module calls them otherwise.

    Assign the three at module level, which is where pytest finds fixtures::

        server, browser, state = module_fixtures("operate")
    """

    @pytest.fixture(scope="module", name=server)
    def server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
        process = ApicronProcess(tmp_path_factory.mktemp(data_dir)).start(timeout=timeout)
        yield process
        process.stop()

    @pytest.fixture(scope="module", name="browser")
    def browser_fixture() -> Iterator[Browser]:
        with chromium() as b:
            yield b

    @pytest.fixture(scope="module", name=state)
    def state_fixture(browser: Browser, request: pytest.FixtureRequest) -> StorageState:
        with console_page(browser) as p:
            log_in(p, request.getfixturevalue(server))
            return p.context.storage_state()

    return server_fixture, browser_fixture, state_fixture
