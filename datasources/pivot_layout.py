"""Shape a pivot's level records into what a grid shows: header, ordered rows, cut at the limit.

Level records (one per grouping level, row keys and column keys, `_depth` = how many row
fields are kept, `_ct` = columns collapsed) become one record per grid row: the leaf rows,
each subtotal right after the rows it sums, and the grand total last. Siblings are ordered by
key or by a value's row total (parents by their own subtotal). When the grid has more cells
than the limit, only its first rows (and columns) in that order are kept, plus the grand
total; records already ranked in the warehouse (`_rank`, `_crank`) keep the warehouse order.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

import pandas as pd
from flask_babel import gettext as _

from datasources.pivot import PivotSpec


def row_key(i: int) -> str:
    """Return the internal name of row field i's key column."""
    return f"_r{i}"


def col_key(j: int) -> str:
    """Return the internal name of column field j's key column."""
    return f"_c{j}"


def value_col(k: int) -> str:
    """Return the internal name of value k's column."""
    return f"_v{k}"


def descending(sort, field_id: str) -> bool:
    """Return whether `field_id` is sorted in descending order."""
    return sort is not None and sort.field == field_id and sort.descending


def clean_scalar(value, month: bool = False):
    """Return a JSON-ready scalar: NaN/NA -> None, numpy -> Python, dates ISO (months YYYY-MM)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m") if month else value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):
        value = value.item()
    return value


def _compare(a, b, desc: bool) -> int:
    """Compare two keys or values, NULLs last in either direction (as the SQL ranking does)."""
    if a == b or (a is None and b is None):
        return 0
    if a is None:
        return 1
    if b is None:
        return -1
    less = a < b
    return (1 if less else -1) if desc else (-1 if less else 1)


def _order_grid(grid: dict, spec: PivotSpec) -> list:
    """Order grid rows: parents after their children, siblings by key or by a value."""
    n, sort = len(spec.rows), spec.sort
    by_value = sort is not None and sort.value is not None

    def components(gkey):
        depth, keys = gkey[0], gkey[1:]
        out = []
        for i in range(n):
            collapsed = depth <= i
            out.append((collapsed, False))
            if by_value:
                parent = grid.get((i + 1,) + keys[: i + 1]) if not collapsed else None
                total = parent["total"] if parent else None
                out.append((total[sort.value] if total else None, sort.descending))
            out.append((None if collapsed else keys[i], descending(sort, spec.rows[i])))
        return out

    def cmp(a, b):
        for (x, desc), (y, _d) in zip(components(a), components(b), strict=True):
            result = _compare(x, y, desc)
            if result:
                return result
        return 0

    return sorted(grid, key=functools.cmp_to_key(cmp))


def _order_columns(columns: dict, spec: PivotSpec) -> list:
    """Order column tuples by their keys (descending for a column field sorted so)."""

    def cmp(a, b):
        for j, (x, y) in enumerate(zip(a, b, strict=True)):
            result = _compare(x, y, descending(spec.sort, spec.columns[j]))
            if result:
                return result
        return 0

    return sorted(columns, key=functools.cmp_to_key(cmp))


def layout(
    frame: pd.DataFrame,
    spec: PivotSpec,
    fields: dict,
    *,
    ranked: bool,
    cell_limit: int,
    max_columns: int,
) -> dict:
    """Shape level records into header columns and ordered row records, cutting at the limit."""
    m, nv = len(spec.columns), len(spec.values)
    grid: dict[tuple, dict] = {}
    columns: dict[tuple, dict] = {}
    month = {name: fields.get(f) is not None and fields[f].is_month for f, name in _names(spec)}
    for rec in frame.to_dict(orient="records"):
        depth, collapsed = int(rec["_depth"]), bool(rec["_ct"])
        keys = tuple(clean_scalar(rec[row_key(i)], month[row_key(i)]) for i in range(depth))
        row = grid.setdefault(
            (depth, *keys),
            {
                "labels": tuple(clean_scalar(rec.get(row_key(i) + "_label")) for i in range(depth)),
                "cells": {},
                "total": None,
                "rank": rec.get("_rank"),
            },
        )
        values = [clean_scalar(rec[value_col(k)]) for k in range(nv)]
        if collapsed:
            row["total"] = values
        else:
            ckey = tuple(clean_scalar(rec[col_key(j)], month[col_key(j)]) for j in range(m))
            row["cells"][ckey] = values
            columns.setdefault(
                ckey,
                {
                    "labels": tuple(
                        clean_scalar(
                            rec.get(col_key(j) + "_label", rec[col_key(j)]), month[col_key(j)]
                        )
                        for j in range(m)
                    ),
                    "rank": rec.get("_crank"),
                },
            )
    if ranked and len(frame):
        order = sorted(grid, key=lambda g: grid[g]["rank"])
        col_order = sorted(columns, key=lambda c: columns[c]["rank"])
        n_grid, n_cols = int(frame["_grid"].iloc[0]), int(frame["_ncols"].iloc[0])
    else:
        order, col_order = _order_grid(grid, spec), _order_columns(columns, spec)
        n_grid, n_cols = len(order), len(col_order)
    col_order = col_order[:max_columns]
    width = ((len(col_order) + 1) if m else 1) * nv
    max_rows = max(1, cell_limit // width)
    kept = [g for i, g in enumerate(order) if i < max_rows or g[0] == 0]
    header = [
        {
            "id": f"c{j}",
            "key": list(c),
            "label": [str(x) if x is not None else None for x in columns[c]["labels"]],
        }
        for j, c in enumerate(col_order)
    ]
    header.append({"id": "total", "key": [], "label": [_("Total")], "total": True})
    labelled = {i for i in range(len(spec.rows)) if row_key(i) + "_label" in frame.columns}
    data = [_record(g, grid[g], spec, col_order, nv, labelled) for g in kept]
    full_width = ((n_cols + 1) if m else 1) * nv
    return {
        "header": header,
        "data": data,
        "grand_total": next((r for r in data if r["_level"] == "total"), None),
        "truncated": len(kept) < n_grid or len(col_order) < n_cols,
        "cells": len(data) * width,
        "total_cells": n_grid * full_width,
        "shown_rows": len(kept),
        "total_rows": n_grid,
        "shown_columns": len(col_order),
        "total_columns": n_cols,
    }


def _names(spec: PivotSpec):
    """Return (field id, internal key column) for the row then the column fields."""
    return [(f, row_key(i)) for i, f in enumerate(spec.rows)] + [
        (f, col_key(j)) for j, f in enumerate(spec.columns)
    ]


def _record(gkey: tuple, row: dict, spec: PivotSpec, col_order: list, nv: int, labelled) -> dict:
    """Return one grid row: its level, row keys (and labels), then v{k}_c{j} and v{k}_total."""
    depth, n = gkey[0], len(spec.rows)
    record: dict = {"_level": "total" if depth == 0 else n - depth}
    for i, name in enumerate(spec.rows):
        record[name] = gkey[1 + i] if i < depth else None
        if i in labelled:
            record[f"{name}_label"] = row["labels"][i] if i < depth else None
    for k in range(nv):
        for j, ckey in enumerate(col_order):
            cell = row["cells"].get(ckey)
            record[f"v{k}_c{j}"] = cell[k] if cell else None
        record[f"v{k}_total"] = row["total"][k] if row["total"] else None
    return record
