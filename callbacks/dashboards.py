"""Callbacks of the dashboard pages: each chart fills itself; editing, saving, sharing.

Every callback identifies the user on the server and calls the dashboards service, which
checks their permission on the dashboard; chart data goes through the user's scoped tables.
"""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.dashboard_charts import (
    CHART_BODY,
    EDIT_FILTER_PREFIX,
    EDIT_GRID,
    EDIT_GRID_WRAP,
    EDIT_KEY,
    EDIT_REMOVE,
    EDIT_SAVE,
    EDIT_SPEC,
    EDIT_STATUS,
    EDIT_TITLE,
    FILTER_BRANCH,
    FILTER_PERIOD,
    FILTER_PRODUCT,
    FILTER_RANGE,
    FORM_ADD,
    FORM_DIMENSION,
    FORM_FEEDBACK,
    FORM_METRIC,
    FORM_PERIOD,
    FORM_SERIES,
    FORM_TITLE,
    FORM_TOP,
    FORM_TYPE,
    LIST_CONTAINER,
    LIST_CREATE,
    LIST_CREATE_FEEDBACK,
    LIST_CREATE_TITLE,
    LIST_DELETE,
    LIST_DELETE_CONFIRM,
    LIST_DELETE_KEY,
    LIST_DELETE_MODAL,
    LIST_DELETE_NAME,
    LIST_DUPLICATE,
    LIST_NAV,
    LIST_NEW,
    LIST_NEW_MODAL,
    LIST_STATUS,
    SHARE_FEEDBACK,
    SHARE_LIST,
    SHARE_MODAL,
    SHARE_OPEN,
    SHARE_PERMISSION,
    SHARE_PUBLISH,
    SHARE_REMOVE,
    SHARE_SUBMIT,
    SHARE_TARGET,
    VIEW_ALERT,
    VIEW_DUPLICATE,
    VIEW_KEY,
    VIEW_NAV,
    chart_body,
    chart_error,
    dashboard_cards,
    editor_grid,
    filters_from_inputs,
    share_rows,
)
from components.grid import from_grid_layout
from portal.db import get_db
from portal.errors import PortalError
from portal.security import current_tables
from portal.services import dashboards as svc

log = logging.getLogger(__name__)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _service():
    return current_app.extensions["metric_service"]


def _alert(message: str, color: str = "warning", icon: str = "bi-exclamation-triangle"):
    return dbc.Alert(
        [html.I(className=f"bi {icon} me-2"), message],
        color=color,
        className="py-2 small mb-2",
        dismissable=True,
    )


def _chart_children(chart: dict, raw_filters: dict, locale: str) -> list:
    """Return a chart's body for the current user, or its own error (never raises)."""
    try:
        filters = svc.check_filters(raw_filters)
        data = svc.chart_data(_service(), current_tables(), chart, filters, locale)
    except PortalError as exc:
        return [chart_error(exc.message)]
    except Exception:  # noqa: BLE001 - one broken chart must not break the dashboard
        log.exception("dashboard chart %s failed", chart.get("id"))
        return [chart_error(_("This chart is unavailable right now."))]
    return chart_body(data, locale)


# -- viewing ---------------------------------------------------------------------------------
def load_chart(body_id, period=None, start=None, end=None, branch=None, product=None) -> list:
    """Return one chart's body: its saved definition, the filters bar's values, the user's data."""
    locale = _locale()
    key = body_id.get("dashboard") if isinstance(body_id, dict) else None
    chart_id = body_id.get("chart") if isinstance(body_id, dict) else None
    try:
        with get_db().session() as s:
            resource = svc.get_dashboard(s, current_user, key, "view")
            spec = svc.load_spec(resource, _service().catalog)
    except PortalError as exc:
        return [chart_error(exc.message)]
    chart = next((c for c in spec["charts"] if c["id"] == chart_id), None)
    if chart is None:
        return [chart_error(_("This chart is no longer on the dashboard."))]
    return _chart_children(chart, filters_from_inputs(period, start, end, branch, product), locale)


def toggle_range(period) -> str:
    return "dash-filter" + ("" if period == "custom" else " d-none")


def duplicate_from_view(n_clicks, key):
    """Copy the dashboard for the user and open the copy's editor."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            copy = svc.duplicate_dashboard(s, current_user, _service().catalog, key, _locale())
            new_key = copy.key
    except PortalError as exc:
        return dash.no_update, _alert(exc.message)
    return f"/dashboards/{new_key}/edit", None


# -- sharing ---------------------------------------------------------------------------------
def open_share(n_clicks, key):
    """Open the share dialog with the people to choose from and the current shares."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    locale = _locale()
    try:
        with get_db().session() as s:
            resource = svc.get_dashboard(s, current_user, key, "manage")
            published = (resource.spec or {}).get("published") is True
            shares = svc.list_shares(s, current_user, key, locale)
            targets = svc.share_targets(s, locale)
    except PortalError as exc:
        return True, [], [_alert(exc.message)], False
    return True, targets, share_rows(shares), published


def change_share(submit, removes, target, permission, key, triggered=None):
    """Add a share (the Share button) or remove one (a row's ×); return the list and feedback."""
    triggered = triggered if triggered is not None else dash.ctx.triggered_id
    locale = _locale()
    message = None
    try:
        with get_db().session() as s, s.begin():
            if isinstance(triggered, dict) and triggered.get("type") == SHARE_REMOVE:
                if not any(removes or []):
                    raise dash.exceptions.PreventUpdate
                svc.unshare_dashboard(s, current_user, key, triggered.get("grant"))
            else:
                if not submit:
                    raise dash.exceptions.PreventUpdate
                if not isinstance(target, str) or ":" not in target:
                    return dash.no_update, _alert(_("Choose whom to share with."))
                subject_type, _sep, subject_id = target.partition(":")
                svc.share_dashboard(
                    s,
                    current_user,
                    key,
                    subject_type,
                    int(subject_id) if subject_id.isdigit() else -1,
                    permission or "view",
                )
                message = _alert(_("Shared."), "success", "bi-check-circle")
            shares = svc.list_shares(s, current_user, key, locale)
    except PortalError as exc:
        return dash.no_update, _alert(exc.message)
    return share_rows(shares), message


def publish(value, key):
    """Publish the dashboard to every logged-in user, or withdraw it."""
    if value is None:
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            svc.set_published(s, current_user, key, bool(value))
    except PortalError as exc:
        return _alert(exc.message)
    return None


# -- editing ---------------------------------------------------------------------------------
def form_dimensions(metric_id, chart_type, current):
    """Offer the dimensions the chosen metric allows (a map: branch or sub-branch only)."""
    locale = _locale()
    catalog = _service().catalog
    metric = catalog.metrics.get(metric_id)
    if metric is None or chart_type == "kpi":
        return [], None, [], None
    dims = list(metric.dimensions)
    if chart_type == "map":
        dims = [d for d in dims if d in svc.MAP_DIMENSIONS]
    options = [{"label": catalog.dimensions[d].name.get(locale), "value": d} for d in dims]
    value = current if current in dims else (dims[0] if dims else None)
    series = [] if chart_type not in svc.SERIES_TYPES else options
    return options, value, series, None


def _draft(spec, grid_layout) -> dict:
    """Return the client's draft spec with the grid's current positions folded in."""
    spec = spec if isinstance(spec, dict) else svc.empty_spec()
    charts = [c for c in spec.get("charts", []) if isinstance(c, dict)]
    keys = [str(c.get("id")) for c in charts]
    fallback = {str(c.get("id")): c.get("layout") or {} for c in charts}
    positions = from_grid_layout(grid_layout, keys, fallback, grid_id=EDIT_GRID)
    out = dict(spec)
    out["charts"] = [{**c, "layout": positions[str(c.get("id"))]} for c in charts]
    return out


def editor_children(spec: dict, raw_filters: dict, locale: str) -> list:
    """Return the editor's grid with every draft chart's preview rendered in place."""
    bodies = {c["id"]: _chart_children(c, raw_filters, locale) for c in spec["charts"]}
    return editor_grid(spec, _service().catalog, locale, bodies)


EDIT_FILTER_IDS = {
    EDIT_FILTER_PREFIX + FILTER_PERIOD,
    EDIT_FILTER_PREFIX + FILTER_RANGE,
    EDIT_FILTER_PREFIX + FILTER_BRANCH,
    EDIT_FILTER_PREFIX + FILTER_PRODUCT,
}


def edit_charts(
    add_clicks,
    remove_clicks,
    filter_period,
    filter_start,
    filter_end,
    filter_branch,
    filter_product,
    chart_type,
    metric_id,
    dimension,
    series,
    period,
    top,
    title,
    spec,
    grid_layout,
    triggered=None,
):
    """Add the form's chart, remove one, or apply new default filters to the previews.

    Returns (draft spec, grid with previews, form feedback); positions the user dragged to
    are folded into the draft first.
    """
    triggered = triggered if triggered is not None else dash.ctx.triggered_id
    locale = _locale()
    catalog = _service().catalog
    draft = _draft(spec, grid_layout)
    feedback = None
    if isinstance(triggered, dict) and triggered.get("type") == EDIT_REMOVE:
        if not any(remove_clicks or []):
            raise dash.exceptions.PreventUpdate
        draft["charts"] = [c for c in draft["charts"] if c.get("id") != triggered.get("chart")]
    elif triggered == FORM_ADD and add_clicks:
        w, h = svc.default_size(chart_type or "bar")
        chart = {
            "id": svc.new_chart_id(draft),
            "type": chart_type,
            "metric": metric_id,
            "dimension": dimension if chart_type != "kpi" else None,
            "series_dimension": series if chart_type in svc.SERIES_TYPES else None,
            "period": period or None,
            "top": top or None,
            "title": (title or "").strip(),
        }
        bottom = max((c["layout"]["y"] + c["layout"]["h"] for c in draft["charts"]), default=0)
        chart["layout"] = {"x": 0, "y": bottom, "w": w, "h": h}
        draft["charts"] = draft["charts"] + [chart]
        feedback = _alert(_("Chart added. Save to keep it."), "success", "bi-check-circle")
    elif triggered not in EDIT_FILTER_IDS:
        raise dash.exceptions.PreventUpdate
    try:
        checked = svc.validate_spec(draft, catalog)
    except PortalError as exc:
        return dash.no_update, dash.no_update, _alert(exc.message)
    raw_filters = filters_from_inputs(
        filter_period, filter_start, filter_end, filter_branch, filter_product
    )
    return checked, editor_children(checked, raw_filters, locale), feedback


def save(n_clicks, key, title, spec, grid_layout, period, start, end, branch, product):
    """Save the draft (positions from the grid, default filters) and say so."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    locale = _locale()
    draft = _draft(spec, grid_layout)
    draft["filters"] = filters_from_inputs(period, start, end, branch, product)
    try:
        with get_db().session() as s, s.begin():
            svc.save_dashboard(
                s, current_user, _service().catalog, key, draft, title=title, locale=locale
            )
    except PortalError as exc:
        return _alert(exc.message)
    return dbc.Alert(
        [
            html.I(className="bi bi-check-circle me-2"),
            _("Saved."),
            html.A(
                _("Open the dashboard"),
                href=f"/dashboards/{key}",
                className="ms-2",
                id="dash-edit-open",
            ),
        ],
        color="success",
        className="py-2 small mb-2",
        id="dash-edit-saved",
    )


# -- the list --------------------------------------------------------------------------------
def open_new(n_clicks):
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    return True


def _open_new_editor(make) -> tuple:
    """Make a dashboard with `make(session)` and go to its editor, or show why it failed."""
    try:
        with get_db().session() as s, s.begin():
            key = make(s).key
    except PortalError as exc:
        return dash.no_update, _alert(exc.message)
    return f"/dashboards/{key}/edit", None


def _clicked_row(clicks, triggered) -> dict:
    """Return the id of the list row whose button was clicked (else no update)."""
    triggered = triggered if triggered is not None else dash.ctx.triggered_id
    if not isinstance(triggered, dict) or not any(clicks or []):
        raise dash.exceptions.PreventUpdate
    return triggered


def create(n_clicks, title):
    """Create an empty dashboard and open its editor."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    return _open_new_editor(
        lambda s: svc.create_dashboard(s, current_user, _service().catalog, title)
    )


def duplicate_from_list(clicks, triggered=None):
    key = _clicked_row(clicks, triggered).get("key")
    return _open_new_editor(
        lambda s: svc.duplicate_dashboard(s, current_user, _service().catalog, key, _locale())
    )


def ask_delete(clicks, triggered=None):
    key = _clicked_row(clicks, triggered).get("key")
    try:
        with get_db().session() as s:
            resource = svc.get_dashboard(s, current_user, key, "manage")
            title = svc.title_of(resource, _locale())
    except PortalError as exc:
        return False, None, exc.message
    return True, key, _("Delete “%(title)s”? This cannot be undone.", title=title)


def confirm_delete(n_clicks, key):
    if not n_clicks or not key:
        raise dash.exceptions.PreventUpdate
    locale = _locale()
    try:
        with get_db().session() as s, s.begin():
            svc.delete_dashboard(s, current_user, key)
    except PortalError as exc:
        return dash.no_update, False, _alert(exc.message)
    with get_db().session() as s:
        items = svc.list_dashboards(s, current_user, locale)
    return (
        dashboard_cards(items, locale),
        False,
        _alert(_("Dashboard deleted."), "success", "bi-check-circle"),
    )


def register(app: dash.Dash) -> None:
    body = {"type": CHART_BODY, "dashboard": MATCH, "chart": MATCH}
    app.callback(
        Output(body, "children"),
        Input(body, "id"),
        Input(FILTER_PERIOD, "value"),
        Input(FILTER_RANGE, "start_date"),
        Input(FILTER_RANGE, "end_date"),
        Input(FILTER_BRANCH, "value"),
        Input(FILTER_PRODUCT, "value"),
    )(load_chart)
    for prefix in ("", EDIT_FILTER_PREFIX):
        app.callback(
            Output(prefix + FILTER_RANGE + "-wrap", "className"),
            Input(prefix + FILTER_PERIOD, "value"),
            prevent_initial_call=True,
        )(toggle_range)
    app.callback(
        Output(VIEW_NAV, "href"),
        Output(VIEW_ALERT, "children"),
        Input(VIEW_DUPLICATE, "n_clicks"),
        State(VIEW_KEY, "data"),
        prevent_initial_call=True,
    )(duplicate_from_view)
    app.callback(
        Output(SHARE_MODAL, "is_open"),
        Output(SHARE_TARGET, "options"),
        Output(SHARE_LIST, "children"),
        Output(SHARE_PUBLISH, "value"),
        Input(SHARE_OPEN, "n_clicks"),
        State(VIEW_KEY, "data"),
        prevent_initial_call=True,
    )(open_share)
    app.callback(
        Output(SHARE_LIST, "children", allow_duplicate=True),
        Output(SHARE_FEEDBACK, "children"),
        Input(SHARE_SUBMIT, "n_clicks"),
        Input({"type": SHARE_REMOVE, "grant": ALL}, "n_clicks"),
        State(SHARE_TARGET, "value"),
        State(SHARE_PERMISSION, "value"),
        State(VIEW_KEY, "data"),
        prevent_initial_call=True,
    )(change_share)
    app.callback(
        Output(SHARE_FEEDBACK, "children", allow_duplicate=True),
        Input(SHARE_PUBLISH, "value"),
        State(VIEW_KEY, "data"),
        prevent_initial_call=True,
    )(publish)
    edit_filters = [
        Input(EDIT_FILTER_PREFIX + FILTER_PERIOD, "value"),
        Input(EDIT_FILTER_PREFIX + FILTER_RANGE, "start_date"),
        Input(EDIT_FILTER_PREFIX + FILTER_RANGE, "end_date"),
        Input(EDIT_FILTER_PREFIX + FILTER_BRANCH, "value"),
        Input(EDIT_FILTER_PREFIX + FILTER_PRODUCT, "value"),
    ]
    app.callback(
        Output(FORM_DIMENSION, "options"),
        Output(FORM_DIMENSION, "value"),
        Output(FORM_SERIES, "options"),
        Output(FORM_SERIES, "value"),
        Input(FORM_METRIC, "value"),
        Input(FORM_TYPE, "value"),
        State(FORM_DIMENSION, "value"),
    )(form_dimensions)
    app.callback(
        Output(EDIT_SPEC, "data"),
        Output(EDIT_GRID_WRAP, "children"),
        Output(FORM_FEEDBACK, "children"),
        Input(FORM_ADD, "n_clicks"),
        Input({"type": EDIT_REMOVE, "chart": ALL}, "n_clicks"),
        *edit_filters,
        State(FORM_TYPE, "value"),
        State(FORM_METRIC, "value"),
        State(FORM_DIMENSION, "value"),
        State(FORM_SERIES, "value"),
        State(FORM_PERIOD, "value"),
        State(FORM_TOP, "value"),
        State(FORM_TITLE, "value"),
        State(EDIT_SPEC, "data"),
        State(EDIT_GRID, "currentLayout"),
        prevent_initial_call=True,
    )(edit_charts)
    app.callback(
        Output(EDIT_STATUS, "children"),
        Input(EDIT_SAVE, "n_clicks"),
        State(EDIT_KEY, "data"),
        State(EDIT_TITLE, "value"),
        State(EDIT_SPEC, "data"),
        State(EDIT_GRID, "currentLayout"),
        State(EDIT_FILTER_PREFIX + FILTER_PERIOD, "value"),
        State(EDIT_FILTER_PREFIX + FILTER_RANGE, "start_date"),
        State(EDIT_FILTER_PREFIX + FILTER_RANGE, "end_date"),
        State(EDIT_FILTER_PREFIX + FILTER_BRANCH, "value"),
        State(EDIT_FILTER_PREFIX + FILTER_PRODUCT, "value"),
        prevent_initial_call=True,
    )(save)
    app.callback(
        Output(LIST_NEW_MODAL, "is_open"),
        Input(LIST_NEW, "n_clicks"),
        prevent_initial_call=True,
    )(open_new)
    app.callback(
        Output(LIST_NAV, "href"),
        Output(LIST_CREATE_FEEDBACK, "children"),
        Input(LIST_CREATE, "n_clicks"),
        State(LIST_CREATE_TITLE, "value"),
        prevent_initial_call=True,
    )(create)
    app.callback(
        Output(LIST_NAV, "href", allow_duplicate=True),
        Output(LIST_STATUS, "children"),
        Input({"type": LIST_DUPLICATE, "key": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(duplicate_from_list)
    app.callback(
        Output(LIST_DELETE_MODAL, "is_open"),
        Output(LIST_DELETE_KEY, "data"),
        Output(LIST_DELETE_NAME, "children"),
        Input({"type": LIST_DELETE, "key": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(ask_delete)
    app.callback(
        Output(LIST_CONTAINER, "children"),
        Output(LIST_DELETE_MODAL, "is_open", allow_duplicate=True),
        Output(LIST_STATUS, "children", allow_duplicate=True),
        Input(LIST_DELETE_CONFIRM, "n_clicks"),
        State(LIST_DELETE_KEY, "data"),
        prevent_initial_call=True,
    )(confirm_delete)
