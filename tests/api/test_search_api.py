"""GET /api/v1/search: results, facets, languages, permissions and errors."""

from __future__ import annotations

import pytest

from api.search import bp
from portal.db import get_db
from portal.services.search import sync_catalog_resources


@pytest.fixture
def app(make_app):
    """The portal with the search API mounted and the catalog's resources indexed."""
    app = make_app()
    if "search_api" not in app.blueprints:
        app.register_blueprint(bp, url_prefix="/api/v1")
    with app.app_context(), get_db().session() as s, s.begin():
        sync_catalog_resources(s, app.extensions["metric_catalog"])
    return app


def test_search_returns_ranked_results_and_facets(client):
    response = client.get("/api/v1/search?q=存款&limit=5")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"query", "total", "results", "facets"}
    assert body["query"] == "存款" and body["total"] >= 2 and len(body["results"]) <= 5
    first = body["results"][0]
    assert {
        "id",
        "type",
        "key",
        "title",
        "description",
        "score",
        "locked",
        "actions",
        "highlight",
    } <= set(first)
    assert set(body["facets"]) == {"type", "domain", "owner"}
    assert body["facets"]["type"]["metric"] >= 2
    assert [r["score"] for r in body["results"]] == sorted(
        (r["score"] for r in body["results"]), reverse=True
    )


def test_titles_follow_the_browser_language(client):
    zh = client.get("/api/v1/search?q=ckye", headers={"Accept-Language": "zh-CN"}).get_json()
    en = client.get("/api/v1/search?q=ckye", headers={"Accept-Language": "en"}).get_json()
    assert zh["results"][0]["title"] == "存款余额"
    assert en["results"][0]["title"] == "Deposit balance"
    assert en["results"][0]["description"] and en["results"][0]["description"].isascii()
    typo = client.get(
        "/api/v1/search?q=depost%20balanse", headers={"Accept-Language": "en"}
    ).get_json()
    assert typo["results"][0]["title"] == "Deposit balance"


def test_type_filter_is_repeatable_or_a_comma_list(client):
    repeated = client.get("/api/v1/search?q=客户&type=dataset&type=metric").get_json()
    commas = client.get("/api/v1/search?q=客户&type=dataset,metric").get_json()
    datasets = client.get("/api/v1/search?q=客户&type=dataset").get_json()
    assert repeated["total"] == commas["total"] > datasets["total"] > 0
    assert {r["type"] for r in datasets["results"]} == {"dataset"}


def test_datasets_are_locked_for_a_customer_manager(client_as):
    body = client_as("bj_cm").get("/api/v1/search?q=客户维表").get_json()
    dataset = next(r for r in body["results"] if r["key"] == "dim_customer")
    assert dataset["locked"] is True and dataset["actions"] == ["request_access"]
    body = client_as("analyst").get("/api/v1/search?q=客户维表").get_json()
    dataset = next(r for r in body["results"] if r["key"] == "dim_customer")
    assert dataset["locked"] is False and dataset["actions"] == ["open"]


def test_anonymous_callers_get_401(anonymous):
    response = anonymous.get("/api/v1/search?q=存款")
    assert response.status_code == 401
    assert response.is_json


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "empty_query"),
        ("?q=", "empty_query"),
        ("?q=%20%20", "empty_query"),
        ("?q=" + "x" * 201, "query_too_long"),
        ("?q=存款&limit=abc", "bad_limit"),
        ("?q=存款&limit=0", "bad_limit"),
        ("?q=存款&limit=1000", "bad_limit"),
        ("?q=存款&offset=-5", "bad_offset"),
        ("?q=存款&type=nope", "unknown_type"),
    ],
)
def test_bad_parameters_get_422(client, query, code):
    response = client.get("/api/v1/search" + query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code


def test_errors_are_translated(client):
    response = client.get("/api/v1/search?q=", headers={"Accept-Language": "en"})
    assert response.get_json()["error"]["message"] == "Enter something to search for."
