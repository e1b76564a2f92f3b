"""Pivot analysis: validate a JSON pivot spec, run it in the warehouse, return plain data.

A spec names a dataset (one warehouse table), row and column fields, values (an aggregation
of a column, or catalog metrics) and filters, optionally a sort, a top-N cut and, for metrics,
a period. Every problem raises `Invalid` / `NotFound` with a message in the user's language and
a stable `code`. Queries go through the caller's table provider, so their row scope and PII
masking apply to pivots and drill-downs alike.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from flask_babel import gettext as _

from datasources.catalog import Catalog
from datasources.metric_query import FILTER_OPS, MetricQueryError
from datasources.periods import PeriodError, resolve_period
from datasources.pivot import (
    AGGS,
    DATASETS,
    DEFAULT_CELL_LIMIT,
    DEFAULT_MAX_COLUMNS,
    Field,
    PivotError,
    PivotFilter,
    PivotSort,
    PivotSpec,
    PivotTop,
    PivotValue,
    dataset_fields,
    field_map,
    list_datasets,
    month_start,
)
from datasources.pivot_drill import MAX_PAGE_SIZE, drill_down
from datasources.pivot_query import run_pivot
from datasources.relations import TableProvider
from portal.errors import Invalid, NotFound

MAX_ROW_FIELDS = 4
MAX_COLUMN_FIELDS = 2
MAX_VALUES = 6
MAX_FILTERS = 20
MAX_LIST_VALUES = 1000
MAX_TOP = 1000
SPEC_KEYS = {"dataset", "rows", "columns", "values", "filters", "sort", "top", "period"}
DRILL_KEYS = {"spec", "cell", "page", "page_size"}


def _agg_name(agg: str) -> str:
    return {
        "sum": _("Sum"),
        "count": _("Count"),
        "count_distinct": _("Distinct count"),
        "mean": _("Average"),
        "min": _("Minimum"),
        "max": _("Maximum"),
    }[agg]


def _short(value) -> str:
    return str(value)[:80]


class PivotService:
    """Pivots and drill-downs over one warehouse and metric catalog."""

    def __init__(
        self,
        warehouse,
        catalog: Catalog,
        *,
        cell_limit: int = DEFAULT_CELL_LIMIT,
        max_columns: int = DEFAULT_MAX_COLUMNS,
    ):
        self.warehouse = warehouse
        self.catalog = catalog
        self.cell_limit = cell_limit
        self.max_columns = max_columns

    # -- what can be pivoted ------------------------------------------------------------------
    def datasets(self, locale: str | None = None) -> list[dict]:
        return list_datasets(locale)

    def fields(self, dataset: str, locale: str | None = None) -> list[dict]:
        """List a dataset's fields (id, name, kind, type, aggregations allowed)."""
        self._check_dataset(dataset)
        return dataset_fields(self.catalog, dataset, locale)

    def _check_dataset(self, dataset) -> None:
        if not isinstance(dataset, str) or dataset not in DATASETS:
            raise NotFound(
                _("Unknown dataset: %(dataset)s", dataset=_short(dataset)), code="unknown_dataset"
            )

    # -- pivots -------------------------------------------------------------------------------
    def pivot(
        self,
        tables: TableProvider,
        raw,
        *,
        locale: str | None = None,
        cell_limit: int | None = None,
    ) -> dict:
        """Validate and run a pivot spec; return header, rows, totals and limits as plain data."""
        spec, names = self.parse(tables, raw, locale)
        limit = cell_limit or self.cell_limit
        try:
            result = run_pivot(
                self.warehouse,
                tables,
                self.catalog,
                spec,
                locale=locale,
                cell_limit=limit,
                max_columns=self.max_columns,
            )
        except (PivotError, MetricQueryError) as exc:
            raise Invalid(str(exc), code=exc.code) from None
        notice = None
        if result["truncated"]:
            notice = _(
                "This pivot has %(total)d cells, more than the limit of %(limit)d: showing the "
                "first %(rows)d of %(all_rows)d rows and %(cols)d of %(all_cols)d columns. "
                "Add filters or remove fields to see the rest.",
                total=result["total_cells"],
                limit=limit,
                rows=result["shown_rows"],
                all_rows=result["total_rows"],
                cols=result["shown_columns"],
                all_cols=result["total_columns"],
            )
        out = {
            "dataset": spec.dataset,
            "rows": list(spec.rows),
            "columns": list(spec.columns),
            "values": self._values(spec, locale),
            "fields": names,
            **result,
            "notice": notice,
            "limit": limit,
        }
        if spec.period is not None:
            out["period"] = spec.period.to_dict()
        return out

    def drill_down(
        self,
        tables: TableProvider,
        raw_spec,
        cell,
        *,
        page=1,
        page_size=50,
        locale: str | None = None,
    ) -> dict:
        """Return one page of the detail rows behind a cell of the pivot `raw_spec`."""
        spec, _names = self.parse(tables, raw_spec, locale)
        if spec.is_metric:
            raise Invalid(
                _("Drill-down works on aggregated columns, not on catalog metrics"),
                code="drill_unsupported",
            )
        if cell is None:
            cell = {}
        if not isinstance(cell, dict):
            raise Invalid(_("'cell' must map row and column fields to keys"), code="bad_cell")
        fields = field_map(self.catalog, spec.dataset)
        keys = {}
        for name, value in cell.items():
            if name not in spec.group:
                raise Invalid(
                    _("%(field)s is not a row or column field of this pivot", field=_short(name)),
                    code="bad_cell",
                )
            keys[name] = self._coerce(fields[name], value, code="bad_cell")
        for name, value in (("page", page), ("page_size", page_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise Invalid(_("'%(name)s' must be a whole number", name=name), code="bad_page")
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise Invalid(
                _("page must be 1 or more and page_size 1 to %(max)d", max=MAX_PAGE_SIZE),
                code="bad_page",
            )
        try:
            return drill_down(
                self.warehouse,
                tables,
                self.catalog,
                spec,
                keys,
                page=page,
                page_size=page_size,
                locale=locale,
            )
        except PivotError as exc:
            raise Invalid(str(exc), code=exc.code) from None

    # -- validation ---------------------------------------------------------------------------
    def parse(self, tables: TableProvider, raw, locale=None) -> tuple[PivotSpec, dict]:
        """Check a JSON spec and return it typed, with the display names of its fields."""
        if not isinstance(raw, dict):
            raise Invalid(_("The pivot spec must be a JSON object"), code="invalid_json")
        unknown = set(raw) - SPEC_KEYS
        if unknown:
            raise Invalid(
                _(
                    "Unknown field(s): %(fields)s",
                    fields=", ".join(sorted(map(str, unknown)))[:200],
                ),
                code="unknown_key",
            )
        values = self._parse_values(raw.get("values"))
        is_metric = any(v.metric for v in values)
        dataset = raw.get("dataset")
        if is_metric:
            if any(v.agg for v in values):
                raise Invalid(
                    _("Catalog metrics and column aggregations cannot be mixed in one pivot"),
                    code="mixed_values",
                )
            fields = self._metric_fields(values)
            dataset = None
        else:
            if dataset is None:
                raise Invalid(_("'dataset' is required"), code="missing_dataset")
            self._check_dataset(dataset)
            fields = field_map(self.catalog, dataset)
        rows = self._parse_layout(raw.get("rows"), "rows", MAX_ROW_FIELDS, fields)
        columns = self._parse_layout(raw.get("columns"), "columns", MAX_COLUMN_FIELDS, fields)
        if set(rows) & set(columns) or len(set(rows + columns)) != len(rows + columns):
            raise Invalid(_("A field can be used only once as a row or column"), code="bad_layout")
        if not is_metric:
            for value in values:
                self._check_agg(value, fields)
        filters = self._parse_filters(raw.get("filters"), fields)
        sort = self._parse_sort(raw.get("sort"), rows, columns, len(values))
        top = self._parse_top(raw.get("top"), rows, len(values))
        period = self._period(tables, raw.get("period")) if is_metric else None
        spec = PivotSpec(dataset, rows, columns, values, filters, sort, top, period)
        names = {name: fields[name].name.get(locale) for name in rows + columns}
        return spec, names

    def _metric_fields(self, values) -> dict[str, Field]:
        for v in values:
            if v.metric not in self.catalog.metrics:
                raise NotFound(
                    _("Unknown metric: %(metric)s", metric=_short(v.metric)), code="unknown_metric"
                )
        out = {}
        for dim in self.catalog.dimensions.values():
            dtype = "date" if dim.time else "string"
            out[dim.id] = Field(dim.id, dim.name, "dimension", dtype, dimension=dim)
        return out

    def _parse_values(self, raw) -> tuple[PivotValue, ...]:
        if not isinstance(raw, list) or not raw:
            raise Invalid(
                _("'values' must be a list of 1 to %(n)d values", n=MAX_VALUES),
                code="missing_values",
            )
        if len(raw) > MAX_VALUES:
            raise Invalid(
                _("At most %(n)d values can be shown", n=MAX_VALUES), code="too_many_fields"
            )
        out = []
        for item in raw:
            if not isinstance(item, dict) or set(item) - {"field", "agg", "metric"}:
                raise Invalid(_('A value is {"field", "agg"} or {"metric"}'), code="bad_value")
            if "metric" in item:
                if set(item) != {"metric"} or not isinstance(item["metric"], str):
                    raise Invalid(_('A value is {"field", "agg"} or {"metric"}'), code="bad_value")
                out.append(PivotValue(metric=item["metric"]))
                continue
            agg, field = item.get("agg"), item.get("field")
            if not isinstance(agg, str) or agg not in AGGS:
                raise Invalid(
                    _(
                        "Unknown aggregation: %(agg)s (use one of %(aggs)s)",
                        agg=_short(agg),
                        aggs=", ".join(AGGS),
                    ),
                    code="unknown_agg",
                )
            if field is not None and not isinstance(field, str):
                raise Invalid(_("A value's field must be a field id"), code="bad_value")
            if field is None and agg != "count":
                raise Invalid(_("Only 'count' can be used without a field"), code="bad_value")
            out.append(PivotValue(field=field, agg=agg))
        return tuple(out)

    def _check_agg(self, value: PivotValue, fields: dict[str, Field]) -> None:
        if value.field is None:
            return
        field = self._field(value.field, fields)
        if value.agg not in field.aggs:
            raise Invalid(
                _(
                    "%(agg)s cannot be applied to %(field)s",
                    agg=_agg_name(value.agg),
                    field=field.id,
                ),
                code="bad_agg",
            )

    def _field(self, name, fields: dict[str, Field]) -> Field:
        if not isinstance(name, str) or name not in fields:
            raise Invalid(_("Unknown field: %(field)s", field=_short(name)), code="unknown_field")
        return fields[name]

    def _parse_layout(self, raw, what: str, limit: int, fields) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
            raise Invalid(_("'%(what)s' must be a list of field ids", what=what), code="bad_layout")
        if len(raw) > limit:
            raise Invalid(
                _("At most %(n)d fields can be used as %(what)s", n=limit, what=what),
                code="too_many_fields",
            )
        for name in raw:
            self._field(name, fields)
        return tuple(raw)

    def _parse_filters(self, raw, fields) -> tuple[PivotFilter, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
            raise Invalid(
                _("'filters' must be a list of at most %(n)d filters", n=MAX_FILTERS),
                code="bad_filter",
            )
        out = []
        for item in raw:
            if not isinstance(item, dict) or "field" not in item or "value" not in item:
                raise Invalid(_("a filter needs 'field', 'op' and 'value'"), code="bad_filter")
            if set(item) - {"field", "op", "value"}:
                raise Invalid(_("a filter needs 'field', 'op' and 'value'"), code="bad_filter")
            field = self._field(item["field"], fields)
            op, value = item.get("op", "eq"), item["value"]
            if not isinstance(op, str) or op not in FILTER_OPS:
                raise Invalid(
                    _("Unknown filter operator: %(op)s", op=_short(op)[:20]), code="bad_filter_op"
                )
            if op in ("in", "not_in"):
                if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_VALUES:
                    raise Invalid(
                        _(
                            "filter %(field)s %(op)s needs a list of 1 to 1000 values",
                            field=field.id,
                            op=op,
                        ),
                        code="bad_filter_value",
                    )
                typed = [self._coerce(field, v) for v in value]
            else:
                if value is None and op not in ("eq", "ne"):
                    raise Invalid(
                        _("filter %(field)s needs a plain value", field=field.id),
                        code="bad_filter_value",
                    )
                typed = self._coerce(field, value)
            out.append(PivotFilter(field.id, op, typed))
        return tuple(out)

    def _coerce(self, field: Field, value, code: str = "bad_filter_value"):
        """Return a filter or cell value typed for the field, or raise Invalid."""
        if value is None:
            return None

        def bad(expected: str):
            return Invalid(
                _(
                    "%(field)s needs %(expected)s, not %(value)s",
                    field=field.id,
                    expected=expected,
                    value=_short(repr(value)),
                ),
                code=code,
            )

        if field.is_month or field.dtype == "date":
            expected = _("a month (YYYY-MM)") if field.is_month else _("a date (YYYY-MM-DD)")
            try:
                text = value + "-01" if field.is_month and len(value) == 7 else value
                parsed = date.fromisoformat(text)
            except (TypeError, ValueError):
                raise bad(expected) from None
            return month_start(parsed) if field.is_month else parsed
        if field.dtype == "boolean":
            if not isinstance(value, bool):
                raise bad(_("true or false"))
            return value
        if field.dtype.startswith(("int", "float", "decimal")):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(_("a number"))
            if field.dtype.startswith("int") and isinstance(value, float):
                if not value.is_integer():
                    raise bad(_("a whole number"))
                return int(value)
            if pd.isna(value):
                raise bad(_("a number"))
            return value
        if not isinstance(value, str) or len(value) > 200:
            raise bad(_("text of at most 200 characters"))
        return value

    def _value_ref(self, ref, n_values: int) -> int | None:
        if isinstance(ref, str) and ref.startswith("v") and ref[1:].isdigit():
            index = int(ref[1:])
            if index < n_values:
                return index
        return None

    def _parse_sort(self, raw, rows, columns, n_values) -> PivotSort | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) - {"by", "desc"} or "by" not in raw:
            raise Invalid(_('\'sort\' is {"by": a row field or value id, "desc"}'), code="bad_sort")
        desc = raw.get("desc", False)
        if not isinstance(desc, bool):
            raise Invalid(_('\'sort\' is {"by": a row field or value id, "desc"}'), code="bad_sort")
        by = raw["by"]
        index = self._value_ref(by, n_values)
        if index is not None:
            return PivotSort(value=index, descending=desc)
        if isinstance(by, str) and by in rows + columns:
            return PivotSort(field=by, descending=desc)
        raise Invalid(
            _(
                "Cannot sort by %(by)s: use a row or column field or a value id (v0, v1, ...)",
                by=_short(by),
            ),
            code="bad_sort",
        )

    def _parse_top(self, raw, rows, n_values) -> PivotTop | None:
        if raw is None:
            return None
        problem = Invalid(
            _(
                '\'top\' is {"n": 1 to %(max)d, "by": a value id} and needs a row field',
                max=MAX_TOP,
            ),
            code="bad_top",
        )
        if not isinstance(raw, dict) or set(raw) - {"n", "by"} or not rows:
            raise problem
        n = raw.get("n")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_TOP:
            raise problem
        index = self._value_ref(raw.get("by", "v0"), n_values)
        if index is None:
            raise problem
        return PivotTop(n, index)

    def _period(self, tables: TableProvider, raw):
        meta = tables.table("meta_warehouse")
        frame = self.warehouse.execute(meta.select("as_of"), scope_key="meta", label="meta:as_of")
        as_of = pd.Timestamp(frame["as_of"].iloc[0]).date()
        try:
            return resolve_period(raw if raw is not None else "this_month", as_of)
        except PeriodError as exc:
            raise Invalid(
                _("Invalid period: %(reason)s", reason=str(exc)), code="invalid_period"
            ) from None

    def _values(self, spec: PivotSpec, locale) -> list[dict]:
        out = []
        fields = field_map(self.catalog, spec.dataset) if spec.dataset else {}
        for k, v in enumerate(spec.values):
            if v.metric:
                metric = self.catalog.metric(v.metric)
                out.append(
                    {
                        "id": f"v{k}",
                        "metric": metric.id,
                        "label": metric.name.get(locale),
                        "format": metric.format,
                        "unit": metric.unit,
                    }
                )
                continue
            if v.field is None:
                label = _("Row count")
            else:
                label = _(
                    "%(agg)s of %(field)s",
                    agg=_agg_name(v.agg),
                    field=fields[v.field].name.get(locale),
                )
            out.append({"id": f"v{k}", "field": v.field, "agg": v.agg, "label": label})
        return out


def pivot_service() -> PivotService:
    """Return the app's PivotService."""
    from flask import current_app

    return current_app.extensions["pivot_service"]
