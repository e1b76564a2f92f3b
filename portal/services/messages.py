"""The message center (消息中心, SPEC §6.3): notifications, unread counts, mark read, preferences.

Other features notify a user with::

    from portal.services.messages import notify
    notify(session, user_id, "share", title_zh="...", title_en="...", body=..., link="/...",
           actor_id=actor.id)

`notify` stores both titles (the page shows the reader's language), respects the recipient's
per-kind preference (returns None when the kind is muted) and never notifies the actor about
their own action. It does not commit: the caller's transaction owns the message.

Preferences are one user setting (key "messages.preferences", a {kind: bool} map; a kind not in
the map is on).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.errors import Invalid
from portal.models import User, UserSetting
from portal.models.base import utcnow
from portal.models.social import MESSAGE_KINDS, Message

PREFERENCES_KEY = "messages.preferences"
MAX_PER_PAGE = 100
TITLE_MAX = 300
BODY_MAX = 4000
LINK_MAX = 500


def _user_id(user) -> int:
    return user if isinstance(user, int) else user.id


# -- preferences ---------------------------------------------------------------------------------
def get_preferences(session: Session, user) -> dict[str, bool]:
    """Return the user's {kind: enabled} map for every message kind."""
    setting = session.scalar(
        select(UserSetting).where(
            UserSetting.user_id == _user_id(user), UserSetting.key == PREFERENCES_KEY
        )
    )
    stored = setting.value if setting is not None and isinstance(setting.value, dict) else {}
    return {kind: bool(stored.get(kind, True)) for kind in MESSAGE_KINDS}


def set_preferences(session: Session, user, changes: Any) -> dict[str, bool]:
    """Turn message kinds on or off ({kind: bool}); return the whole map. Does not commit."""
    if not isinstance(changes, dict) or not changes:
        raise Invalid(
            _("Send the preferences as an object of message kinds and true or false."),
            code="bad_preferences",
        )
    for kind, enabled in changes.items():
        if kind not in MESSAGE_KINDS:
            raise Invalid(_("Unknown message kind: %(kind)s", kind=str(kind)[:20]), code="bad_kind")
        if not isinstance(enabled, bool):
            raise Invalid(
                _("Send the preferences as an object of message kinds and true or false."),
                code="bad_preferences",
            )
    prefs = get_preferences(session, user)
    prefs.update(changes)
    setting = session.scalar(
        select(UserSetting).where(
            UserSetting.user_id == _user_id(user), UserSetting.key == PREFERENCES_KEY
        )
    )
    if setting is None:
        session.add(UserSetting(user_id=_user_id(user), key=PREFERENCES_KEY, value=dict(prefs)))
    else:
        setting.value = dict(prefs)
        setting.version = (setting.version or 1) + 1
    session.flush()
    return prefs


# -- sending ------------------------------------------------------------------------------------
def notify(
    session: Session,
    user_id: int,
    kind: str,
    title_zh: str,
    title_en: str,
    body: str | None = None,
    link: str | None = None,
    actor_id: int | None = None,
) -> Message | None:
    """Put a message in a user's message center; None if muted, self-inflicted or no such user.

    Does not commit.
    """
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if actor_id is not None and actor_id == user_id:
        return None
    if session.get(User, user_id) is None:
        return None
    if not get_preferences(session, user_id)[kind]:
        return None
    message = Message(
        user_id=user_id,
        kind=kind,
        title_zh=(title_zh or title_en or "")[:TITLE_MAX],
        title_en=(title_en or title_zh or "")[:TITLE_MAX],
        body=body[:BODY_MAX] if body else None,
        link=link[:LINK_MAX] if link and link.startswith("/") else None,
        actor_id=actor_id,
    )
    session.add(message)
    session.flush()
    return message


def notify_many(
    session: Session, user_ids: Iterable[int], kind: str, title_zh: str, title_en: str, **kwargs
) -> list[Message]:
    """Notify each distinct user once; return the messages actually created."""
    sent = []
    for uid in dict.fromkeys(user_ids):
        message = notify(session, uid, kind, title_zh, title_en, **kwargs)
        if message is not None:
            sent.append(message)
    return sent


# -- reading ------------------------------------------------------------------------------------
def unread_count(session: Session, user) -> int:
    """Return how many unread messages the user has."""
    return session.scalar(
        select(func.count(Message.id)).where(
            Message.user_id == _user_id(user), Message.read_at.is_(None)
        )
    )


def unread_by_kind(session: Session, user) -> dict[str, int]:
    """Return the unread counts per kind (kinds without unread messages are left out)."""
    rows = session.execute(
        select(Message.kind, func.count(Message.id))
        .where(Message.user_id == _user_id(user), Message.read_at.is_(None))
        .group_by(Message.kind)
    )
    return {kind: count for kind, count in rows}


def check_paging(page: Any, per_page: Any) -> tuple[int, int]:
    """Return (page, per_page) as whole numbers in range, or raise Invalid."""
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise Invalid(_("Page numbers must be whole numbers."), code="bad_page") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(
            _(
                "The page must be 1 or more and per_page from 1 to %(n)d.",
                n=MAX_PER_PAGE,
            ),
            code="bad_page",
        )
    return page, per_page


def list_messages(
    session: Session,
    user,
    unread_only: bool = False,
    page: int = 1,
    per_page: int = 20,
    kind: str | None = None,
) -> dict[str, Any]:
    """Return a page of the user's messages, newest first: {"items", "total", "page", "per_page"}.

    `items` are Message objects; `message_dict` turns one into JSON.
    """
    page, per_page = check_paging(page, per_page)
    if kind is not None and kind not in MESSAGE_KINDS:
        raise Invalid(_("Unknown message kind: %(kind)s", kind=str(kind)[:20]), code="bad_kind")
    where = [Message.user_id == _user_id(user)]
    if unread_only:
        where.append(Message.read_at.is_(None))
    if kind:
        where.append(Message.kind == kind)
    total = session.scalar(select(func.count(Message.id)).where(*where))
    items = list(
        session.scalars(
            select(Message)
            .where(*where)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def message_dict(message: Message, locale: str | None = None) -> dict[str, Any]:
    """Return a message as JSON-ready data, with the title in `locale`."""
    return {
        "id": message.id,
        "kind": message.kind,
        "title": message.title(locale),
        "title_zh": message.title_zh,
        "title_en": message.title_en,
        "body": message.body,
        "link": message.link,
        "actor_id": message.actor_id,
        "read": message.read_at is not None,
        "read_at": message.read_at.isoformat() if message.read_at else None,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def mark_read(session: Session, user, ids: Iterable[int] | str) -> int:
    """Mark the user's messages read (a list of ids, or "all"); return how many changed.

    Ids of other users' messages are ignored. Does not commit.
    """
    where = [Message.user_id == _user_id(user), Message.read_at.is_(None)]
    if ids != "all":
        if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
            raise Invalid(_('Send a list of message ids or "all".'), code="bad_ids")
        ids = list(ids)
        if len(ids) > 1000 or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise Invalid(_('Send a list of message ids or "all".'), code="bad_ids")
        if not ids:
            return 0
        where.append(Message.id.in_(ids))
    result = session.execute(
        update(Message)
        .where(*where)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
