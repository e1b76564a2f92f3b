"""Search results: one card per resource with its highlighted match, type, domain and owner."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from flask_babel import gettext as _

from components.favorite import favorite_button

SEARCH_IDS = {
    "q": "search-q",
    "types": "search-types",
    "domain": "search-domain",
    "owner": "search-owner",
    "summary": "search-summary",
    "results": "search-results",
    "page": "search-page",
    "request_feedback": "search-request-feedback",
}
REQUEST_ACCESS = "search-request-access"
PAGE_SIZE = 20

TYPE_ICONS = {
    "app": "grid-1x2",
    "report": "file-earmark-bar-graph",
    "dashboard": "speedometer2",
    "pivot": "grid-3x3",
    "query": "terminal",
    "dataset": "table",
    "metric": "graph-up",
    "external": "globe2",
    "question": "question-circle",
    "upload": "file-earmark-arrow-up",
    "screen": "display",
}


def type_label(kind: str) -> str:
    """Return the translated name of a resource type."""
    labels = {
        "app": _("Apps"),
        "report": _("Reports"),
        "dashboard": _("Dashboards"),
        "pivot": _("Pivots"),
        "query": _("Queries"),
        "dataset": _("Datasets"),
        "metric": _("Metrics"),
        "external": _("External data"),
        "question": _("Questions"),
        "upload": _("My data"),
        "screen": _("Big screens"),
    }
    return labels.get(kind, kind)


def domain_label(domain: str) -> str:
    """Return the translated name of a business domain."""
    labels = {
        "deposits": _("Deposits"),
        "loans": _("Loans"),
        "risk": _("Risk"),
        "customers": _("Customers"),
        "transactions": _("Transactions"),
        "reference": _("Reference data"),
        "external": _("External data"),
    }
    return labels.get(domain, domain)


def highlighted(text: str, spans) -> list:
    """Return `text` as spans with the matched parts in <mark> (text only, never HTML)."""
    parts, last = [], 0
    for start, end in sorted(spans or []):
        start, end = max(start, last), min(end, len(text))
        if start >= end:
            continue
        if start > last:
            parts.append(text[last:start])
        parts.append(html.Mark(text[start:end]))
        last = end
    parts.append(text[last:])
    return parts


def _match_line(result: dict):
    match = result.get("highlight")
    if not match or match.get("field") == "title":
        return None
    names = {
        "pinyin": _("Pinyin"),
        "column": _("Column"),
        "description": _("Description"),
        "key": _("Code"),
        "title_zh": _("Chinese title"),
        "title_en": _("English title"),
    }
    return html.Div(
        [
            html.Span(names.get(match["field"], match["field"]) + ": ", className="text-muted"),
            *highlighted(match["text"], match["spans"]),
        ],
        className="search-match small",
    )


def result_card(result: dict, url: str, starred: bool, owner_label: str | None) -> html.Div:
    """Return one search result; a locked one offers a request for access instead of a link."""
    match = result.get("highlight") or {}
    title = (
        highlighted(result["title"], match.get("spans"))
        if match.get("field") == "title"
        else [result["title"]]
    )
    icon = html.I(className=f"bi bi-{TYPE_ICONS.get(result['type'], 'file-earmark')} me-2")
    if result["locked"]:
        heading = html.Span([icon, *title, html.I(className="bi bi-lock-fill ms-2 text-warning")])
        action = dbc.Button(
            [html.I(className="bi bi-key me-1"), _("Request access")],
            id={"type": REQUEST_ACCESS, "resource": result["id"]},
            size="sm",
            color="warning",
            outline=True,
        )
    else:
        heading = html.A(
            [icon, *title],
            href=url,
            className="search-title-link",
            target="_blank" if url.startswith("http") else None,
        )
        action = favorite_button(result["id"], starred)
    meta = [dbc.Badge(type_label(result["type"]), color="light", text_color="primary")]
    if result.get("domain"):
        meta.append(html.Span(domain_label(result["domain"]), className="ms-2"))
    if owner_label:
        meta.append(html.Span([html.I(className="bi bi-person ms-2 me-1"), owner_label]))
    if result["locked"]:
        meta.append(html.Span(_("No access yet"), className="ms-2 text-warning"))
    return html.Div(
        [
            html.Div(
                [html.Div(heading, className="search-title"), html.Div(action)],
                className="d-flex justify-content-between align-items-start gap-2",
            ),
            html.Div(result.get("description") or "", className="search-description small"),
            _match_line(result),
            html.Div(meta, className="search-meta small text-muted mt-1"),
        ],
        className="search-result" + (" locked" if result["locked"] else ""),
        **{"data-type": result["type"], "data-key": result["key"]},
    )
