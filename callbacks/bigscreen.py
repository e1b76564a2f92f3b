"""Callbacks of the big screen (/bigscreen/<set>).

- `load_screen` (server): on load and every `refresh_s`, recompute every slide of the set through
  the viewer's row scope. Only the slides that computed are replaced (a Dash Patch), so a slide
  whose metric fails keeps its last figures; when nothing computes, nothing changes on screen.
  The "last good load" store then keeps its old time and the browser marks the data stale.
- `bigscreen.tick` (clientside, every second): the clock, the freshness line, which slide shows
  (time-based, so several displays of one set stay in step) and the dots.
- `bigscreen.heartbeat` (clientside, every 20 s): is the portal reachable at all?
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import dash
from dash import ALL, ClientsideFunction, Input, Output, Patch, State, dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.carousel import (
    BS_CLOCK,
    BS_DOT,
    BS_ERROR,
    BS_HEARTBEAT,
    BS_KEY,
    BS_LAST,
    BS_REFRESH,
    BS_SECOND,
    BS_SLIDE,
    BS_STAGE,
    BS_STATUS,
    BS_TEXTS,
    breakdown_figure,
    dimension_name,
    graph,
    headline_stats,
    metric_url,
    stats_row,
    trend_figure,
)
from components.formatting import change_tone, format_change, format_value
from portal.db import get_db
from portal.errors import PortalError
from portal.security import current_tables
from portal.services.metrics import metric_service
from portal.services.slides import get_set, slide_data

log = logging.getLogger(__name__)
DETAIL_ROWS = 5  # breakdown rows listed on a phone


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def active_index(count: int, interval_s: int, now: float | None = None) -> int:
    """Return the slide every display of a set shows now (the browser uses the same rule)."""
    if count <= 0:
        return 0
    return int((now if now is not None else time.time()) * 1000 // (interval_s * 1000)) % count


def _details(data: dict, locale: str) -> html.Div | None:
    """Return the top rows of the breakdown as a list (what a phone shows instead of a chart)."""
    breakdown, dim = data.get("breakdown"), data.get("breakdown_dim")
    if not breakdown or not dim:
        return None
    fmt = breakdown["format"]
    rows = sorted(
        (r for r in breakdown["rows"] if r.get("value") is not None),
        key=lambda r: r["value"],
        reverse=True,
    )[:DETAIL_ROWS]
    return html.Ol(
        [
            html.Li(
                [
                    html.Span(
                        str(r.get(f"{dim}_label") or r.get(dim) or "—"), className="bs-d-label"
                    ),
                    html.Span(format_value(r["value"], fmt, locale), className="bs-d-value"),
                ]
            )
            for r in rows
        ],
        className="bs-details",
    )


def screen_slide(data: dict, locale: str, index: int, active: bool) -> html.Div:
    """Return one big-screen slide (dark theme) for `slide_data` output."""
    result, trend = data["result"], data["trend"]
    row = result["rows"][0] if result["rows"] else {}
    fmt = result["format"]
    tone = change_tone(row.get("change"), result.get("higher_is_better", True))
    if tone == "flat" or row.get("change") is None:
        arrow = "bi-dash"
    else:
        arrow = "bi-caret-up-fill" if row["change"] > 0 else "bi-caret-down-fill"
    spark = trend_figure(trend, fmt, "dark", tone)
    bars = None
    if data.get("breakdown") is not None:
        bars = breakdown_figure(
            data["breakdown"], data["breakdown_dim"], locale, "dark", limit=10, font_size=17
        )
    figures = html.Div(
        [
            html.Div(
                [
                    html.Div(_("Last 12 months"), className="bs-chart-title"),
                    graph(spark, "bs-trend", height="100%"),
                ],
                className="bs-chart",
            )
            if spark
            else None,
            html.Div(
                [
                    html.Div(
                        _(
                            "By %(dimension)s",
                            dimension=dimension_name(data["breakdown_dim"], locale),
                        ),
                        className="bs-chart-title",
                    ),
                    graph(bars, "bs-bars", height="100%"),
                ],
                className="bs-chart",
            )
            if bars
            else None,
        ],
        className="bs-figures",
    )
    period = result["period"]
    value_text = format_value(row.get("value"), fmt, locale)
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.Div(result["name"], className="bs-name"),
                        html.Div(
                            value_text,
                            className="bs-value"
                            + (" bs-value-long" if len(value_text) > 9 else ""),
                        ),
                        html.Div(
                            [
                                html.I(className=f"bi {arrow} me-2"),
                                format_change(
                                    row.get("change"), row.get("change_pct"), fmt, locale
                                ),
                                html.Span(_(" vs last month"), className="bs-compare"),
                            ],
                            className=f"bs-change bs-{tone}",
                        ),
                        html.Div(_("As of %(date)s", date=period["end"]), className="bs-asof"),
                        stats_row(headline_stats(data, locale), "bs-stats"),
                        _details(data, locale),
                        dcc.Link(
                            [_("Details"), html.I(className="bi bi-chevron-right ms-1")],
                            href=metric_url(data["metric"], data.get("breakdown_dim")),
                            className="bs-detail-link",
                        ),
                    ],
                    className="bs-headline",
                ),
                figures,
            ],
            className="bs-slide-inner",
        ),
        id={"type": BS_SLIDE, "index": index},
        className="bigscreen-slide" + (" active" if active else ""),
    )


def error_slide(name: str, message: str, index: int, active: bool) -> html.Div:
    return html.Div(
        html.Div(
            [
                html.Div(name, className="bs-name"),
                html.Div(
                    [html.I(className="bi bi-exclamation-triangle me-2"), message],
                    className="bs-slide-error",
                ),
            ],
            className="bs-slide-inner",
        ),
        id={"type": BS_SLIDE, "index": index},
        className="bigscreen-slide" + (" active" if active else ""),
    )


def load_screen(_n, set_key, last):
    """Recompute the set's slides; replace those that computed; report the load time."""
    locale = _locale()
    try:
        with get_db().session() as s:
            found = get_set(s, current_user, set_key, locale)
        tables = current_tables()
    except PortalError as exc:
        return [], dash.no_update, html.Div(exc.message, className="bigscreen-alert")
    except Exception:  # noqa: BLE001 - the screen keeps what it shows
        log.exception("big screen %s failed", set_key)
        return dash.no_update, dash.no_update, dash.no_update
    service = metric_service()
    first = not (isinstance(last, dict) and last.get("at"))
    index = active_index(len(found["slides"]), found["interval_s"])
    patch = Patch()
    ok = failed = 0
    for i, slide in enumerate(found["slides"]):
        try:
            data = slide_data(service, tables, slide, locale)
            patch[i] = screen_slide(data, locale, i, i == index)
            ok += 1
        except PortalError as exc:
            failed += 1
            if first:
                name = service.get_metric(slide["metric"]).name.get(locale)
                patch[i] = error_slide(name, exc.message, i, i == index)
        except Exception:  # noqa: BLE001 - this slide keeps its last figures
            failed += 1
            log.exception("big screen slide %s failed", slide["metric"])
            if first:
                name = service.get_metric(slide["metric"]).name.get(locale)
                patch[i] = error_slide(
                    name, _("This figure is unavailable right now."), i, i == index
                )
    if not ok:
        note = html.Div(_("The figures could not be refreshed."), className="bigscreen-alert")
        return (patch if first else dash.no_update), dash.no_update, note
    stamp = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "refresh_s": found["refresh_s"],
        "interval_s": found["interval_s"],
        "failed": failed,
    }
    note = (
        html.Div(_("Figures not refreshed: %(n)d", n=failed), className="bigscreen-alert")
        if failed
        else None
    )
    return patch, stamp, note


def register(app: dash.Dash) -> None:
    app.callback(
        Output(BS_STAGE, "children"),
        Output(BS_LAST, "data"),
        Output(BS_ERROR, "children"),
        Input(BS_REFRESH, "n_intervals"),
        State(BS_KEY, "data"),
        State(BS_LAST, "data"),
    )(load_screen)
    app.clientside_callback(
        ClientsideFunction(namespace="bigscreen", function_name="tick"),
        Output(BS_CLOCK, "children"),
        Output(BS_STATUS, "children"),
        Output(BS_STATUS, "className"),
        Output({"type": BS_SLIDE, "index": ALL}, "className"),
        Output({"type": BS_DOT, "index": ALL}, "className"),
        Input(BS_SECOND, "n_intervals"),
        Input(BS_LAST, "data"),
        State(BS_TEXTS, "data"),
        State({"type": BS_SLIDE, "index": ALL}, "id"),
        State({"type": BS_DOT, "index": ALL}, "id"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="bigscreen", function_name="heartbeat"),
        Output(BS_HEARTBEAT, "className"),
        Input(BS_HEARTBEAT, "n_intervals"),
    )
