"""The dashboard spec document (SPEC §4.3): validate, normalise and lay out its charts.

    {"version": 1,
     "charts": [{"id", "type", "title", "metric", "metrics", "dimension", "series_dimension",
                 "period", "top", "layout": {"x", "y", "w", "h"}}],
     "filters": {"period", "branch", "product"},
     "published": false}

`validate_spec` returns the normalised document or raises a translated `Invalid` saying what
is wrong, so a bad saved spec gives a clear error instead of a crash.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _

from datasources.catalog import Catalog
from datasources.periods import NAMED_PERIODS, PeriodError, resolve_period
from portal.errors import Invalid

SPEC_VERSION = 1
CHART_TYPES = ("bar", "line", "area", "pie", "kpi", "table", "map")
NEEDS_DIMENSION = frozenset({"bar", "line", "area", "pie", "map"})
SERIES_TYPES = frozenset({"bar", "line", "area", "table"})
MAP_DIMENSIONS = ("branch", "sub_branch")
FILTER_FIELDS = ("branch", "product")
GRID_COLUMNS = 12
MAX_CHARTS = 24
MAX_METRICS = 4
MAX_TOP = 200
MAX_ROWS = 500
MAX_TITLE = 200
DEFAULT_PERIOD = "this_month"
TREND_PERIOD = "last_12_months"
DEFAULT_SIZE = {"kpi": (3, 3), "table": (6, 5), "map": (6, 6)}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


# -- the spec document ---------------------------------------------------------------------
def _bad(reason: str):
    raise Invalid(
        _("This dashboard definition is invalid: %(reason)s", reason=reason),
        code="bad_dashboard_spec",
    )


def empty_spec() -> dict:
    """Return the spec of a new, empty dashboard."""
    return {"version": SPEC_VERSION, "charts": [], "filters": {}, "published": False}


def _check_period(value, where: str):
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in NAMED_PERIODS:
        return value
    if isinstance(value, dict):
        try:
            resolve_period(value, date.today())
        except PeriodError as exc:
            _bad(_("%(where)s: invalid period: %(reason)s", where=where, reason=str(exc)))
        return {"start": str(value["start"]), "end": str(value["end"])}
    _bad(
        _(
            "%(where)s: the period must be one of %(names)s or a date range",
            where=where,
            names=", ".join(NAMED_PERIODS),
        )
    )


def check_filters(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        _bad(_("'filters' must be an object"))
    unknown = set(raw) - {"period", *FILTER_FIELDS}
    if unknown:
        _bad(_("unknown filter %(name)s", name=sorted(unknown)[0][:40]))
    out = {}
    period = _check_period(raw.get("period"), _("filters"))
    if period is not None:
        out["period"] = period
    for field in FILTER_FIELDS:
        value = raw.get(field)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > 64:
            _bad(_("the %(field)s filter must be a code", field=field))
        out[field] = value
    return out


def _int(value, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    value = int(value)
    return value if low <= value <= high else None


def _check_layout(raw, where: str, chart_type: str) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _bad(_("%(where)s: invalid layout", where=where))
    x, y = _int(raw.get("x"), 0, GRID_COLUMNS - 1), _int(raw.get("y"), 0, 10_000)
    w, h = _int(raw.get("w"), 1, GRID_COLUMNS), _int(raw.get("h"), 1, 40)
    if None in (x, y, w, h):
        _bad(_("%(where)s: invalid layout", where=where))
    return {"x": x, "y": y, "w": min(w, GRID_COLUMNS - x), "h": h}


def default_size(chart_type: str) -> tuple[int, int]:
    """Return the (w, h) a new chart of this type gets on the 12-column grid."""
    return DEFAULT_SIZE.get(chart_type, (6, 5))


def _overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def place_charts(charts: list[dict]) -> None:
    """Give charts without a layout a free spot and push overlapping charts down (in place)."""
    placed: list[dict] = []
    for chart in sorted(
        (c for c in charts if c.get("layout")), key=lambda c: (c["layout"]["y"], c["layout"]["x"])
    ):
        box = chart["layout"]
        while any(_overlaps(box, other) for other in placed):
            box["y"] = max(o["y"] + o["h"] for o in placed if _overlaps(box, o))
        placed.append(box)
    for chart in charts:
        if chart.get("layout"):
            continue
        w, h = default_size(chart["type"])
        box = _first_free(placed, w, h)
        chart["layout"] = box
        placed.append(box)
    _compact(placed)


def _compact(boxes: list[dict]) -> None:
    """Move every box up as far as it goes, top to bottom (react-grid-layout's vertical mode)."""
    done: list[dict] = []
    for box in sorted(boxes, key=lambda b: (b["y"], b["x"])):
        while box["y"] > 0:
            box["y"] -= 1
            if any(_overlaps(box, other) for other in done):
                box["y"] += 1
                break
        done.append(box)


def _first_free(placed: list[dict], w: int, h: int) -> dict:
    bottom = max((p["y"] + p["h"] for p in placed), default=0)
    for y in range(0, bottom + 1):
        for x in range(0, GRID_COLUMNS - w + 1):
            box = {"x": x, "y": y, "w": w, "h": h}
            if not any(_overlaps(box, p) for p in placed):
                return box
    return {"x": 0, "y": bottom, "w": w, "h": h}


def _check_chart(raw, n: int, catalog: Catalog, seen: set[str]) -> dict:
    if not isinstance(raw, dict):
        _bad(_("chart %(n)d is not an object", n=n))
    chart_id = raw.get("id")
    if not isinstance(chart_id, str) or not _ID.match(chart_id):
        _bad(_("chart %(n)d has no valid id", n=n))
    if chart_id in seen:
        _bad(_("chart id %(id)s is used twice", id=chart_id))
    seen.add(chart_id)
    where = _("chart %(id)s", id=chart_id)
    chart_type = raw.get("type")
    if chart_type not in CHART_TYPES:
        _bad(_("%(where)s: unknown chart type %(type)s", where=where, type=str(chart_type)[:20]))
    metrics = raw.get("metrics")
    if metrics is None:
        metrics = [raw.get("metric")]
    if not isinstance(metrics, list) or not metrics or metrics == [None]:
        _bad(_("%(where)s: it needs a metric", where=where))
    if len(metrics) > MAX_METRICS:
        _bad(_("%(where)s: at most %(n)d metrics", where=where, n=MAX_METRICS))
    if len(set(map(str, metrics))) != len(metrics):
        _bad(_("%(where)s: a metric is repeated", where=where))
    for metric_id in metrics:
        if not isinstance(metric_id, str) or metric_id not in catalog.metrics:
            _bad(_("%(where)s: unknown metric %(metric)s", where=where, metric=str(metric_id)[:80]))
    if chart_type in ("pie", "kpi", "map") and len(metrics) > 1:
        _bad(_("%(where)s: this chart type shows one metric", where=where))
    dimension = raw.get("dimension") or None
    series = raw.get("series_dimension") or None
    if chart_type == "kpi" and (dimension or series):
        _bad(_("%(where)s: a KPI card has no dimension", where=where))
    if chart_type in NEEDS_DIMENSION and not dimension:
        _bad(_("%(where)s: this chart type needs a dimension", where=where))
    if chart_type == "map" and dimension not in MAP_DIMENSIONS:
        _bad(_("%(where)s: a map shows branches or sub-branches", where=where))
    if series and chart_type not in SERIES_TYPES:
        _bad(_("%(where)s: this chart type has no series dimension", where=where))
    if series and not dimension:
        _bad(_("%(where)s: a series dimension needs a dimension", where=where))
    if series and series == dimension:
        _bad(_("%(where)s: the series dimension must differ from the dimension", where=where))
    if series and len(metrics) > 1:
        _bad(_("%(where)s: a series dimension needs exactly one metric", where=where))
    for dim in (dimension, series):
        if dim is None:
            continue
        for metric_id in metrics:
            if dim not in catalog.metrics[metric_id].dimensions:
                _bad(
                    _(
                        "%(where)s: %(metric)s cannot be broken down by %(dimension)s",
                        where=where,
                        metric=metric_id,
                        dimension=str(dim)[:80],
                    )
                )
    top = raw.get("top")
    if top not in (None, "", 0):
        top = _int(top, 1, MAX_TOP)
        if top is None:
            _bad(
                _("%(where)s: 'top' must be a whole number from 1 to %(n)d", where=where, n=MAX_TOP)
            )
    else:
        top = None
    title = raw.get("title") or ""
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        _bad(
            _(
                "%(where)s: the title must be text of at most %(n)d characters",
                where=where,
                n=MAX_TITLE,
            )
        )
    return {
        "id": chart_id,
        "type": chart_type,
        "title": title.strip(),
        "metric": metrics[0],
        "metrics": list(metrics),
        "dimension": dimension,
        "series_dimension": series,
        "period": _check_period(raw.get("period"), where),
        "top": top,
        "layout": _check_layout(raw.get("layout"), where, chart_type),
    }


def validate_spec(raw, catalog: Catalog) -> dict:
    """Return the normalised spec, or raise Invalid saying what is wrong (translated)."""
    if raw is None:
        return empty_spec()
    if not isinstance(raw, dict):
        _bad(_("the definition must be a JSON object"))
    version = raw.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        _bad(
            _(
                "unsupported version %(version)s (this portal reads version %(supported)d)",
                version=str(version)[:20],
                supported=SPEC_VERSION,
            )
        )
    charts = raw.get("charts", [])
    if not isinstance(charts, list) or len(charts) > MAX_CHARTS:
        _bad(_("'charts' must be a list of at most %(n)d charts", n=MAX_CHARTS))
    seen: set[str] = set()
    checked = [_check_chart(c, n, catalog, seen) for n, c in enumerate(charts, start=1)]
    place_charts(checked)
    published = raw.get("published", False)
    if not isinstance(published, bool):
        _bad(_("'published' must be true or false"))
    return {
        "version": SPEC_VERSION,
        "charts": checked,
        "filters": check_filters(raw.get("filters")),
        "published": published,
    }


def new_chart_id(spec: dict) -> str:
    """Return a chart id not used in the spec yet."""
    used = {c.get("id") for c in spec.get("charts", []) if isinstance(c, dict)}
    n = len(used) + 1
    while f"c{n}" in used:
        n += 1
    return f"c{n}"


def chart_title(chart: dict, catalog: Catalog, locale: str | None) -> str:
    """Return the chart's own title, else one made from its metric and dimension."""
    if chart.get("title"):
        return chart["title"]
    names = [catalog.metrics[m].name.get(locale) for m in chart["metrics"] if m in catalog.metrics]
    metric = " / ".join(names)
    dim = chart.get("dimension")
    series = chart.get("series_dimension")
    if dim and series and dim in catalog.dimensions and series in catalog.dimensions:
        return _(
            "%(metric)s by %(dimension)s and %(series)s",
            metric=metric,
            dimension=catalog.dimensions[dim].name.get(locale),
            series=catalog.dimensions[series].name.get(locale),
        )
    if dim and dim in catalog.dimensions:
        return _(
            "%(metric)s by %(dimension)s",
            metric=metric,
            dimension=catalog.dimensions[dim].name.get(locale),
        )
    return metric
