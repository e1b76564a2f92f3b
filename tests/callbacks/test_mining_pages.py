"""The mining scenario pages, by calling layouts and callbacks as functions: retraining in
the background, the scoped and masked customer list, export, saved lists."""

from __future__ import annotations

import base64
import io

import dash
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from callbacks.mining import export_list, poll_training, refresh_list, share_list, start_training
from portal.db import get_db
from portal.models import Resource
from portal.services import mining_pages as M
from tests.component_tree import find_by_id
from tests.conftest import request_as


class _Ctx:
    def __init__(self, trigger):
        self.triggered_id = trigger
        self.triggered = [{"prop_id": f"{trigger}.n_clicks", "value": 1}]


def _texts(component) -> str:
    return str(component)


@pytest.fixture
def trained(app):
    """The app with a retail-churn model, trained through the page's retrain callback."""
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        job_id, disabled, message, style = start_training(1, "retail-churn")
        assert job_id and disabled is False and style == {"display": "flex"}
        value, label, text, stop, _style = poll_training(1, job_id)
        assert 0 <= value <= 100 and label == f"{value}%"
        done = M.jobs().wait(job_id, timeout=180)
        assert done["state"] == "done", done
        value, label, message, stop, _style = poll_training(2, job_id)
        assert value == 100 and stop is True and "v1" in str(message)
    return app


def test_index_lists_four_scenarios(app):
    with request_as(app, "analyst", headers={"Accept-Language": "zh-CN"}):
        page = dash.page_registry["pages.mining"]["layout"]()
    text = _texts(page)
    for name in M.SCENARIOS:
        assert f"/mining/{name}" in text
    assert "代发客户流失" in text and "潜力价值客户" in text and "/mining/upload" in text


def test_a_scenario_without_a_model_says_so_and_offers_retraining(app):
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        page = dash.page_registry["pages.mining_scenario"]["layout"](scenario="potential-value")
        unknown = dash.page_registry["pages.mining_scenario"]["layout"](scenario="nope")
    text = _texts(page)
    assert "mn-no-model" in text and "mn-retrain" in text and "How this analysis works" in text
    assert "Unknown mining scenario" in _texts(unknown)


def test_branch_staff_may_not_retrain(app):
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        job, disabled, alert, _style = start_training(1, "retail-churn")
    assert job is None and disabled is True and "head-office" in str(alert)


def test_customer_list_is_scoped_and_masked(trained):
    app = trained
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        rows_all, *_rest = refresh_list([], [], 0, 2000, "retail-churn")
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        page = dash.page_registry["pages.mining_scenario"]["layout"](scenario="retail-churn")
        assert "AUC (hold-out)" in _texts(page) and "mn-grid" in _texts(page)
        rows, columns, heatmap, extra, options, summary, error = refresh_list(
            [], [], 0, 2000, "retail-churn"
        )
    assert error is None and rows and len(rows) < len(rows_all)
    assert {r["branch"] for r in rows} == {"Beijing Chaoyang Sub-branch"}
    assert [o["value"] for o in options] == ["BJ-CY"]
    assert all("*" in r["name"] and "****" in r["phone"] for r in rows)
    assert [r["probability"] for r in rows] == sorted(
        (r["probability"] for r in rows), reverse=True
    )
    assert heatmap["data"][0]["y"] == ["Beijing Chaoyang Sub-branch"]
    assert columns[5]["headerName"] == "Churn probability"


def test_filters_export_csv_and_xlsx(trained, monkeypatch):
    app = trained
    with request_as(app, "bj_cm", headers={"Accept-Language": "zh-CN"}):
        rows, *_rest = refresh_list([], ["mass"], 0.0, 100, "retail-churn")
        assert rows and {r["segment"] for r in rows} == {"mass"}
        monkeypatch.setattr(dash, "ctx", _Ctx("mn-export-csv"))
        visible = list(reversed(rows[:5]))
        payload, error = export_list(1, None, [], ["mass"], 0.0, 100, visible, "retail-churn")
        assert error is None and payload["filename"].endswith(".csv")
        lines = base64.b64decode(payload["content"]).decode("utf-8-sig").splitlines()
        header = lines[0].split(",")
        assert header[:3] == ["客户号", "姓名", "手机号"] and header[4:6] == ["客群", "流失概率"]
        assert len(lines) == 6  # the grid's five visible rows, in its order
        assert lines[1].startswith(str(visible[0]["customer_id"]))
        assert all("*" in line.split(",")[1] for line in lines[1:])

        monkeypatch.setattr(dash, "ctx", _Ctx("mn-export-xlsx"))
        payload, error = export_list(None, 1, [], [], 0.0, 100, None, "retail-churn")
        book = load_workbook(io.BytesIO(base64.b64decode(payload["content"])))
        values = list(book.active.iter_rows(values_only=True))
        assert len(values) == len(refresh_list([], [], 0, 100, "retail-churn")[0]) + 1
        assert {v[3] for v in values[1:]} == {"北京朝阳支行"}


def test_save_and_share_a_list(trained):
    app = trained
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}) as user:
        alert = share_list(1, "My churn calls", [], ["mass"], 0.05, 100, "retail-churn")
        assert "/mining/retail-churn?list=" in str(alert)
        with get_db().session() as s:
            resource = s.scalar(select(Resource).where(Resource.title_en == "My churn calls"))
            assert resource.type == "query" and resource.owner_id == user.id
            assert resource.spec["filters"]["segments"] == ["mass"]
            key = resource.key
        page = dash.page_registry["pages.mining_scenario"]["layout"](
            scenario="retail-churn", list=key
        )
        assert "My churn calls" in str(page)
    with request_as(app, "sh_cm", headers={"Accept-Language": "en"}):
        assert M.load_saved_list(key, "retail-churn") is None  # not shared with them

    # Shared with the marketing group: sh_cm opens the list, within their own rights.
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        groups = M.share_groups()
        assert [g["label"] for g in groups] == ["营销团队"]
        alert = share_list(
            1, "Team list", [], ["mass"], 0.0, 100, "retail-churn", [groups[0]["value"]]
        )
        assert "Shared with 1 groups" in str(alert)
        shared_key = str(alert).split("?list=")[1][:32]
    with request_as(app, "sh_cm", headers={"Accept-Language": "en"}):
        opened = M.load_saved_list(shared_key, "retail-churn")
        assert opened["title"] == "Team list" and opened["segments"] == ["mass"]
        rows, *_rest = refresh_list([], ["mass"], 0.0, 100, "retail-churn")
        assert rows and all(r["branch"].startswith("Shanghai") for r in rows)


def test_the_upload_path_opens_the_upload_page_on_a_dataset(app):
    from callbacks.uploads import receive_upload

    raw = base64.b64encode(b"a,b,t\n1,2,yes\n3,4,no\n").decode()
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        _m, _o, first = receive_upload("data:text/csv;base64," + raw, "first.csv")
        _m, _o, second = receive_upload("data:text/csv;base64," + raw, "second.csv")
        with get_db().session() as s:
            key = s.get(Resource, first).key
        layout = dash.page_registry["pages.mining_scenario"]["layout"]
        page = layout(scenario="upload", id=key)
        default = layout(scenario="upload")

    def chosen(component):
        return find_by_id(component, "up-select").value

    assert chosen(page) == first and chosen(default) == second  # newest first by default
