"""The home page's widgets (SPEC §2.1): a frame per widget, and each widget's content.

Every widget's content is built by `render_widget(widget_id, user, locale)`, called from its own
callback (callbacks/home.py), so a widget that fails shows its own error and the others work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from components.admin_home import level_labels
from components.carousel import carousel_widget
from components.charts import sparkline
from components.kpi import kpi_card
from components.search_results import TYPE_ICONS, type_label
from portal.db import get_db
from portal.models import Resource
from portal.models.store import StoreApp
from portal.services.activity import (
    can_view,
    favorites,
    leaderboard,
    my_activity,
    recently_viewed,
    resource_title,
    resource_url,
)
from portal.services.announcements import current_for
from portal.services.messages import list_messages, message_dict
from portal.services.reports import category_name, common_reports
from portal.services.tiles import visible_tiles

WIDGET_BODY = "home-widget-body"
WIDGET_REMOVE = "home-widget-remove"
TILES_MANAGE = "home-tiles-manage"

# The first KPI cards of the "key figures" widget.
HOME_METRICS = (
    "deposit_balance",
    "loan_balance",
    "npl_ratio",
    "customer_count",
    "ebank_penetration",
    "new_loans",
    "payroll_customers",
    "budget_attainment",
)


def widget_meta() -> dict[str, tuple[str, str]]:
    """Return {widget id: (icon, title)} in the user's language."""
    return {
        "carousel": ("collection-play", _("Data overview")),
        "kpis": ("bar-chart", _("Key figures")),
        "quick_entry": ("grid-3x3-gap", _("Quick entry")),
        "common_reports": ("file-earmark-bar-graph", _("Common reports")),
        "recent": ("clock-history", _("Recently viewed")),
        "favorites": ("star", _("My favorites")),
        "activity": ("activity", _("My activity")),
        "leaderboard": ("trophy", _("Leaderboard")),
        "reminders": ("bell", _("Smart reminders")),
        "announcements": ("megaphone", _("Announcements")),
    }


def widget_frame(widget_id: str, editing: bool) -> html.Div:
    """Return a widget's card: its title bar and a body its callback fills."""
    icon, title = widget_meta().get(widget_id, ("square", widget_id))
    tools = []
    if widget_id == "quick_entry" and not editing:
        tools.append(
            html.Button(
                html.I(className="bi bi-sliders"),
                id=TILES_MANAGE,
                title=_("Arrange my tiles"),
                className="btn btn-sm btn-link widget-tool",
            )
        )
    if editing:
        tools.append(
            html.Button(
                html.I(className="bi bi-x-lg"),
                id={"type": WIDGET_REMOVE, "widget": widget_id},
                title=_("Remove widget"),
                className="btn btn-sm btn-link widget-tool text-danger",
            )
        )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [html.I(className=f"bi bi-{icon} me-2"), title], className="widget-title"
                    ),
                    html.Div(tools, className="widget-tools"),
                ],
                className="widget-header",
            ),
            html.Div(
                html.Div(
                    className="widget-loading placeholder-glow",
                    children=[
                        html.Span(className="placeholder col-8"),
                        html.Span(className="placeholder col-6"),
                    ],
                ),  # fmt: skip
                id={"type": WIDGET_BODY, "widget": widget_id},
                className="widget-body",
            ),
        ],
        className=f"home-widget widget-{widget_id}",
        **{"data-widget": widget_id},
    )


def widget_error(message: str) -> html.Div:
    """Return a widget's own error: the rest of the page keeps working."""
    return html.Div(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        className="widget-error text-danger small",
    )


def _empty(message: str) -> html.Div:
    return html.Div(message, className="widget-empty text-muted small")


def _when(at, locale: str | None) -> str:
    """Return a short relative time: 刚刚 / 5 分钟前 / 3 小时前 / 2 天前 / a date."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = (datetime.now(UTC) - at).total_seconds()
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return _("%(n)d min ago", n=seconds // 60)
    if seconds < 86400:
        return _("%(n)d h ago", n=seconds // 3600)
    if seconds < 86400 * 30:
        return _("%(n)d days ago", n=seconds // 86400)
    return at.date().isoformat()


def _link_list(items: list[dict], locale: str | None, right=None) -> html.Ul:
    rows = []
    for item in items:
        external = str(item.get("url", "")).startswith("http")
        icon = TYPE_ICONS.get(item.get("type"), "file-earmark")
        rows.append(
            html.Li(
                [
                    html.A(
                        [html.I(className=f"bi bi-{icon} me-2"), item["title"]],
                        href=item.get("url") or "/",
                        target="_blank" if external else None,
                        className="widget-link text-truncate",
                        title=item["title"],
                    ),
                    html.Span(
                        right(item) if right else type_label(item.get("type", "")),
                        className="widget-aside",
                    ),
                ],
                className="widget-list-item",
            )
        )
    return html.Ul(rows, className="widget-list")


# -- the widgets --------------------------------------------------------------------------------
def _kpis(user, locale):
    catalog = current_app.extensions["metric_catalog"]
    return dbc.Row(
        [
            dbc.Col(kpi_card(m, catalog.metric(m).name.get(locale)), xs=12, sm=6, lg=3)
            for m in HOME_METRICS
            if m in catalog.metrics
        ],
        className="g-3",
    )


def _carousel(user, locale):
    return carousel_widget(user, locale)


def _quick_entry(user, locale):
    with get_db().session() as s:
        tiles = visible_tiles(s, user, locale)
    if not tiles:
        return _empty(_("No entries yet."))
    cells = []
    for tile in tiles[:9]:
        badges = []
        if tile["new"]:
            badges.append(dbc.Badge(_("New"), color="danger", className="tile-new"))
        if tile["external"]:
            badges.append(html.I(className="bi bi-box-arrow-up-right tile-external"))
        cells.append(
            html.A(
                [
                    html.I(className=f"bi bi-{tile['icon']} tile-icon"),
                    html.Div(tile["title"], className="tile-title"),
                    *badges,
                ],
                href=tile["launch"],
                target="_blank" if tile["external"] else None,
                className="quick-tile",
                title=tile["description"] or tile["title"],
                **{"data-key": tile["key"]},
            )
        )
    return html.Div(cells, className="quick-grid")


def _common_reports(user, locale):
    with get_db().session() as s:
        reports = common_reports(s, user, limit=8, locale=locale)
    if not reports:
        return _empty(_("No reports yet: open or star some and they appear here."))
    return html.Div(
        [
            _link_list(reports, locale, right=lambda r: category_name(r.get("category"), locale)),
            html.A(_("All reports"), href="/reports", className="widget-more small"),
        ]
    )


def _recent(user, locale):
    with get_db().session() as s:
        items = recently_viewed(s, user, locale, limit=8)
    if not items:
        return _empty(_("Nothing opened yet."))
    return _link_list(items, locale, right=lambda i: _when(i.get("at"), locale))


def _favorites(user, locale):
    with get_db().session() as s:
        items = favorites(s, user, locale, limit=8)
    if not items:
        return _empty(_("No favorites yet: use the star on any report, app or metric."))
    return _link_list(items, locale)


def _activity(user, locale):
    with get_db().session() as s:
        stats = my_activity(s, user, days=30)
    numbers = [
        (stats["views"], _("openings")),
        (stats["resources"], _("different items")),
        (stats["favorites"], _("favorites")),
    ]
    days = sorted(stats["per_day"].items())[-14:]
    figure = sparkline([d for d, _n in days], [n for _d, n in days], "flat") if days else None
    return html.Div(
        [
            html.Div(_("Last 30 days"), className="text-muted small mb-2"),
            html.Div(
                [
                    html.Div(
                        [html.Div(f"{n:,}", className="stat-value"), html.Div(label)],
                        className="stat",
                    )
                    for n, label in numbers
                ],  # fmt: skip
                className="stat-row",
            ),
            dcc.Graph(figure=figure, config={"displayModeBar": False}, className="activity-spark")
            if figure
            else None,
        ]
    )


def _leaderboard(user, locale):
    with get_db().session() as s:
        seen: dict[int, bool] = {}

        def visible(resource):  # one permission check per resource for both periods
            if resource.id not in seen:
                seen[resource.id] = can_view(s, user, resource)
            return seen[resource.id]

        boards = {
            days: leaderboard(
                s,
                locale,
                days=days,
                limit=5,
                types=("app", "report", "dashboard", "pivot"),
                visible=visible,
            )
            for days in (7, 30)
        }
        liked = _store_rankings(s, locale)

    def tab(days):
        board = boards[days]
        parts = [html.Div(_("Most viewed"), className="board-heading")]
        parts.append(
            _link_list(board["resources"], locale, right=lambda r: _("%(n)d views", n=r["views"]))
            if board["resources"]
            else _empty(_("No views in this period."))
        )
        if liked:
            parts += [html.Div(_("Most installed apps"), className="board-heading"), liked]
        people = board["users"][:5]
        if people:
            parts.append(html.Div(_("Most active"), className="board-heading"))
            parts.append(
                html.Ol(
                    [
                        html.Li([p["name"], html.Span(f" · {p['views']}", className="text-muted")])
                        for p in people
                    ],
                    className="board-people small",
                )  # fmt: skip
            )
        return parts

    return dbc.Tabs(
        [
            dbc.Tab(tab(7), label=_("7 days"), tab_id="d7"),
            dbc.Tab(tab(30), label=_("30 days"), tab_id="d30"),
        ],
        active_tab="d7",
        className="board-tabs",
    )


def _store_rankings(session, locale):
    """Return the most installed and liked listed apps."""
    rows = session.execute(
        select(StoreApp, Resource)
        .join(Resource, Resource.id == StoreApp.resource_id)
        .where(StoreApp.status == "listed")
        .order_by(StoreApp.install_count.desc(), StoreApp.like_count.desc())
        .limit(5)
    ).all()
    if not rows:
        return None
    items = [
        {
            "type": "app",
            "title": resource_title(r, locale),
            "url": resource_url(r),
            "installs": app.install_count,
            "likes": app.like_count,
        }
        for app, r in rows
    ]
    return _link_list(
        items,
        locale,
        right=lambda i: _("%(i)d installs · %(l)d likes", i=i["installs"], l=i["likes"]),
    )


def _reminders(user, locale):
    with get_db().session() as s:
        unread = list_messages(s, user, unread_only=True, per_page=8)
        items = [message_dict(m, locale) for m in unread["items"]]
        if len(items) < 8:
            recent = list_messages(s, user, per_page=8)["items"]
            items += [message_dict(m, locale) for m in recent if m.read_at is not None]
    if not items:
        return _empty(_("No reminders. You are all caught up."))
    rows = [
        html.Li(
            [
                html.A(
                    [
                        html.Span(className="unread-dot" if not m["read"] else "read-dot"),
                        m["title"],
                    ],
                    href=m["link"] or "/messages",
                    className="widget-link text-truncate" + ("" if m["read"] else " fw-semibold"),
                    title=m["title"],
                ),
                html.Span(
                    _when(datetime.fromisoformat(m["created_at"]), locale)
                    if m["created_at"]
                    else "",
                    className="widget-aside",
                ),
            ],
            className="widget-list-item",
        )
        for m in items[:8]
    ]
    more = html.A(
        _("%(n)d unread · all messages", n=unread["total"]),
        href="/messages",
        className="widget-more small",
    )
    return html.Div([html.Ul(rows, className="widget-list"), more])


def _announcements(user, locale):
    with get_db().session() as s:
        items = current_for(s, user, locale)
    if not items:
        return _empty(_("No announcements."))
    colors = {"urgent": "danger", "important": "warning", "info": "info"}
    labels = level_labels()
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Badge(
                                labels[a["level"]], color=colors[a["level"]], className="me-2"
                            ),
                            html.Span(a["title"], className="fw-semibold"),
                        ]
                    ),
                    html.Div(a["body"], className="small text-muted announcement-body"),
                ],
                className="announcement",
            )
            for a in items
        ]
    )


RENDERERS = {
    "carousel": _carousel,
    "kpis": _kpis,
    "quick_entry": _quick_entry,
    "common_reports": _common_reports,
    "recent": _recent,
    "favorites": _favorites,
    "activity": _activity,
    "leaderboard": _leaderboard,
    "reminders": _reminders,
    "announcements": _announcements,
}


def render_widget(widget_id: str, user, locale: str | None):
    """Return a widget's content for the user (raises on failure; the callback shows it)."""
    renderer = RENDERERS.get(widget_id)
    if renderer is None:
        return widget_error(_("Unknown widget."))
    return renderer(user, locale)
