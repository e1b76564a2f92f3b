"""Callbacks of bring-your-own-data: upload, preview, mine in the background, download.

Ownership is checked on the server for every action (`uploads.get_upload`); mining runs in
the app's background worker and the page polls it.
"""

from __future__ import annotations

import base64
import binascii
import logging

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, html
from flask import current_app
from flask_babel import force_locale, get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user

from pages.mining_charts import (
    chart_card,
    chart_row,
    error_alert,
    fmt_num,
    importance_figure,
    lift_figure,
    lift_tile,
    metric_tile,
    precision_tile,
    tile_row,
)
from portal.auth import client_address
from portal.db import get_db
from portal.errors import PortalError
from portal.services import mining_pages as M
from portal.services import uploads as U
from portal.services.audit import record_event
from portal.services.exports import send_frame

log = logging.getLogger(__name__)
PREVIEW_ROWS = 50


def _type_word(kind: str) -> str:
    return {
        "integer": _("integer"),
        "number": _("number"),
        "boolean": _("yes/no"),
        "date": _("date"),
        "text": _("text"),
    }.get(kind, kind)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def _grid_columns(columns: list[dict]) -> list[dict]:
    return [
        {
            "field": c["name"],
            "headerName": f"{c['name']} ({_type_word(c['type'])})",
            "type": "rightAligned" if c["type"] in ("integer", "number") else None,
        }
        for c in columns
    ]


def receive_upload(contents, filename):
    """Parse and store an uploaded file; return the message and the refreshed dataset list."""
    no = dash.no_update
    if not contents:
        return no, no, no
    try:
        _header, _sep, payload = str(contents).partition(",")
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return error_alert(_("The file could not be received; please try again.")), no, no
    try:
        frame, info = U.parse_upload(filename, raw, U.max_upload_bytes())
        with get_db().session() as s, s.begin():
            resource = U.save_upload(s, current_user, frame, info, client_address())
            key, resource_id = resource.key, resource.id
    except PortalError as exc:
        return error_alert(exc.message), no, no
    except Exception:  # noqa: BLE001 - never a traceback for a bad file
        log.exception("upload of %s failed", filename)
        return error_alert(_("The file could not be read.")), no, no
    from pages.uploads import _options  # noqa: PLC0415 - the page module is loaded by Dash

    options, _chosen = _options(key)
    notes = [
        _(
            "Uploaded %(file)s: %(rows)s rows, %(columns)d columns.",
            file=info["file_name"],
            rows=f"{info['rows']:,}",
            columns=len(info["columns"]),
        )
    ]
    if info.get("neutralised"):
        notes.append(
            _(
                "%(count)d cells that looked like spreadsheet formulas were made plain text.",
                count=info["neutralised"],
            )
        )
    message = dbc.Alert(
        [html.I(className="bi bi-check-circle me-2"), " ".join(notes)],
        color="success",
        className="py-2 mb-0",
        id="up-success",
    )
    return message, options, resource_id


def _info_line(spec: dict) -> html.Div:
    parts = [
        _("%(rows)s rows", rows=f"{spec.get('rows', 0):,}"),
        _("%(count)d columns", count=len(spec.get("columns", []))),
    ]
    if spec.get("encoding"):
        parts.append(_("encoding %(name)s", name=spec["encoding"]))
    if spec.get("delimiter"):
        parts.append(_("separator: %(name)s", name=_separator_word(spec["delimiter"])))
    return html.Div(" · ".join(parts), className="small text-muted mb-2", id="up-info-line")


def _separator_word(name: str) -> str:
    return {
        "comma": _("comma"),
        "semicolon": _("semicolon"),
        "tab": _("tab"),
        "pipe": _("pipe"),
    }.get(name, name)


def show_upload(resource_id):
    """Return the preview, column choices and the last mining result of a dataset."""
    empty = ([], [], None, [], [], [], None)
    if not resource_id:
        return empty
    try:
        with get_db().session() as s:
            resource = U.get_upload(s, current_user, resource_id)
            key, spec, rid = resource.key, dict(resource.spec or {}), resource.id
        frame = U.load_frame_by_key(key)
    except PortalError as exc:
        return [], [], error_alert(exc.message), [], [], [], None
    star = M.star(rid)
    columns = spec.get("columns", [])
    choices = [{"label": c["name"], "value": c["name"]} for c in columns]
    joinable = [{"label": c["name"], "value": c["name"]} for c in columns if c["type"] == "integer"]
    result, scored = U.load_mining_result(key, M.current_tables().scope_key)
    results = render_result(result, scored) if result else None
    return (
        _records(frame.head(PREVIEW_ROWS)),
        _grid_columns(columns),
        html.Div([_info_line(spec), star], className="d-flex flex-wrap gap-2 align-items-start"),
        choices,
        choices,
        joinable,
        results,
    )


def render_result(result: dict, scored: pd.DataFrame | None):
    """Return the mining result: metric tiles, lift and importance charts, top rows, download."""
    m = result.get("metrics", {})
    tiles = [
        metric_tile(
            _("Cross-validated AUC"),
            fmt_num(result.get("auc")),
            _(
                "± %(std)s over %(folds)d folds",
                std=fmt_num(result.get("auc_std")),
                folds=result.get("folds", 0),
            ),
        ),
        lift_tile(m),
        precision_tile(m, result.get("positive_rate")),
        metric_tile(
            _("Rows mined"),
            f"{int(result.get('rows') or 0):,}",
            _(
                "target %(target)s = %(positive)s",
                target=result.get("target"),
                positive=result.get("positive"),
            ),
        ),
    ]
    dropped = (result.get("columns") or {}).get("dropped") or {}
    notes = []
    if dropped:
        notes.append(_("Left out automatically: %(columns)s", columns=", ".join(sorted(dropped))))
    if result.get("joined") is not None:
        notes.append(
            _(
                "%(matched)s rows matched warehouse customers you can see.",
                matched=f"{int(result['joined']):,}",
            )
        )
    top = scored.head(PREVIEW_ROWS) if scored is not None else pd.DataFrame()
    if "probability" in top.columns:
        top = top.assign(probability=top["probability"].round(4))
    return html.Div(
        [
            tile_row(tiles, id="up-metrics"),
            html.Div(" ".join(notes), className="small text-muted mb-2") if notes else None,
            chart_row(
                chart_card(
                    _("Lift chart"),
                    lift_figure(result.get("lift") or []),
                    _("Out-of-fold scores: each row scored by a model that never saw it."),
                ),
                chart_card(
                    _("Feature importance"), importance_figure(result.get("importance") or [])
                ),
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                html.Div(_("Scored rows"), className="mining-chart-title"),
                                html.Div(
                                    [
                                        dbc.Button(
                                            [
                                                html.I(className="bi bi-filetype-csv me-1"),
                                                _("Download CSV"),
                                            ],
                                            id="up-download-csv",
                                            color="primary",
                                            size="sm",
                                        ),
                                        dbc.Button(
                                            [
                                                html.I(className="bi bi-file-earmark-excel me-1"),
                                                _("Download Excel"),
                                            ],
                                            id="up-download-xlsx",
                                            color="secondary",
                                            outline=True,
                                            size="sm",
                                        ),
                                    ],
                                    className="mining-actions",
                                ),
                            ],
                            className="d-flex flex-wrap justify-content-between gap-2 mb-2",
                        ),
                        html.Div(id="up-download-msg"),
                        dag.AgGrid(
                            id="up-scored",
                            rowData=_records(top),
                            columnDefs=[
                                {
                                    "field": str(c),
                                    "headerName": _("Score") if c == "probability" else str(c),
                                    **({"pinned": "left"} if c == "probability" else {}),
                                }
                                for c in top.columns
                            ],
                            defaultColDef={"resizable": True, "sortable": True, "minWidth": 100},
                            dashGridOptions={"animateRows": False},
                            style={"height": "420px", "width": "100%"},
                            className="mining-grid",
                        ),
                    ]
                ),
                className="mining-card mb-3",
            ),
        ],
        id="up-result",
    )


def _run_job(app, key: str, frame, target, drop, join_key, tables, locale: str):
    """Return the background work of one mining run (joins, cross-validates, saves)."""
    warehouse = app.extensions["warehouse"]

    def work(progress) -> dict:
        with app.app_context(), force_locale(locale):
            data, matched = frame, None
            if join_key:
                progress(0.02, lazy_gettext("Joining warehouse customers"))
                data, matched = U.join_warehouse(frame, join_key, warehouse, tables)
                if matched == 0:
                    raise U.UploadError(_("No row matched a warehouse customer you can see."))
            result, scored = U.mine_table(data, target, drop=drop or (), progress=progress)
            result["joined"] = matched
            result["scope_key"] = tables.scope_key  # the rights the warehouse columns came with
            result["warehouse_columns"] = [c for c in data.columns if c not in frame.columns]
            U.save_mining_result(key, result, scored)
            return {"key": key, "auc": result["auc"]}

    return work


def start_mining(n_clicks, resource_id, target, drop, join_key):
    """Queue a mining run of a dataset; the interval then polls it."""
    if not n_clicks:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    if not resource_id:
        return None, True, error_alert(_("Upload or choose a dataset first.")), {"display": "none"}
    if not target:
        return None, True, error_alert(_("Choose the target column.")), {"display": "none"}
    try:
        with get_db().session() as s:
            resource = U.get_upload(s, current_user, resource_id, "edit")
            key = resource.key
        frame = U.load_frame_by_key(key)
        drop = [d for d in (drop or []) if d != target and d in frame.columns]
        if target not in frame.columns:
            raise U.UploadError(_("Column %(column)s is not in the data.", column=target))
        tables = M.current_tables()
        app = current_app._get_current_object()
        work = _run_job(
            app, key, frame, target, drop, join_key, tables, str(get_locale() or "zh_CN")
        )
        job_id = M.jobs().submit(f"upload:{key}", f"user:{current_user.id}", work)
    except PortalError as exc:
        return None, True, error_alert(exc.message), {"display": "none"}
    return job_id, False, _("Mining queued…"), {"display": "flex"}


def poll_mining(_n, job_id, resource_id):
    """Return progress, message, whether to stop polling, and the results when done."""
    no = dash.no_update
    status = M.job_status(job_id)
    if status is None:
        return 0, "", "", True, {"display": "none"}, no
    percent = int(round(100 * float(status.get("progress") or 0)))
    if status["state"] == "failed":
        message = error_alert(_("Mining failed: %(reason)s", reason=status.get("error") or "—"))
        return percent, f"{percent}%", message, True, {"display": "none"}, no
    if status["state"] == "done":
        key = (status.get("result") or {}).get("key")
        scope_key = M.current_tables().scope_key
        result, scored = U.load_mining_result(key, scope_key) if key else (None, None)
        results = render_result(result, scored) if result else no
        return 100, "100%", _("Done"), True, {"display": "none"}, results
    text = status.get("message") or _("Waiting for the worker…")
    return percent, f"{percent}%", text, False, {"display": "flex"}, no


def download_scored(_csv, _xlsx, resource_id):
    """Send the scored rows of the dataset's last mining run (formula cells neutralised)."""
    trigger = dash.ctx.triggered_id
    if trigger not in ("up-download-csv", "up-download-xlsx"):
        return dash.no_update, dash.no_update
    if not (dash.ctx.triggered and dash.ctx.triggered[0].get("value")):
        return dash.no_update, dash.no_update
    fmt = "xlsx" if trigger == "up-download-xlsx" else "csv"
    try:
        with get_db().session() as s:
            resource = U.get_upload(s, current_user, resource_id)
            key, title, rid = resource.key, resource.title_zh, resource.id
        _result, scored = U.load_mining_result(key, M.current_tables().scope_key)
        if scored is None:
            raise U.UploadError(_("Run the mining first."))
        with get_db().session() as s, s.begin():
            record_event(
                s,
                event_type="export",
                actor=current_user,
                client_addr=client_address(),
                object_type="upload",
                object_id=rid,
                row_count=len(scored),
                details={"format": fmt, "what": "scored"},
            )
    except PortalError as exc:
        return dash.no_update, error_alert(exc.message)
    return send_frame(scored, f"{title}-scored", fmt), None


def delete_dataset(submitted, resource_id):
    """Delete the chosen dataset (its owner only); return the message and the new list."""
    no = dash.no_update
    if not submitted or not resource_id:
        return no, no, no
    try:
        with get_db().session() as s, s.begin():
            key = U.delete_upload(s, current_user, resource_id, client_address())
        U.remove_files(key)
    except PortalError as exc:
        return error_alert(exc.message), no, no
    from pages.uploads import _options  # noqa: PLC0415 - the page module is loaded by Dash

    options, chosen = _options()
    message = dbc.Alert(
        [html.I(className="bi bi-trash me-2"), _("The dataset was deleted.")],
        color="secondary",
        className="py-2 mb-0",
    )
    return message, options, chosen


def register(app: dash.Dash) -> None:
    app.callback(
        Output("up-msg", "children", allow_duplicate=True),
        Output("up-select", "options", allow_duplicate=True),
        Output("up-select", "value", allow_duplicate=True),
        Input("up-delete", "submit_n_clicks"),
        State("up-select", "value"),
        prevent_initial_call=True,
    )(delete_dataset)
    app.callback(
        Output("up-msg", "children"),
        Output("up-select", "options"),
        Output("up-select", "value"),
        Input("up-file", "contents"),
        State("up-file", "filename"),
        prevent_initial_call=True,
    )(receive_upload)
    app.callback(
        Output("up-preview", "rowData"),
        Output("up-preview", "columnDefs"),
        Output("up-info", "children"),
        Output("up-target", "options"),
        Output("up-drop", "options"),
        Output("up-join", "options"),
        Output("up-results", "children"),
        Input("up-select", "value"),
    )(show_upload)
    app.callback(
        Output("up-job", "data"),
        Output("up-poll", "disabled"),
        Output("up-run-msg", "children"),
        Output("up-progress", "style"),
        Input("up-run", "n_clicks"),
        State("up-select", "value"),
        State("up-target", "value"),
        State("up-drop", "value"),
        State("up-join", "value"),
        prevent_initial_call=True,
    )(start_mining)
    app.callback(
        Output("up-progress", "value"),
        Output("up-progress", "label"),
        Output("up-run-msg", "children", allow_duplicate=True),
        Output("up-poll", "disabled", allow_duplicate=True),
        Output("up-progress", "style", allow_duplicate=True),
        Output("up-results", "children", allow_duplicate=True),
        Input("up-poll", "n_intervals"),
        State("up-job", "data"),
        State("up-select", "value"),
        prevent_initial_call=True,
    )(poll_mining)
    app.callback(
        Output("up-download", "data"),
        Output("up-download-msg", "children"),
        Input("up-download-csv", "n_clicks"),
        Input("up-download-xlsx", "n_clicks"),
        State("up-select", "value"),
        prevent_initial_call=True,
    )(download_scored)
