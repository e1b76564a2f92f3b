"""Dashboard chart data: a chart's metrics through the metric service, filters applied.

Every query goes through the caller's table provider (their row scope and masking). The
dashboard-wide filters apply to each metric that allows them; a filter a metric cannot take
is skipped for it and reported in the chart's notes.
"""

from __future__ import annotations

from flask_babel import gettext as _

from datasources.catalog import Catalog
from datasources.metric_query import MONTH
from portal.services.dashboard_spec import (
    DEFAULT_PERIOD,
    FILTER_FIELDS,
    MAX_ROWS,
    TREND_PERIOD,
    chart_title,
)


def effective_period(chart: dict, filters: dict):
    """Return the period a chart shows: the dashboard filter's, else its own, else a default."""
    if filters.get("period"):
        return filters["period"]
    if chart.get("period"):
        return chart["period"]
    return TREND_PERIOD if chart.get("dimension") == MONTH else DEFAULT_PERIOD


def chart_data(service, tables, chart: dict, filters: dict | None, locale: str | None) -> dict:
    """Return what a chart shows: its metrics' rows merged by dimension, plus notes.

    `service` is the MetricService, `tables` the caller's scoped table provider. Filters a
    metric does not allow are skipped for it and reported in `notes`.
    """
    catalog = service.catalog
    filters = filters or {}
    period = effective_period(chart, filters)
    notes: list[str] = []
    dims = [d for d in (chart.get("dimension"), chart.get("series_dimension")) if d]
    results = []
    for metric_id in chart["metrics"]:
        metric = catalog.metrics[metric_id]
        applied = []
        for field in FILTER_FIELDS:
            value = filters.get(field)
            if not value:
                continue
            if field in metric.dimensions:
                applied.append({"field": field, "op": "eq", "value": value})
            else:
                notes.append(
                    _(
                        "%(metric)s cannot be filtered by %(filter)s: that filter is not "
                        "applied to it.",
                        metric=metric.name.get(locale),
                        filter=catalog.dimensions[field].name.get(locale),
                    )
                )
        result = service.query(
            tables, metric_id, by=dims, filters=applied, period=period, locale=locale
        )
        if chart["type"] == "kpi":
            result["trend"] = (
                service.trend(tables, metric_id, filters=applied, locale=locale)
                if MONTH in metric.dimensions
                else None
            )
        results.append(result)
    first = results[0]
    data = {
        "id": chart["id"],
        "type": chart["type"],
        "title": chart_title(chart, catalog, locale),
        "metrics": [
            {
                "id": r["metric"],
                "name": r["name"],
                "format": r["format"],
                "unit": r["unit"],
                "higher_is_better": r["higher_is_better"],
            }
            for r in results
        ],
        "dimension": _dim_info(catalog, chart.get("dimension"), locale),
        "series_dimension": _dim_info(catalog, chart.get("series_dimension"), locale),
        "period": first["period"],
        "notes": notes,
        "truncated": False,
    }
    if chart["type"] == "kpi":
        data["result"] = {k: v for k, v in first.items() if k != "trend"}
        data["trend"] = first.get("trend")
        data["rows"] = first["rows"]
        return data
    rows = _merge(results, dims)
    rows = _order(rows, chart, dims)
    if len(rows) > MAX_ROWS:
        rows, data["truncated"] = rows[:MAX_ROWS], True
    data["rows"] = rows
    if chart["type"] == "map":
        data["coordinates"] = branch_coordinates(service.warehouse, tables, chart["dimension"])
    return data


def _dim_info(catalog: Catalog, dim: str | None, locale: str | None) -> dict | None:
    if not dim:
        return None
    return {"id": dim, "name": catalog.dimensions[dim].name.get(locale)}


def _merge(results: list[dict], dims: list[str]) -> list[dict]:
    """Return one row per dimension key: keys, labels and `values` / `previous` per metric."""
    merged: dict[tuple, dict] = {}
    n = len(results)
    for i, result in enumerate(results):
        for row in result["rows"]:
            key = tuple(row.get(d) for d in dims)
            entry = merged.get(key)
            if entry is None:
                entry = {d: row.get(d) for d in dims}
                for d in dims:
                    entry[f"{d}_label"] = row.get(f"{d}_label") or _text(row.get(d))
                entry["values"] = [None] * n
                entry["previous"] = [None] * n
                merged[key] = entry
            entry["values"][i] = row.get("value")
            entry["previous"][i] = row.get("previous")
    return list(merged.values())


def _text(value) -> str:
    return "—" if value is None else str(value)


def _order(rows: list[dict], chart: dict, dims: list[str]) -> list[dict]:
    dim = chart.get("dimension")
    if not dim:
        return rows
    if dim == MONTH:
        return sorted(rows, key=lambda r: (str(r.get(MONTH)), str(r.get(dims[-1]))))
    totals: dict = {}
    for row in rows:
        value = row["values"][0]
        totals[row.get(dim)] = totals.get(row.get(dim), 0) + (value or 0)
    ranked = sorted(totals, key=lambda k: (-totals[k], str(k)))
    if chart.get("top"):
        ranked = ranked[: chart["top"]]
    position = {k: i for i, k in enumerate(ranked)}
    kept = [r for r in rows if r.get(dim) in position]
    return sorted(kept, key=lambda r: (position[r.get(dim)], str(r.get(dims[-1]))))


def branch_coordinates(warehouse, tables, dimension: str) -> dict[str, list[float]]:
    """Return {branch or sub-branch id: [latitude, longitude]} from dim_branch."""
    level = "branch" if dimension == "branch" else "sub_branch"
    b = tables.table("dim_branch")
    expr = b.filter(b.level == level).select("branch_id", "latitude", "longitude")
    frame = warehouse.execute(expr, scope_key="dim_branch", label=f"dashboard:coords:{level}")
    return {
        str(r["branch_id"]): [float(r["latitude"]), float(r["longitude"])]
        for r in frame.to_dict(orient="records")
        if r["latitude"] is not None and r["longitude"] is not None
    }


def filter_options(warehouse, tables, locale: str | None) -> dict[str, list[dict]]:
    """Return the branch and product choices of the filters bar."""
    english = (locale or "").startswith("en")
    b = tables.table("dim_branch")
    branches = warehouse.execute(
        b.filter(b.level == "branch").select("branch_id", "branch_name", "branch_name_en"),
        scope_key="dim_branch",
        label="dashboard:branches",
    )
    p = tables.table("dim_product")
    products = warehouse.execute(
        p.select("product_code", "product_name", "product_name_en", "category"),
        scope_key="dim_product",
        label="dashboard:products",
    )
    return {
        "branch": [
            {
                "value": r["branch_id"],
                "label": r["branch_name_en"] if english else r["branch_name"],
            }
            for r in branches.sort_values("branch_id").to_dict(orient="records")
        ],
        "product": [
            {
                "value": r["product_code"],
                "label": r["product_name_en"] if english else r["product_name"],
            }
            for r in products.sort_values("product_code").to_dict(orient="records")
        ],
    }
