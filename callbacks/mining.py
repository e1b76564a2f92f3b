"""Callbacks of the mining scenario pages: the customer list and its charts, retraining
with a progress bar (polled, never run in the request), export and saved lists.

Every function checks the user on the server through the services (current_tables() for
the rows, can_retrain() for training); each returns a translated alert instead of raising.
"""

from __future__ import annotations

import logging

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _

from pages.mining_charts import bar_figure, error_alert, heatmap_figure
from portal.auth import client_address
from portal.errors import PortalError
from portal.services import mining_pages as M
from portal.services.exports import send_frame

log = logging.getLogger(__name__)
MAX_HEATMAP_ROWS = 12
NUMBER_COLUMNS = {
    "deposit_balance",
    "deposit_start_of_year",
    "deposit_avg_daily_quarter",
    "deposit_avg_daily_year",
    "payroll_amount_1m",
    "assets",
    "inflow_year",
    "outflow_year",
    "stf_out_amount",
}


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _filters(branches, segments, min_score, top) -> dict:
    return {"branches": branches, "segments": segments, "min_score": min_score, "top": top}


def _column_defs(name: str) -> list[dict]:
    defs = [
        {"field": "customer_id", "headerName": M.column_label("customer_id"), "pinned": "left"},
        {"field": "name", "headerName": M.column_label("name")},
        {"field": "phone", "headerName": M.column_label("phone")},
        {"field": "branch", "headerName": M.column_label("branch")},
        {"field": "segment_label", "headerName": M.column_label("segment")},
        {
            "field": "probability",
            "headerName": M.score_label(name),
            "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": "d3.format('.1%')(params.value)"},
            "sort": "desc",
        },
    ]
    for column in M.list_columns(name):
        spec = {
            "field": column,
            "headerName": M.column_label(column),
            "filter": "agNumberColumnFilter",
            "type": "rightAligned",
        }
        if column in NUMBER_COLUMNS:
            spec["valueFormatter"] = {"function": "d3.format(',.0f')(params.value)"}
        elif column.startswith("deposit_change"):
            spec["valueFormatter"] = {"function": "d3.format('+.1%')(params.value)"}
        defs.append(spec)
    return defs


def _records(frame: pd.DataFrame, name: str) -> list[dict]:
    columns = ["customer_id", "name", "phone", "branch", "segment", "probability"]
    columns += [c for c in M.list_columns(name) if c in frame.columns]
    out = frame[columns].copy()
    out["segment_label"] = out["segment"].map(M.segment_label)
    out["probability"] = out["probability"].round(4)
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def _rolled_up(frame: pd.DataFrame) -> pd.DataFrame:
    """Show branches, not their many sub-branches, when the user sees more than a few."""
    if frame["branch_id"].nunique() <= MAX_HEATMAP_ROWS:
        return frame
    return frame.assign(branch_id=frame["branch_id"].map(M.parent_branch))


def _heatmap(frame: pd.DataFrame, locale: str) -> dict:
    summary = M.branch_segment_summary(_rolled_up(frame))
    if summary.empty:
        return heatmap_figure([], [], [], [])
    present = set(summary["segment"])
    segments = [s for s in M.SEGMENTS if s in present] + sorted(present - set(M.SEGMENTS))
    table = summary.pivot(index="branch_id", columns="segment").sort_index()
    means = table["mean_score"].reindex(columns=segments).astype(object)
    counts = table["customers"].reindex(columns=segments).fillna(0).astype(int)
    return heatmap_figure(
        [M.branch_name(b, locale) for b in table.index],
        [M.segment_label(s) for s in segments],
        means.where(means.notna(), None).values.tolist(),
        counts.values.tolist(),
    )


def _extra(frame: pd.DataFrame, name: str, locale: str) -> dict:
    if name == "transaction-mining":
        words = {
            "individual": _("Individuals"),
            "corporate": _("Companies"),
            "government": _("Government"),
            "internal": _("Internal accounts"),
        }
        columns = [c for c in frame.columns if c.startswith("stf_to_")]
        labels = [words.get(c.removeprefix("stf_to_"), c) for c in columns]
        values = [float(frame[c].fillna(0).sum()) for c in columns]
        return bar_figure(labels, values, _("Amount"))
    by_branch = frame.assign(
        expected=frame["probability"]
        * (frame["deposit_balance"].fillna(0) if name != "potential-value" else 1.0)
    )
    by_branch = _rolled_up(by_branch)
    grouped = by_branch.groupby("branch_id")["expected"].sum().sort_values(ascending=False)
    labels = [M.branch_name(b, locale) for b in grouped.index]
    if name == "potential-value":
        return bar_figure(labels, grouped.round(1).tolist(), _("Expected customers"), ",.1f")
    return bar_figure(labels, grouped.round(0).tolist(), _("Deposits at risk"))


def refresh_list(branches, segments, min_score, top, name):
    """Return the grid's rows and columns, the two scored charts, branch choices, a summary."""
    no = dash.no_update
    if name not in M.SCENARIOS:
        return no, no, no, no, no, "", None
    locale = _locale()
    filters = _filters(branches, segments, min_score, top)
    try:
        everyone, _meta = M.scores(name)
        frame = M.filter_list(everyone, filters, locale)
    except PortalError as exc:
        return [], [], {}, {}, [], "", error_alert(exc.message)
    except Exception:  # noqa: BLE001 - keep the page usable
        log.exception("mining list %s failed", name)
        return [], [], {}, {}, [], "", error_alert(_("The customer list is unavailable right now."))
    options = [
        {"label": M.branch_name(b, locale), "value": b}
        for b in sorted(everyone["branch_id"].dropna().unique())
    ]
    summary = _(
        "%(shown)s of %(total)s scored customers shown, highest score first.",
        shown=f"{len(frame):,}",
        total=f"{len(everyone):,}",
    )
    return (
        _records(frame, name),
        _column_defs(name),
        _heatmap(everyone, locale),
        _extra(everyone, name, locale),
        options,
        summary,
        None,
    )


def start_training(n_clicks, name):
    """Queue a retraining run; the interval then polls its progress."""
    if not n_clicks:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    try:
        job_id = M.start_retrain(name, client_address())
    except PortalError as exc:
        return None, True, error_alert(exc.message), {"display": "none"}
    return job_id, False, _("Training queued…"), {"display": "flex"}


def poll_training(_n, job_id):
    """Return the progress bar's value and label, the message, and whether to stop polling."""
    status = M.job_status(job_id)
    if status is None:
        return 0, "", "", True, {"display": "none"}
    percent = int(round(100 * float(status.get("progress") or 0)))
    if status["state"] == "failed":
        message = error_alert(_("Training failed: %(reason)s", reason=status.get("error") or "—"))
        return percent, f"{percent}%", message, True, {"display": "none"}
    if status["state"] == "done":
        version = (status.get("result") or {}).get("version")
        M.forget_scores()
        message = dbc_success(
            _("Model v%(version)s is trained.", version=version),
            _("Show the new model"),
            f"/mining/{status['scenario']}",
        )
        return 100, "100%", message, True, {"display": "none"}
    text = status.get("message") or _("Waiting for the worker…")
    return percent, f"{percent}%", text, False, {"display": "flex"}


def dbc_success(text: str, link_text: str, href: str):
    import dash_bootstrap_components as dbc

    return dbc.Alert(
        [
            html.I(className="bi bi-check-circle me-2"),
            text,
            " ",
            html.A(link_text, href=href, className="alert-link"),
        ],
        color="success",
        className="mb-0 py-2",
    )


def export_list(_csv, _xlsx, branches, segments, min_score, top, visible, name):
    """Send the list as CSV or Excel: the server's rows (scoped, masked), in the grid's
    filtered and sorted order when the grid reports one."""
    trigger = dash.ctx.triggered_id
    if trigger not in ("mn-export-csv", "mn-export-xlsx") or name not in M.SCENARIOS:
        return dash.no_update, dash.no_update
    fmt = "xlsx" if trigger == "mn-export-xlsx" else "csv"
    filters = _filters(branches, segments, min_score, top)
    try:
        frame, _meta = M.customer_list(name, filters, _locale())
    except PortalError as exc:
        return dash.no_update, error_alert(exc.message)
    if isinstance(visible, list) and visible:
        order = []
        for row in visible:
            try:
                order.append(int(row.get("customer_id")))
            except (AttributeError, TypeError, ValueError):
                continue
        position = {cid: i for i, cid in enumerate(order)}
        frame = frame[frame["customer_id"].isin(position)]
        frame = frame.iloc[frame["customer_id"].map(position).argsort()]
    out = M.export_frame(frame, name)
    M.record_export(name, fmt, len(out), M.clean_filters(filters), client_address())
    return send_frame(out, f"{name}-{pd.Timestamp.now():%Y%m%d}", fmt), None


def share_list(n_clicks, title, branches, segments, min_score, top, name, groups=None):
    """Save the list's definition as a Resource, share it with the chosen groups, and show
    its link."""
    import dash_bootstrap_components as dbc

    if not n_clicks:
        return dash.no_update
    try:
        saved = M.save_list(
            name,
            _filters(branches, segments, min_score, top),
            title,
            client_address(),
            group_ids=groups or [],
        )
    except PortalError as exc:
        return error_alert(exc.message)
    shared = (
        _(
            "Shared with %(count)d groups; they see it within their own rights.",
            count=saved["groups"],
        )
        if saved["groups"]
        else ""
    )
    return dbc.Alert(
        [
            html.I(className="bi bi-link-45deg me-2"),
            _("Saved as “%(title)s”. Share this link: ", title=saved["title"]),
            dcc.Link(saved["link"], href=saved["link"], id="mn-share-link"),
            html.Div(shared, className="small mt-1") if shared else None,
        ],
        color="success",
        className="py-2",
    )


def register(app: dash.Dash) -> None:
    filters = [
        Input("mn-f-branch", "value"),
        Input("mn-f-segment", "value"),
        Input("mn-f-min", "value"),
        Input("mn-f-top", "value"),
    ]
    app.callback(
        Output("mn-grid", "rowData"),
        Output("mn-grid", "columnDefs"),
        Output("mn-heatmap", "figure"),
        Output("mn-extra", "figure"),
        Output("mn-f-branch", "options"),
        Output("mn-list-summary", "children"),
        Output("mn-list-msg", "children"),
        *filters,
        Input("mn-scenario", "data"),
    )(refresh_list)
    app.callback(
        Output("mn-job", "data"),
        Output("mn-poll", "disabled"),
        Output("mn-train-msg", "children"),
        Output("mn-progress", "style"),
        Input("mn-retrain", "n_clicks"),
        State("mn-scenario", "data"),
        prevent_initial_call=True,
    )(start_training)
    app.callback(
        Output("mn-progress", "value"),
        Output("mn-progress", "label"),
        Output("mn-train-msg", "children", allow_duplicate=True),
        Output("mn-poll", "disabled", allow_duplicate=True),
        Output("mn-progress", "style", allow_duplicate=True),
        Input("mn-poll", "n_intervals"),
        State("mn-job", "data"),
        prevent_initial_call=True,
    )(poll_training)
    app.callback(
        Output("mn-download", "data"),
        Output("mn-list-msg", "children", allow_duplicate=True),
        Input("mn-export-csv", "n_clicks"),
        Input("mn-export-xlsx", "n_clicks"),
        *[State(i.component_id, i.component_property) for i in filters],
        State("mn-grid", "virtualRowData"),
        State("mn-scenario", "data"),
        prevent_initial_call=True,
    )(export_list)
    app.callback(
        Output("mn-share-msg", "children"),
        Input("mn-share", "n_clicks"),
        State("mn-list-title", "value"),
        *[State(i.component_id, i.component_property) for i in filters],
        State("mn-scenario", "data"),
        State("mn-share-groups", "value"),
        prevent_initial_call=True,
    )(share_list)
