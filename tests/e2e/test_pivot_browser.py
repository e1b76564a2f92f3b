"""An analyst builds a pivot in the browser, drills into a cell, saves, reopens and exports it."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from portal.db import get_db
from portal.models import Resource
from portal.security import current_tables
from portal.services.pivot import pivot_service
from tests.conftest import request_as
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def downloads(make_browser):
    """A headless Chromium that saves downloads into a fresh folder: (driver, folder)."""
    folder = Path(tempfile.mkdtemp(prefix="portal-downloads-"))
    return make_browser(1440, 1000, "en", downloads=folder), folder


def wait(driver, seconds=40):
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def choose(driver, dropdown_id: str, text: str) -> None:
    """Open a Dash dropdown, search for `text` and pick the option showing exactly it."""
    driver.find_element(By.ID, dropdown_id).click()
    search = wait(driver, 10).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "input.dash-dropdown-search"))
    )
    search.send_keys(text)
    option = wait(driver, 15).until(
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
    with contextlib.suppress(StaleElementReferenceException):  # a single choice has closed
        search.send_keys(Keys.ESCAPE)
    time.sleep(0.3)


def grid_rows(driver) -> dict[str, dict[str, str]]:
    """Return the pivot grid's rendered cells: {row id: {column id: text}}."""
    rows: dict[str, dict[str, str]] = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#pivot-grid .ag-row"):
        cells = rows.setdefault(row.get_attribute("row-id"), {})
        for cell in row.find_elements(By.CSS_SELECTOR, ".ag-cell"):
            cells[cell.get_attribute("col-id")] = cell.text
    return rows


def wait_for_total(driver) -> dict[str, dict[str, str]]:
    wait(driver, 60).until(
        lambda d: any(cells.get("_h0") == "Grand total" for cells in grid_rows(d).values())
    )
    return grid_rows(driver)


def test_build_drill_save_reopen_and_export_a_pivot(app, live_server, downloads):
    driver, folder = downloads
    log_in(driver, live_server, "analyst")
    wait(driver, 30).until(EC.presence_of_element_located((By.CLASS_NAME, "page-title")))
    driver.get(live_server + "/pivot")
    wait_for_total(driver)  # a new pivot shows the default one at once

    # build: loans by branch and grade, balance and count, in November 2026
    choose(driver, "pivot-dataset", "Loans")
    wait(driver).until(lambda d: "Row count" in d.find_element(By.ID, "pivot-values").text)
    choose(driver, "pivot-columns", "Loan grade")
    choose(driver, "pivot-values", "Sum of Loan balance")
    choose(driver, "pivot-filter-field", "Month")
    driver.find_element(By.ID, "pivot-filter-value").send_keys("2026-11")
    driver.find_element(By.ID, "pivot-filter-add").click()
    wait(driver).until(lambda d: "2026-11" in d.find_element(By.ID, "pivot-filters").text)
    driver.find_element(By.ID, "pivot-run").click()
    wait(driver).until(  # the default pivot ran on opening; wait for this one
        EC.text_to_be_present_in_element((By.ID, "pivot-summary"), "Row count in all")
    )
    shown = wait_for_total(driver)
    total_id = next(rid for rid, cells in shown.items() if cells.get("_h0") == "Grand total")
    assert shown[total_id]["v0_c0"]  # the first grade's row count over all branches
    assert len(driver.find_elements(By.CSS_SELECTOR, "#pivot-grid .ag-row.pivot-row-total")) >= 1

    # drill: the first grade's row count over all branches opens its detail rows
    first = driver.find_element(
        By.CSS_SELECTOR,
        f'#pivot-grid .ag-center-cols-container .ag-row[row-id="{total_id}"] [col-id="v0_c0"]',
    )
    expected_rows = first.text
    first.click()
    page = wait(driver).until(EC.visibility_of_element_located((By.ID, "pivot-drill-page")))
    wait(driver).until(lambda d: "rows" in page.text)
    assert f"{expected_rows} rows" in page.text
    driver.find_element(By.CSS_SELECTOR, "#pivot-drill-modal .btn-close").click()
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "pivot-drill-modal")))

    # save, then reopen through the share link
    driver.find_element(By.ID, "pivot-save-open").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "pivot-save-title-en")))
    driver.find_element(By.ID, "pivot-save-title-zh").send_keys("十一月贷款五级分类")
    driver.find_element(By.ID, "pivot-save-title-en").send_keys("November loans by grade")
    driver.find_element(By.ID, "pivot-save-confirm").click()
    wait(driver).until(
        lambda d: (
            "/pivot?id=" in (d.find_element(By.ID, "pivot-share-url").get_attribute("value") or "")
        )
    )
    link = driver.find_element(By.ID, "pivot-share-url").get_attribute("value")
    key = link.rsplit("=", 1)[1]
    driver.get(link)
    wait(driver).until(
        EC.text_to_be_present_in_element((By.ID, "pivot-title"), "November loans by grade")
    )
    reopened = wait_for_total(driver)
    assert reopened[total_id]["v0_c0"] == shown[total_id]["v0_c0"]

    # export: the workbook holds the service's numbers in the pivot's shape
    driver.find_element(By.ID, "pivot-export-xlsx").click()
    wait(driver, 60).until(
        lambda _d: list(folder.glob("*.xlsx")) and not list(folder.glob("*.crdownload"))
    )
    path = next(folder.glob("*.xlsx"))
    assert path.name == "November_loans_by_grade.xlsx"
    with app.app_context(), get_db().session() as s:
        saved = s.scalar(select(Resource).where(Resource.type == "pivot", Resource.key == key))
        spec = dict(saved.spec)
    assert spec["dataset"] == "fact_loan" and spec["columns"] == ["grade"]
    assert spec["values"] == [{"agg": "count"}, {"agg": "sum", "field": "balance"}]
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        result = pivot_service().pivot(current_tables(), spec, locale="en")
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == "November loans by grade" and ws["A3"].value == "Branch"
    first_data_row = 3 + 2  # one header row for the grade, one for the two values
    rows = list(ws.iter_rows(min_row=first_data_row, values_only=True))
    assert len(rows) == len(result["data"])
    n_cols = len(result["header"])
    for row, record in zip(rows, result["data"], strict=True):
        expected = []
        for header in result["header"]:
            expected += [record[f"v0_{header['id']}"], record[f"v1_{header['id']}"]]
        got = list(row[1 : 1 + 2 * n_cols])
        assert [v is None for v in got] == [v is None for v in expected]
        # Excel keeps 15 significant digits
        assert [v for v in got if v is not None] == pytest.approx(
            [v for v in expected if v is not None], rel=1e-13
        )
    assert rows[-1][0] == "Grand total"
    assert rows[-1][1] == int(shown[total_id]["v0_c0"].replace(",", ""))  # as the grid showed
    assert rows[-1][-2] == pytest.approx(result["grand_total"]["v0_total"], rel=1e-13)
    os.remove(path)
