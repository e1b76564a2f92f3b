"""Run a pivot in the warehouse: leaf cells, subtotals and grand totals, sorted and bounded.

Aggregations are computed in one Ibis query sent through `Warehouse.execute`:

1. the table — or its monthly rollup when that holds every column needed (pivot_rollup) — is
   filtered and pre-aggregated on its own columns (join keys, grouped columns) with partial
   sums / counts / extremes, so the joins to catalog relations and the grouping by dimension
   keys run on a few grouped rows rather than on every detail row;
2. the joins are added and the leaf groups (row fields + column fields) computed;
3. every grouping level — each prefix of the row fields, with and without the column fields —
   is aggregated from the leaf groups (re-aggregating partials; count distinct levels are
   computed from the pre-aggregated rows instead) and all levels are unioned.

At most `cell_limit` cells come back: the query is fetched with a LIMIT one past the limit,
and when it overflows a second query ranks the rows and columns in the warehouse (window
functions) and returns only the first part in display order. Catalog metrics as values go
through `compute_metric`, once per grouping level (pivot_metrics).
"""

from __future__ import annotations

import ibis

from datasources.catalog import Catalog
from datasources.pivot import (
    DATASETS,
    DEFAULT_CELL_LIMIT,
    DEFAULT_MAX_COLUMNS,
    Field,
    PivotError,
    PivotSpec,
    alias_columns,
    aliases_for,
    field_map,
    key_expr,
    label_expr,
    own_columns_for,
    predicate,
)
from datasources.pivot_layout import clean_scalar, col_key, descending, layout, row_key, value_col
from datasources.pivot_metrics import levels, metric_frame
from datasources.pivot_rollup import MONTH, ROW_COUNT, rollup_table
from datasources.relations import TableProvider, relation

MONTH_COL = "_month"
ROWS = "_rows"


# -- aggregation pivots ----------------------------------------------------------------------------
def _value_type(agg: str, field: Field | None) -> str:
    if agg in ("count", "count_distinct"):
        return "int64"
    if agg == "mean":
        return "float64"
    if agg == "sum":
        return "int64" if field.dtype.startswith("int") else "float64"
    return field.dtype


def _split_filters(spec: PivotSpec, fields: dict[str, Field], locale):
    pre, post = [], []
    for flt in spec.filters:
        f = fields[flt.field]
        (post if aliases_for([f], locale, labels=False) else pre).append((flt, f))
    return pre, post


class _FactReader:
    """Stage-one keys and partial aggregates, read from the fact table itself."""

    def __init__(self, table, date_column):
        self.table, self.date_column = table, date_column

    def month(self, t):
        return t[self.date_column].truncate("M").cast("date")

    def partial(self, t, agg: str, column: str | None):
        return t.count() if column is None else getattr(t[column], agg)()


class _RollupReader:
    """The same keys and partials, read from a monthly summary table (see pivot_rollup)."""

    def __init__(self, rollup, table):
        self.rollup, self.table = rollup, table

    def month(self, t):
        if self.rollup.date_column:
            return t[MONTH]
        return t[self.rollup.month_column].truncate("M").cast("date")

    def partial(self, t, agg: str, column: str | None):
        if column is None:
            return t[ROW_COUNT].sum()
        combine = "sum" if agg == "count" else agg
        return getattr(t[self.rollup.partial(agg, column)], combine)()


def _stage_one(tables, spec: PivotSpec, fields, locale, dims, valued, pre, join_keys):
    """Return the filtered rows grouped by the columns the rest of the query needs.

    Keys: join keys, own columns of the fields, `_month`, `_d{k}` columns to count distinctly.
    Partials: `_rows`, `_s{k}` sums, `_n{k}` counts, `_m{k}` minima / maxima. They are read
    from the dataset's monthly rollup when it holds everything needed, else from the facts.
    """
    dataset = DATASETS[spec.dataset]
    columns = set(join_keys)
    for f in dims:
        columns |= own_columns_for(f, locale)
    month = any(f.is_month for f in dims)
    distinct = {
        f"_d{k}": f.column for k, v, f in valued if f and f.column and v.agg == "count_distinct"
    }
    partials: dict[str, tuple[str, str | None]] = {}
    if any(f is None or (not f.column and v.agg == "count") for _k, v, f in valued):
        partials[ROWS] = ("count", None)
    for k, v, f in valued:
        if f is not None and f.column and v.agg != "count_distinct":
            if v.agg in ("sum", "mean"):
                partials[f"_s{k}"] = ("sum", f.column)
            if v.agg in ("count", "mean"):
                partials[f"_n{k}"] = ("count", f.column)
            if v.agg in ("min", "max"):
                partials[f"_m{k}"] = (v.agg, f.column)
    filtered = {c for _flt, f in pre if not f.is_month for c in own_columns_for(f, locale)}
    found = rollup_table(
        tables,
        spec.dataset,
        columns=columns | set(distinct.values()) | filtered,
        month=month or any(f.is_month for _flt, f in pre),
        measures={c for _agg, c in partials.values() if c},
    )
    if found:
        reader = _RollupReader(*found)
    else:
        reader = _FactReader(tables.table(spec.dataset), dataset.date_column)
    t = reader.table
    if pre:
        t = t.filter(
            [
                predicate(reader.month(t) if f.is_month else key_expr(f, t), flt.op, flt.value)
                for flt, f in pre
            ]
        )
    keys = {c: t[c] for c in sorted(columns)}
    keys.update({name: t[c] for name, c in distinct.items()})
    if month:
        keys[MONTH_COL] = reader.month(t)
    aggs = {name: reader.partial(t, agg, c) for name, (agg, c) in partials.items()}
    if not keys:
        return t.aggregate(**(aggs or {ROWS: reader.partial(t, "count", None)}))
    if aggs:
        return t.group_by(**keys).aggregate(**aggs)
    return t.select(**keys).distinct()


def grouped_source(tables: TableProvider, catalog: Catalog, spec: PivotSpec, locale=None):
    """Return the pre-aggregated, joined and filtered rows with keys and partial measures.

    Columns: `_r{i}` / `_c{j}` keys (and `_label`s), and per value k the partials it needs:
    `_s{k}` sums, `_n{k}` counts, `_m{k}` extremes, `_d{k}` the values to count distinctly.
    """
    fields = field_map(catalog, spec.dataset)
    pre, post = _split_filters(spec, fields, locale)
    group = [fields[g] for g in spec.group]
    valued = [(k, v, fields[v.field] if v.field else None) for k, v in enumerate(spec.values)]
    dims = group + [f for _flt, f in post] + [f for _k, _val, f in valued if f and not f.column]
    aliases = alias_columns(group + [f for _k, _val, f in valued if f], locale)
    for alias, columns in alias_columns([f for _flt, f in post], locale, labels=False).items():
        aliases.setdefault(alias, set()).update(columns)
    join_keys = {catalog.joins[a].on for a in aliases}
    base = _stage_one(tables, spec, fields, locale, dims, valued, pre, join_keys)

    for alias in sorted(aliases):
        join = catalog.joins[alias]
        other = relation(tables, join.table)
        other = other.select(
            **{f"{alias}__{c}": other[c] for c in sorted(aliases[alias] | {join.on})}
        )
        base = base.left_join(other, base[join.on] == other[f"{alias}__{join.on}"])
    if post:
        base = base.filter(
            [predicate(key_expr(f, base, month_column=MONTH_COL), t.op, t.value) for t, f in post]
        )

    select = {}
    for prefix, names in ((row_key, spec.rows), (col_key, spec.columns)):
        for i, name in enumerate(names):
            f = fields[name]
            select[prefix(i)] = key_expr(f, base, month_column=MONTH_COL)
            label = label_expr(f, base, locale)
            if label is not None:
                select[prefix(i) + "_label"] = label.cast("string")
    for k, v, f in valued:
        if f is None:
            select[f"_n{k}"] = base[ROWS]
        elif not f.column:
            key = key_expr(f, base, month_column=MONTH_COL)
            if v.agg == "count":
                select[f"_n{k}"] = ibis.ifelse(key.notnull(), base[ROWS], 0)
            else:
                select[f"_d{k}"] = key
        else:
            select.update(
                {p: base[p] for p in (f"_s{k}", f"_n{k}", f"_m{k}", f"_d{k}") if p in base.columns}
            )
    return base.select(**select)


def final_value(t, k: int, agg: str, field: Field | None):
    """Return value k's aggregate over rows holding its partials (see `grouped_source`)."""
    match agg:
        case "sum":
            expr = t[f"_s{k}"].sum()
        case "count":
            expr = t[f"_n{k}"].sum().fill_null(0)
        case "mean":
            expr = t[f"_s{k}"].sum() / t[f"_n{k}"].sum().nullif(0)
        case "min":
            expr = t[f"_m{k}"].min()
        case "max":
            expr = t[f"_m{k}"].max()
        case "count_distinct":
            expr = t[f"_d{k}"].nunique()
        case _:
            raise PivotError(f"unknown aggregation {agg!r}", "unknown_agg")
    return expr.cast(_value_type(agg, field))


def _finals(t, spec: PivotSpec, fields: dict[str, Field]) -> dict:
    return {
        value_col(k): final_value(t, k, v.agg, fields[v.field] if v.field else None)
        for k, v in enumerate(spec.values)
    }


def _key_columns(spec: PivotSpec, schema) -> list[tuple[str, bool, int]]:
    """Return (column, is a row key, field index) for every key and label column."""
    out = []
    for prefix, is_row, count in (
        (row_key, True, len(spec.rows)),
        (col_key, False, len(spec.columns)),
    ):
        for i in range(count):
            out.append((prefix(i), is_row, i))
            if prefix(i) + "_label" in schema:
                out.append((prefix(i) + "_label", is_row, i))
    return out


def union_levels(g, spec: PivotSpec, fields: dict[str, Field]):
    """Return every grouping level of `g` (from `grouped_source`) as one unioned relation.

    Without count distinct, the leaf groups are computed once and every level re-aggregates
    their partials; with it, each level is grouped from `g` itself.
    """
    schema = g.schema()
    key_cols = _key_columns(spec, schema)
    names = [name for name, _is_row, _i in key_cols]
    if all(v.agg != "count_distinct" for v in spec.values):
        partials = {}
        for k, v in enumerate(spec.values):
            for p in (f"_s{k}", f"_n{k}"):
                if p in g.columns:
                    partials[p] = g[p].sum()
            if f"_m{k}" in g.columns:
                partials[f"_m{k}"] = getattr(g[f"_m{k}"], v.agg)()
        g = g.group_by(names).aggregate(**partials) if names else g.aggregate(**partials)
    parts = []
    for depth, collapsed in levels(len(spec.rows), len(spec.columns)):
        keys = [
            name
            for name, is_row, i in key_cols
            if (is_row and i < depth) or (not is_row and not collapsed)
        ]
        finals = _finals(g, spec, fields)
        agg = g.group_by(keys).aggregate(**finals) if keys else g.aggregate(**finals)
        out = {c: agg[c] if c in keys else ibis.null(schema[c]) for c in names}
        out["_depth"] = ibis.literal(depth, "int32")
        out["_ct"] = ibis.literal(collapsed)
        out.update({value_col(k): agg[value_col(k)] for k in range(len(spec.values))})
        parts.append(agg.select(**out))
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def top_keys(warehouse, tables, g, spec: PivotSpec, fields) -> list:
    """Return the first row field's top-N keys by the chosen value, ranked in the warehouse."""
    k = spec.top.value
    v = spec.values[k]
    measure = final_value(g, k, v.agg, fields[v.field] if v.field else None)
    ranked = (
        g.group_by(row_key(0))
        .aggregate(_m=measure)
        .order_by([ibis.desc("_m", nulls_first=False), ibis.asc(row_key(0), nulls_first=False)])
        .limit(spec.top.n)
    )
    frame = warehouse.execute(ranked, scope_key=tables.scope_key, label=f"pivot-top:{spec.dataset}")
    return [clean_scalar(v) for v in frame[row_key(0)]]


def ranked_levels(u, spec: PivotSpec, cell_limit: int, max_columns: int):
    """Return the first part of `u` in display order, ranked and cut in the warehouse."""
    n, m, nv = len(spec.rows), len(spec.columns), len(spec.values)
    sort = spec.sort
    by_value = sort is not None and sort.value is not None
    extra = {}
    for i in range(n):
        flag = u._depth <= i
        extra[f"_f{i}"] = flag
        if by_value:
            own = (u._depth == i + 1) & u._ct
            v = u[value_col(sort.value)]
            window = ibis.window(group_by=[u[row_key(j)] for j in range(i + 1)] + [flag])
            extra[f"_s{i}"] = ibis.ifelse(own, v, ibis.null(v.type())).max().over(window)
    t = u.mutate(**extra) if extra else u
    order = []
    for i in range(n):
        order.append(ibis.asc(t[f"_f{i}"]))
        if by_value:
            order.append(_direction(t[f"_s{i}"], sort.descending))
        order.append(_direction(t[row_key(i)], descending(sort, spec.rows[i])))
    ranks = {"_rank": ibis.dense_rank().over(order_by=order) if order else ibis.literal(0)}
    if m:
        col_order = [_direction(t[col_key(j)], descending(sort, spec.columns[j])) for j in range(m)]
        ranks["_crank"] = ibis.dense_rank().over(group_by=t._ct, order_by=col_order)
    t = t.mutate(**ranks)
    is_col = ibis.ifelse((t._depth == 0) & ~t._ct, 1, 0)
    n_cols = is_col.sum().over() if m else ibis.literal(0)
    t = t.mutate(_grid=t._rank.max().over() + 1, _ncols=n_cols)
    shown = ibis.least(t._ncols, max_columns)
    width = ((shown + 1) if m else ibis.literal(1)) * nv
    max_rows = ibis.greatest(1, ibis.literal(cell_limit) // width)
    keep = (t._rank < max_rows) | (t._depth == 0)
    if m:
        keep = keep & (t._ct | (t._crank < max_columns))
    return t.filter(keep).drop(*[c for c in extra])


def _direction(expr, descending: bool):
    return ibis.desc(expr, nulls_first=False) if descending else ibis.asc(expr, nulls_first=False)


def aggregate_frame(warehouse, tables, catalog, spec, *, locale, cell_limit, max_columns):
    """Return the pivot's level records, and whether they were ranked and cut in the warehouse."""
    fields = field_map(catalog, spec.dataset)
    g = grouped_source(tables, catalog, spec, locale)
    if spec.top is not None and spec.rows:
        g = g.filter(predicate(g[row_key(0)], "in", top_keys(warehouse, tables, g, spec, fields)))
    u = union_levels(g, spec, fields)
    max_records = max(1, cell_limit // len(spec.values))
    label = f"pivot:{spec.dataset}"
    frame = warehouse.execute(u.limit(max_records + 1), scope_key=tables.scope_key, label=label)
    if len(frame) <= max_records:
        return frame, False
    cut = ranked_levels(u, spec, cell_limit, max_columns)
    return warehouse.execute(cut, scope_key=tables.scope_key, label=label + ":ranked"), True


# -- entry point -----------------------------------------------------------------------------------
def run_pivot(
    warehouse,
    tables: TableProvider,
    catalog: Catalog,
    spec: PivotSpec,
    *,
    locale: str | None = None,
    cell_limit: int = DEFAULT_CELL_LIMIT,
    max_columns: int = DEFAULT_MAX_COLUMNS,
) -> dict:
    """Return the pivot's header, ordered row records (subtotals, grand total) and limits."""
    if spec.is_metric:
        frame, ranked = metric_frame(warehouse, tables, catalog, spec, locale=locale), False
        fields = {}
    else:
        fields = field_map(catalog, spec.dataset)
        frame, ranked = aggregate_frame(
            warehouse,
            tables,
            catalog,
            spec,
            locale=locale,
            cell_limit=cell_limit,
            max_columns=max_columns,
        )
    return layout(
        frame, spec, fields, ranked=ranked, cell_limit=cell_limit, max_columns=max_columns
    )
