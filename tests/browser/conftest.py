"""Browser tests: headless Debian Chromium driven by Selenium against pytest-django's live
server, with a real Redis and a real Celery worker (the e2e cluster fixtures)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import cluster, wait_for  # noqa: F401  (fixtures used by the tests)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = REPO / "test-output" / "screenshots"


def _missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    if missing:
        return (
            f"browser tests need {' and '.join(missing)}: install them with "
            "`apt-get update && apt-get install -y chromium chromium-driver`"
        )
    return None


@pytest.fixture(scope="module")
def download_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="rafiki-downloads-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(download_dir: Path) -> Iterator[object]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rafiki-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--window-size=1400,1000", "--disable-dev-shm-usage",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            # Several downloads from one page (the examples) without a permission prompt.
            "profile.default_content_setting_values.automatic_downloads": 1,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        import base64

        path = SCREENSHOTS / f"{name}.png"
        # The whole page, not just the window (Chromium's DevTools capture beyond the viewport).
        # The capture lays the page out without a scroll bar: at least the window's width.
        width, height = browser.execute_script(
            "return [Math.max(document.documentElement.scrollWidth, window.innerWidth),"
            " document.documentElement.scrollHeight]"
        )
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 6000), "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        # Long names, values, URLs and JSON must wrap or scroll inside their box: a page
        # wider than the window hides the nav bar's end and half of every card.
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window ({path})"
        return path

    return take
