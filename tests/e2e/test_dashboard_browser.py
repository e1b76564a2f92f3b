"""A person builds a two-chart dashboard with a branch filter, saves it, and reopens it.

Also checks in a real browser that dragging a chart on the editor's grid changes its stored
position, and that a dashboard reads well on a phone.
"""

import contextlib
import json
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from tests.e2e.conftest import click_by_script, log_in

pytestmark = pytest.mark.browser


def wait(driver, seconds=40):
    return WebDriverWait(driver, seconds)


def choose(driver, dropdown_id: str, text: str) -> None:
    """Open a Dash dropdown, search for `text` and pick the option showing exactly it."""
    box = wait(driver, 20).until(EC.element_to_be_clickable((By.ID, dropdown_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    search = wait(driver, 10).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "input.dash-dropdown-search"))
    )
    search.send_keys(text)
    option = wait(driver, 10).until(
        lambda d: next(
            (
                o
                for o in d.find_elements(By.CSS_SELECTOR, "[role=option]")
                if o.text.strip() == text and o.is_displayed()
            ),
            None,
        )
    )
    option.click()
    with contextlib.suppress(StaleElementReferenceException):  # it may have closed already
        search.send_keys(Keys.ESCAPE)
    time.sleep(0.3)


def filled_charts(driver) -> list:
    """Return the chart bodies that show a figure, a KPI value or a table."""
    bodies = driver.find_elements(By.CSS_SELECTOR, ".dash-chart-body")
    return [
        b for b in bodies if b.find_elements(By.CSS_SELECTOR, ".main-svg, .kpi-value, .ag-root")
    ]


def _stored(app, title: str) -> dict:
    from portal.db import get_db
    from portal.models import Resource

    with app.app_context(), get_db().session() as s:
        resource = s.scalar(select(Resource).where(Resource.title_en == title))
        return {"key": resource.key, "spec": resource.spec, "title_zh": resource.title_zh}


def test_build_a_two_chart_dashboard_with_a_filter_save_and_reopen(app, live_server, make_browser):
    driver = make_browser(1440, 1000, "en")
    log_in(driver, live_server, "analyst", wait=True)
    driver.get(live_server + "/dashboards")
    click_by_script(driver, "dash-list-new")
    title = wait(driver).until(EC.visibility_of_element_located((By.ID, "dash-list-create-title")))
    title.send_keys("Beijing deposits")
    click_by_script(driver, "dash-list-create")
    wait(driver).until(lambda d: d.current_url.endswith("/edit"))
    wait(driver).until(EC.presence_of_element_located((By.ID, "dash-form-add")))

    # chart 1: deposits by branch (the form's defaults: bar chart, deposit balance, branch)
    click_by_script(driver, "dash-form-add")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".react-grid-item")) == 1)
    # chart 2: a KPI card of the NPL ratio
    choose(driver, "dash-form-type", "KPI card")
    choose(driver, "dash-form-metric", "NPL ratio")
    click_by_script(driver, "dash-form-add")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".react-grid-item")) == 2)
    wait(driver).until(lambda d: len(filled_charts(d)) == 2)  # live previews
    # the default filter: Beijing only
    choose(driver, "edit-dash-filter-branch", "Beijing Branch")
    click_by_script(driver, "dash-edit-save")
    wait(driver).until(EC.presence_of_element_located((By.ID, "dash-edit-saved")))

    stored = _stored(app, "Beijing deposits")
    assert [c["type"] for c in stored["spec"]["charts"]] == ["bar", "kpi"]
    assert stored["spec"]["filters"] == {"branch": "BJ"}

    # reopen the dashboard from scratch: both charts load, filtered to Beijing
    driver.get(f"{live_server}/dashboards/{stored['key']}")
    wait(driver).until(lambda d: len(filled_charts(d)) == 2)
    assert "Beijing deposits" in driver.find_element(By.ID, "dash-view-title").text
    assert "Beijing Branch" in driver.find_element(By.ID, "dash-filter-branch").text
    bars = driver.execute_script(
        "return document.querySelector('.dash-chart-bar .js-plotly-plot').data[0].x;"
    )
    assert bars == ["Beijing Branch"]
    assert driver.find_element(By.CSS_SELECTOR, ".dash-chart-kpi .kpi-value").text.endswith("%")

    # clearing the filter in the bar shows every branch (not saved)
    driver.find_element(By.CSS_SELECTOR, "#dash-filter-branch").click()
    time.sleep(0.3)
    wait(driver, 10).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, "#dash-filter-branch .dash-dropdown-clear")
            or d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-clear")
        )
    )[0].click()
    wait(driver).until(
        lambda d: (
            len(
                d.execute_script(
                    "var g = document.querySelector('.dash-chart-bar .js-plotly-plot');"
                    "return g && g.data ? g.data[0].x : [];"
                )
            )
            > 3
        )
    )
    assert _stored(app, "Beijing deposits")["spec"]["filters"] == {"branch": "BJ"}


def test_dragging_a_chart_on_the_editor_changes_its_position(app, live_server, make_browser):
    from portal.db import get_db
    from portal.services.dashboard_demo import seed_dashboard_demo

    with app.app_context(), get_db().session() as s, s.begin():
        seed_dashboard_demo(s)
    driver = make_browser(1440, 1100, "en")
    log_in(driver, live_server, "analyst", wait=True)
    driver.get(live_server + "/dashboards/demo-payroll/edit")
    wait(driver).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".react-grid-dragHandle")) == 7
    )
    time.sleep(1)
    before = {c["id"]: c["layout"] for c in _stored_key(app, "demo-payroll")["charts"]}
    handle = driver.find_elements(By.CSS_SELECTOR, ".react-grid-dragHandle")[0]
    ActionChains(driver).click_and_hold(handle).pause(0.3).move_by_offset(20, 10).pause(
        0.2
    ).move_by_offset(0, 420).pause(0.5).release().perform()
    time.sleep(1)
    click_by_script(driver, "dash-edit-save")
    wait(driver).until(EC.presence_of_element_located((By.ID, "dash-edit-saved")))
    after = {c["id"]: c["layout"] for c in _stored_key(app, "demo-payroll")["charts"]}
    assert after["payroll"]["y"] > before["payroll"]["y"]
    assert after["payroll"]["w"] == before["payroll"]["w"]
    assert after != before


def _stored_key(app, key: str) -> dict:
    from portal.db import get_db
    from portal.models import Resource

    with app.app_context(), get_db().session() as s:
        spec = s.scalar(select(Resource.spec).where(Resource.key == key))
        return spec if isinstance(spec, dict) else json.loads(spec)


def test_a_dashboard_stacks_on_a_phone(app, live_server, make_browser):
    from portal.db import get_db
    from portal.services.dashboard_demo import seed_dashboard_demo

    with app.app_context(), get_db().session() as s, s.begin():
        seed_dashboard_demo(s)
    driver = make_browser(390, 844, "zh-CN")
    log_in(driver, live_server, "analyst", wait=True)
    driver.get(live_server + "/dashboards/demo-finance")
    wait(driver).until(lambda d: len(filled_charts(d)) == 6)
    cards = driver.find_elements(By.CSS_SELECTOR, ".widget-grid-item")
    assert all(c.size["width"] > 300 for c in cards)  # one chart per row
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 392
    assert "预算" in driver.find_element(By.ID, "dash-view-title").text
