"""Browser tests: Debian's Chromium through Playwright (sync API) against the real app in a subprocess.

Every test in this folder is marked `browser`. The package starts one app (a fresh SQLite file,
`yingzhi db upgrade`, the seed of `harness.seed_database`, uvicorn on a free port) and one
headless Chromium; each test gets its own phone-sized browser context.

Needs: `apt-get install chromium fonts-noto-cjk`, the dev extra (playwright; its driver only,
never `playwright install`), and the built SPA in frontend/dist (built here once when missing,
outside CI).
"""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FRONTEND_DIST,
    RunningApp,
    ensure_frontend_built,
    start_app,
)
from tests.browser.ui import UI_TIMEOUT_MS, shot

HERE = Path(__file__).resolve().parent
FAILED_KEY = pytest.StashKey[bool]()
expect.set_options(timeout=UI_TIMEOUT_MS)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def running_app() -> Iterator[RunningApp]:
    # YINGZHI_BROWSER_FRONTEND_DIST: test a build kept elsewhere instead of frontend/dist.
    other_dist = os.environ.get("YINGZHI_BROWSER_FRONTEND_DIST")
    problem = None if other_dist else ensure_frontend_built()
    if problem:
        pytest.fail(f"browser tests need the built SPA: {problem}", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium and fonts-noto-cjk "
            "(apt-get install -y chromium fonts-noto-cjk)",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(prefix="yingzhi-browser-") as folder:
        # A private copy: a rebuild of frontend/dist during the run cannot pull chunks from under the page.
        served = Path(folder) / "dist"
        shutil.copytree(Path(other_dist) if other_dist else FRONTEND_DIST, served)
        app = start_app(Path(folder), frontend_dist=served)
        try:
            yield app
        finally:
            app.stop()


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright, running_app: RunningApp) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    phone = browser.new_context(**PHONE)  # type: ignore[arg-type]
    phone.set_default_timeout(UI_TIMEOUT_MS)
    yield phone
    # A failed test leaves a picture of every page it had open, for a person to look at.
    if FAILED_KEY in request.node.stash:
        for n, tab in enumerate(phone.pages):
            with contextlib.suppress(PlaywrightError):
                shot(tab, request.node.name, f"failure-{n + 1}")
    phone.close()


@pytest.fixture
def page(context: BrowserContext, running_app: RunningApp, request: pytest.FixtureRequest) -> Iterator[Page]:
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    if errors:
        print(f"JavaScript errors during {request.node.name}:", *errors, sep="\n  ")


@pytest.fixture
def base_url(running_app: RunningApp) -> str:
    return running_app.base_url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if call.when == "call" and getattr(report, "failed", False):
        item.stash[FAILED_KEY] = True
        app = getattr(item, "funcargs", {}).get("running_app")
        if isinstance(app, RunningApp):
            report.sections.append(("app server log (tail)", app.log_tail()))  # type: ignore[attr-defined]
    return report
