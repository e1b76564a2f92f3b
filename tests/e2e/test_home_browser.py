"""A person logs in and sees real KPI figures for their branch, in Chinese and in English."""

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def kpi_values(driver):
    WebDriverWait(driver, 60).until(
        lambda d: (
            len([e for e in d.find_elements(By.CLASS_NAME, "kpi-value") if e.text.strip()]) >= 8
        )
    )
    return [e.text for e in driver.find_elements(By.CLASS_NAME, "kpi-value")]


def test_log_in_see_kpis_switch_language_log_out(live_server, make_browser):
    driver = make_browser(1440, 900, "zh-CN")
    log_in(driver, live_server, "leader", "wrong-Password1")
    error = WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "login-error")))
    assert "用户名或密码错误" in error.text
    driver.find_element(By.ID, "username").clear()
    log_in(driver, live_server, "leader")
    values = kpi_values(driver)
    assert any(v.endswith("亿元") for v in values)
    assert any(re.fullmatch(r"\d+\.\d{2}%", v) for v in values)  # NPL ratio, penetration
    assert "刘洋" in driver.find_element(By.CLASS_NAME, "page-title").text
    assert "关键指标" in driver.find_element(By.CLASS_NAME, "widget-kpis").get_attribute(
        "textContent"
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, ".kpi-spark .main-svg")) >= 8

    driver.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(driver, 30).until(
        EC.text_to_be_present_in_element((By.ID, "home-edit"), "Customize")
    )
    values = kpi_values(driver)
    assert any(v.startswith("¥") and v.endswith((" bn", " m")) for v in values)

    driver.find_element(By.ID, "user-menu").click()
    WebDriverWait(driver, 10).until(EC.element_to_be_clickable((By.ID, "logout-link"))).click()
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "login-submit")))


def test_branch_user_sees_smaller_figures_than_the_leader(live_server, make_browser):
    leader = make_browser(1440, 900, "en")
    log_in(leader, live_server, "leader")
    bank = kpi_values(leader)
    cm = make_browser(1440, 900, "en")
    log_in(cm, live_server, "bj_cm")
    branch = kpi_values(cm)
    assert bank[0] != branch[0]  # deposit balance: the whole bank vs one sub-branch


def test_home_renders_on_a_phone(live_server, make_browser):
    driver = make_browser(390, 844, "en")
    log_in(driver, live_server, "bj_cm")
    kpi_values(driver)
    cards = driver.find_elements(By.CLASS_NAME, "kpi-card")
    widths = {c.size["width"] for c in cards}
    assert max(widths) <= 390 and min(widths) > 300  # one card per row
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 392
