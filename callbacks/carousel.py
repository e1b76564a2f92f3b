"""Callbacks of the data-overview carousel.

- rotation, previous / next and the dots: a clientside callback (assets/carousel.js), so
  turning a slide costs no server round trip; it skips a tick while the pointer is over the
  carousel, while a control in it has keyboard focus, or while the tab is hidden;
- each slide's body: its own server callback (`load_slide`), so one failing metric stays local;
- a click on a bar of a slide's chart opens the metric's detail page (clientside);
- the "choose slides" dialog: open, save the user's choice (validated by the slides service),
  or go back to the default set; the carousel is redrawn in place.
"""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, ClientsideFunction, Input, Output, State
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.carousel import (
    BARS,
    CHOOSE_FEEDBACK,
    CHOOSE_LIST,
    CHOOSE_MODAL,
    CHOOSE_OPEN,
    CHOOSE_RESET,
    CHOOSE_SAVE,
    CONTAINER,
    DETAIL_BODY,
    DETAIL_BY,
    DETAIL_FOCUS,
    DETAIL_METRIC,
    DOT,
    HOME_CAROUSEL,
    NEXT,
    PREV,
    SLIDE,
    SLIDE_BODY,
    STATE,
    TICK,
    carousel_card,
    detail_body,
    slide_body,
    slide_error,
)
from portal.db import get_db
from portal.errors import PortalError
from portal.security import current_tables
from portal.services.metrics import metric_service
from portal.services.slides import (
    detail_data,
    reset_user_slides,
    save_user_slides,
    slide_data,
    user_slides,
)

log = logging.getLogger(__name__)


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def load_slide(body_id: dict) -> list:
    """Return one slide's body: value, change, 12-month trend and its breakdown chart."""
    locale = _locale()
    if not isinstance(body_id, dict) or not isinstance(body_id.get("metric"), str):
        return [slide_error(_("This figure is unavailable right now."))]
    slide = {"metric": body_id["metric"], "breakdown": body_id.get("breakdown") or None}
    try:
        data = slide_data(metric_service(), current_tables(), slide, locale)
    except PortalError as exc:
        return [slide_error(exc.message)]
    except Exception:  # noqa: BLE001 - one broken slide must not break the carousel
        log.exception("carousel slide %s failed", slide["metric"])
        return [slide_error(_("This figure is unavailable right now."))]
    bars_id = {**body_id, "type": BARS}
    return slide_body(data, locale, graph_ids={"bars": bars_id})


def load_detail(dim, metric_id, focus) -> list:
    """Return the metric detail page's body for the chosen dimension."""
    locale = _locale()
    try:
        data = detail_data(metric_service(), current_tables(), metric_id, dim or None, locale)
    except PortalError as exc:
        return [slide_error(exc.message)]
    except Exception:  # noqa: BLE001 - a clear message, never a traceback
        log.exception("metric detail %s failed", metric_id)
        return [slide_error(_("This figure is unavailable right now."))]
    return detail_body(data, locale, focus if isinstance(focus, str) else None)


def toggle_chooser(_n_open) -> bool:
    return True


def _catalog_order(ids) -> list:
    """Return the chosen metric ids in catalog order (anything odd is left to validation)."""
    if not isinstance(ids, list) or not all(isinstance(m, str) for m in ids):
        return ids
    order = {m: i for i, m in enumerate(dash.get_app().server.extensions["metric_catalog"].metrics)}
    return sorted(ids, key=lambda m: order.get(m, len(order)))


def save_choice(_save, _reset, chosen, list_id):
    """Save (or reset) the user's slides and redraw the carousel; errors stay in the dialog."""
    locale = _locale()
    trigger = dash.ctx.triggered_id
    cid = list_id.get("carousel") if isinstance(list_id, dict) else HOME_CAROUSEL
    reset = isinstance(trigger, dict) and trigger.get("type") == CHOOSE_RESET
    try:
        with get_db().session() as s, s.begin():
            if reset:
                reset_user_slides(s, current_user)
            else:
                save_user_slides(s, current_user, _catalog_order(chosen))
        with get_db().session() as s:
            shown = user_slides(s, current_user, locale)
    except PortalError as exc:
        return dash.no_update, dash.no_update, True, _alert(exc.message, "warning")
    message = _("Back to the default slides.") if reset else _("Your slides are saved.")
    return (
        carousel_card(cid, shown, locale),
        [s["metric"] for s in shown["slides"]],
        False,
        _alert(message, "success"),
    )


def _alert(message: str, color: str) -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 small mb-0")


def register(app: dash.Dash) -> None:
    app.callback(
        Output(DETAIL_BODY, "children"),
        Input(DETAIL_BY, "value"),
        State(DETAIL_METRIC, "data"),
        State(DETAIL_FOCUS, "data"),
    )(load_detail)
    app.clientside_callback(
        ClientsideFunction(namespace="carousel", function_name="rotate"),
        Output({"type": STATE, "carousel": MATCH}, "data"),
        Output({"type": SLIDE, "carousel": MATCH, "index": ALL}, "className"),
        Output({"type": DOT, "carousel": MATCH, "index": ALL}, "className"),
        Input({"type": TICK, "carousel": MATCH}, "n_intervals"),
        Input({"type": PREV, "carousel": MATCH}, "n_clicks"),
        Input({"type": NEXT, "carousel": MATCH}, "n_clicks"),
        Input({"type": DOT, "carousel": MATCH, "index": ALL}, "n_clicks"),
        State({"type": STATE, "carousel": MATCH}, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="carousel", function_name="openDetail"),
        Output(
            {"type": BARS, "carousel": MATCH, "index": MATCH, "metric": MATCH, "breakdown": MATCH},
            "className",
        ),
        Input(
            {"type": BARS, "carousel": MATCH, "index": MATCH, "metric": MATCH, "breakdown": MATCH},
            "clickData",
        ),
        prevent_initial_call=True,
    )
    app.callback(
        Output(
            {
                "type": SLIDE_BODY,
                "carousel": MATCH,
                "index": MATCH,
                "metric": MATCH,
                "breakdown": MATCH,
            },
            "children",
        ),
        Input(
            {
                "type": SLIDE_BODY,
                "carousel": MATCH,
                "index": MATCH,
                "metric": MATCH,
                "breakdown": MATCH,
            },
            "id",
        ),
    )(load_slide)
    app.callback(
        Output({"type": CHOOSE_MODAL, "carousel": MATCH}, "is_open", allow_duplicate=True),
        Input({"type": CHOOSE_OPEN, "carousel": MATCH}, "n_clicks"),
        prevent_initial_call=True,
    )(toggle_chooser)
    app.callback(
        Output({"type": CONTAINER, "carousel": MATCH}, "children"),
        Output({"type": CHOOSE_LIST, "carousel": MATCH}, "value"),
        Output({"type": CHOOSE_MODAL, "carousel": MATCH}, "is_open"),
        Output({"type": CHOOSE_FEEDBACK, "carousel": MATCH}, "children"),
        Input({"type": CHOOSE_SAVE, "carousel": MATCH}, "n_clicks"),
        Input({"type": CHOOSE_RESET, "carousel": MATCH}, "n_clicks"),
        State({"type": CHOOSE_LIST, "carousel": MATCH}, "value"),
        State({"type": CHOOSE_LIST, "carousel": MATCH}, "id"),
        prevent_initial_call=True,
    )(save_choice)
