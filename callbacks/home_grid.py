"""Callbacks of the home page's grid: widget contents, customising, and tile arrangement.

The store (the user setting "home.layout") is the source of truth: every change is read from
and written to it on the server, so two tabs cannot corrupt a layout and a forged callback can
only change the caller's own layout.
"""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, ctx, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.grid import from_grid_layout
from components.home_grid import HOME_IDS as IDS
from components.home_grid import add_widget_options, home_grid
from components.home_widgets import (
    TILES_MANAGE,
    WIDGET_BODY,
    WIDGET_REMOVE,
    render_widget,
    widget_error,
)
from portal.auth import client_address
from portal.db import get_db
from portal.errors import PortalError
from portal.services import home_layout as layouts
from portal.services.tiles import save_preferences, visible_tiles

log = logging.getLogger(__name__)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def load_widget(widget_id: dict):
    """Return one widget's content; a failure shows in that widget only."""
    name = widget_id.get("widget") if isinstance(widget_id, dict) else None
    try:
        return render_widget(name, current_user, _locale())
    except PortalError as exc:
        return widget_error(exc.message)
    except Exception:  # noqa: BLE001 - one broken widget must not break the page
        log.exception("home widget %s failed", name)
        return widget_error(_("This widget is unavailable right now."))


def toggle_editing(n_clicks, editing):
    """Enter or leave customising: the grid becomes draggable and the tools show."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    editing = not editing
    label = (
        [html.I(className="bi bi-check2 me-1"), _("Done")]
        if editing
        else [html.I(className="bi bi-pencil-square me-1"), _("Customize")]
    )
    return editing, editing, label


def render_grid(layout, editing):
    """Re-draw the grid after a change of mode or of the widgets on it."""
    with get_db().session() as s:
        saved, _source, _notice = layouts.load_layout(s, current_user)
    return home_grid(saved, editing=bool(editing))


def save_positions(grid_layout, editing):
    """Store where the user dragged or resized widgets to (only while customising)."""
    if not editing or not grid_layout:
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            saved, _source, _notice = layouts.load_layout(s, current_user)
            keys = [w["id"] for w in saved["widgets"]]
            boxes = {w["id"]: {k: w[k] for k in ("x", "y", "w", "h")} for w in saved["widgets"]}
            moved = layouts.move_widgets(saved, from_grid_layout(grid_layout, keys, boxes))
            if moved == saved:
                raise dash.exceptions.PreventUpdate
            layouts.save_layout(s, current_user, moved)
    except PortalError as exc:
        return exc.message
    return _("Layout saved")


def change_widgets(add_clicks, reset_clicks, remove_clicks, choice):
    """Add a widget, remove one, or restore the default layout; return the new layout."""
    trigger = ctx.triggered_id
    if trigger is None or not (ctx.triggered and ctx.triggered[0].get("value")):
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            saved, _source, _notice = layouts.load_layout(s, current_user)
            if trigger == IDS["reset"]:
                layout = layouts.reset_layout(s, current_user)
                message = _("Default layout restored")
            elif trigger == IDS["add"]:
                if not choice:
                    raise dash.exceptions.PreventUpdate
                layout = layouts.save_layout(s, current_user, layouts.add_widget(saved, choice))
                message = _("Widget added")
            elif isinstance(trigger, dict) and trigger.get("type") == WIDGET_REMOVE:
                layout = layouts.remove_widget(saved, trigger.get("widget"))
                layout = layouts.save_layout(s, current_user, layout)
                message = _("Widget removed")
            else:
                raise dash.exceptions.PreventUpdate
    except PortalError as exc:
        return dash.no_update, dash.no_update, exc.message
    return layout, add_widget_options(layout), message


def save_role_default(n_clicks, role_code):
    """Make the administrator's current layout the default of a role."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    if not role_code:
        return _("Choose a role first.")
    try:
        with get_db().session() as s, s.begin():
            saved, _source, _notice = layouts.load_layout(s, current_user)
            layouts.save_role_default(s, current_user, role_code, saved, client_address())
    except PortalError as exc:
        return exc.message
    return _("Saved as the default of %(role)s", role=role_code)


def open_tiles(n_clicks):
    """Open the tile arrangement dialog with the user's tiles in their order."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    with get_db().session() as s:
        tiles = visible_tiles(s, current_user, _locale(), include_hidden=True)
    options = [{"label": t["title"], "value": t["key"]} for t in tiles]
    shown = [t["key"] for t in tiles if not t["hidden"]]
    return True, options, shown, None


def save_tiles(n_clicks, shown, options):
    """Save the tile order (the dialog's order), hide the tiles left out, redraw the tiles."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    every = [o["value"] for o in options or []]
    shown = [k for k in shown or [] if isinstance(k, str)]
    try:
        with get_db().session() as s, s.begin():
            save_preferences(s, current_user, shown, [k for k in every if k not in shown])
    except PortalError as exc:
        return True, dbc.Alert(exc.message, color="danger", className="py-2 small"), dash.no_update
    return False, None, load_widget({"widget": "quick_entry"})


def register(app: dash.Dash) -> None:
    app.callback(
        Output({"type": WIDGET_BODY, "widget": MATCH}, "children"),
        Input({"type": WIDGET_BODY, "widget": MATCH}, "id"),
    )(load_widget)
    app.callback(
        Output(IDS["editing"], "data"),
        Output(IDS["edit_bar"], "is_open"),
        Output(IDS["edit"], "children"),
        Input(IDS["edit"], "n_clicks"),
        State(IDS["editing"], "data"),
        prevent_initial_call=True,
    )(toggle_editing)
    app.callback(
        Output(IDS["grid"], "children"),
        Input(IDS["layout"], "data"),
        Input(IDS["editing"], "data"),
        prevent_initial_call=True,
    )(render_grid)
    app.callback(
        Output(IDS["status"], "children", allow_duplicate=True),
        Input(IDS["grid_edit"], "currentLayout"),
        State(IDS["editing"], "data"),
        prevent_initial_call=True,
    )(save_positions)
    app.callback(
        Output(IDS["layout"], "data"),
        Output(IDS["add_choice"], "options"),
        Output(IDS["status"], "children", allow_duplicate=True),
        Input(IDS["add"], "n_clicks"),
        Input(IDS["reset"], "n_clicks"),
        Input({"type": WIDGET_REMOVE, "widget": ALL}, "n_clicks"),
        State(IDS["add_choice"], "value"),
        prevent_initial_call=True,
    )(change_widgets)
    app.callback(
        Output(IDS["status"], "children", allow_duplicate=True),
        Input(IDS["role_save"], "n_clicks"),
        State(IDS["role_choice"], "value"),
        prevent_initial_call=True,
    )(save_role_default)
    app.callback(
        Output(IDS["tiles_modal"], "is_open"),
        Output(IDS["tiles_order"], "options"),
        Output(IDS["tiles_order"], "value"),
        Output(IDS["tiles_feedback"], "children"),
        Input(TILES_MANAGE, "n_clicks"),
        prevent_initial_call=True,
    )(open_tiles)
    app.callback(
        Output(IDS["tiles_modal"], "is_open", allow_duplicate=True),
        Output(IDS["tiles_feedback"], "children", allow_duplicate=True),
        Output({"type": WIDGET_BODY, "widget": "quick_entry"}, "children", allow_duplicate=True),
        Input(IDS["tiles_save"], "n_clicks"),
        State(IDS["tiles_order"], "value"),
        State(IDS["tiles_order"], "options"),
        prevent_initial_call=True,
    )(save_tiles)
