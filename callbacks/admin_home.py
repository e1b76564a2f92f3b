"""Callbacks of the home page administration: tiles and announcements (administrators only;
the services check the role again, so a forged callback changes nothing)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx
from flask_babel import gettext as _
from flask_login import current_user

from components.admin_home import (
    ADMIN_IDS as IDS,
)
from components.admin_home import (
    WITHDRAW,
    announcement_list,
    row_to_fields,
    tile_rows,
)
from portal.auth import client_address
from portal.db import get_db
from portal.errors import PortalError
from portal.services.announcements import publish, withdraw
from portal.services.tiles import save_tile


def _alert(message, color="success"):
    return dbc.Alert(message, color=color, className="py-2 small", dismissable=True)


def add_tile_row(n_clicks, key, rows):
    """Add an empty row for a new tile (saved with the other changes)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    key = (key or "").strip()
    if not key:
        return dash.no_update, _alert(_("Enter a key for the new tile."), "warning")
    if any(r.get("key") == key for r in rows or []):
        return dash.no_update, _alert(_("A tile with this key exists."), "warning")
    row = row_to_fields({"key": key})
    row = {**row, "title_zh": "", "title_en": "", "url": "/", "order": 100,
           "roles": "", "groups": "", "branches": "", "new_until": ""}  # fmt: skip
    return [*(rows or []), row], None


def save_tiles(n_clicks, rows):
    """Save every row of the grid; stop at the first invalid one and say which."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            for row in rows or []:
                try:
                    save_tile(s, current_user, row_to_fields(row), client_address())
                except PortalError as exc:
                    exc.message = f"{row.get('key')}: {exc.message}"
                    raise
    except PortalError as exc:
        return dash.no_update, _alert(exc.message, "danger")
    return tile_rows(), _alert(_("Tiles saved."))


def publish_announcement(n_clicks, title_zh, title_en, body, level, roles, groups, branches, ends):
    """Publish an announcement from the form."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    fields = {
        "title_zh": title_zh,
        "title_en": title_en,
        "body": body,
        "level": level,
        "ends_at": f"{ends}T23:59:59+08:00" if ends else None,
        "audience": {"roles": roles or [], "groups": groups or [], "branches": branches or []},
    }
    try:
        with get_db().session() as s, s.begin():
            publish(s, current_user, fields, client_address())
    except PortalError as exc:
        return _alert(exc.message, "danger"), dash.no_update
    return _alert(_("Announcement published.")), announcement_list()


def withdraw_announcement(clicks):
    """Withdraw the announcement whose button was clicked."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            withdraw(s, current_user, int(trigger.get("announcement")))
    except (PortalError, TypeError, ValueError) as exc:
        return _alert(getattr(exc, "message", str(exc)), "danger"), dash.no_update
    return _alert(_("Announcement withdrawn.")), announcement_list()


def register(app: dash.Dash) -> None:
    app.callback(
        Output(IDS["tiles"], "rowData", allow_duplicate=True),
        Output(IDS["tiles_feedback"], "children", allow_duplicate=True),
        Input(IDS["add"], "n_clicks"),
        State(IDS["new_key"], "value"),
        State(IDS["tiles"], "rowData"),
        prevent_initial_call=True,
    )(add_tile_row)
    app.callback(
        Output(IDS["tiles"], "rowData", allow_duplicate=True),
        Output(IDS["tiles_feedback"], "children", allow_duplicate=True),
        Input(IDS["save"], "n_clicks"),
        State(IDS["tiles"], "rowData"),
        prevent_initial_call=True,
    )(save_tiles)
    app.callback(
        Output(IDS["a_feedback"], "children", allow_duplicate=True),
        Output(IDS["a_list"], "children", allow_duplicate=True),
        Input(IDS["publish"], "n_clicks"),
        State(IDS["a_title_zh"], "value"),
        State(IDS["a_title_en"], "value"),
        State(IDS["a_body"], "value"),
        State(IDS["a_level"], "value"),
        State(IDS["a_roles"], "value"),
        State(IDS["a_groups"], "value"),
        State(IDS["a_branches"], "value"),
        State(IDS["a_ends"], "value"),
        prevent_initial_call=True,
    )(publish_announcement)
    app.callback(
        Output(IDS["a_feedback"], "children", allow_duplicate=True),
        Output(IDS["a_list"], "children", allow_duplicate=True),
        Input({"type": WITHDRAW, "announcement": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(withdraw_announcement)
