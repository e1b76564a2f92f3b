"""Callbacks of the reports registry (/reports): list, filter, add, edit and delete links."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.favorite import favorite_button
from portal.db import get_db
from portal.errors import PortalError
from portal.services import reports

EDIT, DELETE = "report-edit", "report-delete"
TYPE_ICONS = {"pivot": "grid-3x3", "dashboard": "speedometer2", "report": "box-arrow-up-right"}


def locale() -> str:
    return str(get_locale() or "zh_CN")


def type_name(kind: str) -> str:
    return {
        "pivot": _("Saved pivot"),
        "dashboard": _("Dashboard"),
        "report": _("External report"),
    }.get(kind, kind)


def report_card(entry: dict) -> dbc.Card:
    """Return one report as a card: type, title (a link), description, owner, actions."""
    external = entry["external"]
    link_props = {"target": "_blank", "rel": "noopener noreferrer"} if external else {}
    meta = [
        html.Span([html.I(className="bi bi-person me-1"), entry["owner"] or "—"]),
        html.Span([html.I(className="bi bi-eye me-1"), str(entry["views"])]),
    ]
    if entry.get("platform"):
        meta.insert(0, html.Span([html.I(className="bi bi-hdd-network me-1"), entry["platform"]]))
    actions = [favorite_button(entry["id"], entry["favorite"])]
    if entry["can_edit"]:
        actions += [
            dbc.Button(
                html.I(className="bi bi-pencil"),
                id={"type": EDIT, "id": entry["id"]},
                color="link",
                size="sm",
                title=_("Edit"),
            ),
            dcc.ConfirmDialogProvider(
                dbc.Button(
                    html.I(className="bi bi-trash"),
                    color="link",
                    size="sm",
                    className="text-danger",
                    title=_("Delete"),
                ),
                id={"type": DELETE, "id": entry["id"]},
                message=_("Delete the report link “%(title)s”?", title=entry["title"]),
            ),
        ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        dbc.Badge(
                            [
                                html.I(className=f"bi bi-{TYPE_ICONS[entry['type']]} me-1"),
                                type_name(entry["type"]),
                            ],
                            className=f"report-type report-type-{entry['type']}",
                            color="light",
                        ),
                        html.Div(actions, className="report-actions ms-auto"),
                    ],
                    className="d-flex align-items-center",
                ),
                html.A(entry["title"], href=entry["url"], className="report-title", **link_props),
                html.Div(entry["description"], className="report-desc"),
                html.Div(meta, className="report-meta"),
            ]
        ),
        className="report-card",
    )


def report_list(result: dict, loc: str) -> list:
    """Return the reports grouped by category, or a friendly empty state."""
    if not result["reports"]:
        return [
            dbc.Alert(
                [html.I(className="bi bi-search me-2"), _("No reports match these filters.")],
                color="light",
                className="reports-empty",
            )
        ]
    out = []
    groups: dict[str, list[dict]] = {}
    for entry in result["reports"]:
        groups.setdefault(entry["category"], []).append(entry)
    for category, entries in groups.items():
        out.append(
            html.H5(
                [
                    reports.category_name(category, loc),
                    dbc.Badge(
                        str(len(entries)), color="light", text_color="secondary", className="ms-2"
                    ),
                ],
                className="reports-category-title",
            )
        )
        out.append(
            dbc.Row(
                [dbc.Col(report_card(e), xs=12, md=6, xl=4, className="mb-3") for e in entries],
                className="g-3",
            )
        )
    return out


def render(q, kind, category, _refresh):
    """List the reports the user may see, filtered by the search box, type and category."""
    loc = locale()
    try:
        with get_db().session() as s:
            result = reports.list_reports(
                s, current_user, locale=loc, q=q, type=kind, category=category
            )
    except PortalError as exc:
        return dbc.Alert(exc.message, color="danger"), ""
    count = _("%(n)d reports", n=len(result["reports"]))
    return report_list(result, loc), count


def open_modal(add_clicks, edit_clicks):
    """Open the link form: empty to add, filled in to edit."""
    trigger = ctx.triggered_id
    empty = (True, _("Add report link"), "", "", "", "", "management", "", None, None)
    if trigger == "reports-add":
        if not add_clicks:
            raise dash.exceptions.PreventUpdate
        return empty
    if isinstance(trigger, dict) and trigger.get("type") == EDIT:
        if not any(edit_clicks or []):
            raise dash.exceptions.PreventUpdate
        try:
            with get_db().session() as s:
                entry = reports.get_report(s, current_user, trigger["id"], locale())
        except PortalError as exc:
            return (*empty[:-1], dbc.Alert(exc.message, color="danger"))
        spec_url = entry["url"]
        return (
            True,
            _("Edit report link"),
            entry["title_zh"] or "",
            entry["title_en"] or "",
            spec_url,
            entry["platform"] or "",
            entry["category"],
            entry["description"] or "",
            entry["id"],
            None,
        )
    raise dash.exceptions.PreventUpdate


def save_link(n_clicks, title_zh, title_en, url, platform, category, description, edit_id, refresh):
    """Add or change an external report link; errors stay in the form."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    data = {
        "title_zh": title_zh,
        "title_en": title_en,
        "url": url,
        "platform": platform,
        "category": category,
        "description": description,
    }
    try:
        with get_db().session() as s, s.begin():
            if edit_id:
                entry = reports.update_external_report(s, current_user, edit_id, data, locale())
            else:
                entry = reports.add_external_report(s, current_user, data, locale())
    except PortalError as exc:
        return dash.no_update, dash.no_update, dbc.Alert(exc.message, color="danger"), None
    done = dbc.Alert(
        [html.I(className="bi bi-check-circle me-2"), _("Saved: %(title)s", title=entry["title"])],
        color="success",
        duration=5000,
    )
    return False, (refresh or 0) + 1, None, done


def delete_link(submitted, refresh):
    """Delete the confirmed external report link."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(submitted or []):
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            reports.delete_external_report(s, current_user, trigger["id"])
    except PortalError as exc:
        return dash.no_update, dbc.Alert(exc.message, color="danger")
    done = dbc.Alert(_("The report link was deleted."), color="success", duration=5000)
    return (refresh or 0) + 1, done


def register(app: dash.Dash) -> None:
    app.callback(
        Output("reports-list", "children"),
        Output("reports-count", "children"),
        Input("reports-q", "value"),
        Input("reports-type", "value"),
        Input("reports-category", "value"),
        Input("reports-refresh", "data"),
    )(render)
    app.callback(
        Output("reports-modal", "is_open"),
        Output("reports-modal-title", "children"),
        Output("reports-f-title-zh", "value"),
        Output("reports-f-title-en", "value"),
        Output("reports-f-url", "value"),
        Output("reports-f-platform", "value"),
        Output("reports-f-category", "value"),
        Output("reports-f-description", "value"),
        Output("reports-edit-id", "data"),
        Output("reports-modal-feedback", "children"),
        Input("reports-add", "n_clicks"),
        Input({"type": EDIT, "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(open_modal)
    app.callback(
        Output("reports-modal", "is_open", allow_duplicate=True),
        Output("reports-refresh", "data"),
        Output("reports-modal-feedback", "children", allow_duplicate=True),
        Output("reports-feedback", "children"),
        Input("reports-save", "n_clicks"),
        State("reports-f-title-zh", "value"),
        State("reports-f-title-en", "value"),
        State("reports-f-url", "value"),
        State("reports-f-platform", "value"),
        State("reports-f-category", "value"),
        State("reports-f-description", "value"),
        State("reports-edit-id", "data"),
        State("reports-refresh", "data"),
        prevent_initial_call=True,
    )(save_link)
    app.callback(
        Output("reports-refresh", "data", allow_duplicate=True),
        Output("reports-feedback", "children", allow_duplicate=True),
        Input({"type": DELETE, "id": ALL}, "submit_n_clicks"),
        State("reports-refresh", "data"),
        prevent_initial_call=True,
    )(delete_link)
