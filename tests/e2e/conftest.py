"""Browser journeys: the portal served on a free local port, driven in headless Chromium.

Debian's chromium and chromium-driver are used (no browser downloads). When they are
missing the tests skip loudly, unless PORTAL_REQUIRE_BROWSER=1 (set by .ci/run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.conftest import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def live_server(app):
    """Serve the app in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


@pytest.fixture
def make_browser():
    """Return a factory of headless Chromium sessions of a given window size.

    With `downloads`, the browser saves downloaded files into that folder without asking.
    """
    if not _browser_available():
        message = f"headless Chromium not found ({CHROMIUM}, {CHROMEDRIVER})"
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} and PORTAL_REQUIRE_BROWSER=1")
        pytest.skip(
            f"!!! {message}: skipping browser tests (apt-get install chromium chromium-driver) !!!"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make(
        width: int = 1440, height: int = 900, language: str = "zh-CN", downloads: Path | None = None
    ):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--window-size={width},{height}",
            f"--lang={language}",
            f"--user-data-dir={tempfile.mkdtemp(prefix='portal-chrome-')}",
        ):
            options.add_argument(arg)
        prefs = {"intl.accept_languages": language}
        if downloads is not None:
            prefs["download.default_directory"] = str(downloads)
            prefs["download.prompt_for_download"] = False
        options.add_experimental_option("prefs", prefs)
        if width < 600:  # Chromium's windows are never narrower than ~500 px: emulate a phone
            options.add_experimental_option(
                "mobileEmulation",
                {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}},
            )
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        if downloads is not None:
            driver.execute_cdp_cmd(
                "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
            )
        return driver

    yield make
    for driver in drivers:
        driver.quit()


# -- what a person does in the browser ----------------------------------------------------------
def log_in(
    driver, base: str, username: str, password: str = DEMO_PASSWORD, *, wait: bool = False
) -> None:
    """Open the portal at `base` and submit the login form.

    With `wait`, also wait until the navigation bar's user menu shows the login succeeded.
    """
    driver.get(base + "/")
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "username")))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    if wait:
        WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "user-menu")))


def click_by_script(driver, element_id: str) -> None:
    """Wait for the element, bring it to the middle of the screen and click it from JavaScript."""
    element = WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, element_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.2)
    driver.execute_script("arguments[0].click();", element)
