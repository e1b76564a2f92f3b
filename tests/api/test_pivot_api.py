"""POST /api/v1/pivot and /pivot/drill, GET /pivot/datasets: results, errors, scope, injection."""

from __future__ import annotations

import re

import pytest

from api.pivot import bp as pivot_bp
from portal.services.pivot import PivotService

SPEC = {
    "dataset": "fact_transaction",
    "rows": ["branch"],
    "columns": ["channel"],
    "values": [{"field": "amount", "agg": "sum"}, {"agg": "count"}],
}


@pytest.fixture
def app(make_app):
    """The portal, with the pivot service and API wired in until app.py does it."""
    app = make_app()
    if "pivot_service" not in app.extensions:
        app.extensions["pivot_service"] = PivotService(
            app.extensions["warehouse"], app.extensions["metric_catalog"]
        )
    if "pivot_api" not in app.blueprints:
        app.register_blueprint(pivot_bp, url_prefix="/api/v1")
    return app


def pivot(client, spec, **kwargs):
    return client.post("/api/v1/pivot", json=spec, **kwargs)


def test_pivot_by_branch_and_channel(client):
    response = pivot(client, SPEC, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["dataset"] == "fact_transaction" and body["rows"] == ["branch"]
    assert [v["label"] for v in body["values"]] == ["Sum of Amount", "Row count"]
    assert body["fields"] == {"branch": "Branch", "channel": "Channel"}
    assert len(body["header"]) == 6 and body["header"][-1] == {
        "id": "total",
        "key": [],
        "label": ["Total"],
        "total": True,
    }
    leaves = [r for r in body["data"] if r["_level"] == 0]
    assert len(leaves) == 12 and leaves[0]["branch_label"] == "Beijing Branch"
    assert body["grand_total"] == body["data"][-1] and body["grand_total"]["_level"] == "total"
    assert body["grand_total"]["v1_total"] == sum(r["v1_total"] for r in leaves)
    assert body["truncated"] is False and body["notice"] is None
    assert body["cells"] == 13 * 6 * 2 and body["limit"] == 10_000


def test_metric_pivot_and_chinese_labels(client):
    spec = {
        "rows": ["branch"],
        "columns": ["segment"],
        "values": [{"metric": "deposit_balance"}],
        "period": "last_month",
    }
    body = pivot(client, spec, headers={"Accept-Language": "zh-CN"}).get_json()
    assert body["values"][0]["label"] == "存款余额" and body["period"]["start"] == "2026-10-01"
    assert body["data"][0]["branch_label"] == "北京分行"
    by_month = {
        **spec,
        "rows": ["month"],
        "filters": [{"field": "segment", "op": "in", "value": ["mass", "affluent"]}],
        "period": {"start": "2026-09-01", "end": "2026-11-30"},
    }
    body = pivot(client, by_month).get_json()
    assert [r["month"] for r in body["data"]] == ["2026-09", "2026-10", "2026-11", None]
    assert {h["key"][0] for h in body["header"][:-1]} == {"mass", "affluent"}
    october = {**spec, "filters": [{"field": "month", "op": "eq", "value": "2026-10"}]}
    in_october = pivot(client, october).get_json()["grand_total"]["v0_total"]
    assert in_october == pytest.approx(body_total(client, spec)["v0_total"], rel=1e-12)
    november = {**spec, "filters": [{"field": "month", "op": "eq", "value": "2026-11"}]}
    empty = pivot(client, november).get_json()  # last month is October
    assert [r["_level"] for r in empty["data"]] == ["total"]
    assert empty["grand_total"]["v0_total"] is None
    drill = client.post("/api/v1/pivot/drill", json={"spec": spec, "cell": {}})
    assert drill.status_code == 422 and drill.get_json()["error"]["code"] == "drill_unsupported"


def body_total(client, spec):
    return pivot(client, spec).get_json()["grand_total"]


def test_subtotals_sort_top_and_the_limit_notice(app, client):
    spec = {
        "dataset": "fact_loan",
        "rows": ["region", "branch"],
        "values": [{"field": "balance", "agg": "sum"}],
        "filters": [{"field": "month", "op": "eq", "value": "2026-11"}],
        "sort": {"by": "v0", "desc": True},
        "top": {"n": 2, "by": "v0"},
    }
    body = pivot(client, spec).get_json()
    levels = [r["_level"] for r in body["data"]]
    assert levels.count(1) == 2 and levels[-1] == "total"
    app.extensions["pivot_service"].cell_limit = 3
    cut = pivot(client, spec, headers={"Accept-Language": "en"}).get_json()
    assert cut["truncated"] is True and "more than the limit of 3" in cut["notice"]
    assert len(cut["data"]) == 4 and cut["data"][-1]["_level"] == "total"


def test_datasets_and_fields(client):
    datasets = client.get("/api/v1/pivot/datasets", headers={"Accept-Language": "en"}).get_json()
    assert {"id": "fact_transaction", "name": "Transactions"} in datasets["datasets"]
    fields = client.get("/api/v1/pivot/datasets/fact_loan/fields").get_json()["fields"]
    by_id = {f["id"]: f for f in fields}
    assert by_id["grade"]["kind"] == "dimension" and by_id["balance"]["kind"] == "numeric"
    missing = client.get("/api/v1/pivot/datasets/nope/fields")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "unknown_dataset"


def test_drill_down_to_a_cell(client):
    cell = {"branch": "BJ", "channel": "atm"}
    body = client.post(
        "/api/v1/pivot/drill", json={"spec": SPEC, "cell": cell, "page": 1, "page_size": 20}
    ).get_json()
    whole = pivot(client, SPEC).get_json()
    atm = next(h["id"] for h in whole["header"] if h["key"] == ["atm"])
    bj = next(r for r in whole["data"] if r["branch"] == "BJ")
    assert body["total"] == bj[f"v1_{atm}"] and len(body["rows"]) == 20
    assert {r["channel"] for r in body["rows"]} == {"atm"}
    bad = client.post("/api/v1/pivot/drill", json={"spec": SPEC, "cell": {"segment": "mass"}})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_cell"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/pivot", SPEC),
        ("post", "/api/v1/pivot/drill", {"spec": SPEC, "cell": {}}),
        ("get", "/api/v1/pivot/datasets", None),
        ("get", "/api/v1/pivot/datasets/fact_loan/fields", None),
    ],
)
def test_anonymous_callers_get_401(anonymous, method, path, body):
    response = getattr(anonymous, method)(path, json=body)
    assert response.status_code == 401


def _with(**changes):
    return {**SPEC, **changes}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("not json", 422, "invalid_json"),
        (_with(limit=5), 422, "unknown_key"),
        (_with(values=[]), 422, "missing_values"),
        (_with(values=[{"field": "amount", "agg": "median"}]), 422, "unknown_agg"),
        (_with(values=[{"field": "channel", "agg": "sum"}]), 422, "bad_agg"),
        (_with(values=[{"field": "amount"}]), 422, "unknown_agg"),
        (_with(values=[{"agg": "sum"}]), 422, "bad_value"),
        (_with(values=[{"agg": "count"}] * 7), 422, "too_many_fields"),
        (_with(rows=["nope"]), 422, "unknown_field"),
        (_with(rows="branch"), 422, "bad_layout"),
        (_with(rows=["branch", "region", "city", "segment", "month"]), 422, "too_many_fields"),
        (_with(columns=["branch"]), 422, "bad_layout"),
        (_with(columns=["month", "segment", "direction"]), 422, "too_many_fields"),
        (_with(filters=[{"field": "branch", "op": "~", "value": "BJ"}]), 422, "bad_filter_op"),
        (_with(filters=[{"field": "amount", "op": "gt", "value": "big"}]), 422, "bad_filter_value"),
        (_with(filters=[{"field": "month", "op": "eq", "value": "Nov"}]), 422, "bad_filter_value"),
        (_with(filters=[{"field": "branch", "op": "in", "value": []}]), 422, "bad_filter_value"),
        (_with(filters=[{"field": "branch"}]), 422, "bad_filter"),
        (_with(sort={"by": "v9"}), 422, "bad_sort"),
        (_with(top={"n": 0}), 422, "bad_top"),
        (_with(values=[{"metric": "deposit_balance"}, {"agg": "count"}]), 422, "mixed_values"),
        ({"rows": ["txn_type"], "values": [{"metric": "deposit_balance"}]}, 422, "bad_dimension"),
        ({"values": [{"metric": "nope"}]}, 404, "unknown_metric"),
        ({"values": [{"metric": "deposit_balance"}], "period": "tomorrow"}, 422, "invalid_period"),
        ({"rows": ["branch"], "values": [{"agg": "count"}]}, 422, "missing_dataset"),
        (_with(dataset="nope"), 404, "unknown_dataset"),
        (_with(dataset="dim_branch"), 404, "unknown_dataset"),
    ],
)
def test_bad_specs_get_json_errors(client, payload, status, code):
    if isinstance(payload, str):
        response = client.post("/api/v1/pivot", data=payload, content_type="application/json")
    else:
        response = pivot(client, payload)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_error_messages_are_translated(client):
    spec = _with(values=[{"field": "amount", "agg": "median"}])
    en = pivot(client, spec, headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    zh = pivot(client, spec, headers={"Accept-Language": "zh-CN"}).get_json()["error"]["message"]
    assert en.startswith("Unknown aggregation: median")
    missing = _with(dataset="nope")
    en = pivot(client, missing, headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert en == "Unknown dataset: nope"
    assert zh  # the Chinese text comes with the lead's catalog update


def test_bj_cm_sees_only_their_sub_branch_and_masked_pii(client_as):
    cm = client_as("bj_cm")
    spec = {"dataset": "fact_transaction", "rows": ["sub_branch"], "values": [{"agg": "count"}]}
    body = pivot(cm, spec).get_json()
    assert [r["sub_branch"] for r in body["data"]] == ["BJ-CY", None]
    drill = cm.post(
        "/api/v1/pivot/drill",
        json={"spec": {**spec, "dataset": "dim_customer"}, "cell": {}, "page_size": 500},
    ).get_json()
    assert drill["total"] > 0 and {r["branch_id"] for r in drill["rows"]} == {"BJ-CY"}
    assert all(re.fullmatch(r".\*+", r["name"]) for r in drill["rows"])
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) for r in drill["rows"])
    other = cm.post(
        "/api/v1/pivot/drill",
        json={"spec": spec, "cell": {"sub_branch": "SH-PD"}},
    ).get_json()
    assert other["total"] == 0 and other["rows"] == []


@pytest.mark.parametrize(
    "spec",
    [
        _with(filters=[{"field": "channel", "op": "eq", "value": "atm' OR '1'='1"}]),
        _with(
            filters=[{"field": "channel", "op": "in", "value": ["x'); DROP TABLE dim_branch; --"]}]
        ),
    ],
)
def test_injection_in_a_value_is_only_a_value(client, spec):
    body = pivot(client, spec).get_json()
    assert [r["_level"] for r in body["data"]] == ["total"]
    assert body["grand_total"]["v1_total"] == 0
    assert pivot(client, SPEC).status_code == 200  # and the warehouse is intact


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (_with(rows=["branch; DROP TABLE dim_branch"]), "unknown_field"),
        (_with(values=[{"field": "amount) FROM x; --", "agg": "sum"}]), "unknown_field"),
        (_with(filters=[{"field": "1=1 OR channel", "op": "eq", "value": 1}]), "unknown_field"),
        (_with(sort={"by": "amount DESC; --"}), "bad_sort"),
        (_with(dataset="fact_transaction; DROP TABLE x"), "unknown_dataset"),
    ],
)
def test_injection_in_a_name_is_refused(client, spec, code):
    response = pivot(client, spec)
    assert response.status_code in (404, 422)
    assert response.get_json()["error"]["code"] == code
