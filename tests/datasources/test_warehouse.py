"""Query execution in one place: caching keyed by SQL and scope, timing, listeners, Redis."""

import threading

import pytest
from flask import Flask
from flask_caching import Cache

from datasources.warehouse import Warehouse
from portal.errors import Unavailable


def _simple_cache():
    app = Flask(__name__)
    return Cache(app, config={"CACHE_TYPE": "SimpleCache"})


def _expr(wh):
    t = wh.table("fact_loan")
    return t.group_by("grade").aggregate(total=t.balance.sum()).order_by("grade")


def test_results_are_cached_per_scope_and_timed(warehouse_url):
    wh = Warehouse(warehouse_url, cache=_simple_cache())
    records = []
    wh.add_listener(records.append)
    first = wh.execute(_expr(wh), scope_key="all")
    second = wh.execute(_expr(wh), scope_key="all")
    other_scope = wh.execute(_expr(wh), scope_key="branch:BJ")
    assert first.equals(second) and first.equals(other_scope)
    assert [r.cached for r in records] == [False, True, False]
    assert all(r.duration_ms >= 0 and r.rows == len(first) for r in records)
    assert "SUM" in records[0].sql.upper()
    wh.close()


def test_concurrent_queries_from_many_threads(warehouse_url):
    wh = Warehouse(warehouse_url)
    expected = wh.execute(_expr(wh), use_cache=False)
    errors = []

    def work():
        try:
            for _ in range(5):
                if not wh.execute(_expr(wh), use_cache=False).equals(expected):
                    errors.append("mismatch")
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    wh.close()


def test_missing_warehouse_is_unavailable(tmp_path):
    wh = Warehouse(f"duckdb://{tmp_path / 'none.duckdb'}")
    with pytest.raises(Unavailable) as info:
        wh.table("fact_loan")
    assert info.value.code == "warehouse_missing"
    assert wh.ping() is False


def test_unreachable_server_is_unavailable():
    wh = Warehouse("postgres://nobody@127.0.0.1:1/none")
    with pytest.raises(Unavailable):
        wh.table("fact_loan")


@pytest.mark.services
def test_redis_cache_serves_repeated_queries(warehouse_url, redis_url, redis_prefix):
    import redis

    app = Flask(__name__)
    cache = Cache(
        app,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": redis_prefix,
        },
    )
    wh = Warehouse(warehouse_url, cache=cache)
    records = []
    wh.add_listener(records.append)
    first = wh.execute(_expr(wh), scope_key="all")
    second = wh.execute(_expr(wh), scope_key="all")
    assert first.equals(second) and [r.cached for r in records] == [False, True]
    keys = list(redis.Redis.from_url(redis_url).scan_iter(f"{redis_prefix}*"))
    assert len(keys) == 1
    wh.close()


@pytest.mark.services
def test_app_uses_redis_when_configured(make_app, redis_url, redis_prefix):
    import redis

    from tests.conftest import login

    app = make_app(cache_url=redis_url, cache_prefix=redis_prefix)
    client = app.test_client()
    login(client, "leader")
    for _ in range(2):
        assert (
            client.post("/api/v1/metrics/query", json={"metric": "loan_balance"}).status_code == 200
        )
    assert list(redis.Redis.from_url(redis_url).scan_iter(f"{redis_prefix}*"))
