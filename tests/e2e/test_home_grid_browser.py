"""A user drags a widget on the home page, reloads, logs out and in, and finds it where left."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def _view_position(driver, widget: str) -> tuple[int, int]:
    """Return the widget's (column, row) in the view grid (1-based, from its CSS variables)."""
    item = WebDriverWait(driver, 30).until(
        EC.presence_of_element_located(
            (By.XPATH, f"//div[contains(@class,'widget-grid-item')][.//*[@data-widget='{widget}']]")
        )
    )
    style = item.get_attribute("style")
    values = dict(
        part.strip().split(":", 1) for part in style.split(";") if part.strip().startswith("--g")
    )
    return int(values["--gx"]), int(values["--gy"])


def test_drag_a_widget_reload_and_log_in_again(live_server, make_browser):
    driver = make_browser(1440, 1000, "en")
    log_in(driver, live_server, "analyst")
    before = _view_position(driver, "favorites")
    assert before[0] > 1  # the analyst's default: quick entry, recent, favorites side by side

    driver.find_element(By.ID, "home-edit").click()
    handle = WebDriverWait(driver, 30).until(
        EC.presence_of_element_located(
            (By.XPATH, "//div[contains(@class,'react-grid-item')][.//*[@data-widget='favorites']]"
                       "//*[contains(@class,'react-grid-dragHandle')]")
        )
    )  # fmt: skip
    grid_width = driver.find_element(By.CLASS_NAME, "widget-grid-edit").size["width"]
    actions = ActionChains(driver)
    actions.click_and_hold(handle).pause(0.3)
    for _step in range(8):  # react-grid-layout follows the pointer move by move
        actions.move_by_offset(-grid_width * 2 // 3 // 8, 0).pause(0.05)
    actions.release().perform()
    WebDriverWait(driver, 30).until(
        EC.text_to_be_present_in_element((By.ID, "home-status"), "Layout saved")
    )
    driver.find_element(By.ID, "home-edit").click()  # done
    moved = _view_position(driver, "favorites")
    assert moved[0] < before[0]

    driver.refresh()
    assert _view_position(driver, "favorites") == moved

    driver.find_element(By.ID, "user-menu").click()
    WebDriverWait(driver, 10).until(EC.element_to_be_clickable((By.ID, "logout-link"))).click()
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "login-submit")))
    log_in(driver, live_server, "analyst")
    assert _view_position(driver, "favorites") == moved
