"""Drill down from a pivot cell to its detail rows, paged in the warehouse.

The rows of a cell are the dataset's rows that pass the pivot's filters (and its top-N cut)
and carry the cell's row and column keys; a subtotal or grand-total cell simply names fewer
keys. Rows come from the caller's table provider, so they are scoped and masked exactly as the
pivot was, and aggregating them gives the cell's value.
"""

from __future__ import annotations

import math

from flask_babel import gettext as _

from datasources.catalog import Catalog
from datasources.pivot import (
    DATASETS,
    PivotError,
    PivotSpec,
    aliases_for,
    field_map,
    key_expr,
    label_expr,
    predicate,
)
from datasources.pivot_layout import clean_scalar
from datasources.pivot_query import grouped_source, top_keys
from datasources.relations import TableProvider, build_source
from datasources.schema import TABLES

MAX_PAGE_SIZE = 500


def drill_down(
    warehouse,
    tables: TableProvider,
    catalog: Catalog,
    spec: PivotSpec,
    cell: dict,
    *,
    page: int = 1,
    page_size: int = 50,
    locale: str | None = None,
) -> dict:
    """Return one page of the detail rows behind a cell ({field: key} of its row and column)."""
    if spec.is_metric:
        raise PivotError(
            _("Drill-down works on aggregated columns, not on catalog metrics"),
            "drill_unsupported",
        )
    unknown = [name for name in cell if name not in spec.group]
    if unknown:
        raise PivotError(
            _("%(field)s is not a row or column field of this pivot", field=unknown[0][:80]),
            "bad_cell",
        )
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PivotError(
            _("page must be 1 or more and page_size 1 to %(max)d", max=MAX_PAGE_SIZE),
            "bad_page",
        )
    fields = field_map(catalog, spec.dataset)
    dataset = DATASETS[spec.dataset]
    shown = [fields[f] for f in spec.group if not fields[f].column]
    keyed = [fields[f.field] for f in spec.filters] + [fields[name] for name in cell]
    aliases = aliases_for(shown, locale) | aliases_for(keyed, locale, labels=False)
    source = build_source(tables, catalog.joins, spec.dataset, aliases)

    def key(name: str):
        return key_expr(fields[name], source, dataset.date_column)

    tests = [predicate(key(f.field), f.op, f.value) for f in spec.filters]
    tests += [predicate(key(name), "eq", value) for name, value in cell.items()]
    if spec.top is not None and spec.rows and spec.rows[0] not in cell:
        grouped = grouped_source(tables, catalog, spec, locale)
        keys = top_keys(warehouse, tables, grouped, spec, fields)
        tests.append(predicate(key(spec.rows[0]), "in", keys))
    filtered = source.filter(tests) if tests else source

    select = {c: filtered[c] for c in TABLES[spec.dataset]}
    for f in shown:
        select[f.id] = key_expr(f, filtered, dataset.date_column)
        label = label_expr(f, filtered, locale)
        if label is not None:
            select[f"{f.id}_label"] = label
    detail = filtered.select(**select)
    label = f"pivot-drill:{spec.dataset}"
    total = warehouse.execute(
        detail.aggregate(_total=detail.count()), scope_key=tables.scope_key, label=label
    )
    rows = warehouse.execute(
        detail.order_by(list(dataset.order_by)).limit(page_size, offset=(page - 1) * page_size),
        scope_key=tables.scope_key,
        label=label,
    )
    months = {f.id for f in shown if f.is_month}
    count = int(total["_total"].iloc[0])
    return {
        "columns": _columns(detail.columns, fields, locale),
        "rows": [
            {k: clean_scalar(v, k in months) for k, v in record.items()}
            for record in rows.to_dict(orient="records")
        ],
        "total": count,
        "page": page,
        "page_size": page_size,
        "pages": math.ceil(count / page_size),
    }


def _columns(names, fields, locale) -> list[dict]:
    out = []
    for name in names:
        base = name[: -len("_label")] if name.endswith("_label") and name not in fields else name
        f = fields[base]
        out.append(
            {
                "id": name,
                "name": f.name.get(locale),
                "kind": f.kind,
                "label": base != name,
            }
        )
    return out
