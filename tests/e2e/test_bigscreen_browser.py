"""The big screen in headless Chromium: it rotates by itself, survives a lost connection, and
shows the same set as a vertical list on a phone. The home carousel turns on click."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.db import get_db
from portal.models import Resource
from portal.services.slides import seed_screen_demo
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def screens(app):
    """The demo slide sets, the executive one turning every 3 seconds."""
    with app.app_context(), get_db().session() as s, s.begin():
        seed_screen_demo(s)
        executive = s.query(Resource).filter_by(type="screen", key="executive").one()
        executive.spec = {**executive.spec, "interval_s": 3}
    return app


def _active_name(driver) -> str:
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll('.bigscreen-slide.active .bs-name'))"
        ".map(e => e.textContent);"
    )
    return names[0] if names else ""


def _values(driver) -> list[str]:
    """Every slide's headline figure, shown or not."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.bs-value')).map(e => e.textContent);"
    )


def _click(driver, element) -> None:
    """Click like a person would, after bringing the element to the middle of the screen."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.3)
    element.click()


def _loaded(driver) -> bool:
    return len(driver.find_elements(By.CSS_SELECTOR, ".bigscreen-slide .bs-value")) >= 7


def test_the_big_screen_rotates_and_marks_stale_data(screens, live_server, make_browser):
    driver = make_browser(1920, 1080, "zh-CN")
    log_in(driver, live_server, "leader")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CLASS_NAME, "home-page") or True)
    driver.get(live_server + "/bigscreen/executive")
    WebDriverWait(driver, 90).until(_loaded)
    assert not driver.find_element(By.CLASS_NAME, "portal-navbar").is_displayed()
    assert driver.find_element(By.CLASS_NAME, "bigscreen-title").text == "经营驾驶舱"
    clock = driver.find_element(By.CLASS_NAME, "bigscreen-clock").text
    assert len(clock) == 8 and clock.count(":") == 2
    WebDriverWait(driver, 10).until(
        lambda d: "数据更新于" in d.find_element(By.ID, "bigscreen-status").text
    )

    # Exactly one slide shows, and a different one within the set's interval (3 s).
    def visible(d):
        return d.execute_script(
            "return Array.from(document.querySelectorAll('.bigscreen-slide'))"
            ".filter(e => getComputedStyle(e).visibility === 'visible').length;"
        )

    WebDriverWait(driver, 5, poll_frequency=0.1).until(lambda d: visible(d) == 1)
    assert len(driver.find_elements(By.CSS_SELECTOR, ".bigscreen-slide.active")) == 1
    dots = driver.find_elements(By.CLASS_NAME, "bigscreen-dot")
    active_dot = [i for i, d in enumerate(dots) if "active" in d.get_attribute("class")]
    assert len(active_dot) == 1
    first = _active_name(driver)
    WebDriverWait(driver, 10).until(lambda d: _active_name(d) not in ("", first))
    WebDriverWait(driver, 3).until(
        lambda d: (
            "active"
            not in d.find_elements(By.CLASS_NAME, "bigscreen-dot")[active_dot[0]].get_attribute(
                "class"
            )
        )
    )  # the dots follow the slides
    driver.save_screenshot("/tmp/bigscreen-1920.png")

    # The connection drops: the figures stay, the status says since when they are stale.
    values = _values(driver)
    assert all(values)
    driver.set_network_conditions(offline=True, latency=0, throughput=0)
    driver.execute_script("window.portalBigscreen = {online: false};")
    WebDriverWait(driver, 10).until(
        lambda d: "连接已断开" in d.find_element(By.ID, "bigscreen-status").text
    )
    assert "stale" in driver.find_element(By.ID, "bigscreen-status").get_attribute("class")
    assert _values(driver) == values
    second = _active_name(driver)
    WebDriverWait(driver, 10).until(lambda d: _active_name(d) not in ("", second))  # still turns


def test_the_big_screen_is_a_vertical_list_on_a_phone(screens, live_server, make_browser):
    driver = make_browser(390, 844, "en")
    log_in(driver, live_server, "leader")
    time.sleep(1)
    driver.get(live_server + "/bigscreen/executive")
    WebDriverWait(driver, 90).until(_loaded)
    boxes = driver.execute_script(
        "return Array.from(document.querySelectorAll('.bigscreen-slide')).map(e => {"
        "const r = e.getBoundingClientRect(); const c = getComputedStyle(e);"
        "return [r.top, r.width, c.visibility];});"
    )
    assert len(boxes) == 7
    tops = [b[0] for b in boxes]
    assert tops == sorted(tops) and len(set(tops)) == 7  # stacked, one under the other
    assert all(b[2] == "visible" and b[1] <= 390 for b in boxes)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 392
    details = driver.find_elements(By.CSS_SELECTOR, ".bs-details li")
    assert details and details[0].is_displayed()  # details instead of macro charts
    assert driver.find_elements(By.CSS_SELECTOR, ".bs-detail-link")[0].is_displayed()
    assert not driver.find_element(By.CLASS_NAME, "portal-navbar").is_displayed()
    driver.save_screenshot("/tmp/bigscreen-phone.png")


def test_the_home_carousel_turns_on_click_and_opens_a_detail(screens, live_server, make_browser):
    driver = make_browser(1440, 900, "en")
    log_in(driver, live_server, "leader")
    WebDriverWait(driver, 90).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".carousel-slide .slide-value")) >= 3
    )

    def active_index(d):
        return d.execute_script(
            "return Array.from(document.querySelectorAll('.carousel-slide'))"
            ".findIndex(e => e.classList.contains('active'));"
        )

    # Hold the carousel under the pointer first, so its own timer cannot turn it meanwhile.
    carousel = driver.find_element(By.CLASS_NAME, "portal-carousel")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", carousel)
    ActionChains(driver).move_to_element(carousel).perform()
    count = len(driver.find_elements(By.CSS_SELECTOR, ".carousel-slide"))
    before = active_index(driver)
    _click(driver, driver.find_element(By.CSS_SELECTOR, ".carousel-btn[aria-label='Next']"))
    WebDriverWait(driver, 5).until(lambda d: active_index(d) == (before + 1) % count)
    _click(driver, driver.find_elements(By.CLASS_NAME, "carousel-dot")[0])
    WebDriverWait(driver, 5).until(lambda d: active_index(d) == 0)
    # The pointer over the carousel holds the slide (its set turns every 3 s); away, it turns.
    ActionChains(driver).move_to_element(carousel).perform()
    held = active_index(driver)
    time.sleep(7)
    assert active_index(driver) == held
    ActionChains(driver).move_to_element(driver.find_element(By.CLASS_NAME, "brand")).perform()
    WebDriverWait(driver, 10).until(lambda d: active_index(d) != held)
    _click(driver, driver.find_elements(By.CLASS_NAME, "carousel-dot")[0])
    WebDriverWait(driver, 5).until(lambda d: active_index(d) == 0)

    link = (By.CSS_SELECTOR, ".carousel-slide.active .slide-value-link")
    _click(driver, WebDriverWait(driver, 10).until(EC.element_to_be_clickable(link)))
    WebDriverWait(driver, 30).until(lambda d: "/metrics/deposit_balance" in d.current_url)
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#metric-detail-grid .ag-row")
    )
    assert "Deposit balance" in driver.find_element(By.CLASS_NAME, "page-title").text
