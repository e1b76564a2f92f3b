"""Build and run the Ibis queries that compute catalog metrics.

`compute_metric` returns, for one metric, a DataFrame with one row per combination of the
requested dimensions: the dimension keys (and labels), `value` for the period and `previous`
for the period before. Aggregation always runs in the warehouse; only the grouped rows come
back. Snapshot metrics (balances) take the period's last month-end, flow metrics sum over it.
With the month dimension, `previous` is the month before in the same series.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd
from flask_babel import gettext as _

from datasources.catalog import Catalog, Dimension, Metric
from datasources.errors import QueryError
from datasources.formula import (
    JOIN_SEPARATOR,
    FormulaError,
    column_resolver,
    compile_formula,
    referenced_names,
)
from datasources.metric_rollup import RollupPlan, month_aligned
from datasources.periods import Period, add_months, last_month_end_on_or_before, month_ends_between
from datasources.relations import TableProvider, build_source

FILTER_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")
MONTH = "month"
BUCKET = "_bucket"


class MetricQueryError(QueryError):
    """A request the catalog cannot answer (unknown dimension, bad filter); says why."""


@dataclass(frozen=True)
class MetricFilter:
    field: str
    op: str
    value: object


def _aliases(formulas) -> set[str]:
    found = set()
    for f in formulas:
        if f:
            found |= {
                r.split(JOIN_SEPARATOR, 1)[0] for r in referenced_names(f) if JOIN_SEPARATOR in r
            }
    return found


def normalise_filters(metric: Metric, catalog: Catalog, filters) -> list[MetricFilter]:
    """Check filters against the metric's dimensions; return them as MetricFilter."""
    out = []
    for raw in filters or []:
        if not isinstance(raw, dict) or not {"field", "value"} <= set(raw):
            raise MetricQueryError(_("a filter needs 'field', 'op' and 'value'"), "bad_filter")
        field, op, value = raw["field"], raw.get("op", "eq"), raw["value"]
        if field not in metric.dimensions:
            raise MetricQueryError(
                f"cannot filter {metric.id} by '{field}'",
                "bad_filter_field",
                field=field,
                metric=metric.id,
            )
        if op not in FILTER_OPS:
            raise MetricQueryError(
                _("unknown filter operator %(op)s", op=repr(op)[:20]), "bad_filter_op", op=op
            )
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > 1000:
                raise MetricQueryError(
                    _(
                        "filter %(field)s %(op)s needs a list of 1 to 1000 values",
                        field=field,
                        op=op,
                    ),
                    "bad_filter_value",
                )
            if not all(isinstance(v, str | int | float) for v in value):
                raise MetricQueryError(
                    _("filter %(field)s values must be plain values", field=field),
                    "bad_filter_value",
                )
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            raise MetricQueryError(
                _("filter %(field)s needs a plain value", field=field), "bad_filter_value"
            )
        out.append(MetricFilter(field, op, value))
    return out


def _apply_op(expr, op: str, value):
    match op:
        case "eq":
            return expr == value
        case "ne":
            return expr != value
        case "in":
            return expr.isin(value)
        case "not_in":
            return expr.notin(value)
        case "gt":
            return expr > value
        case "gte":
            return expr >= value
        case "lt":
            return expr < value
        case "lte":
            return expr <= value
    raise MetricQueryError(
        _("unknown filter operator %(op)s", op=repr(op)[:20]), "bad_filter_op", op=op
    )


def _month_key(time_col):
    return time_col.truncate("M").cast("date")


def _period_parts(metric: Metric, period: Period, by_month: bool):
    """Return functions of the time column: the period predicate and the group key."""
    if metric.time_grain == "snapshot":
        if by_month:
            months = month_ends_between(add_months(period.start, -1), period.end)
        else:
            months = [
                last_month_end_on_or_before(period.end),
                last_month_end_on_or_before(period.previous_end),
            ]

        def predicate(t):
            return t.isin(months)

        def is_current(t):
            return t == months[0]
    else:
        start = add_months(period.start, -1) if by_month else period.previous_start

        def predicate(t):
            return t.between(start, period.end)

        def is_current(t):
            return t >= period.start

    if by_month:
        return predicate, MONTH, _month_key
    return predicate, BUCKET, lambda t: ibis.ifelse(is_current(t), "current", "previous")


def metric_expression(
    tables: TableProvider,
    catalog: Catalog,
    metric: Metric,
    by: list[str],
    filters: list[MetricFilter],
    period: Period,
    locale: str | None = None,
    *,
    use_rollups: bool = True,
):
    """Return the Ibis expression for a formula metric (not a ratio).

    Uses the aggregate-then-join plan (datasources/preaggregate.py) when the formula allows —
    reading the fact's monthly rollup when it holds everything (datasources/metric_rollup.py).
    A query that joins nothing and cannot use a rollup (a distinct count of customers over
    the whole bank, say) groups the facts once instead: the same numbers without an extra
    grouping pass over millions of rows. Formulas the two-stage plan cannot split join the
    dimensions to the facts first.
    """
    dims: list[Dimension] = [catalog.dimensions[d] for d in by]
    try:
        plan = _two_stage_plan(tables, catalog, metric, dims, filters, period, locale)
    except FormulaError:
        return _plain_expression(tables, catalog, metric, dims, filters, period, locale)
    plan.enabled = use_rollups
    if plan.choice().table is None and not plan.aliases:
        return _plain_expression(tables, catalog, metric, dims, filters, period, locale)
    return _finish_two_stage(plan, metric, dims, locale)


def _filter_predicate(f: MetricFilter, dim: Dimension, column, time_col):
    if dim.time:
        value = (
            [_month_value(v) for v in f.value]
            if isinstance(f.value, list)
            else _month_value(f.value)
        )
        return _apply_op(_month_key(time_col), f.op, value)
    return _apply_op(compile_formula(dim.key, column), f.op, f.value)


def _group_columns(dims: list[Dimension], column, locale) -> dict:
    group = {}
    for dim in dims:
        if dim.time:
            continue
        group[dim.id] = compile_formula(dim.key, column)
        label = dim.label_for(locale)
        if label:
            group[f"{dim.id}_label"] = compile_formula(label, column)
    return group


def _two_stage_expression(
    tables, catalog, metric, dims, filters, period, locale, *, use_rollups: bool = True
):
    plan = _two_stage_plan(tables, catalog, metric, dims, filters, period, locale)
    plan.enabled = use_rollups
    return _finish_two_stage(plan, metric, dims, locale)


def _two_stage_plan(tables, catalog, metric, dims, filters, period, locale) -> RollupPlan:
    """Collect what stage 1 of the aggregate-then-join plan needs; raises FormulaError."""
    by_month = any(d.time for d in dims)
    time_name = metric.time_column
    plan = RollupPlan(
        tables,
        catalog.joins,
        metric.table,
        time_name,
        whole_months=month_aligned(period, by_month),
    )
    predicate, time_key, time_value = _period_parts(metric, period, by_month)
    # The period and month filters: whole months by construction, a rollup's month answers them.
    plan.filter_stage1_on(set(), lambda t: predicate(t[time_name]))
    plan.add_key(time_key, lambda t: time_value(t[time_name]))

    if metric.filter:
        if plan.is_base_only(metric.filter):
            plan.filter_stage1_on(
                referenced_names(metric.filter),
                lambda t: compile_formula(metric.filter, column_resolver(t)),
            )
        else:
            plan.need_formula(metric.filter)
            plan.late_formulas.append(metric.filter)
    for f in filters:
        dim = catalog.dimensions[f.field]
        if dim.time or plan.is_base_only(dim.key):
            plan.filter_stage1_on(
                set() if dim.time else referenced_names(dim.key),
                lambda t, f=f, dim=dim: _filter_predicate(f, dim, column_resolver(t), t[time_name]),
            )
        else:
            plan.need_formula(dim.key)
            plan.late_filters.append((f, dim))
    for dim in dims:
        for formula in (dim.key, dim.label_for(locale)):
            if formula and not dim.time:
                plan.need_formula(formula)
    plan.need_measure(metric.expression)
    return plan


def _finish_two_stage(plan: RollupPlan, metric, dims, locale):
    """Build both stages of a collected plan: join, late filters, group, finish the measure."""
    time_key = MONTH if any(d.time for d in dims) else BUCKET
    source = plan.stage2_source()
    column = column_resolver(source)
    predicates = [compile_formula(text, column) for text in plan.late_formulas]
    predicates += [_filter_predicate(f, dim, column, None) for f, dim in plan.late_filters]
    filtered = source.filter(predicates) if predicates else source
    column = column_resolver(filtered)
    group = (
        {time_key: filtered[time_key]} if time_key == BUCKET or any(d.time for d in dims) else {}
    )
    group.update(_group_columns(dims, column, locale))
    return filtered.group_by(**group).aggregate(value=plan.finish(filtered, metric.expression))


def _plain_expression(tables, catalog, metric, dims, filters, period, locale):
    filter_dims = [catalog.dimensions[f.field] for f in filters]
    formulas = [metric.expression, metric.filter]
    for dim in dims + filter_dims:
        formulas += [dim.key, dim.label_for(locale)]
    source = build_source(tables, catalog.joins, metric.table, _aliases(formulas))
    column = column_resolver(source)
    time_col = source[metric.time_column]

    predicate, time_key, time_value = _period_parts(metric, period, any(d.time for d in dims))
    predicates = [predicate(time_col)]
    if metric.filter:
        predicates.append(compile_formula(metric.filter, column))
    predicates += [
        _filter_predicate(f, dim, column, time_col)
        for f, dim in zip(filters, filter_dims, strict=True)
    ]

    filtered = source.filter(predicates)
    group = {time_key: time_value(filtered[metric.time_column])}
    group.update(_group_columns(dims, column_resolver(filtered), locale))
    measure = compile_formula(metric.expression, column_resolver(filtered))
    return filtered.group_by(**group).aggregate(value=measure)


def _month_value(value) -> date:
    try:
        text = str(value)
        return date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise MetricQueryError(
            _("month %(value)s is not YYYY-MM", value=repr(value)[:20]), "bad_filter_value"
        ) from None


def compute_metric(
    warehouse,
    tables: TableProvider,
    catalog: Catalog,
    metric: Metric,
    *,
    by: list[str] | None = None,
    filters: list[MetricFilter] | None = None,
    period: Period,
    locale: str | None = None,
    use_rollups: bool = True,
) -> pd.DataFrame:
    """Return dimension columns plus `value` and `previous` for the period and the one before.

    `use_rollups=False` reads the facts even where a monthly rollup could answer (tests and
    benchmarks compare the two).
    """
    by = list(by or [])
    filters = list(filters or [])
    for d in by:
        if d not in metric.dimensions:
            raise MetricQueryError(
                _(
                    "%(metric)s cannot be broken down by %(dimension)s",
                    metric=metric.id,
                    dimension=d,
                ),
                "bad_dimension",
                dimension=d,
                metric=metric.id,
            )
    if len(set(by)) != len(by):
        raise MetricQueryError(_("a dimension is repeated in 'by'"), "bad_dimension")
    if metric.is_ratio:
        num = compute_metric(
            warehouse,
            tables,
            catalog,
            catalog.metric(metric.numerator),
            by=by,
            filters=filters,
            period=period,
            locale=locale,
            use_rollups=use_rollups,
        )
        den = compute_metric(
            warehouse,
            tables,
            catalog,
            catalog.metric(metric.denominator),
            by=by,
            filters=filters,
            period=period,
            locale=locale,
            use_rollups=use_rollups,
        )
        return _divide(num, den, by)
    expr = metric_expression(
        tables, catalog, metric, by, filters, period, locale, use_rollups=use_rollups
    )
    frame = warehouse.execute(
        _canonical(expr), scope_key=tables.scope_key, label=f"metric:{metric.id}"
    )
    return _shape(frame, by, period)


_SEEN = threading.local()
SEEN_EXPRESSIONS = 512


def _canonical(expr):
    """Return the first expression this thread built that equals `expr` (else `expr` itself).

    Every request builds its metric expressions anew; the warehouse memoises compiled SQL per
    expression object, so handing it the same object again for an equal expression (Ibis
    operations compare structurally) skips compiling it again. Kept per thread: a table
    expression is bound to the thread's own warehouse cursor.
    """
    seen = getattr(_SEEN, "exprs", None)
    if seen is None:
        seen = _SEEN.exprs = OrderedDict()
    try:
        key = expr.op()
        found = seen.get(key)
    except TypeError:  # an unhashable literal somewhere: nothing to share
        return expr
    if found is not None:
        seen.move_to_end(key)
        return found
    seen[key] = expr
    if len(seen) > SEEN_EXPRESSIONS:
        seen.popitem(last=False)
    return expr


def _dim_columns(frame: pd.DataFrame, by: list[str]) -> list[str]:
    cols = []
    for d in by:
        cols.append(d)
        if f"{d}_label" in frame.columns:
            cols.append(f"{d}_label")
    return cols


def _shape(frame: pd.DataFrame, by: list[str], period: Period) -> pd.DataFrame:
    dim_cols = _dim_columns(frame, by)
    if MONTH in by:
        frame = frame.copy()
        frame[MONTH] = pd.to_datetime(frame[MONTH]).dt.strftime("%Y-%m")
        others = [c for c in dim_cols if c != MONTH]
        frame = frame.sort_values(others + [MONTH], na_position="last")
        grouped = frame.groupby(others, dropna=False)["value"] if others else frame["value"]
        frame["previous"] = grouped.shift(1)
        # The month before the period is only there to give the first month its previous value.
        frame = frame[frame[MONTH] >= period.start.strftime("%Y-%m")]
        return frame[dim_cols + ["value", "previous"]].reset_index(drop=True)
    if not dim_cols:
        current = frame.loc[frame[BUCKET] == "current", "value"]
        previous = frame.loc[frame[BUCKET] == "previous", "value"]
        return pd.DataFrame(
            {
                "value": [current.iloc[0] if len(current) else None],
                "previous": [previous.iloc[0] if len(previous) else None],
            }
        )
    wide = frame.pivot_table(
        index=dim_cols, columns=BUCKET, values="value", aggfunc="sum", dropna=False
    )
    wide = wide.reindex(columns=["current", "previous"])
    wide.columns = ["value", "previous"]
    wide = wide.reset_index()
    return wide[wide["value"].notna() | wide["previous"].notna()].reset_index(drop=True)


def _divide(num: pd.DataFrame, den: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    keys = [d for d in by]
    if not keys:
        return pd.DataFrame(
            {
                "value": [_safe_div(num["value"].iloc[0], den["value"].iloc[0])],
                "previous": [_safe_div(num["previous"].iloc[0], den["previous"].iloc[0])],
            }
        )
    label_cols = [c for c in den.columns if c.endswith("_label")]
    merged = den.merge(
        num.drop(columns=[c for c in num.columns if c.endswith("_label")]),
        on=keys,
        how="left",
        suffixes=("_den", "_num"),
    )
    out = merged[keys + label_cols].copy()
    out["value"] = [
        _safe_div(n, d) for n, d in zip(merged["value_num"], merged["value_den"], strict=True)
    ]
    out["previous"] = [
        _safe_div(n, d) for n, d in zip(merged["previous_num"], merged["previous_den"], strict=True)
    ]
    ordered = _dim_columns(out, by)
    return out[ordered + ["value", "previous"]]


def _safe_div(n, d):
    if n is None or d is None or pd.isna(d) or d == 0:
        return None
    return float(0 if pd.isna(n) else n) / float(d)
