"""Browser journeys: the portal served on a free local port, driven in headless Chromium.

Debian's chromium and chromium-driver are used (no browser downloads). When they are
missing the tests skip loudly, unless PORTAL_REQUIRE_BROWSER=1 (set by .ci/run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

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
    """Return a factory of headless Chromium sessions of a given window size."""
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

    def make(width: int = 1440, height: int = 900, language: str = "zh-CN"):
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
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        if width < 600:  # Chromium's windows are never narrower than ~500 px: emulate a phone
            options.add_experimental_option(
                "mobileEmulation",
                {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}},
            )
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()
