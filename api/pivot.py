"""The pivot API: datasets and their fields, pivots, and drill-down to a cell's rows."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from api.request_helpers import json_body, request_locale
from portal.errors import Invalid
from portal.security import current_tables
from portal.services.pivot import DRILL_KEYS, pivot_service

bp = Blueprint("pivot_api", __name__)


@bp.get("/pivot/datasets")
def list_datasets():
    """List the datasets a pivot can be built on."""
    current_tables()  # the caller must be allowed to read the warehouse at all
    return jsonify({"datasets": pivot_service().datasets(request_locale())})


@bp.get("/pivot/datasets/<dataset>/fields")
def list_fields(dataset: str):
    """List a dataset's fields: dimensions and columns, with the aggregations each allows."""
    current_tables()
    return jsonify(
        {"dataset": dataset, "fields": pivot_service().fields(dataset, request_locale())}
    )


@bp.post("/pivot")
def run_pivot():
    """Run a pivot: {"dataset", "rows", "columns", "values", "filters", "sort", "top"}."""
    tables = current_tables()
    return jsonify(pivot_service().pivot(tables, json_body(), locale=request_locale()))


@bp.post("/pivot/drill")
def drill():
    """Return a page of a cell's detail rows: {"spec", "cell", "page", "page_size"}."""
    tables = current_tables()
    body = json_body()
    unknown = set(body) - DRILL_KEYS
    if unknown:
        raise Invalid(
            _("Unknown field(s): %(fields)s", fields=", ".join(sorted(unknown))[:200]),
            code="unknown_key",
        )
    result = pivot_service().drill_down(
        tables,
        body.get("spec"),
        body.get("cell"),
        page=body.get("page", 1),
        page_size=body.get("page_size", 50),
        locale=request_locale(),
    )
    return jsonify(result)
