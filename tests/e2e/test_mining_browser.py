"""Data mining in the browser: upload a file, preview it, mine it, download the scored list;
a branch customer manager sees only their branch's customers, masked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import click_by_script, log_in

pytestmark = pytest.mark.browser

DATASETS = Path(
    os.environ.get("PORTAL_DATASETS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)


def _churn_sample(tmp_path) -> Path:
    source = DATASETS / "Churn_Modelling.csv"
    if not source.exists():
        message = f"public datasets not found at {DATASETS} (set PORTAL_DATASETS_DIR)"
        if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(f"!!! {message} !!!")
    path = tmp_path / "churn_sample.csv"
    pd.read_csv(source).head(1500).to_csv(path, index=False)
    return path


def _choose(driver, dropdown_id: str, text: str) -> None:
    box = WebDriverWait(driver, 20).until(EC.element_to_be_clickable((By.ID, dropdown_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    time.sleep(0.2)
    box.click()
    time.sleep(0.3)
    active = driver.switch_to.active_element
    active.send_keys(text)
    time.sleep(0.3)
    active.send_keys(Keys.ENTER)


def test_upload_preview_mine_and_download(live_server, make_browser, tmp_path):
    sample = _churn_sample(tmp_path)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = make_browser(1440, 1000, "en")
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    log_in(driver, live_server, "analyst")
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CLASS_NAME, "navbar")))
    driver.get(live_server + "/mining/upload")
    upload = WebDriverWait(driver, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#up-file input[type=file]"))
    )
    upload.send_keys(str(sample))
    WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.ID, "up-success")))
    assert "1,500" in driver.find_element(By.ID, "up-success").text
    WebDriverWait(driver, 30).until(
        lambda d: "CreditScore (integer)" in d.find_element(By.ID, "up-preview").text
    )
    assert "Surname (text)" in driver.find_element(By.ID, "up-preview").text

    _choose(driver, "up-target", "Exited")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    click_by_script(driver, "up-run")
    WebDriverWait(driver, 180).until(EC.presence_of_element_located((By.ID, "up-metrics")))
    metrics = driver.find_element(By.ID, "up-metrics").text
    auc = float(metrics.split("Cross-validated AUC")[1].split()[0])
    assert auc > 0.75, metrics

    click_by_script(driver, "up-download-csv")
    deadline = time.time() + 30
    files = []
    while time.time() < deadline:
        files = [p for p in downloads.iterdir() if p.suffix == ".csv"]
        if files:
            break
        time.sleep(0.3)
    assert files, list(downloads.iterdir())
    scored = pd.read_csv(files[0], encoding="utf-8-sig")
    assert len(scored) == 1500 and scored.columns[0] == "probability"
    assert scored["probability"].is_monotonic_decreasing


def test_scenario_list_as_bj_cm_is_scoped_and_masked(app, live_server, make_browser):
    from datasources.relations import FullAccess
    from mining.training import train_scenario

    warehouse = app.extensions["warehouse"]
    data_dir = app.config["PORTAL_SETTINGS"].data_dir
    train_scenario(warehouse, FullAccess(warehouse), "retail-churn", data_dir)

    driver = make_browser(1440, 1000, "zh-CN")
    log_in(driver, live_server, "bj_cm")
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CLASS_NAME, "navbar")))
    driver.get(live_server + "/mining/retail-churn")
    WebDriverWait(driver, 60).until(
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, "#mn-grid .ag-center-cols-container .ag-row")) > 0
        )
    )
    assert "一般散户流失" in driver.find_element(By.CLASS_NAME, "page-title").text
    branches = {
        e.text for e in driver.find_elements(By.CSS_SELECTOR, "#mn-grid .ag-cell[col-id=branch]")
    }
    names = [
        e.text for e in driver.find_elements(By.CSS_SELECTOR, "#mn-grid .ag-cell[col-id=name]")
    ]
    assert branches == {"北京朝阳支行"}, branches
    assert names and all("*" in n for n in names)
    assert driver.find_element(By.ID, "mn-retrain").get_attribute("disabled")
    assert driver.find_elements(By.CSS_SELECTOR, "#mn-heatmap .main-svg")
