"""Callbacks of the home page: each KPI card fills itself, so one failure stays local."""

from __future__ import annotations

import logging

import dash
from dash import MATCH, Input, Output
from flask_babel import get_locale
from flask_babel import gettext as _

from components.ids import KPI_BODY
from components.kpi import kpi_body, kpi_error
from portal.errors import PortalError
from portal.security import current_tables
from portal.services.metrics import metric_service

log = logging.getLogger(__name__)


def load_kpi(card_id: dict) -> list:
    """Return the body of one KPI card: this month's value, change and 12-month trend."""
    locale = str(get_locale() or "zh_CN")
    service = metric_service()
    metric_id = card_id.get("metric") if isinstance(card_id, dict) else None
    try:
        tables = current_tables()
        result = service.query(tables, metric_id, period="this_month", locale=locale)
        trend = service.trend(tables, metric_id, locale=locale)
    except PortalError as exc:
        return [kpi_error(exc.message)]
    except Exception:  # noqa: BLE001 - one broken card must not break the page
        log.exception("KPI card %s failed", metric_id)
        return [kpi_error(_("This figure is unavailable right now."))]
    return kpi_body(result, trend, locale)


def register(app: dash.Dash) -> None:
    app.callback(
        Output({"type": KPI_BODY, "metric": MATCH}, "children"),
        Input({"type": KPI_BODY, "metric": MATCH}, "id"),
    )(load_kpi)
