"""My account (/account): profile, interface language and personal API tokens."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_babel import gettext as _
from flask_login import current_user

from callbacks.social import ACCT, english, token_table
from portal.services.api_tokens import DEFAULT_DAYS

dash.register_page(__name__, path="/account", title=lambda **_kw: _("My account"), name="Account")


def _header(title: str, icon: str) -> dbc.CardHeader:
    return dbc.CardHeader(
        [html.I(className=f"bi bi-{icon} me-2"), title], className="social-card-header"
    )


def _profile() -> dbc.Card:
    user = current_user
    en = english()
    branch = user.branch.name_en if en else user.branch.name_zh
    department = None
    if user.department is not None:
        department = user.department.name_en if en else user.department.name_zh
    roles = ", ".join(r.name_en if en else r.name_zh for r in user.roles) or "—"
    rows = [
        (_("Name"), user.display_name),
        (_("User name"), user.username),
        (_("Employee number"), user.employee_no or "—"),
        (_("Branch"), branch),
        (_("Department"), department or "—"),
        (_("Roles"), roles),
        (_("E-mail"), user.email or "—"),
    ]
    return dbc.Card(
        [
            _header(_("Profile"), "person-badge"),
            dbc.CardBody(
                html.Dl(
                    [
                        item
                        for label, value in rows
                        for item in (
                            html.Dt(label, className="col-5 col-sm-4 text-muted fw-normal"),
                            html.Dd(value, className="col-7 col-sm-8"),
                        )
                    ],
                    className="row mb-0 profile-list",
                )
            ),
        ],
        className="social-card mb-3",
    )


def _language() -> dbc.Card:
    chosen = "en" if english() else "zh_CN"
    links = [
        html.A(
            label,
            href=f"/lang/{code}?next=/account",
            className="btn btn-sm me-2 "
            + ("btn-primary" if chosen == code else "btn-outline-primary"),
        )
        for code, label in (("zh_CN", "中文"), ("en", "English"))
    ]
    return dbc.Card(
        [
            _header(_("Language"), "translate"),
            dbc.CardBody(
                [
                    html.Div(
                        _("The portal's language for you, on every device."),
                        className="small text-muted mb-2",
                    ),
                    html.Div(links),
                ]
            ),
        ],
        className="social-card mb-3",
    )


def _tokens() -> dbc.Card:
    days = [30, 90, 180, 365]
    return dbc.Card(
        [
            _header(_("Personal API tokens"), "key"),
            dbc.CardBody(
                [
                    html.P(
                        [
                            _(
                                "A token lets scripts call the portal's JSON API as you, with "
                                "your permissions. Keep it secret; revoke it when it is no "
                                "longer needed. API reference: "
                            ),
                            html.A("/api/v1/openapi.json", href="/api/v1/openapi.json"),
                        ],
                        className="small text-muted",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Input(
                                    id=ACCT["token_name"],
                                    placeholder=_("Token name, e.g. monthly report script"),
                                    maxLength=100,
                                ),
                                xs=12,
                                md=6,
                            ),
                            dbc.Col(
                                dbc.Select(
                                    id=ACCT["token_days"],
                                    options=[
                                        {"label": _("Expires in %(n)d days", n=d), "value": d}
                                        for d in days
                                    ],
                                    value=DEFAULT_DAYS,
                                ),
                                xs=12,
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Button(
                                    _("Create token"),
                                    id=ACCT["token_create"],
                                    color="primary",
                                    className="w-100",
                                ),
                                xs=12,
                                md=2,
                            ),
                        ],
                        className="g-2",
                    ),
                    html.Div(id=ACCT["token_new"]),
                    html.Div(token_table(), id=ACCT["token_list"], className="mt-3"),
                ]
            ),
        ],
        className="social-card mb-3",
    )


def layout(**_kwargs):
    """Return the current user's account page."""
    return html.Div(
        [
            html.Div(
                html.H1(_("My account"), className="page-title h3 mb-1"), className="page-header"
            ),
            dbc.Row(
                [
                    dbc.Col([_profile(), _language()], xs=12, lg=4),
                    dbc.Col(_tokens(), xs=12, lg=8),
                ]
            ),
        ],
        className="social-page",
    )
