"""The personal home page's layout (千人千面, SPEC §2.1): which widgets, where, how big.

A layout is a versioned JSON document, as Backstage's home grid keeps it:

    {"version": 1, "widgets": [{"id": "carousel", "x": 0, "y": 0, "w": 12, "h": 6}, ...]}

on a 12-column grid. Each user's own layout is the user setting "home.layout"; without one,
the user gets their role's default (set by an administrator, the role setting "home.layout"),
else the built-in default for the role. A saved layout is validated when it is loaded: unknown
widgets are dropped and boxes are clamped; a document that cannot be read falls back to the
default with a notice, so a bad setting never breaks the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid
from portal.models import Role, RoleSetting, UserSetting
from portal.services.audit import record_event

SETTING_KEY = "home.layout"
VERSION = 1
COLUMNS = 12
MAX_HEIGHT = 20
ADMIN_ROLES = frozenset({"admin"})


@dataclass(frozen=True)
class WidgetType:
    """A kind of widget: its default size and the smallest size it stays readable at."""

    id: str
    w: int
    h: int
    min_w: int = 3
    min_h: int = 3


WIDGETS: dict[str, WidgetType] = {
    w.id: w
    for w in (
        WidgetType("carousel", 12, 9, 6, 6),
        WidgetType("kpis", 12, 6, 6, 4),
        WidgetType("quick_entry", 4, 6, 3, 4),
        WidgetType("common_reports", 4, 6),
        WidgetType("recent", 4, 6),
        WidgetType("favorites", 4, 6),
        WidgetType("activity", 4, 5),
        WidgetType("leaderboard", 4, 6),
        WidgetType("reminders", 4, 6),
        WidgetType("announcements", 4, 5),
    )
}


def _rows(*rows: tuple[str, ...]) -> dict:
    """Lay widgets out row by row with their default sizes (a row's widths add up to 12)."""
    widgets, y = [], 0
    for row in rows:
        x, height = 0, max(WIDGETS[widget_id].h for widget_id in row)
        for widget_id in row:
            w = WIDGETS[widget_id].w if len(row) == 1 else COLUMNS // len(row)
            widgets.append({"id": widget_id, "x": x, "y": y, "w": w, "h": height})
            x += w
        y += height
    return {"version": VERSION, "widgets": widgets}


# Built-in defaults per role, used until an administrator sets one; first matching role wins.
BUILTIN_DEFAULTS = {
    "leader": _rows(
        ("carousel",),
        ("kpis",),
        ("reminders", "announcements", "quick_entry"),
        ("common_reports", "leaderboard", "favorites"),
    ),
    "analyst": _rows(
        ("quick_entry", "recent", "favorites"),
        ("carousel",),
        ("common_reports", "leaderboard", "activity"),
        ("reminders", "announcements"),
    ),
    "data_owner": _rows(
        ("quick_entry", "recent", "favorites"),
        ("carousel",),
        ("leaderboard", "activity", "announcements"),
    ),
    "customer_manager": _rows(
        ("quick_entry", "common_reports", "reminders"),
        ("kpis",),
        ("favorites", "recent", "announcements"),
    ),
}
GENERIC_DEFAULT = _rows(
    ("announcements", "quick_entry", "reminders"),
    ("recent", "favorites", "activity"),
)
ROLE_PRIORITY = (
    "leader",
    "analyst",
    "data_owner",
    "customer_manager",
    "operator",
    "admin",
    "security_admin",
    "auditor",
)


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def clean_layout(value) -> tuple[dict, list[str]]:
    """Return the layout with unusable parts repaired, and what was repaired (translated).

    Raises Invalid when the document itself cannot be read (not a layout, wrong version).
    """
    layout, errors, resized = _clean(value)
    return layout, errors + resized


def _clean(value) -> tuple[dict, list[str], list[str]]:
    """Return (layout, errors: widgets dropped or misplaced, resized: boxes clamped to fit)."""
    if not isinstance(value, dict) or not isinstance(value.get("widgets"), list):
        raise Invalid(_("The layout is not a valid document."), code="bad_layout")
    if value.get("version") != VERSION:
        raise Invalid(
            _("Unsupported layout version: %(version)s", version=str(value.get("version"))[:10]),
            code="bad_layout_version",
        )
    errors, resized, widgets, seen = [], [], [], set()
    for entry in value["widgets"]:
        widget_id = entry.get("id") if isinstance(entry, dict) else None
        if widget_id not in WIDGETS:
            errors.append(_("Unknown widget: %(id)s", id=str(widget_id)[:40]))
            continue
        if widget_id in seen:
            errors.append(_("Duplicate widget: %(id)s", id=widget_id))
            continue
        kind = WIDGETS[widget_id]
        box = {k: _as_int(entry.get(k)) for k in ("x", "y", "w", "h")}
        if any(v is None for v in box.values()):
            errors.append(_("Widget %(id)s has no valid position", id=widget_id))
            box = {"x": 0, "y": 10_000, "w": kind.w, "h": kind.h}
        w = min(max(box["w"], kind.min_w), COLUMNS)
        x = min(max(box["x"], 0), COLUMNS - w)
        h = min(max(box["h"], kind.min_h), MAX_HEIGHT)
        clean = {"id": widget_id, "x": x, "y": max(box["y"], 0), "w": w, "h": h}
        if clean != {"id": widget_id, **box}:
            resized.append(_("Widget %(id)s was resized to fit", id=widget_id))
        widgets.append(clean)
        seen.add(widget_id)
    widgets.sort(key=lambda b: (b["y"], b["x"]))
    return {"version": VERSION, "widgets": widgets}, errors, resized


def check_layout(value) -> dict:
    """Validate a layout a user or administrator saves: anything but a resize is refused."""
    layout, errors, _resized = _clean(value)
    if errors:
        raise Invalid(
            _("The layout has errors: %(problems)s", problems="; ".join(errors)[:300]),
            code="bad_layout",
        )
    return layout


def _role_default(session: Session, user) -> tuple[dict | None, str | None]:
    codes = user.role_codes
    ordered = [c for c in ROLE_PRIORITY if c in codes] + sorted(codes - set(ROLE_PRIORITY))
    if not ordered:
        return None, None
    stored = {
        s.role_code: s.value
        for s in session.scalars(
            select(RoleSetting).where(
                RoleSetting.role_code.in_(ordered), RoleSetting.key == SETTING_KEY
            )
        )
    }
    for code in ordered:
        if code in stored:
            try:
                return clean_layout(stored[code])[0], code
            except Invalid:
                continue  # a broken role default: fall through to the built-in one
    return None, None


def default_layout(session: Session, user) -> dict:
    """Return the user's default: their role's administrator-set layout, else the built-in."""
    layout, _code = _role_default(session, user)
    if layout is not None:
        return layout
    for code in ROLE_PRIORITY:
        if code in user.role_codes and code in BUILTIN_DEFAULTS:
            return BUILTIN_DEFAULTS[code]
    return GENERIC_DEFAULT


def _user_setting(session: Session, user) -> UserSetting | None:
    return session.scalar(
        select(UserSetting).where(UserSetting.user_id == user.id, UserSetting.key == SETTING_KEY)
    )


def load_layout(session: Session, user) -> tuple[dict, str, str | None]:
    """Return (layout, source, notice): source is 'user' or 'default'; notice says what was wrong."""
    setting = _user_setting(session, user)
    if setting is None or setting.value is None:
        return default_layout(session, user), "default", None
    try:
        layout, problems = clean_layout(setting.value)
    except Invalid:
        notice = _("Your saved layout could not be read; the default layout is shown.")
        return default_layout(session, user), "default", notice
    notice = _("Parts of your saved layout were repaired.") if problems else None
    return layout, "user", notice


def save_layout(session: Session, user, value) -> dict:
    """Store the user's layout (validated); bumps the setting's version. Does not commit."""
    layout = check_layout(value)
    setting = _user_setting(session, user)
    if setting is None:
        session.add(UserSetting(user_id=user.id, key=SETTING_KEY, version=1, value=layout))
    else:
        setting.value, setting.version = layout, setting.version + 1
    session.flush()
    return layout


def reset_layout(session: Session, user) -> dict:
    """Forget the user's own layout ("restore default"); return the default. Does not commit."""
    session.execute(
        delete(UserSetting).where(UserSetting.user_id == user.id, UserSetting.key == SETTING_KEY)
    )
    return default_layout(session, user)


def save_role_default(
    session: Session, actor, role_code: str, value, client_addr: str | None = None
) -> dict:
    """Set a role's default home layout (system administrators only); audited. No commit."""
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden(_("Only a system administrator may set default layouts."), code="not_admin")
    if session.scalar(select(Role.id).where(Role.code == role_code)) is None:
        raise Invalid(_("Unknown role: %(role)s", role=str(role_code)[:32]), code="unknown_role")
    layout = check_layout(value)
    setting = session.scalar(
        select(RoleSetting).where(
            RoleSetting.role_code == role_code, RoleSetting.key == SETTING_KEY
        )
    )
    if setting is None:
        session.add(
            RoleSetting(role_code=role_code, key=SETTING_KEY, value=layout, updated_by=actor.id)
        )
    else:
        setting.value, setting.version = layout, setting.version + 1
        setting.updated_by = actor.id
    session.flush()
    record_event(
        session,
        event_type="home_default_layout",
        actor=actor,
        client_addr=client_addr,
        object_type="role",
        object_id=role_code,
        details={"widgets": [w["id"] for w in layout["widgets"]]},
    )
    return layout


def add_widget(layout: dict, widget_id: str) -> dict:
    """Return the layout with the widget added below the others (no-op if already there)."""
    if widget_id not in WIDGETS:
        raise Invalid(_("Unknown widget: %(id)s", id=str(widget_id)[:40]), code="unknown_widget")
    if any(w["id"] == widget_id for w in layout["widgets"]):
        return layout
    kind = WIDGETS[widget_id]
    bottom = max((w["y"] + w["h"] for w in layout["widgets"]), default=0)
    box = {"id": widget_id, "x": 0, "y": bottom, "w": kind.w, "h": kind.h}
    return {"version": VERSION, "widgets": [*layout["widgets"], box]}


def remove_widget(layout: dict, widget_id: str) -> dict:
    """Return the layout without the widget."""
    return {
        "version": VERSION,
        "widgets": [w for w in layout["widgets"] if w["id"] != widget_id],
    }


def move_widgets(layout: dict, positions: dict[str, dict]) -> dict:
    """Return the layout with the grid's reported positions ({id: {x, y, w, h}}) applied."""
    widgets = [{**w, **positions.get(w["id"], {}), "id": w["id"]} for w in layout["widgets"]]
    return clean_layout({"version": VERSION, "widgets": widgets})[0]
