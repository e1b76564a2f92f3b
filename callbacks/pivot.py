"""Callbacks of the pivot page (/pivot): build, run, drill, export, save and share a pivot.

Each callback identifies the user, calls one service (the pivot service, saved pivots, the
exporter) and turns the result or a domain error into components. The pure helpers at the
top turn the page's controls into a pivot request and back, and a result into grid columns.
"""

from __future__ import annotations

import json
import logging
import re

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.dashboard_charts import period_options as dashboard_period_options
from components.formatting import format_value
from portal.db import get_db
from portal.errors import Invalid, PortalError
from portal.security import current_tables
from portal.services import saved_pivots
from portal.services.audit import record_event
from portal.services.pivot import _agg_name, pivot_service
from portal.services.pivot_export import (
    depth_of,
    row_header_labels,
    row_header_names,
    to_csv,
    to_xlsx,
    value_columns,
)

log = logging.getLogger(__name__)

OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in")
OP_SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
DEFAULT_SPEC = {
    "dataset": "fact_transaction",
    "rows": ["branch"],
    "columns": ["channel"],
    "values": [{"field": "amount", "agg": "sum"}],
}
D3_FORMATS = {"percent": ".2%", "count": ",.0f", "number": ",.2f", "currency": ",.2f"}
SCALE_COLORS = ("#d5e4f5", "#b3cdec", "#8db3e0", "#6798d2", "#4a82c4")
SCALE_TEXT = ("inherit", "inherit", "inherit", "#fff", "#fff")
VALUE_COL = re.compile(r"^v(\d+)_(c\d+|total)$")
DRILL_PAGE_SIZE = 50
MAX_GRID_HEIGHT = 620


def locale() -> str:
    return str(get_locale() or "zh_CN")


def error_alert(message: str, color: str = "danger") -> dbc.Alert:
    """Return a visible error in the user's language (never a traceback)."""
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        color=color,
        className="pivot-alert mb-2",
    )


# -- options ----------------------------------------------------------------------------------
def op_label(op: str) -> str:
    if op == "in":
        return _("is one of")
    if op == "not_in":
        return _("is not one of")
    return OP_SYMBOLS[op]


def op_options() -> list[dict]:
    return [{"value": op, "label": op_label(op)} for op in OPS]


def period_options() -> list[dict]:
    """Return the named periods (the dashboards' choices, without their extras)."""
    return dashboard_period_options(include_default=False)


def dataset_options(loc: str) -> list[dict]:
    return [{"value": d["id"], "label": d["name"]} for d in pivot_service().datasets(loc)]


def dataset_fields(dataset, loc: str) -> list[dict]:
    """Return a dataset's fields, or none for an unknown dataset."""
    try:
        return pivot_service().fields(dataset, loc)
    except PortalError:
        return []


def layout_options(fields: list[dict]) -> list[dict]:
    """Return the fields that can be rows or columns (everything but measures)."""
    return [{"value": f["id"], "label": f["name"]} for f in fields if f["kind"] != "numeric"]


def filter_field_options(fields: list[dict]) -> list[dict]:
    return [{"value": f["id"], "label": f["name"]} for f in fields]


def value_options(fields: list[dict]) -> list[dict]:
    """Return the measures of a dataset as "agg:field" options ("count:" counts rows)."""
    out = [{"value": "count:", "label": _("Row count")}]
    for f in fields:
        aggs = f["aggs"] if f["kind"] == "numeric" else [a for a in f["aggs"] if a != "count"]
        for agg in aggs:
            label = _("%(agg)s of %(field)s", agg=_agg_name(agg), field=f["name"])
            out.append({"value": f"{agg}:{f['id']}", "label": label})
    return out


def metric_options(loc: str) -> list[dict]:
    catalog = current_app.extensions["metric_catalog"]
    return [{"value": m.id, "label": m.name.get(loc)} for m in catalog.metrics.values()]


def dimension_options(metrics, loc: str) -> list[dict]:
    """Return the catalog dimensions every chosen metric can be cut by."""
    catalog = current_app.extensions["metric_catalog"]
    allowed = None
    for metric_id in metrics or []:
        if metric_id in catalog.metrics:
            dims = set(catalog.metric(metric_id).dimensions)
            allowed = dims if allowed is None else allowed & dims
    return [
        {"value": d.id, "label": d.name.get(loc)}
        for d in catalog.dimensions.values()
        if allowed is None or d.id in allowed
    ]


def sort_options(labels: list[str]) -> list[dict]:
    """Return the sort choices for the current values (by each value, both directions)."""
    out = [{"value": "", "label": _("Default order")}]
    for k, label in enumerate(labels):
        out.append({"value": f"v{k}:desc", "label": _("%(value)s, largest first", value=label)})
        out.append({"value": f"v{k}:asc", "label": _("%(value)s, smallest first", value=label)})
    return out


def value_labels(mode, values, metrics, options_by_value: dict) -> list[str]:
    chosen = metrics if mode == "metrics" else values
    return [options_by_value.get(v, v) for v in chosen or []]


# -- controls <-> request ------------------------------------------------------------------------
def value_token(value: dict) -> str:
    return f"{value.get('agg')}:{value.get('field') or ''}"


def filter_option(flt: dict, names: dict) -> dict:
    """Return a chosen filter as a dropdown option (label "Branch = BJ", value its JSON)."""
    value = flt.get("value")

    def text(v) -> str:
        if isinstance(v, bool):
            return _("Yes") if v else _("No")
        return str(v)

    shown = ", ".join(map(text, value)) if isinstance(value, list) else text(value)
    field = names.get(flt.get("field"), flt.get("field"))
    return {
        "label": f"{field} {op_label(flt.get('op', 'eq'))} {shown}",
        "value": json.dumps(flt, ensure_ascii=False, sort_keys=True),
    }


def controls_from_spec(spec: dict) -> dict:
    """Return the page's control values for a pivot request."""
    values = spec.get("values") or []
    metric_mode = any(isinstance(v, dict) and v.get("metric") for v in values)
    sort = spec.get("sort") or {}
    top = spec.get("top") or {}
    return {
        "mode": "metrics" if metric_mode else "dataset",
        "dataset": spec.get("dataset") or DEFAULT_SPEC["dataset"],
        "rows": list(spec.get("rows") or []),
        "columns": list(spec.get("columns") or []),
        "values": [] if metric_mode else [value_token(v) for v in values if isinstance(v, dict)],
        "metrics": [v["metric"] for v in values if isinstance(v, dict) and v.get("metric")],
        "period": spec.get("period") if isinstance(spec.get("period"), str) else "this_month",
        "filters": list(spec.get("filters") or []),
        "sort": f"{sort['by']}:{'desc' if sort.get('desc') else 'asc'}"
        if isinstance(sort, dict) and isinstance(sort.get("by"), str)
        else "",
        "top": top.get("n") if isinstance(top, dict) else None,
    }


def parse_filter_value(raw, op: str, field: dict | None):
    """Turn the text typed for a filter into the value the pivot service expects."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise Invalid(_("Type a value for the filter."), code="bad_filter_value")
    kind = (field or {}).get("type", "string")

    def one(part: str):
        part = part.strip()
        if kind == "boolean":
            lowered = part.lower()
            if lowered in ("true", "yes", "1", "是", "y"):
                return True
            if lowered in ("false", "no", "0", "否", "n"):
                return False
            return part
        if kind.startswith(("int", "float", "decimal")):
            try:
                number = float(part.replace(",", ""))
            except ValueError:
                return part
            return int(number) if kind.startswith("int") and number.is_integer() else number
        return part

    if op in ("in", "not_in"):
        return [one(p) for p in re.split(r"[,，;；]", text) if p.strip()]
    return one(text)


def spec_from_controls(
    mode, dataset, rows, columns, values, metrics, period, filters, sort, top
) -> dict:
    """Return the pivot request the controls describe (the service validates it)."""
    spec: dict = {"rows": list(rows or []), "columns": list(columns or [])}
    if mode == "metrics":
        spec["values"] = [{"metric": m} for m in metrics or []]
        spec["period"] = period or "this_month"
    else:
        spec["dataset"] = dataset
        out = []
        for token in values or []:
            agg, _sep, field = str(token).partition(":")
            out.append({"agg": agg, "field": field} if field else {"agg": agg})
        spec["values"] = out
    parsed = []
    for item in filters or []:
        try:
            flt = json.loads(item)
        except (TypeError, ValueError):
            continue
        if isinstance(flt, dict):
            parsed.append(flt)
    if parsed:
        spec["filters"] = parsed
    if sort:
        by, _sep, direction = str(sort).partition(":")
        spec["sort"] = {"by": by, "desc": direction == "desc"}
    if top not in (None, ""):
        spec["top"] = {"n": top, "by": spec.get("sort", {}).get("by", "v0")}
    if not spec["columns"]:
        del spec["columns"]
    return spec


# -- the grid -----------------------------------------------------------------------------------
def grid_rows(result: dict) -> list[dict]:
    """Return the grid's rows: the records plus row header texts and a row id.

    A leaf row leaves out parent labels equal to the row above (as a pivot table does).
    """
    out = []
    previous: list[str] = []
    for i, record in enumerate(result["data"]):
        row = dict(record)
        labels = row_header_labels(result, record)
        shown = list(labels)
        if record.get("_level") == 0:
            for j in range(len(labels) - 1):
                if labels[: j + 1] == previous[: j + 1]:
                    shown[j] = ""
        previous = labels
        for j, text in enumerate(shown):
            row[f"_h{j}"] = text
        row["_rid"] = str(i)
        out.append(row)
    return out


def _formatter(fmt: str) -> dict:
    d3 = D3_FORMATS.get(fmt, ",.2f")
    return {"function": f"params.value == null ? '' : d3.format('{d3}')(params.value)"}


def _scale(result: dict, index: int) -> list[dict]:
    """Return colour-scale style conditions for value `index` over the leaf cells."""
    numbers = [
        record[col["field"]]
        for col in value_columns(result)
        if col["index"] == index and not col["total"]
        for record in result["data"]
        if record.get("_level") == 0 and isinstance(record.get(col["field"]), int | float)
    ]
    if not result["columns"]:  # no column field: scale the row totals
        numbers = [
            r.get(f"v{index}_total")
            for r in result["data"]
            if r.get("_level") == 0 and isinstance(r.get(f"v{index}_total"), int | float)
        ]
    if len(numbers) < 2 or min(numbers) == max(numbers):
        return []
    low, high = min(numbers), max(numbers)
    steps = len(SCALE_COLORS)
    out = []
    for s in reversed(range(steps)):
        threshold = low + (high - low) * s / steps
        out.append(
            {
                "condition": f"params.data._level === 0 && params.value != null && "
                f"params.value >= {threshold!r}",
                "style": {"backgroundColor": SCALE_COLORS[s], "color": SCALE_TEXT[s]},
            }
        )
    return out


def column_defs(result: dict, fmt_mode: str = "negative") -> list[dict]:
    """Return AG Grid column definitions: pinned row headers, then nested column headers."""
    defs: list[dict] = [
        {
            "headerName": name,
            "field": f"_h{i}",
            "pinned": "left",
            "minWidth": 110,
            "cellClass": "pivot-row-header",
        }
        for i, name in enumerate(row_header_names(result))
    ]
    single = len(result["values"]) == 1 and bool(result["columns"])
    scales = (
        {k: _scale(result, k) for k in range(len(result["values"]))} if fmt_mode == "scale" else {}
    )
    root: list[dict] = []
    text_fields = {
        key for record in result["data"] for key, v in record.items() if isinstance(v, str)
    }
    for col in value_columns(result):
        leaf = {
            "headerName": col["path"][-1] if single else col["value"],
            "field": col["field"],
            "type": "numericColumn",
            "cellClass": "pivot-value" + (" pivot-total-col" if col["total"] else ""),
            "headerClass": "pivot-total-col" if col["total"] else None,
            "minWidth": 110,
        }
        if col["field"] not in text_fields:
            leaf["valueFormatter"] = _formatter(col["format"])
        if fmt_mode in ("negative", "scale"):
            leaf["cellClassRules"] = {"pivot-negative": "params.value < 0"}
        if scales.get(col["index"]) and (not col["total"] or not result["columns"]):
            leaf["cellStyle"] = {"styleConditions": scales[col["index"]]}
        groups = col["path"][:-1] if single else col["path"]
        siblings = root
        for depth, label in enumerate(groups):
            last = siblings[-1] if siblings else None
            if not (last and "children" in last and last["headerName"] == label):
                last = {
                    "headerName": label,
                    "groupId": f"g{len(root)}_{depth}_{col['field']}",
                    "children": [],
                    "headerClass": "pivot-group-header"
                    + (" pivot-total-col" if col["total"] else ""),
                }
                siblings.append(last)
            siblings = last["children"]
        siblings.append(leaf)
    return defs + root


def grid_height(result: dict) -> str:
    """Return a grid height that shows every row of a small pivot without scrolling."""
    levels = len(result["columns"]) + (
        1 if len(result["values"]) > 1 or not result["columns"] else 0
    )
    height = 50 * max(1, levels) + 31 * len(result["data"]) + 34
    return f"{min(MAX_GRID_HEIGHT, max(180, height))}px"


def summary_line(result: dict, loc: str) -> list:
    """Return the text above the grid: size and the grand total of the first value."""
    total = result.get("grand_total") or {}
    first = result["values"][0]
    fmt = first.get("format") or (
        "count" if first.get("agg") in ("count", "count_distinct") else "number"
    )
    parts = [
        _(
            "%(rows)d rows × %(cols)d columns",
            rows=result["shown_rows"],
            cols=max(1, result["shown_columns"]),
        ),
        _(
            "%(value)s in all: %(total)s",
            value=first["label"],
            total=format_value(total.get("v0_total"), fmt, loc),
        ),
    ]
    if result.get("period"):
        parts.append(f"{result['period']['start']} – {result['period']['end']}")
    return [html.Span(p, className="pivot-summary-part") for p in parts]


def grid_meta(spec: dict, result: dict) -> dict:
    """Return what the drill-down needs to know about the shown grid (kept in the browser)."""
    rows = result["rows"]
    row_keys = []
    for record in result["data"]:
        depth = depth_of(result, record)
        row_keys.append({name: record.get(name) for name in rows[:depth]})
    return {
        "spec": spec,
        "columns": result["columns"],
        "header": {h["id"]: h["key"] for h in result["header"]},
        "row_keys": row_keys,
        "metric": any(v.get("metric") for v in result["values"]),
        "labels": [v["label"] for v in result["values"]],
        "names": result["fields"],
    }


def drill_cell(meta: dict, clicked: dict) -> dict | None:
    """Return the {field: key} of a clicked value cell, or None for a row header cell."""
    if not isinstance(meta, dict) or not isinstance(clicked, dict):
        return None
    match = VALUE_COL.match(str(clicked.get("colId") or ""))
    if not match:
        return None
    try:
        row = meta["row_keys"][int(clicked.get("rowId"))]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    cell = dict(row)
    column = match.group(2)
    if column != "total":
        for name, key in zip(meta["columns"], meta["header"].get(column, []), strict=False):
            cell[name] = key
    return cell


# -- services, called as the user -----------------------------------------------------------------
def run(spec: dict, loc: str) -> dict:
    return pivot_service().pivot(current_tables(), spec, locale=loc)


def _validator(spec: dict) -> None:
    pivot_service().parse(current_tables(), spec, locale())


def share_url(key: str) -> str:
    return f"{request.host_url.rstrip('/')}/pivot?id={key}"


# -- callbacks ------------------------------------------------------------------------------------
def update_dataset_fields(dataset, rows, columns, values, filter_field):
    """When the dataset changes, offer its fields and drop choices it does not have."""
    fields = dataset_fields(dataset, locale())
    rows_opts, value_opts = layout_options(fields), value_options(fields)
    ids = {o["value"] for o in rows_opts}
    tokens = {o["value"] for o in value_opts}
    flt_opts = filter_field_options(fields)
    return (
        rows_opts,
        rows_opts,
        value_opts,
        flt_opts,
        [r for r in rows or [] if r in ids],
        [c for c in columns or [] if c in ids],
        [v for v in values or [] if v in tokens] or (["count:"] if fields else []),
        filter_field if filter_field in {o["value"] for o in flt_opts} else None,
    )


def update_metric_dimensions(mode, metrics, dataset, rows, columns):
    """Offer the fields of the chosen source: catalog dimensions or the dataset's fields."""
    loc = locale()
    if mode == "metrics":
        opts = flt = dimension_options(metrics, loc)
    else:
        fields = dataset_fields(dataset, loc)
        opts, flt = layout_options(fields), filter_field_options(fields)
    ids = {o["value"] for o in opts}
    return (
        opts,
        opts,
        flt,
        [r for r in rows or [] if r in ids],
        [c for c in columns or [] if c in ids],
        {"display": "block" if mode == "metrics" else "none"},
        {"display": "none" if mode == "metrics" else "block"},
    )


def update_sort_options(mode, values, metrics, value_opts, metric_opts):
    options = {o["value"]: o["label"] for o in (value_opts or []) + (metric_opts or [])}
    return sort_options(value_labels(mode, values, metrics, options))


def add_filter(n_clicks, mode, dataset, field, op, raw, current, options):
    """Add the typed filter to the chosen filters (shown as removable chips)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    loc = locale()
    if not field:
        return (
            dash.no_update,
            dash.no_update,
            error_alert(_("Choose a field to filter on."), "warning"),
        )
    if mode == "metrics":
        names = {o["value"]: o["label"] for o in dimension_options(None, loc)}
        info = {"type": "date" if field == "month" else "string"}
    else:
        fields = {f["id"]: f for f in dataset_fields(dataset, loc)}
        names = {k: f["name"] for k, f in fields.items()}
        info = fields.get(field)
    try:
        value = parse_filter_value(raw, op or "eq", info)
    except PortalError as exc:
        return dash.no_update, dash.no_update, error_alert(exc.message, "warning")
    option = filter_option({"field": field, "op": op or "eq", "value": value}, names)
    current = list(current or [])
    options = [o for o in options or [] if o["value"] in current]
    if option["value"] not in current:
        current.append(option["value"])
        options.append(option)
    return options, current, None


def run_pivot(n_clicks, fmt_mode, autorun, *controls):
    """Run the pivot the controls describe; show the grid, its notice and its summary.

    `controls` are the values of the pivot controls, in `spec_from_controls`'s order.
    """
    loc = locale()
    trigger = ctx.triggered_id
    if trigger is None and not autorun:
        raise dash.exceptions.PreventUpdate
    spec = spec_from_controls(*controls)
    hidden = {"display": "none"}
    try:
        result = run(spec, loc)
    except PortalError as exc:
        return [], [], {}, hidden, error_alert(exc.message), [], None, None
    except Exception:  # noqa: BLE001 - a broken warehouse shows an alert, not a traceback
        log.exception("pivot failed")
        message = _("The pivot could not be computed right now. Please try again later.")
        return [], [], {}, hidden, error_alert(message), [], None, None
    notice = None
    if result.get("notice"):
        notice = dbc.Alert(
            [html.I(className="bi bi-info-circle me-2"), result["notice"]],
            color="warning",
            className="pivot-notice mb-2",
        )
    return (
        column_defs(result, fmt_mode or "negative"),
        grid_rows(result),
        {"height": grid_height(result), "width": "100%"},
        {"display": "block"},
        notice,
        summary_line(result, loc),
        spec,
        grid_meta(spec, result),
    )


def drill(clicked, prev_clicks, next_clicks, meta, state):
    """Open the detail rows behind a clicked value cell, a page at a time."""
    trigger = ctx.triggered_id
    loc = locale()
    state = state if isinstance(state, dict) else {}
    if trigger == "pivot-grid":
        cell = drill_cell(meta, clicked)
        if cell is None:
            raise dash.exceptions.PreventUpdate
        page = 1
    elif trigger in ("pivot-drill-prev", "pivot-drill-next") and state.get("cell") is not None:
        cell = state["cell"]
        page = max(1, int(state.get("page", 1)) + (1 if trigger == "pivot-drill-next" else -1))
    else:
        raise dash.exceptions.PreventUpdate
    names = meta.get("names") or {}
    title = " · ".join(
        f"{names.get(k, k)} = {v if v is not None else _('(blank)')}" for k, v in cell.items()
    ) or _("All rows")
    new_state = {"cell": cell, "page": page}

    def failed(alert):
        return True, title, [], [], "", True, True, new_state, alert

    if meta.get("metric"):
        return failed(
            error_alert(_("Drill-down works on aggregated columns, not on catalog metrics"), "info")
        )
    try:
        result = pivot_service().drill_down(
            current_tables(), meta["spec"], cell, page=page, page_size=DRILL_PAGE_SIZE, locale=loc
        )
    except PortalError as exc:
        return failed(error_alert(exc.message))
    defs = [
        {"headerName": c["name"], "field": c["id"], "minWidth": 110}
        for c in result["columns"]
        if not c["label"]
    ]
    labels = {c["id"][: -len("_label")] for c in result["columns"] if c["label"]}
    for d in defs:
        if d["field"] in labels:
            d["valueGetter"] = {
                "function": f"params.data['{d['field']}_label'] ?? params.data['{d['field']}']"
            }
    pages = max(1, result["pages"])
    text = _(
        "Page %(page)d of %(pages)d · %(total)d rows",
        page=result["page"],
        pages=pages,
        total=result["total"],
    )
    return (
        True,
        title,
        defs,
        result["rows"],
        text,
        page <= 1,
        page >= pages,
        new_state,
        None,
    )


def export(xlsx_clicks, csv_clicks, spec, saved):
    """Export the last pivot run, in its shape, as Excel or CSV (computed on the server)."""
    trigger = ctx.triggered_id
    if trigger not in ("pivot-export-xlsx", "pivot-export-csv") or not (xlsx_clicks or csv_clicks):
        raise dash.exceptions.PreventUpdate
    if not spec:
        return None, error_alert(_("Run the pivot first, then export it."), "warning")
    loc = locale()
    try:
        result = run(spec, loc)
    except PortalError as exc:
        return None, error_alert(exc.message)
    title = (saved or {}).get("title") or _("Pivot analysis")
    kind = "xlsx" if trigger == "pivot-export-xlsx" else "csv"
    notes = []
    if result.get("period"):
        notes.append(f"{result['period']['start']} – {result['period']['end']}")
    content = to_xlsx(result, title, notes) if kind == "xlsx" else to_csv(result)
    with get_db().session() as s, s.begin():
        record_event(
            s,
            event_type="pivot_export",
            actor=current_user,
            object_type="pivot",
            object_id=(saved or {}).get("key"),
            row_count=len(result["data"]),
            details={"format": kind, "dataset": spec.get("dataset")},
        )
    safe = re.sub(r"[\\/:*?\"<>|\s]+", "_", title).strip("_") or "pivot"
    return dcc.send_bytes(content, f"{safe}.{kind}"), None


def open_save(n_clicks, saved):
    """Open the save dialog with the saved pivot's titles filled in."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    saved = saved or {}
    return (
        True,
        saved.get("title_zh") or "",
        saved.get("title_en") or "",
        bool(saved.get("can_edit")),
    )


def save(n_clicks, title_zh, title_en, overwrite, saved, *controls):
    """Save the pivot the controls describe: overwrite the open one (edit right) or a new one."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    saved = saved or {}
    spec = spec_from_controls(*controls)
    key = saved.get("key") if overwrite and saved.get("key") else None
    try:
        with get_db().session() as s, s.begin():
            resource = saved_pivots.save_pivot(
                s,
                current_user,
                spec,
                title_zh=title_zh,
                title_en=title_en,
                key=key,
                validate=_validator,
            )
            info = saved_pivots.describe(s, current_user, resource, locale())
    except PortalError as exc:
        return (
            dash.no_update,
            dash.no_update,
            error_alert(exc.message),
            dash.no_update,
            dash.no_update,
        )
    message = dbc.Alert(
        [html.I(className="bi bi-check-circle me-2"), _("Saved: %(title)s", title=info["title"])],
        color="success",
        className="mb-2",
        duration=6000,
    )
    return False, info, message, share_url(info["key"]), info["title"]


def register(app: dash.Dash) -> None:
    app.callback(
        Output("pivot-rows", "options", allow_duplicate=True),
        Output("pivot-columns", "options", allow_duplicate=True),
        Output("pivot-values", "options"),
        Output("pivot-filter-field", "options", allow_duplicate=True),
        Output("pivot-rows", "value", allow_duplicate=True),
        Output("pivot-columns", "value", allow_duplicate=True),
        Output("pivot-values", "value"),
        Output("pivot-filter-field", "value"),
        Input("pivot-dataset", "value"),
        State("pivot-rows", "value"),
        State("pivot-columns", "value"),
        State("pivot-values", "value"),
        State("pivot-filter-field", "value"),
        prevent_initial_call=True,
    )(update_dataset_fields)
    app.callback(
        Output("pivot-rows", "options", allow_duplicate=True),
        Output("pivot-columns", "options", allow_duplicate=True),
        Output("pivot-filter-field", "options", allow_duplicate=True),
        Output("pivot-rows", "value", allow_duplicate=True),
        Output("pivot-columns", "value", allow_duplicate=True),
        Output("pivot-metric-box", "style"),
        Output("pivot-dataset-box", "style"),
        Input("pivot-mode", "value"),
        Input("pivot-metrics", "value"),
        State("pivot-dataset", "value"),
        State("pivot-rows", "value"),
        State("pivot-columns", "value"),
        prevent_initial_call=True,
    )(update_metric_dimensions)
    app.callback(
        Output("pivot-sort", "options"),
        Input("pivot-mode", "value"),
        Input("pivot-values", "value"),
        Input("pivot-metrics", "value"),
        State("pivot-values", "options"),
        State("pivot-metrics", "options"),
        prevent_initial_call=True,
    )(update_sort_options)
    app.callback(
        Output("pivot-filters", "options"),
        Output("pivot-filters", "value"),
        Output("pivot-filter-feedback", "children"),
        Input("pivot-filter-add", "n_clicks"),
        State("pivot-mode", "value"),
        State("pivot-dataset", "value"),
        State("pivot-filter-field", "value"),
        State("pivot-filter-op", "value"),
        State("pivot-filter-value", "value"),
        State("pivot-filters", "value"),
        State("pivot-filters", "options"),
        prevent_initial_call=True,
    )(add_filter)
    controls = [
        State("pivot-mode", "value"),
        State("pivot-dataset", "value"),
        State("pivot-rows", "value"),
        State("pivot-columns", "value"),
        State("pivot-values", "value"),
        State("pivot-metrics", "value"),
        State("pivot-period", "value"),
        State("pivot-filters", "value"),
        State("pivot-sort", "value"),
        State("pivot-top", "value"),
    ]
    app.callback(
        Output("pivot-grid", "columnDefs"),
        Output("pivot-grid", "rowData"),
        Output("pivot-grid", "style"),
        Output("pivot-grid-box", "style"),
        Output("pivot-notice", "children"),
        Output("pivot-summary", "children"),
        Output("pivot-spec", "data"),
        Output("pivot-meta", "data"),
        Input("pivot-run", "n_clicks"),
        Input("pivot-format", "value"),
        Input("pivot-autorun", "data"),
        *controls,
    )(run_pivot)
    app.callback(
        Output("pivot-drill-modal", "is_open"),
        Output("pivot-drill-title", "children"),
        Output("pivot-drill-grid", "columnDefs"),
        Output("pivot-drill-grid", "rowData"),
        Output("pivot-drill-page", "children"),
        Output("pivot-drill-prev", "disabled"),
        Output("pivot-drill-next", "disabled"),
        Output("pivot-drill-state", "data"),
        Output("pivot-drill-alert", "children"),
        Input("pivot-grid", "cellClicked"),
        Input("pivot-drill-prev", "n_clicks"),
        Input("pivot-drill-next", "n_clicks"),
        State("pivot-meta", "data"),
        State("pivot-drill-state", "data"),
        prevent_initial_call=True,
    )(drill)
    app.callback(
        Output("pivot-download", "data"),
        Output("pivot-export-feedback", "children"),
        Input("pivot-export-xlsx", "n_clicks"),
        Input("pivot-export-csv", "n_clicks"),
        State("pivot-spec", "data"),
        State("pivot-saved", "data"),
        prevent_initial_call=True,
    )(export)
    app.callback(
        Output("pivot-save-modal", "is_open"),
        Output("pivot-save-title-zh", "value"),
        Output("pivot-save-title-en", "value"),
        Output("pivot-save-overwrite", "value"),
        Input("pivot-save-open", "n_clicks"),
        State("pivot-saved", "data"),
        prevent_initial_call=True,
    )(open_save)
    app.callback(
        Output("pivot-save-modal", "is_open", allow_duplicate=True),
        Output("pivot-saved", "data"),
        Output("pivot-save-feedback", "children"),
        Output("pivot-share-url", "value"),
        Output("pivot-title", "children"),
        Input("pivot-save-confirm", "n_clicks"),
        State("pivot-save-title-zh", "value"),
        State("pivot-save-title-en", "value"),
        State("pivot-save-overwrite", "value"),
        State("pivot-saved", "data"),
        *controls,
        prevent_initial_call=True,
    )(save)
