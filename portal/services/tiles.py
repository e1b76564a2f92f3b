"""Quick entry (快捷入口, SPEC §2.1 and §7.3): tiles for internal pages and external systems.

A tile is a Resource of type "tile" whose spec says where it leads and who sees it:

    {"url": "/pivot" | "https://...", "external": false, "sso": false, "icon": "grid-3x3",
     "order": 10, "new_until": "2026-12-31",
     "visibility": {"roles": [...], "groups": [...], "branches": [...]}}

An empty visibility list does not restrict; a non-empty one must match (a branch matches its
sub-branches too). Administrators manage tiles; each user may reorder and hide the tiles they
see, kept in the user setting "tiles" ({"version": 1, "order": [...], "hidden": [...]}).
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Branch, Resource, UserSetting, group_members
from portal.services.audit import record_event

SETTING_KEY = "tiles"
SETTING_VERSION = 1
ADMIN_ROLES = frozenset({"admin"})
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ICON_PATTERN = re.compile(r"^[a-z0-9-]{1,40}$")
VISIBILITY_AXES = ("roles", "groups", "branches")


def _spec(resource: Resource) -> dict:
    return resource.spec if isinstance(resource.spec, dict) else {}


def _branch_chain(session: Session, branch_id: str | None) -> set[str]:
    """Return the branch and every branch above it (a tile for BJ shows in BJ-CY too)."""
    chain: set[str] = set()
    while branch_id and branch_id not in chain:
        chain.add(branch_id)
        branch_id = session.scalar(select(Branch.parent_id).where(Branch.branch_id == branch_id))
    return chain


def _group_names(session: Session, user) -> set[str]:
    from portal.models import Group

    return set(
        session.scalars(
            select(Group.name)
            .join(group_members, group_members.c.group_id == Group.id)
            .where(group_members.c.user_id == user.id)
        )
    )


class Audience:
    """What a tile's visibility rule is matched against: the user's roles, groups, branches."""

    def __init__(self, session: Session, user) -> None:
        self.roles = set(user.role_codes)
        self.groups = _group_names(session, user)
        self.branches = _branch_chain(session, user.branch_id)

    def admits(self, visibility: dict | None) -> bool:
        visibility = visibility if isinstance(visibility, dict) else {}
        for axis in VISIBILITY_AXES:
            wanted = set(visibility.get(axis) or ())
            if wanted and not wanted & getattr(self, axis):
                return False
        return True


def is_new(spec: dict, today: date | None = None) -> bool:
    """Return whether the tile still wears its "new" badge."""
    until = spec.get("new_until")
    if not isinstance(until, str):
        return False
    try:
        return (today or date.today()) <= date.fromisoformat(until)
    except ValueError:
        return False


def read_preferences(session: Session, user) -> dict:
    """Return the user's tile order and hidden tiles; a malformed setting reads as empty."""
    setting = session.scalar(
        select(UserSetting).where(UserSetting.user_id == user.id, UserSetting.key == SETTING_KEY)
    )
    value = setting.value if setting is not None else None
    if not isinstance(value, dict) or value.get("version") != SETTING_VERSION:
        return {"version": SETTING_VERSION, "order": [], "hidden": []}
    order = [k for k in value.get("order") or [] if isinstance(k, str)]
    hidden = [k for k in value.get("hidden") or [] if isinstance(k, str)]
    return {"version": SETTING_VERSION, "order": order, "hidden": hidden}


def _tile_dict(resource: Resource, locale: str | None, hidden: bool, today: date) -> dict:
    spec = _spec(resource)
    english = (locale or "").startswith("en")
    return {
        "id": resource.id,
        "key": resource.key,
        "title": (resource.title_en if english else resource.title_zh) or resource.title_zh,
        "description": resource.description or "",
        "url": spec.get("url") or "/",
        "external": bool(spec.get("external")),
        "sso": bool(spec.get("sso")),
        "icon": spec.get("icon") or "app",
        "order": spec.get("order", 100),
        "new": is_new(spec, today),
        "hidden": hidden,
        "launch": f"/sso/launch/{resource.key}" if spec.get("sso") else spec.get("url") or "/",
    }


def visible_tiles(
    session: Session,
    user,
    locale: str | None = None,
    include_hidden: bool = False,
    today: date | None = None,
) -> list[dict]:
    """Return the tiles the user may see, in their own order (then the admin's order)."""
    audience = Audience(session, user)
    prefs = read_preferences(session, user)
    personal = {key: i for i, key in enumerate(prefs["order"])}
    hidden = set(prefs["hidden"])
    today = today or date.today()
    tiles = [
        _tile_dict(r, locale, r.key in hidden, today)
        for r in session.scalars(select(Resource).where(Resource.type == "tile"))
        if not _spec(r).get("disabled") and audience.admits(_spec(r).get("visibility"))
    ]
    tiles.sort(key=lambda t: (personal.get(t["key"], len(personal)), t["order"], t["key"]))
    return tiles if include_hidden else [t for t in tiles if not t["hidden"]]


def tile_for(session: Session, user, key: str) -> Resource:
    """Return the tile `key` if the user may see it; NotFound otherwise (no hint it exists)."""
    resource = session.scalar(select(Resource).where(Resource.type == "tile", Resource.key == key))
    if (
        resource is None
        or _spec(resource).get("disabled")
        or not Audience(session, user).admits(_spec(resource).get("visibility"))
    ):
        raise NotFound(_("This entry does not exist or is not open to you."), code="tile_not_found")
    return resource


def save_preferences(session: Session, user, order, hidden) -> dict:
    """Store the user's tile order and hidden tiles (keys of tiles they can see). No commit."""
    if not isinstance(order, list) or not isinstance(hidden, list):
        raise Invalid(_("The tile order must be a list of tile keys."), code="bad_tiles")
    known = {t["key"] for t in visible_tiles(session, user, include_hidden=True)}
    unknown = [k for k in [*order, *hidden] if k not in known]
    if unknown:
        raise Invalid(_("Unknown tile: %(key)s", key=str(unknown[0])[:64]), code="unknown_tile")
    value = {
        "version": SETTING_VERSION,
        "order": list(dict.fromkeys(order)),
        "hidden": sorted(set(hidden)),
    }
    setting = session.scalar(
        select(UserSetting).where(UserSetting.user_id == user.id, UserSetting.key == SETTING_KEY)
    )
    if setting is None:
        session.add(UserSetting(user_id=user.id, key=SETTING_KEY, version=1, value=value))
    else:
        setting.value, setting.version = value, setting.version + 1
    session.flush()
    return value


# -- administration -----------------------------------------------------------------------------
def _check_admin(actor) -> None:
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden(
            _("Only a system administrator may manage quick entries."), code="not_admin"
        )


def clean_list(value, name: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(_("Invalid visibility rule: %(name)s", name=name), code="bad_visibility")
    return [v for v in value if v]


def validate_tile(fields: dict) -> dict:
    """Check an administrator's tile definition; return the normalised resource fields."""
    key = fields.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise Invalid(
            _("A tile key is 1-64 lower-case letters, digits, '-' or '_'."), code="bad_key"
        )
    title_zh = str(fields.get("title_zh") or "").strip()
    title_en = str(fields.get("title_en") or "").strip() or title_zh
    if not title_zh or len(title_zh) > 200 or len(title_en) > 200:
        raise Invalid(_("A tile needs a title of at most 200 characters."), code="bad_title")
    url = str(fields.get("url") or "").strip()
    external = url.startswith(("http://", "https://"))
    if not (external or (url.startswith("/") and not url.startswith("//"))) or len(url) > 500:
        raise Invalid(
            _("The address must be a portal path (/...) or an http(s) URL."), code="bad_url"
        )
    icon = str(fields.get("icon") or "app")
    if not ICON_PATTERN.match(icon):
        raise Invalid(_("Unknown icon name."), code="bad_icon")
    try:
        order = int(fields.get("order", 100))
    except (TypeError, ValueError):
        raise Invalid(_("The order must be a whole number."), code="bad_order") from None
    new_until = fields.get("new_until") or None
    if new_until is not None:
        try:
            new_until = date.fromisoformat(str(new_until)).isoformat()
        except ValueError:
            raise Invalid(_("The 'new' date must be YYYY-MM-DD."), code="bad_date") from None
    visibility = {
        axis: clean_list((fields.get("visibility") or {}).get(axis), axis)
        for axis in VISIBILITY_AXES
    }
    return {
        "key": key,
        "title_zh": title_zh,
        "title_en": title_en,
        "description": str(fields.get("description") or "")[:1000] or None,
        "spec": {
            "url": url,
            "external": external or bool(fields.get("sso")),
            "sso": bool(fields.get("sso")),
            "icon": icon,
            "order": order,
            "new_until": new_until,
            "visibility": visibility,
            "disabled": bool(fields.get("disabled")),
        },
    }


def save_tile(session: Session, actor, fields: dict, client_addr: str | None = None) -> Resource:
    """Create or update a tile (administrators only); audited. Does not commit."""
    _check_admin(actor)
    clean = validate_tile(fields)
    resource = session.scalar(
        select(Resource).where(Resource.type == "tile", Resource.key == clean["key"])
    )
    created = resource is None
    if created:
        resource = Resource(type="tile", owner_id=actor.id, **clean)
        session.add(resource)
    else:
        for name, value in clean.items():
            setattr(resource, name, value)
    session.flush()
    record_event(
        session,
        event_type="tile_created" if created else "tile_updated",
        actor=actor,
        client_addr=client_addr,
        object_type="tile",
        object_id=resource.key,
        details={"url": clean["spec"]["url"], "visibility": clean["spec"]["visibility"]},
    )
    return resource


def delete_tile(session: Session, actor, key: str, client_addr: str | None = None) -> None:
    """Remove a tile (administrators only); audited. Does not commit."""
    _check_admin(actor)
    resource = session.scalar(select(Resource).where(Resource.type == "tile", Resource.key == key))
    if resource is None:
        raise NotFound(_("This entry does not exist or is not open to you."), code="tile_not_found")
    session.delete(resource)
    record_event(
        session,
        event_type="tile_deleted",
        actor=actor,
        client_addr=client_addr,
        object_type="tile",
        object_id=key,
    )
