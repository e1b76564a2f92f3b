"""Component ids shared between layouts and callbacks."""

KPI_BODY = "kpi-body"
URL = "url"
