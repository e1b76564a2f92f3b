"""A person opens the portal and sees real KPI figures, in Chinese and in English."""

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser


def _kpi_values(driver):
    WebDriverWait(driver, 60).until(
        lambda d: (
            len([e for e in d.find_elements(By.CLASS_NAME, "kpi-value") if e.text.strip()]) >= 8
        )
    )
    return [e.text for e in driver.find_elements(By.CLASS_NAME, "kpi-value")]


def test_home_shows_kpi_cards_and_switches_language(live_server, make_browser):
    driver = make_browser(1440, 900, "zh-CN")
    driver.get(live_server + "/")
    values = _kpi_values(driver)
    assert any(v.endswith("亿元") for v in values)
    assert any(re.fullmatch(r"\d+\.\d{2}%", v) for v in values)  # NPL ratio, penetration
    assert "数据速览" in driver.find_element(By.CLASS_NAME, "page-title").text
    assert len(driver.find_elements(By.CSS_SELECTOR, ".kpi-spark .main-svg")) >= 8

    driver.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(driver, 30).until(
        EC.text_to_be_present_in_element((By.CLASS_NAME, "page-title"), "Data overview")
    )
    values = _kpi_values(driver)
    assert any(v.startswith("¥") and v.endswith(" bn") for v in values)


def test_home_renders_on_a_phone(live_server, make_browser):
    driver = make_browser(390, 844, "en")
    driver.get(live_server + "/lang/en?next=/")
    _kpi_values(driver)
    cards = driver.find_elements(By.CLASS_NAME, "kpi-card")
    widths = {c.size["width"] for c in cards}
    assert max(widths) <= 390 and min(widths) > 300  # one card per row
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 392
