"""The metric catalog API: list metrics and dimensions, and query any metric."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from api.request_helpers import json_body, request_locale
from portal.errors import Invalid
from portal.security import current_tables
from portal.services.metrics import metric_service

bp = Blueprint("metrics_api", __name__)
QUERY_FIELDS = {"metric", "by", "filters", "period"}


@bp.get("/metrics")
def list_metrics():
    """List the catalog's metrics and dimensions in the caller's language."""
    current_tables()  # the caller must be allowed to read the warehouse at all
    service = metric_service()
    return jsonify(
        {
            "metrics": service.list_metrics(request_locale()),
            "dimensions": service.list_dimensions(request_locale()),
        }
    )


@bp.post("/metrics/query")
def query_metric():
    """Compute one metric: {"metric", "by", "filters", "period"} -> rows."""
    body = json_body()
    unknown = set(body) - QUERY_FIELDS
    if unknown:
        raise Invalid(
            _("Unknown field(s): %(fields)s", fields=", ".join(sorted(unknown))[:200]),
            code="unknown_field",
        )
    if "metric" not in body:
        raise Invalid(_("'metric' is required"), code="missing_metric")
    result = metric_service().query(
        current_tables(),
        body["metric"],
        by=body.get("by"),
        filters=body.get("filters"),
        period=body.get("period", "this_month"),
        locale=request_locale(),
    )
    return jsonify(result)
