"""The same metric code gives the same answers on PostgreSQL as on DuckDB (SPEC §5.1)."""

import pytest

from datasources.catalog import load_catalog
from datasources.relations import FullAccess
from datasources.warehouse import Warehouse
from portal.services.metrics import MetricService

pytestmark = pytest.mark.services

QUERIES = [
    ("deposit_balance", {"by": ["branch"], "period": "this_month"}),
    ("loan_balance", {"by": ["grade"], "period": "last_month"}),
    ("npl_ratio", {"by": ["industry"], "period": "ytd"}),
    ("new_loans", {"by": ["month"], "period": "last_quarter"}),
    ("active_customers", {"by": ["channel"], "period": "this_quarter"}),
    ("transaction_amount", {"by": ["txn_type", "direction"], "period": "last_12_months"}),
    ("ebank_penetration", {"by": ["segment"], "period": "this_month"}),
    ("budget_attainment", {"by": ["region"], "period": "this_month"}),
    ("churn_rate", {"by": ["age_band"], "period": "ytd"}),
    (
        "deposit_balance",
        {
            "filters": [{"field": "segment", "op": "in", "value": ["affluent", "private"]}],
            "period": {"start": "2026-01-01", "end": "2026-06-30"},
        },
    ),
]


@pytest.fixture(scope="module")
def services(warehouse_url, pg_warehouse_url):
    catalog = load_catalog()
    duck_wh, pg_wh = Warehouse(warehouse_url), Warehouse(pg_warehouse_url)
    yield MetricService(duck_wh, catalog), MetricService(pg_wh, catalog)
    duck_wh.close()
    pg_wh.close()


def _normalise(rows, by):
    return {tuple(r[d] for d in by): (r["value"], r["previous"]) for r in rows}


@pytest.mark.parametrize(
    ("metric", "kwargs"),
    QUERIES,
    ids=[q[0] + "-" + "-".join(q[1].get("by", ["total"])) for q in QUERIES],
)
def test_duckdb_and_postgres_agree(services, metric, kwargs):
    duck_service, pg_service = services
    by = kwargs.get("by", [])
    duck_rows = duck_service.query(FullAccess(duck_service.warehouse), metric, **kwargs)["rows"]
    pg_rows = pg_service.query(FullAccess(pg_service.warehouse), metric, **kwargs)["rows"]
    duck, pg = _normalise(duck_rows, by), _normalise(pg_rows, by)
    assert duck.keys() == pg.keys() and duck
    for key, expected in duck.items():
        for got, want in zip(pg[key], expected, strict=True):
            if want is None:
                assert got is None, key
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), key
