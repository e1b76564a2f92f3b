"""Pieces of the home page administration: tile rows for the grid, announcement list."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.db import get_db
from portal.models import Branch, Group, Resource, Role

ADMIN_IDS = {
    "tiles": "admin-tiles-grid",
    "new_key": "admin-tiles-new-key",
    "add": "admin-tiles-add",
    "save": "admin-tiles-save",
    "tiles_feedback": "admin-tiles-feedback",
    "a_title_zh": "admin-ann-title-zh",
    "a_title_en": "admin-ann-title-en",
    "a_body": "admin-ann-body",
    "a_level": "admin-ann-level",
    "a_roles": "admin-ann-roles",
    "a_groups": "admin-ann-groups",
    "a_branches": "admin-ann-branches",
    "a_ends": "admin-ann-ends",
    "publish": "admin-ann-publish",
    "a_feedback": "admin-ann-feedback",
    "a_list": "admin-ann-list",
}
WITHDRAW = "admin-ann-withdraw"


def level_labels() -> dict[str, str]:
    """Return {announcement level: its name} in the user's language, least urgent first."""
    return {"info": _("Notice"), "important": _("Important"), "urgent": _("Urgent")}


def _english() -> bool:
    return str(get_locale() or "").startswith("en")


def tile_row(resource: Resource) -> dict:
    """Return a tile as a row of the administration grid (lists as comma-separated text)."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    visibility = spec.get("visibility") or {}
    return {
        "key": resource.key,
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "url": spec.get("url") or "",
        "sso": bool(spec.get("sso")),
        "icon": spec.get("icon") or "app",
        "order": spec.get("order", 100),
        "new_until": spec.get("new_until") or "",
        "roles": ", ".join(visibility.get("roles") or []),
        "groups": ", ".join(visibility.get("groups") or []),
        "branches": ", ".join(visibility.get("branches") or []),
        "disabled": bool(spec.get("disabled")),
        "description": resource.description or "",
    }


def tile_rows() -> list[dict]:
    """Return every tile, in the administrator's order."""
    with get_db().session() as s:
        tiles = s.scalars(select(Resource).where(Resource.type == "tile")).all()
        rows = [tile_row(t) for t in tiles]
    return sorted(rows, key=lambda r: (r["order"], r["key"]))


def row_to_fields(row: dict) -> dict:
    """Turn an edited grid row back into the fields `tiles.save_tile` validates."""
    return {
        "key": row.get("key"),
        "title_zh": row.get("title_zh"),
        "title_en": row.get("title_en"),
        "url": row.get("url"),
        "sso": bool(row.get("sso")),
        "icon": row.get("icon") or "app",
        "order": row.get("order", 100),
        "new_until": row.get("new_until") or None,
        "description": row.get("description") or None,
        "disabled": bool(row.get("disabled")),
        "visibility": {
            axis: [v.strip() for v in str(row.get(axis) or "").split(",") if v.strip()]
            for axis in ("roles", "groups", "branches")
        },
    }


def role_options() -> list[dict]:
    """Return dropdown options for the roles, in the user's language."""
    english = _english()
    with get_db().session() as s:
        return [
            {"label": en if english else zh, "value": code}
            for code, zh, en in s.execute(select(Role.code, Role.name_zh, Role.name_en))
        ]


def audience_options() -> tuple[list, list, list]:
    """Return dropdown options for roles, groups and branches, in the user's language."""
    english = _english()
    roles = role_options()
    with get_db().session() as s:
        groups = [{"label": n, "value": n} for n in s.scalars(select(Group.name))]
        branches = [
            {"label": f"{en if english else zh} ({code})", "value": code}
            for code, zh, en in s.execute(
                select(Branch.branch_id, Branch.name_zh, Branch.name_en).where(
                    Branch.level != "sub_branch"
                )
            )
        ]
    return roles, groups, branches


def announcement_list() -> html.Div:
    """Return the announcements shown now (to anyone), each with a withdraw button."""
    from portal.models import Announcement, utcnow

    now = utcnow()
    english = _english()
    labels = level_labels()
    with get_db().session() as s:
        items = s.scalars(
            select(Announcement)
            .where((Announcement.ends_at.is_(None)) | (Announcement.ends_at > now))
            .order_by(Announcement.starts_at.desc())
        ).all()
    if not items:
        return html.Div(_("No announcements."), className="text-muted small")
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                (a.title_en if english else a.title_zh) or a.title_zh,
                                className="fw-semibold me-2",
                            ),
                            html.Span(
                                labels.get(a.level, a.level),
                                className="badge bg-light text-primary me-2",
                            ),
                            html.Span(
                                a.ends_at.date().isoformat() if a.ends_at else "—",
                                className="small text-muted",
                            ),
                        ]
                    ),
                    dbc.Button(
                        _("Withdraw"),
                        id={"type": WITHDRAW, "announcement": a.id},
                        size="sm",
                        color="danger",
                        outline=True,
                    )
                    if current_user.has_role("admin")
                    else None,
                ],
                className="d-flex justify-content-between align-items-center border-bottom py-2",
            )
            for a in items
        ]
    )
