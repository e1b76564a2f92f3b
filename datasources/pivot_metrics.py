"""Pivots of catalog metrics: every grouping level computed by `compute_metric`.

Metrics are not additive (balances are snapshots, customers are counted distinctly, ratios
divide), so each level — leaf, each row prefix, with and without the column fields, the grand
total — is its own metric query with `by` set to that level's fields, run in the warehouse
through the metric catalog with the caller's table provider. Rows and columns must be
dimensions every metric allows.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from flask_babel import gettext as _

from datasources.metric_query import MetricFilter, compute_metric
from datasources.pivot import PivotError, PivotSpec
from datasources.pivot_layout import col_key, row_key, value_col


def levels(n_rows: int, n_cols: int) -> list[tuple[int, bool]]:
    """Return the grouping levels (row prefix length, columns collapsed), leaf first."""
    out = []
    for depth in range(n_rows, -1, -1):
        if n_cols:
            out.append((depth, False))
        out.append((depth, True))
    return out


def _metric_filters(spec: PivotSpec) -> list[MetricFilter]:
    """Return the spec's filters as the metric layer takes them (months as YYYY-MM)."""

    def plain(field: str, value):
        if value is None:
            raise PivotError(
                _("metric values cannot be filtered on empty keys"), "bad_filter_value"
            )
        if isinstance(value, date):
            return value.strftime("%Y-%m") if field == "month" else value.isoformat()
        return value

    return [
        MetricFilter(
            f.field,
            f.op,
            [plain(f.field, v) for v in f.value]
            if isinstance(f.value, list)
            else plain(f.field, f.value),
        )
        for f in spec.filters
    ]


def metric_frame(warehouse, tables, catalog, spec: PivotSpec, *, locale) -> pd.DataFrame:
    """Return the level records of a pivot of catalog metrics, one compute_metric per level."""
    metrics = [catalog.metric(v.metric) for v in spec.values]
    for metric in metrics:
        for name in spec.group + tuple(f.field for f in spec.filters):
            if name not in metric.dimensions:
                raise PivotError(
                    _(
                        "%(metric)s cannot be broken down or filtered by %(field)s",
                        metric=metric.name.get(locale),
                        field=name,
                    ),
                    "bad_dimension",
                    field=name,
                )
    if spec.period is None:
        raise PivotError(_("metric values need a period"), "invalid_period")
    filters = _metric_filters(spec)

    def run(metric, by, extra=()):
        return compute_metric(
            warehouse,
            tables,
            catalog,
            metric,
            by=list(by),
            filters=filters + list(extra),
            period=spec.period,
            locale=locale,
        )

    extra = []
    if spec.top is not None and spec.rows:
        first = run(metrics[spec.top.value], spec.rows[:1])
        first = first.sort_values(["value", spec.rows[0]], ascending=[False, True])
        keys = [k for k in first[spec.rows[0]].head(spec.top.n) if not pd.isna(k)]
        # no key at all: filter on one that cannot exist, so that every level is empty
        extra = [MetricFilter(spec.rows[0], "in", keys or ["\x00"])]
    names = {
        **{f: row_key(i) for i, f in enumerate(spec.rows)},
        **{f: col_key(j) for j, f in enumerate(spec.columns)},
    }
    frames = []
    for depth, collapsed in levels(len(spec.rows), len(spec.columns)):
        by = spec.rows[:depth] + (() if collapsed else spec.columns)
        merged = None
        for k, metric in enumerate(metrics):
            frame = run(metric, by, extra).drop(columns="previous")
            frame = frame.rename(columns={"value": value_col(k)})
            frame = frame.rename(
                columns={**names, **{f"{f}_label": f"{c}_label" for f, c in names.items()}}
            )
            on = [c for c in frame.columns if c != value_col(k)]
            if merged is None:
                merged = frame
            elif on:
                merged = merged.merge(frame, on=on, how="outer")
            else:
                merged = pd.concat([merged, frame], axis=1)
        merged["_depth"], merged["_ct"] = depth, collapsed
        frames.append(merged)
    out = pd.concat(frames, ignore_index=True)
    value_cols = [value_col(k) for k in range(len(metrics))]
    grand_total = (out["_depth"] == 0) & out["_ct"]  # kept even when empty, as for aggregations
    return out[out[value_cols].notna().any(axis=1) | grand_total].reset_index(drop=True)
