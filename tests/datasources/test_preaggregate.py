"""The aggregate-then-join plan is taken for every catalog metric and equals the plain plan."""

import pandas as pd
import pytest

from datasources.catalog import load_catalog
from datasources.metric_query import _plain_expression, _two_stage_expression, normalise_filters
from datasources.periods import resolve_period
from datasources.relations import FullAccess
from datasources.warehouse import Warehouse

CATALOG = load_catalog()
FORMULA_METRICS = [m for m in CATALOG.metrics.values() if not m.is_ratio]
AS_OF = pd.Timestamp("2026-11-30").date()


@pytest.fixture(scope="module")
def warehouse(warehouse_url):
    wh = Warehouse(warehouse_url)
    yield wh
    wh.close()


def _cases(metric):
    dims = [d for d in ("branch", "segment", "month", "channel", "grade") if d in metric.dimensions]
    yield [], [], "this_month"
    yield dims[:1], [], "ytd"
    yield dims[:2], [], "last_quarter"
    if "segment" in metric.dimensions:
        yield dims[:1], [{"field": "segment", "op": "in", "value": ["mass", "affluent"]}], "ytd"
    if "month" in metric.dimensions:
        yield ["month"], [{"field": "month", "op": "gte", "value": "2026-06"}], "last_12_months"


def _sorted(frame):
    frame = frame.copy()
    for c in frame.columns:
        if c != "value":
            frame[c] = frame[c].astype(str)
    keys = [c for c in frame.columns if c != "value"]
    return frame.sort_values(keys).reset_index(drop=True)[sorted(frame.columns)]


@pytest.mark.parametrize("metric", FORMULA_METRICS, ids=[m.id for m in FORMULA_METRICS])
def test_two_stage_plan_is_used_and_matches_the_plain_plan(warehouse, metric):
    tables = FullAccess(warehouse)
    for by, raw_filters, period in _cases(metric):
        filters = normalise_filters(metric, CATALOG, raw_filters)
        dims = [CATALOG.dimensions[d] for d in by]
        resolved = resolve_period(period, AS_OF)
        fast = _two_stage_expression(tables, CATALOG, metric, dims, filters, resolved, "zh_CN")
        plain = _plain_expression(tables, CATALOG, metric, dims, filters, resolved, "zh_CN")
        a = _sorted(warehouse.execute(fast, use_cache=False))
        b = _sorted(warehouse.execute(plain, use_cache=False))
        pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
        assert a["value"].fillna(-1).to_numpy() == pytest.approx(
            b["value"].fillna(-1).to_numpy(), rel=1e-9
        )
