"""Compute any catalog metric by any allowed dimensions, with filters and a period.

The one service behind KPI cards, `/api/v1/metrics/query`, carousel slides and later pivots
and alerts. It validates the request against the catalog, runs the query through the data
layer with the caller's table provider (their row scope and masking), and returns plain data:
value, previous value and change per row. Problems raise `Invalid` / `NotFound` with a message
in the user's language.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from datetime import date

import pandas as pd
from flask_babel import gettext as _

from datasources.catalog import Catalog, Metric
from datasources.metric_query import MONTH, MetricQueryError, compute_metric, normalise_filters
from datasources.periods import PeriodError, month_end, resolve_period
from datasources.relations import TableProvider
from portal.errors import Invalid, NotFound

log = logging.getLogger(__name__)
MAX_BY = 3
AS_OF_TTL = 60.0  # seconds
TREND_MONTHS = 12


class MetricService:
    """Metric computation over one warehouse and catalog."""

    def __init__(self, warehouse, catalog: Catalog, *, use_rollups: bool = True):
        self.warehouse = warehouse
        self.catalog = catalog
        # Read the monthly rollups (agg_*) where they answer a query (datasources/metric_rollup).
        self.use_rollups = use_rollups
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
        series: bool = True,
    ) -> dict:
        """Return the metric's rows for the period with the previous period's values.

        `series=False` computes this month directly even where the monthly series could answer.
        """
        metric = self.get_metric(metric_id)
        by = self._check_by(metric, by)
        if (
            series
            and not by
            and period == "this_month"
            and self._month_series_answers(metric, tables, filters)
        ):
            # This month and the one before are the last two points of the monthly trend a
            # KPI card asks for next: one query (then cached) answers both calls.
            return self.kpi(tables, metric_id, filters=filters, locale=locale)[0]
        try:
            resolved = resolve_period(period, self.as_of(tables))
            checked = normalise_filters(metric, self.catalog, filters)
            key = self._result_key(tables, metric, by, checked, resolved, locale)
            rows = self._cached(key)
            if rows is None:
                frame = compute_metric(
                    self.warehouse,
                    tables,
                    self.catalog,
                    metric,
                    by=by,
                    filters=checked,
                    period=resolved,
                    locale=locale,
                    use_rollups=self.use_rollups,
                )
                rows = [_row(record) for record in frame.to_dict(orient="records")]
                self._store(key, rows)
        except PeriodError as exc:
            raise Invalid(
                _("Invalid period: %(reason)s", reason=str(exc)), code="invalid_period"
            ) from None
        except MetricQueryError as exc:
            raise Invalid(self._query_error_message(exc, metric, locale), code=exc.code) from None
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

    # -- the result cache -----------------------------------------------------------------------
    # The warehouse caches each query's rows by its SQL, but building and compiling the Ibis
    # expression to find that SQL costs tens of milliseconds per metric. Finished rows are
    # therefore cached too, under the request itself: warehouse, the caller's scope, the
    # metric's definition, dimensions, filters, the resolved period (the data date moves it),
    # the language of the labels. A warm KPI card or slide then costs a cache read.
    def _result_key(self, tables, metric: Metric, by, filters, period, locale) -> str | None:
        if getattr(self.warehouse, "cache", None) is None:
            return None
        parts = [
            getattr(self.warehouse, "url", ""),
            getattr(tables, "scope_key", ""),
            repr(metric),
            by,
            [[f.field, f.op, f.value] for f in filters],
            period.to_dict(),
            locale or "",
            self.use_rollups,
        ]
        text = json.dumps(parts, default=str, ensure_ascii=False, sort_keys=True)
        return "metric:" + hashlib.sha256(text.encode()).hexdigest()

    def _cached(self, key: str | None):
        if key is None:
            return None
        try:
            hit = self.warehouse.cache.get(key)
        except Exception:  # noqa: BLE001 - a broken cache degrades to no cache
            log.warning("metric cache read failed", exc_info=True)
            return None
        return copy.deepcopy(hit) if hit is not None else None

    def _store(self, key: str | None, rows: list[dict]) -> None:
        if key is None:
            return
        try:
            self.warehouse.cache.set(key, rows)
        except Exception:  # noqa: BLE001
            log.warning("metric cache write failed", exc_info=True)

    def kpi(
        self,
        tables: TableProvider,
        metric_id: str,
        *,
        months: int = TREND_MONTHS,
        filters=None,
        locale: str | None = None,
    ) -> tuple[dict, dict | None]:
        """Return (this month's result, the monthly trend): what a KPI card or slide shows.

        The month breakdown already holds this month and the month before, so with a monthly
        metric one warehouse query answers both: the result equals
        `query(period="this_month")` (a test checks every metric) at half the cold cost.
        Metrics without a month dimension run the plain query and have no trend.
        """
        metric = self.get_metric(metric_id)
        as_of = self.as_of(tables)
        if months < 2 or not self._month_series_answers(metric, tables, filters):
            direct = self.query(tables, metric_id, filters=filters, locale=locale, series=False)
            return direct, None
        trend = self.trend(tables, metric_id, months=months, filters=filters, locale=locale)
        period = resolve_period("this_month", as_of)
        by_month = {r[MONTH]: r for r in trend["rows"]}
        current = by_month.get(period.start.strftime("%Y-%m"), {}).get("value")
        previous = by_month.get(period.previous_start.strftime("%Y-%m"), {}).get("value")
        result = {
            **{k: v for k, v in trend.items() if k not in ("by", "period", "rows")},
            "by": [],
            "period": period.to_dict(),
            "rows": [_row({"value": current, "previous": previous})],
        }
        return result, trend

    def _month_series_answers(self, metric: Metric, tables, filters) -> bool:
        """Return whether this month vs last month can be read off the monthly series."""
        if MONTH not in metric.dimensions:
            return False
        if any(isinstance(f, dict) and f.get("field") == MONTH for f in filters or []):
            return False  # a month filter means something else to each query
        as_of = self.as_of(tables)
        return as_of == month_end(as_of)

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
