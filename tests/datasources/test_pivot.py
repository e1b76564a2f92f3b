"""Pivots equal pandas on the same rows, drill-downs add up, limits hold, scope and masking apply."""

from __future__ import annotations

import math
import re
import shutil
from datetime import date

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasources.catalog import load_catalog
from datasources.metric_query import compute_metric
from datasources.periods import resolve_period
from datasources.pivot import (
    DATASETS,
    PivotFilter,
    PivotSort,
    PivotSpec,
    PivotTop,
    PivotValue,
    dataset_fields,
    field_map,
)
from datasources.pivot_drill import drill_down
from datasources.pivot_query import levels, run_pivot
from datasources.pivot_rollup import ROLLUP_TABLES, ROLLUPS, build_rollups
from datasources.relations import FullAccess
from datasources.schema import TABLES
from datasources.scope import Principal, ScopedTables
from datasources.warehouse import Warehouse

ORG = """SELECT b.branch_id AS _bid,
           CASE WHEN b.level = 'sub_branch' THEN p.branch_id ELSE b.branch_id END AS branch,
           CASE WHEN b.level = 'sub_branch' THEN b.branch_id END AS sub_branch,
           b.region_en AS region, b.city_en AS city
         FROM dim_branch b LEFT JOIN dim_branch p ON b.parent_id = p.branch_id"""
COMMON_DIMS = ["branch", "sub_branch", "region", "city", "segment", "customer_type", "age_band"]
GROUPS = {
    "fact_transaction": COMMON_DIMS + ["month", "channel", "txn_type", "direction"],
    "fact_balance_monthly": COMMON_DIMS + ["month", "product", "product_category"],
    "fact_loan": COMMON_DIMS + ["month", "product", "grade", "industry", "collateral"],
}
MEASURES = {
    "fact_transaction": ["amount"],
    "fact_balance_monthly": ["end_balance", "avg_daily_month"],
    "fact_loan": ["balance", "contract_amount"],
}
AGGS = ["sum", "count", "count_distinct", "mean", "min", "max"]
BJ_CM = Principal(1, "bj_cm", "BJ-CY", frozenset({"customer_manager"}))
HUGE = 10**9


@pytest.fixture(scope="module")
def wh(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def full(wh):
    return FullAccess(wh)


@pytest.fixture(scope="module")
def rollup_path(tmp_path_factory, warehouse_path):
    """A copy of the tiny warehouse with the monthly rollups built in it."""
    path = tmp_path_factory.mktemp("rollup") / "warehouse.duckdb"
    shutil.copyfile(warehouse_path, path)
    con = ibis.duckdb.connect(str(path))
    counts = build_rollups(con)
    con.disconnect()
    assert all(n > 0 for n in counts.values())
    return path


@pytest.fixture
def rollup_wh(rollup_path, monkeypatch):
    """The warehouse with rollups, which the schema lists (as the generator's will)."""
    for name, schema in ROLLUP_TABLES.items():
        monkeypatch.setitem(TABLES, name, schema)
    warehouse = Warehouse(f"duckdb://{rollup_path}")
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="module")
def reference(duck):
    """Each dataset's rows with its dimensions, joined by hand in SQL, as pandas frames."""
    frames = {}
    for dataset in GROUPS:
        has_product = dataset != "fact_transaction"
        product = ", p.product_code AS product, p.category AS product_category"
        frames[dataset] = duck.execute(f"""
            SELECT f.*, o.branch, o.sub_branch, o.region, o.city,
                   c.segment, c.customer_type, c.age_band {product if has_product else ""},
                   strftime(f.{DATASETS[dataset].date_column}, '%Y-%m') AS month
            FROM {dataset} f LEFT JOIN ({ORG}) o ON f.branch_id = o._bid
            LEFT JOIN dim_customer c ON f.customer_id = c.customer_id
            {"LEFT JOIN dim_product p ON f.product_id = p.product_id" if has_product else ""}
        """).df()
    return frames


# -- reference computations ---------------------------------------------------------------------
def norm(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def apply_filter(df: pd.DataFrame, f: PivotFilter) -> pd.DataFrame:
    col = df[f.field]
    value = f.value
    if isinstance(value, date):
        value = value.strftime("%Y-%m")
    if isinstance(value, list):
        value = [v.strftime("%Y-%m") if isinstance(v, date) else v for v in value]
    match f.op:
        case "eq":
            keep = col == value
        case "ne":
            keep = (col != value) & col.notna()
        case "in":
            keep = col.isin(value)
        case "not_in":
            keep = ~col.isin(value) & col.notna()
        case "gt":
            keep = col > value
        case "gte":
            keep = col >= value
        case "lt":
            keep = col < value
        case "lte":
            keep = col <= value
    return df[keep.fillna(False).astype(bool)]


def aggregate(part: pd.DataFrame, value: PivotValue):
    if value.field is None:
        return len(part)
    col = part[value.field]
    match value.agg:
        case "sum":
            return norm(col.sum(min_count=1))
        case "count":
            return int(col.count())
        case "count_distinct":
            return int(col.nunique())
        case "mean":
            return norm(col.mean())
        case "min":
            return norm(col.min())
        case "max":
            return norm(col.max())


def top_keys(df, field, value, n):
    sums = [
        (norm(k[0] if isinstance(k, tuple) else k), aggregate(p, value))
        for k, p in df.groupby([field], dropna=False)
    ]
    sums.sort(key=lambda kv: (kv[1] is None, -(kv[1] or 0), kv[0] is None, kv[0] or ""))
    return [k for k, _ in sums[:n]]


def expected_cells(df: pd.DataFrame, spec: PivotSpec) -> dict:
    """Return {(depth, row keys, column keys or None): values} computed with pandas."""
    for f in spec.filters:
        df = apply_filter(df, f)
    if spec.top is not None:
        keys = top_keys(df, spec.rows[0], spec.values[spec.top.value], spec.top.n)
        df = df[df[spec.rows[0]].map(norm).isin(keys)] if keys else df.iloc[0:0]
    out = {}
    for depth, collapsed in levels(len(spec.rows), len(spec.columns)):
        keys = list(spec.rows[:depth]) + ([] if collapsed else list(spec.columns))
        if not keys:
            out[(0, (), None)] = [aggregate(df, v) for v in spec.values]
            continue
        for key, part in df.groupby(keys, dropna=False, sort=False):
            key = tuple(norm(k) for k in key)
            cols = None if collapsed else key[depth:]
            out[(depth, key[:depth], cols)] = [aggregate(part, v) for v in spec.values]
    return out


def actual_cells(result: dict, spec: PivotSpec) -> dict:
    """Return {(depth, row keys, column keys or None): values} from a pivot result."""
    n, nv = len(spec.rows), len(spec.values)
    columns = [h for h in result["header"] if not h.get("total")]
    out = {}
    for rec in result["data"]:
        depth = 0 if rec["_level"] == "total" else n - rec["_level"]
        rows = tuple(rec[r] for r in spec.rows[:depth])
        assert all(rec[r] is None for r in spec.rows[depth:])
        out[(depth, rows, None)] = [rec[f"v{k}_total"] for k in range(nv)]
        for j, h in enumerate(columns):
            values = [rec[f"v{k}_c{j}"] for k in range(nv)]
            if any(v is not None for v in values):  # an empty cell is a combination with no rows
                out[(depth, rows, tuple(h["key"]))] = values
    return out


def same_records(a: list[dict], b: list[dict]) -> bool:
    """Return whether two lists of pivot records are equal (values up to rounding)."""
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(same(x[k], y[k]) for k in x) for x, y in zip(a, b, strict=True)
    )


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def assert_matches(result, expected, spec):
    got = actual_cells(result, spec)
    if not any(k[0] == len(spec.rows) and k[0] > 0 for k in expected):
        # no rows pass the filters: only the grand total remains, empty
        assert [r["_level"] for r in result["data"]] == ["total"]
    assert got.keys() == expected.keys(), (set(got) ^ set(expected), spec)
    for key, values in expected.items():
        assert all(same(g, e) for g, e in zip(got[key], values, strict=True)), (
            key,
            got[key],
            values,
        )


# -- property-based comparison with pandas ----------------------------------------------------
def _filter(data, df, dataset):
    field = data.draw(st.sampled_from(GROUPS[dataset] + MEASURES[dataset][:1]))
    present = sorted({norm(v) for v in df[field]} - {None})
    if field in MEASURES[dataset]:
        op = data.draw(st.sampled_from(["gt", "gte", "lt", "lte"]))
        value = float(df[field].quantile(data.draw(st.sampled_from([0.1, 0.5, 0.9]))))
        return PivotFilter(field, op, value)
    op = data.draw(st.sampled_from(["eq", "ne", "in", "not_in", "gte", "lt"]))
    pool = st.sampled_from(present + ["zz-none"])
    if op in ("in", "not_in"):
        value = data.draw(st.lists(pool, min_size=1, max_size=3, unique=True))
    else:
        value = data.draw(pool)
    if field == "month":  # months are filtered by the first day of the month
        to_date = lambda v: date.fromisoformat(v + "-01") if v != "zz-none" else date(1999, 1, 1)  # noqa: E731
        value = [to_date(v) for v in value] if isinstance(value, list) else to_date(value)
    return PivotFilter(field, op, value)


def _values(data, dataset):
    measure = st.tuples(st.sampled_from(MEASURES[dataset]), st.sampled_from(AGGS))
    other = st.sampled_from(
        [
            (None, "count"),
            ("customer_id", "count_distinct"),
            ("sub_branch", "count_distinct"),
            ("segment", "count"),
        ]
    )
    picked = data.draw(st.lists(st.one_of(measure, other), min_size=1, max_size=2))
    return tuple(PivotValue(field, agg) for field, agg in picked)


@settings(
    max_examples=25,
    deadline=None,
    # the schema patch and the warehouse are the same for every example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_pivots_equal_pandas(wh, rollup_wh, catalog, reference, data):
    """Random layouts, values, filters and top-N, on the facts or (when they can) the rollups."""
    warehouse = data.draw(st.sampled_from([wh, rollup_wh]))
    dataset = data.draw(st.sampled_from(sorted(GROUPS)))
    df = reference[dataset]
    fields = data.draw(
        st.lists(st.sampled_from(GROUPS[dataset]), min_size=1, max_size=3, unique=True)
    )
    n_rows = data.draw(st.integers(1, min(2, len(fields))))
    rows, columns = tuple(fields[:n_rows]), tuple(fields[n_rows : n_rows + 1])
    values = _values(data, dataset)
    filters = tuple(_filter(data, df, dataset) for _ in range(data.draw(st.integers(0, 2))))
    top = data.draw(st.one_of(st.none(), st.builds(PivotTop, st.integers(1, 4), st.just(0))))
    spec = PivotSpec(dataset, rows, columns, values, filters, top=top)
    result = run_pivot(warehouse, FullAccess(warehouse), catalog, spec, cell_limit=HUGE)
    assert not result["truncated"]
    assert_matches(result, expected_cells(df, spec), spec)


def test_leaf_cells_equal_pandas_pivot_table(wh, full, catalog, reference):
    df = reference["fact_transaction"]
    table = pd.pivot_table(
        df, index="branch", columns="channel", values="amount", aggfunc="sum", margins=True
    )
    spec = PivotSpec("fact_transaction", ("branch",), ("channel",), (PivotValue("amount", "sum"),))
    result = run_pivot(wh, full, catalog, spec, locale="zh_CN")
    columns = [h["key"][0] for h in result["header"][:-1]]
    assert columns == sorted(df["channel"].unique()) and result["header"][-1]["total"]
    for rec in result["data"]:
        index = "All" if rec["_level"] == "total" else rec["branch"]
        for j, channel in enumerate(columns):
            assert same(rec[f"v0_c{j}"], norm(table.loc[index, channel]))
        assert same(rec["v0_total"], table.loc[index, "All"])
    assert result["data"][0]["branch_label"] == "北京分行"
    assert [r["branch"] for r in result["data"][:-1]] == sorted(df["branch"].unique())


# -- fields ---------------------------------------------------------------------------------------
def test_dataset_fields(catalog):
    fields = {f["id"]: f for f in dataset_fields(catalog, "fact_transaction", "en")}
    assert fields["branch"]["kind"] == "dimension" and fields["branch"]["name"] == "Branch"
    assert fields["month"]["type"] == "date" and fields["channel"]["kind"] == "dimension"
    assert fields["amount"]["kind"] == "numeric" and "sum" in fields["amount"]["aggs"]
    assert fields["customer_id"]["aggs"] == ["count", "count_distinct"]
    assert fields["txn_date"]["kind"] == "date" and "product" not in fields
    zh = {f["id"]: f["name"] for f in dataset_fields(catalog, "fact_loan", "zh_CN")}
    assert zh["product"] == "产品" and zh["balance"] == "贷款余额"
    assert "month" not in field_map(catalog, "dim_product")
    customer = field_map(catalog, "dim_customer")
    assert customer["name"].kind == "string" and customer["month"].is_month


# -- sort, top-N and the cell limit ----------------------------------------------------------------
def _keys(result, spec):
    return [(r["_level"],) + tuple(r[f] for f in spec.rows) for r in result["data"]]


def test_sort_by_value_orders_siblings_under_their_parents(wh, full, catalog):
    spec = PivotSpec(
        "fact_transaction",
        ("region", "branch"),
        (),
        (PivotValue("amount", "sum"),),
        sort=PivotSort(value=0, descending=True),
    )
    data = run_pivot(wh, full, catalog, spec)["data"]
    regions = [r for r in data if r["_level"] == 1]
    assert [r["v0_total"] for r in regions] == sorted(
        (r["v0_total"] for r in regions), reverse=True
    )
    for region in regions:
        children = [r for r in data if r["_level"] == 0 and r["region"] == region["region"]]
        assert [c["v0_total"] for c in children] == sorted(
            (c["v0_total"] for c in children), reverse=True
        )
        assert data.index(region) == data.index(children[-1]) + 1  # subtotal after its rows
    assert data[-1]["_level"] == "total"
    by_key = run_pivot(
        wh,
        full,
        catalog,
        PivotSpec(
            spec.dataset,
            spec.rows,
            (),
            spec.values,
            sort=PivotSort(field="branch", descending=True),
        ),
    )["data"]
    first = [r["branch"] for r in by_key if r["_level"] == 0 and r["region"] == by_key[0]["region"]]
    assert first == sorted(first, reverse=True)


def test_top_n_keeps_the_first_row_field_s_best_keys(wh, full, catalog, reference):
    spec = PivotSpec(
        "fact_transaction",
        ("branch",),
        ("direction",),
        (PivotValue("amount", "sum"), PivotValue(None, "count")),
        top=PivotTop(3, 1),
    )
    result = run_pivot(wh, full, catalog, spec)
    leaves = [r["branch"] for r in result["data"] if r["_level"] == 0]
    assert leaves and sorted(leaves) == sorted(
        top_keys(reference["fact_transaction"], "branch", PivotValue(None, "count"), 3)
    )
    assert_matches(result, expected_cells(reference["fact_transaction"], spec), spec)


@pytest.mark.parametrize(
    "sort",
    [None, PivotSort(value=0, descending=True), PivotSort(field="customer_id", descending=True)],
)
def test_over_the_cell_limit_the_first_part_is_shown(wh, full, catalog, sort):
    spec = PivotSpec(
        "fact_transaction",
        ("branch", "customer_id"),
        ("direction",),
        (PivotValue("amount", "sum"),),
        sort=sort,
    )
    whole = run_pivot(wh, full, catalog, spec, cell_limit=HUGE)
    cut = run_pivot(wh, full, catalog, spec, cell_limit=600)
    assert not whole["truncated"] and cut["truncated"]
    assert cut["total_cells"] == whole["cells"] and cut["total_rows"] == len(whole["data"])
    assert cut["cells"] <= 600 + 3 and cut["shown_rows"] == len(cut["data"]) == 200 + 1
    # the first part, in the same order as the whole (ranked in the warehouse), then the total
    assert same_records(cut["data"][:-1], whole["data"][:200])
    assert same_records(cut["data"][-1:], whole["data"][-1:])
    assert cut["data"][-1]["_level"] == "total"


def test_too_many_columns_are_cut_too(wh, full, catalog):
    spec = PivotSpec(
        "fact_transaction", ("channel",), ("customer_id",), (PivotValue("amount", "sum"),)
    )
    cut = run_pivot(wh, full, catalog, spec, cell_limit=2000, max_columns=50)
    assert cut["truncated"] and cut["shown_columns"] == 50 and len(cut["header"]) == 51
    assert cut["total_columns"] > 50
    whole = run_pivot(wh, full, catalog, spec, cell_limit=HUGE, max_columns=HUGE)
    assert [h["key"] for h in cut["header"][:-1]] == [h["key"] for h in whole["header"][:50]]
    assert cut["grand_total"]["v0_total"] == pytest.approx(whole["grand_total"]["v0_total"])


def test_a_sparse_grid_is_cut_after_fetching(wh, full, catalog):
    """Few groups but many empty cells: cut in the web process, on the small grouped result."""
    spec = PivotSpec(
        "fact_transaction",
        ("customer_id",),
        ("txn_date",),
        (PivotValue("amount", "sum"),),
        filters=(PivotFilter("customer_id", "lte", 1000030),),
    )
    whole = run_pivot(wh, full, catalog, spec, cell_limit=HUGE, max_columns=HUGE)
    cut = run_pivot(wh, full, catalog, spec, cell_limit=whole["cells"] // 3, max_columns=HUGE)
    assert cut["truncated"] and cut["cells"] <= whole["cells"] // 3 + len(cut["header"])
    assert same_records(cut["data"][:-1], whole["data"][: len(cut["data"]) - 1])


# -- metrics as values ----------------------------------------------------------------------------
@pytest.mark.parametrize("metric_ids", [("deposit_balance", "customer_count"), ("npl_ratio",)])
def test_metric_values_equal_compute_metric(wh, full, catalog, metric_ids):
    period = resolve_period("this_month", date(2026, 11, 30))
    spec = PivotSpec(
        None,
        ("branch",),
        ("customer_type",),
        tuple(PivotValue(metric=m) for m in metric_ids),
        period=period,
    )
    result = run_pivot(wh, full, catalog, spec, locale="en")
    got = actual_cells(result, spec)
    for k, metric_id in enumerate(metric_ids):
        metric = catalog.metric(metric_id)
        for by, depth, collapsed in (
            (["branch", "customer_type"], 1, False),
            (["branch"], 1, True),
            (["customer_type"], 0, False),
            ([], 0, True),
        ):
            frame = compute_metric(wh, full, catalog, metric, by=by, period=period, locale="en")
            for rec in frame.to_dict("records"):
                if norm(rec["value"]) is None:
                    continue  # only a previous-period value: not shown
                rows = (rec["branch"],) if depth else ()
                cols = None if collapsed else (rec["customer_type"],)
                assert same(got[(depth, rows, cols)][k], norm(rec["value"])), (by, rec)
    assert result["data"][0]["branch_label"] == "Beijing Branch"


# -- drill-down -----------------------------------------------------------------------------------
def _all_rows(wh, tables, catalog, spec, cell):
    first = drill_down(wh, tables, catalog, spec, cell, page=1, page_size=500)
    rows = list(first["rows"])
    for page in range(2, first["pages"] + 1):
        rows += drill_down(wh, tables, catalog, spec, cell, page=page, page_size=500)["rows"]
    assert len(rows) == first["total"]
    return rows


def test_drill_down_rows_add_up_to_the_cell(wh, full, catalog):
    spec = PivotSpec(
        "fact_transaction",
        ("branch", "month"),
        ("channel",),
        (PivotValue("amount", "sum"), PivotValue(None, "count"), PivotValue("amount", "max")),
        filters=(PivotFilter("txn_type", "in", ["payroll", "consumption"]),),
        top=PivotTop(2, 0),
    )
    result = run_pivot(wh, full, catalog, spec)
    header = result["header"]
    leaf = next(r for r in result["data"] if r["_level"] == 0 and r["v1_c1"])
    subtotal = next(r for r in result["data"] if r["_level"] == 1)
    cases = [
        (
            {"branch": leaf["branch"], "month": leaf["month"], "channel": header[1]["key"][0]},
            leaf,
            "c1",
        ),
        ({"branch": subtotal["branch"]}, subtotal, "total"),
        ({}, result["grand_total"], "total"),
    ]
    for cell, record, column in cases:
        if "month" in cell:
            cell = {**cell, "month": date.fromisoformat(cell["month"] + "-01")}
        rows = _all_rows(wh, full, catalog, spec, cell)
        assert len(rows) == record[f"v1_{column}"]
        assert sum(r["amount"] for r in rows) == pytest.approx(record[f"v0_{column}"], rel=1e-9)
        assert max(r["amount"] for r in rows) == record[f"v2_{column}"]
        assert {r["txn_type"] for r in rows} <= {"payroll", "consumption"}
    page = drill_down(wh, full, catalog, spec, {}, page=2, page_size=7)
    ids = [r["txn_id"] for r in page["rows"]]
    assert len(ids) == 7 and ids == sorted(ids) and page["page"] == 2
    assert {"branch", "branch_label", "month"} <= {c["id"] for c in page["columns"]}


def test_drill_down_on_an_empty_key(wh, full, catalog):
    spec = PivotSpec("fact_budget", ("sub_branch",), (), (PivotValue("target", "sum"),))
    result = run_pivot(wh, full, catalog, spec)
    empty = next(r for r in result["data"] if r["_level"] == 0 and r["sub_branch"] is None)
    rows = _all_rows(wh, full, catalog, spec, {"sub_branch": None})
    assert sum(r["target"] for r in rows) == pytest.approx(empty["v0_total"])


# -- monthly rollups ------------------------------------------------------------------------------
def test_rollup_schemas_follow_their_facts():
    for rollup in ROLLUPS.values():
        facts = TABLES[rollup.dataset]
        assert all(facts[name] == kind for name, kind in rollup.keys)
        assert all(facts[m] == "float64" for m in rollup.measures)
        assert rollup.date_column is None or facts[rollup.date_column] == "date"


AMOUNT = [PivotValue("amount", a) for a in ("sum", "count", "mean", "min", "max")]
ROLLUP_CASES = [
    (
        PivotSpec(
            "fact_transaction",
            ("branch", "month"),
            ("channel",),
            (*AMOUNT, PivotValue(None, "count")),
        ),
        "agg_transaction_monthly",
    ),
    (
        PivotSpec(
            "fact_transaction",
            ("region",),
            ("txn_type",),
            (PivotValue("amount", "sum"),),
            (PivotFilter("month", "gte", date(2026, 6, 1)), PivotFilter("direction", "eq", "in")),
            top=PivotTop(3, 0),
        ),
        "agg_transaction_monthly",
    ),
    (
        PivotSpec(
            "fact_balance_monthly",
            ("product_category", "month"),
            (),
            (PivotValue("end_balance", "sum"),),
        ),
        "agg_balance_monthly",
    ),
    (
        PivotSpec(
            "fact_loan",
            ("city",),
            ("grade",),
            (PivotValue("balance", "mean"), PivotValue("branch_id", "count_distinct")),
        ),
        "agg_loan_monthly",
    ),
    # what a rollup does not hold is read from the facts
    (
        PivotSpec("fact_transaction", ("segment",), (), (PivotValue("amount", "sum"),)),
        "fact_transaction",
    ),
    (
        PivotSpec(
            "fact_transaction", ("branch",), (), (PivotValue("customer_id", "count_distinct"),)
        ),
        "fact_transaction",
    ),
    (
        PivotSpec(
            "fact_transaction",
            ("branch",),
            (),
            (PivotValue("amount", "sum"),),
            (PivotFilter("txn_date", "lt", date(2026, 3, 1)),),
        ),
        "fact_transaction",
    ),
    (
        PivotSpec(
            "fact_transaction",
            ("branch",),
            (),
            (PivotValue(None, "count"),),
            (PivotFilter("amount", "gt", 1000.0),),
        ),
        "fact_transaction",
    ),
]


@pytest.mark.parametrize(("spec", "source"), ROLLUP_CASES)
def test_rollups_give_the_facts_numbers(wh, rollup_wh, catalog, spec, source):
    expected = run_pivot(wh, FullAccess(wh), catalog, spec)
    for tables in (FullAccess(rollup_wh), ScopedTables(rollup_wh, BJ_CM)):
        got = run_pivot(rollup_wh, tables, catalog, spec)
        sql = rollup_wh.recent[-1].sql
        assert f'"{source}"' in sql and (source == spec.dataset or f'"{spec.dataset}"' not in sql)
        if isinstance(tables, FullAccess):
            assert same_records(got["data"], expected["data"])
        else:
            plain = run_pivot(wh, ScopedTables(wh, BJ_CM), catalog, spec)
            assert same_records(got["data"], plain["data"])


# -- scope and masking ----------------------------------------------------------------------------
def test_bj_cm_sees_only_bj_cy_rows(wh, catalog, reference):
    tables = ScopedTables(wh, BJ_CM)
    df = reference["fact_transaction"]
    spec = PivotSpec(
        "fact_transaction",
        ("branch", "sub_branch"),
        ("direction",),
        (PivotValue("amount", "sum"), PivotValue(None, "count")),
    )
    result = run_pivot(wh, tables, catalog, spec)
    assert {r["sub_branch"] for r in result["data"] if r["_level"] == 0} == {"BJ-CY"}
    assert {r["branch"] for r in result["data"] if r["_level"] != "total"} == {"BJ"}
    assert_matches(result, expected_cells(df[df["branch_id"] == "BJ-CY"], spec), spec)
    rows = drill_down(wh, tables, catalog, spec, {}, page=1, page_size=500)
    assert rows["total"] == (df["branch_id"] == "BJ-CY").sum()
    assert {r["branch_id"] for r in rows["rows"]} == {"BJ-CY"}


def test_bj_cm_drill_down_and_pivots_show_masked_pii(wh, catalog, duck):
    tables = ScopedTables(wh, BJ_CM)
    spec = PivotSpec("dim_customer", ("name",), (), (PivotValue(None, "count"),))
    names = [r["name"] for r in run_pivot(wh, tables, catalog, spec)["data"] if r["name"]]
    assert names and all(re.fullmatch(r".\*+", n) for n in names)
    spec = PivotSpec("dim_customer", ("segment",), (), (PivotValue(None, "count"),))
    rows = drill_down(wh, tables, catalog, spec, {}, page=1, page_size=500)["rows"]
    raw = dict(
        duck.execute(
            "SELECT customer_id, phone FROM dim_customer WHERE branch_id = 'BJ-CY'"
        ).fetchall()
    )
    assert len(rows) == len(raw) > 0
    for r in rows:
        assert r["branch_id"] == "BJ-CY" and r["name"].endswith("*")
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", r["phone"]) and r["phone"] != raw[r["customer_id"]]
        assert "*" in r["id_number"] and r["address"].endswith("****")
    # filtering on a PII column compares with the masked value, never the raw one
    raw_phone = next(iter(raw.values()))
    probe = PivotSpec(
        "dim_customer",
        (),
        (),
        (PivotValue(None, "count"),),
        (PivotFilter("phone", "eq", raw_phone),),
    )
    assert run_pivot(wh, tables, catalog, probe)["grand_total"]["v0_total"] == 0


# -- PostgreSQL parity ----------------------------------------------------------------------------
PARITY = [
    PivotSpec(
        "fact_transaction",
        ("branch",),
        ("channel",),
        (PivotValue("amount", "sum"), PivotValue(None, "count")),
    ),
    PivotSpec(
        "fact_loan",
        ("region", "grade"),
        (),
        (PivotValue("balance", "mean"), PivotValue("customer_id", "count_distinct")),
        filters=(PivotFilter("month", "gte", date(2026, 6, 1)),),
    ),
    PivotSpec(
        "fact_balance_monthly",
        ("product_category",),
        ("month",),
        (PivotValue("end_balance", "max"),),
        filters=(PivotFilter("segment", "in", ["mass", "affluent"]),),
        top=PivotTop(2, 0),
    ),
]


@pytest.mark.services
@pytest.mark.parametrize("spec", PARITY, ids=[s.dataset for s in PARITY])
def test_duckdb_and_postgres_agree(wh, full, catalog, pg_warehouse_url, spec):
    pg = Warehouse(pg_warehouse_url)
    try:
        duck_result = run_pivot(wh, full, catalog, spec)
        pg_result = run_pivot(pg, FullAccess(pg), catalog, spec)
        got, expected = actual_cells(pg_result, spec), actual_cells(duck_result, spec)
        assert got.keys() == expected.keys() and len(got) > 3
        for key, values in expected.items():
            assert all(same(g, e) for g, e in zip(got[key], values, strict=True)), key
        if spec is PARITY[0]:  # ASCII keys: the same order under any collation
            pg_cut = run_pivot(pg, ScopedTables(pg, BJ_CM), catalog, spec, cell_limit=10)
            duck_cut = run_pivot(wh, ScopedTables(wh, BJ_CM), catalog, spec, cell_limit=10)
            assert same_records(pg_cut["data"], duck_cut["data"])
            cut = run_pivot(pg, FullAccess(pg), catalog, spec, cell_limit=30)
            assert cut["truncated"] and same_records(cut["data"][:-1], pg_result["data"][:2])
    finally:
        pg.close()
