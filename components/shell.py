"""The application shell: navigation bar, language switch and the page container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.ids import URL


def _nav_entries() -> list[tuple]:
    """The navigation bar, built per request (language): (path, icon, label) links and
    (None, icon, label, [links]) menus."""
    return [
        ("/", "house", _("Home")),
        (
            None,
            "bar-chart-line",
            _("Analysis"),
            [
                ("/pivot", "grid-3x3", _("Pivot")),
                ("/dashboards", "speedometer2", _("Dashboards")),
                ("/mining", "diagram-3", _("Mining")),
                ("/mining/upload", "file-earmark-arrow-up", _("My data")),
                ("/bigscreen", "display", _("Big screen")),
            ],
        ),
        ("/reports", "file-earmark-bar-graph", _("Reports")),
        ("/store", "shop", _("App store")),
        (
            None,
            "people",
            _("Community"),
            [
                ("/questions", "question-circle", _("Q&A")),
                ("/groups", "people", _("Groups")),
            ],
        ),
    ]


def _nav_links() -> list:
    """Links to the pages this portal has (a feature's link appears once its page exists)."""
    registered = {page.get("path") for page in dash.page_registry.values()}
    items = []
    for path, icon, label, *menu in _nav_entries():
        if path is not None:
            if path in registered:
                items.append(
                    dbc.NavItem(
                        dbc.NavLink(
                            [html.I(className=f"bi bi-{icon} me-1"), label],
                            href=path,
                            active="exact" if path == "/" else "partial",
                        )
                    )
                )
            continue
        links = [
            dbc.DropdownMenuItem(
                [html.I(className=f"bi bi-{sub_icon} me-2"), sub_label], href=sub_path
            )
            for sub_path, sub_icon, sub_label in menu[0]
            if sub_path in registered
        ]
        if links:
            items.append(
                dbc.DropdownMenu(
                    links,
                    label=[html.I(className=f"bi bi-{icon} me-1"), label],
                    nav=True,
                    in_navbar=True,
                )
            )
    return items


def language_switch(locale: str) -> html.Div:
    """Return the 中文 / English switch; the choice is kept in the session."""
    here = request.full_path.rstrip("?") if request else "/"
    next_path = here if here.startswith("/") and not here.startswith("/_dash") else "/"
    return html.Div(
        [
            html.A(
                "中文",
                href=f"/lang/zh_CN?next={next_path}",
                className="lang-link" + (" active" if locale == "zh_CN" else ""),
            ),
            html.Span("|", className="mx-1 text-white-50"),
            html.A(
                "English",
                href=f"/lang/en?next={next_path}",
                className="lang-link" + (" active" if locale == "en" else ""),
            ),
        ],
        className="lang-switch",
    )


def user_menu(locale: str):
    """Return the user's menu: who they are, where they sit, and log out."""
    if not current_user or not current_user.is_authenticated:
        return html.Div()
    english = locale.startswith("en")
    branch = current_user.branch.name_en if english else current_user.branch.name_zh
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(
                [
                    html.Div(current_user.display_name, className="fw-semibold"),
                    html.Div(
                        f"{branch} · {current_user.employee_no or current_user.username}",
                        className="small text-muted",
                    ),
                ],
                header=True,
            ),
            dbc.DropdownMenuItem(divider=True),
            dbc.DropdownMenuItem(
                [html.I(className="bi bi-person-gear me-2"), _("My account")], href="/account"
            ),
            dbc.DropdownMenuItem(
                [html.I(className="bi bi-bell me-2"), _("Messages")], href="/messages"
            ),
            *(
                [
                    dbc.DropdownMenuItem(
                        [html.I(className="bi bi-house-gear me-2"), _("Home page administration")],
                        href="/admin/home",
                    )
                ]
                if current_user.has_role("admin")
                else []
            ),
            dbc.DropdownMenuItem(
                [html.I(className="bi bi-box-arrow-right me-2"), _("Log out")],
                href="/logout",
                external_link=True,
                id="logout-link",
            ),
        ],
        label=[html.I(className="bi bi-person-circle me-1"), current_user.display_name],
        nav=True,
        in_navbar=True,
        align_end=True,
        className="user-menu ms-lg-3",
        id="user-menu",
    )


def search_box() -> html.Form:
    """The navigation bar's search box: a plain GET form to /search, so it works without JS."""
    here = request.args.get("q", "") if request and request.path == "/search" else ""
    return html.Form(
        html.Div(
            [
                html.I(className="bi bi-search nav-search-icon"),
                dcc.Input(
                    id="nav-search",
                    name="q",
                    type="search",
                    value=here[:200],
                    placeholder=_("Search data, reports, apps…"),
                    maxLength=200,
                    autoComplete="off",
                    className="form-control form-control-sm nav-search-input",
                ),
            ],
            className="nav-search",
        ),
        action="/search",
        method="GET",
        role="search",
        className="me-lg-3 my-2 my-lg-0",
    )


def navbar_extras() -> list:
    """Items between the links and the language switch: the search box, the message badge."""
    extras = [search_box()]
    from callbacks.social import message_bell  # the bell with the unread count

    extras.append(message_bell())
    return extras


def navbar() -> dbc.Navbar:
    locale = str(get_locale() or "zh_CN")
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [html.I(className="bi bi-bank2 me-2"), _("Bank Data Portal")],
                    href="/",
                    className="brand",
                ),
                dbc.NavbarToggler(id="navbar-toggler"),
                dbc.Collapse(
                    [
                        dbc.Nav(_nav_links(), navbar=True, className="me-auto"),
                        *navbar_extras(),
                        language_switch(locale),
                        dbc.Nav([user_menu(locale)], navbar=True),
                    ],
                    id="navbar-collapse",
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="portal-navbar",
    )


def shell_layout():
    """Return the page frame; built per request so it is in the user's language."""
    return html.Div(
        [
            dcc.Location(id=URL, refresh="callback-nav"),
            navbar(),
            dbc.Container(dash.page_container, fluid=True, className="portal-main"),
        ],
        lang="en" if str(get_locale() or "").startswith("en") else "zh-CN",
    )
