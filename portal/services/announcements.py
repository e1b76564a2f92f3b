"""Announcements (公告栏, SPEC §2.1): notices from administrators, for everyone or an audience.

An announcement is shown between its start and end to users its audience admits (the same
role / group / branch-subtree rule as quick-entry tiles). Only system administrators publish.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Announcement, utcnow
from portal.models.home import ANNOUNCEMENT_LEVELS
from portal.services.audit import record_event
from portal.services.tiles import VISIBILITY_AXES, Audience, clean_list

ADMIN_ROLES = frozenset({"admin"})


def _check_admin(actor) -> None:
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden(
            _("Only a system administrator may publish announcements."), code="not_admin"
        )


def _when(value, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid(_("Invalid date: %(name)s", name=name), code="bad_date") from None


def publish(session: Session, actor, fields: dict, client_addr: str | None = None) -> Announcement:
    """Publish an announcement (administrators only); audited. Does not commit."""
    _check_admin(actor)
    title_zh = str(fields.get("title_zh") or "").strip()
    title_en = str(fields.get("title_en") or "").strip() or title_zh
    if not title_zh or len(title_zh) > 200 or len(title_en) > 200:
        raise Invalid(
            _("An announcement needs a title of at most 200 characters."), code="bad_title"
        )
    body = str(fields.get("body") or "")
    if len(body) > 5000:
        raise Invalid(_("The text is too long: at most 5000 characters."), code="bad_body")
    level = fields.get("level") or "info"
    if level not in ANNOUNCEMENT_LEVELS:
        raise Invalid(_("Unknown level: %(level)s", level=str(level)[:20]), code="bad_level")
    starts_at = _when(fields.get("starts_at"), "starts_at") or utcnow()
    ends_at = _when(fields.get("ends_at"), "ends_at")
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid(_("The end must be after the start."), code="bad_period")
    audience = {a: clean_list((fields.get("audience") or {}).get(a), a) for a in VISIBILITY_AXES}
    item = Announcement(
        title_zh=title_zh,
        title_en=title_en,
        body=body or None,
        level=level,
        audience=audience,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.id,
    )
    session.add(item)
    session.flush()
    record_event(
        session,
        event_type="announcement_published",
        actor=actor,
        client_addr=client_addr,
        object_type="announcement",
        object_id=item.id,
        details={"audience": audience},
    )
    return item


def withdraw(session: Session, actor, announcement_id: int) -> None:
    """End an announcement now (administrators only); audited. Does not commit."""
    _check_admin(actor)
    item = session.get(Announcement, announcement_id)
    if item is None:
        raise NotFound(_("This announcement does not exist."), code="announcement_not_found")
    item.ends_at = utcnow()
    record_event(
        session,
        event_type="announcement_withdrawn",
        actor=actor,
        object_type="announcement",
        object_id=announcement_id,
    )


def current_for(
    session: Session, user, locale: str | None = None, now: datetime | None = None, limit: int = 10
) -> list[dict]:
    """Return the announcements the user should see now, most important and newest first."""
    now = now or utcnow()
    audience = Audience(session, user)
    english = (locale or "").startswith("en")
    rows = session.scalars(
        select(Announcement)
        .where(
            Announcement.starts_at <= now,
            or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
        )
        .order_by(Announcement.starts_at.desc())
    )
    rank = {level: i for i, level in enumerate(reversed(ANNOUNCEMENT_LEVELS))}
    found = [
        {
            "id": a.id,
            "title": (a.title_en if english else a.title_zh) or a.title_zh,
            "body": a.body or "",
            "level": a.level,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
        }
        for a in rows
        if audience.admits(a.audience)
    ]
    found.sort(key=lambda a: rank.get(a["level"], 9))
    return found[:limit]
