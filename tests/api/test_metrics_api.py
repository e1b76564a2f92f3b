"""GET /api/v1/metrics and POST /api/v1/metrics/query, with their error cases."""

import pytest


def test_list_metrics_in_each_language(client):
    zh = client.get("/api/v1/metrics", headers={"Accept-Language": "zh-CN"}).get_json()
    en = client.get("/api/v1/metrics", headers={"Accept-Language": "en"}).get_json()
    assert len(zh["metrics"]) >= 15 and len(zh["dimensions"]) >= 10
    assert next(m for m in zh["metrics"] if m["id"] == "deposit_balance")["name"] == "存款余额"
    assert (
        next(m for m in en["metrics"] if m["id"] == "deposit_balance")["name"] == "Deposit balance"
    )


def test_query_metric_by_branch(client):
    response = client.post(
        "/api/v1/metrics/query",
        json={
            "metric": "loan_balance",
            "by": ["branch"],
            "period": "last_month",
            "filters": [{"field": "grade", "op": "eq", "value": "正常"}],
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["metric"] == "loan_balance" and body["period"]["start"] == "2026-10-01"
    assert len(body["rows"]) == 12
    assert {"branch", "branch_label", "value", "previous", "change", "change_pct"} <= set(
        body["rows"][0]
    )


def test_language_switch_changes_labels(client):
    client.get("/lang/en?next=/")
    body = client.post(
        "/api/v1/metrics/query", json={"metric": "deposit_balance", "by": ["branch"]}
    ).get_json()
    assert any(r["branch_label"] == "Beijing Branch" for r in body["rows"])
    assert body["name"] == "Deposit balance"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("not json", 422, "invalid_json"),
        ({"by": ["branch"]}, 422, "missing_metric"),
        ({"metric": "deposit_balance", "limit": 5}, 422, "unknown_field"),
        ({"metric": "nope"}, 404, "unknown_metric"),
        ({"metric": "deposit_balance", "by": ["txn_type"]}, 422, "bad_dimension"),
        ({"metric": "deposit_balance", "period": "tomorrow"}, 422, "invalid_period"),
        (
            {"metric": "deposit_balance", "filters": [{"field": "segment", "op": "~", "value": 1}]},
            422,
            "bad_filter_op",
        ),
    ],
)
def test_bad_queries_get_json_errors(client, payload, status, code):
    if isinstance(payload, str):
        response = client.post(
            "/api/v1/metrics/query", data=payload, content_type="application/json"
        )
    else:
        response = client.post("/api/v1/metrics/query", json=payload)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_error_messages_are_translated(client):
    zh = client.post(
        "/api/v1/metrics/query", json={"metric": "nope"}, headers={"Accept-Language": "zh-CN"}
    )
    en = client.post(
        "/api/v1/metrics/query", json={"metric": "nope"}, headers={"Accept-Language": "en"}
    )
    assert en.get_json()["error"]["message"] == "Unknown metric: nope"
    assert zh.get_json()["error"]["message"] == "未知指标：nope"


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "warehouse": True}


def test_healthz_reports_a_missing_warehouse(make_app, tmp_path):
    app = make_app(warehouse_url=f"duckdb://{tmp_path / 'missing.duckdb'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["warehouse"] is False


def test_language_redirect_stays_on_site(client):
    response = client.get("/lang/en?next=https://evil.example/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/lang/fr").status_code == 404
