"""Compute any catalog metric by any allowed dimensions, with filters and a period.

The one service behind KPI cards, `/api/v1/metrics/query`, carousel slides and later pivots
and alerts. It validates the request against the catalog, runs the query through the data
layer with the caller's table provider (their row scope and masking), and returns plain data:
value, previous value and change per row. Problems raise `Invalid` / `NotFound` with a message
in the user's language.
"""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
from flask_babel import gettext as _

from datasources.catalog import Catalog, Metric
from datasources.metric_query import MONTH, MetricQueryError, compute_metric, normalise_filters
from datasources.periods import PeriodError, resolve_period
from datasources.relations import TableProvider
from portal.errors import Invalid, NotFound

MAX_BY = 3
AS_OF_TTL = 60.0  # seconds
TREND_MONTHS = 12


class MetricService:
    """Metric computation over one warehouse and catalog."""

    def __init__(self, warehouse, catalog: Catalog):
        self.warehouse = warehouse
        self.catalog = catalog
        self._as_of: tuple[float, date] | None = None

    # -- catalog ----------------------------------------------------------------------------
    def list_metrics(self, locale: str | None = None) -> list[dict]:
        return [m.to_dict(locale) for m in self.catalog.metrics.values()]

    def list_dimensions(self, locale: str | None = None) -> list[dict]:
        return [d.to_dict(locale) for d in self.catalog.dimensions.values()]

    def get_metric(self, metric_id: str) -> Metric:
        if not isinstance(metric_id, str) or metric_id not in self.catalog.metrics:
            raise NotFound(
                _("Unknown metric: %(metric)s", metric=str(metric_id)[:80]), code="unknown_metric"
            )
        return self.catalog.metrics[metric_id]

    def as_of(self, tables: TableProvider) -> date:
        """Return the warehouse's data date (the last month-end of its history).

        Read at most once a minute: it changes only when the warehouse is reloaded.
        """
        now = time.monotonic()
        if self._as_of is None or now - self._as_of[0] > AS_OF_TTL:
            meta = tables.table("meta_warehouse")
            frame = self.warehouse.execute(
                meta.select("as_of"), scope_key="meta", label="meta:as_of"
            )
            self._as_of = (now, pd.Timestamp(frame["as_of"].iloc[0]).date())
        return self._as_of[1]

    # -- queries ----------------------------------------------------------------------------
    def query(
        self,
        tables: TableProvider,
        metric_id: str,
        *,
        by=None,
        filters=None,
        period="this_month",
        locale: str | None = None,
    ) -> dict:
        """Return the metric's rows for the period with the previous period's values."""
        metric = self.get_metric(metric_id)
        by = self._check_by(metric, by)
        try:
            resolved = resolve_period(period, self.as_of(tables))
            checked = normalise_filters(metric, self.catalog, filters)
            frame = compute_metric(
                self.warehouse,
                tables,
                self.catalog,
                metric,
                by=by,
                filters=checked,
                period=resolved,
                locale=locale,
            )
        except PeriodError as exc:
            raise Invalid(
                _("Invalid period: %(reason)s", reason=str(exc)), code="invalid_period"
            ) from None
        except MetricQueryError as exc:
            raise Invalid(self._query_error_message(exc, metric, locale), code=exc.code) from None
        rows = [_row(record) for record in frame.to_dict(orient="records")]
        return {
            "metric": metric.id,
            "name": metric.name.get(locale),
            "unit": metric.unit,
            "format": metric.format,
            "higher_is_better": metric.higher_is_better,
            "by": by,
            "period": resolved.to_dict(),
            "rows": rows,
        }

    def trend(
        self,
        tables: TableProvider,
        metric_id: str,
        *,
        months: int = TREND_MONTHS,
        filters=None,
        locale: str | None = None,
    ) -> dict:
        """Return the metric month by month over the last `months` months (for sparklines)."""
        metric = self.get_metric(metric_id)
        if MONTH not in metric.dimensions:
            raise Invalid(
                _("%(metric)s has no monthly trend", metric=metric.name.get(locale)),
                code="no_trend",
            )
        as_of = self.as_of(tables)
        start = _months_before(as_of, months - 1)
        return self.query(
            tables,
            metric_id,
            by=[MONTH],
            filters=filters,
            period={"start": start.isoformat(), "end": as_of.isoformat()},
            locale=locale,
        )

    def _check_by(self, metric: Metric, by) -> list[str]:
        if by is None:
            return []
        if isinstance(by, str):
            by = [by]
        if not isinstance(by, list) or not all(isinstance(d, str) for d in by):
            raise Invalid(_("'by' must be a list of dimension ids"), code="bad_dimension")
        if len(by) > MAX_BY:
            raise Invalid(
                _("At most %(n)d dimensions can be combined", n=MAX_BY), code="bad_dimension"
            )
        for d in by:
            if d not in metric.dimensions:
                raise Invalid(
                    _(
                        "%(metric)s cannot be broken down by %(dimension)s",
                        metric=metric.id,
                        dimension=d[:80],
                    ),
                    code="bad_dimension",
                )
        return by

    def _query_error_message(self, exc: MetricQueryError, metric: Metric, locale) -> str:
        if exc.code == "bad_filter_field":
            return _(
                "%(metric)s cannot be filtered by %(field)s",
                metric=metric.id,
                field=str(exc.params.get("field"))[:80],
            )
        if exc.code == "bad_filter_op":
            return _("Unknown filter operator: %(op)s", op=str(exc.params.get("op"))[:20])
        if exc.code == "bad_filter_value":
            return _("Invalid filter value: %(reason)s", reason=str(exc))
        if exc.code == "bad_dimension":
            return _("Invalid dimension: %(reason)s", reason=str(exc))
        return _("Invalid metric query: %(reason)s", reason=str(exc))


def _months_before(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _clean(value):
    """Return a JSON-ready scalar: NaN/NA become None, numpy scalars Python ones, dates ISO."""
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(record: dict) -> dict:
    row = {k: _clean(v) for k, v in record.items()}
    value, previous = row.get("value"), row.get("previous")
    if isinstance(value, int | float) and isinstance(previous, int | float):
        row["change"] = value - previous
        row["change_pct"] = (value - previous) / abs(previous) if previous else None
    else:
        row["change"] = row["change_pct"] = None
    return row


def metric_service() -> MetricService:
    """Return the app's MetricService."""
    from flask import current_app

    return current_app.extensions["metric_service"]
