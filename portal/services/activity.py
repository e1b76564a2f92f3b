"""Views, favorites and recents (SPEC §2.1): what a user opened, starred and uses most.

Opening any resource records a `View`; a star adds a `Favorite`. They feed the home page's
"recently viewed", "my favorites" and "my activity" widgets, the leaderboard, and search's
popularity tie-breaker (the search index counts views on flush).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.errors import NotFound
from portal.models import Favorite, Resource, User, View, utcnow
from portal.services.grants import has_permission

# Types every logged-in user may open (their data is scoped per user when it is read).
OPEN_TYPES = frozenset({"metric", "dataset", "screen"})

# Two openings of the same resource by one user within this window count as one view.
DEDUPE_SECONDS = 60

# Where each type of resource opens, unless its spec carries its own "url".
URL_PATTERNS = {
    "app": "/store/{key}",
    "dashboard": "/dashboards/{key}",
    "pivot": "/pivot?id={key}",
    "metric": "/metrics/{key}",
    "dataset": "/pivot?dataset={key}",
    "screen": "/bigscreen/{key}",
    "question": "/questions?id={key}",
    "upload": "/mining/upload?id={key}",
}


def resource_url(resource: Resource) -> str:
    """Return the portal path (or external URL) that opens the resource."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    if isinstance(spec.get("url"), str) and spec["url"]:
        return spec["url"]
    pattern = URL_PATTERNS.get(resource.type)
    return pattern.format(key=resource.key) if pattern else "/"


def resource_title(resource: Resource, locale: str | None) -> str:
    """Return the resource's title in the user's language (the other one if missing)."""
    if (locale or "").startswith("en"):
        return resource.title_en or resource.title_zh
    return resource.title_zh or resource.title_en


def record_view(session: Session, user, resource: Resource | int, at: datetime | None = None):
    """Record that `user` opened `resource`; repeated openings within a minute count once.

    Returns the new View, or None when it was folded into a recent one. Does not commit.
    """
    resource_id = resource if isinstance(resource, int) else resource.id
    at = at or utcnow()
    recent = session.scalar(
        select(View.id)
        .where(
            View.user_id == user.id,
            View.resource_id == resource_id,
            View.at > at - timedelta(seconds=DEDUPE_SECONDS),
        )
        .limit(1)
    )
    if recent is not None:
        return None
    view = View(user_id=user.id, resource_id=resource_id, at=at)
    session.add(view)
    session.flush()
    return view


def can_view(session: Session, user, resource: Resource) -> bool:
    """Return whether the user may open the resource: open types, published, owned or granted."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    return (
        resource.type in OPEN_TYPES
        or spec.get("published") is True
        or (resource.owner_id is not None and resource.owner_id == user.id)
        or has_permission(session, user, resource.id, "view")
    )


def _resource(session: Session, user, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None or not can_view(session, user, resource):
        # The same answer whether it is missing or hidden: ids reveal nothing.
        raise NotFound(_("This resource does not exist."), code="resource_not_found")
    return resource


def is_favorite(session: Session, user, resource_id: int) -> bool:
    """Return whether the user starred the resource."""
    return (
        session.scalar(
            select(Favorite.id).where(
                Favorite.user_id == user.id, Favorite.resource_id == resource_id
            )
        )
        is not None
    )


def set_favorite(session: Session, user, resource_id: int, starred: bool) -> bool:
    """Star or unstar a resource for the user (idempotent); return the new state."""
    _resource(session, user, resource_id)
    if not starred:
        session.execute(
            delete(Favorite).where(Favorite.user_id == user.id, Favorite.resource_id == resource_id)
        )
        return False
    if is_favorite(session, user, resource_id):
        return True
    try:
        with session.begin_nested():
            session.add(Favorite(user_id=user.id, resource_id=resource_id))
    except IntegrityError:  # starred concurrently from another tab: already a favorite
        pass
    return True


def favorite_ids(session: Session, user, resource_ids) -> set[int]:
    """Return which of `resource_ids` the user starred (one query)."""
    ids = list(resource_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Favorite.resource_id).where(
                Favorite.user_id == user.id, Favorite.resource_id.in_(ids)
            )
        )
    )


def _entry(resource: Resource, locale: str | None, **extra) -> dict:
    return {
        "id": resource.id,
        "type": resource.type,
        "key": resource.key,
        "title": resource_title(resource, locale),
        "url": resource_url(resource),
        **extra,
    }


def favorites(session: Session, user, locale: str | None = None, limit: int = 10) -> list[dict]:
    """Return the user's favorites, newest first, as dicts (id, type, key, title, url, at)."""
    rows = session.execute(
        select(Resource, Favorite.created_at)
        .join(Favorite, Favorite.resource_id == Resource.id)
        .where(Favorite.user_id == user.id)
        .order_by(Favorite.created_at.desc(), Favorite.id.desc())
        .limit(limit)
    ).all()
    return [_entry(r, locale, at=at) for r, at in rows]


def recently_viewed(
    session: Session, user, locale: str | None = None, limit: int = 10
) -> list[dict]:
    """Return the resources the user opened last, each once, newest first (with `at`)."""
    last = func.max(View.at).label("last")
    latest = (
        select(View.resource_id, last)
        .where(View.user_id == user.id)
        .group_by(View.resource_id)
        .order_by(last.desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(Resource, latest.c.last)
        .join(latest, latest.c.resource_id == Resource.id)
        .order_by(latest.c.last.desc())
    ).all()
    return [_entry(r, locale, at=at) for r, at in rows]


def my_activity(session: Session, user, days: int = 30, now: datetime | None = None) -> dict:
    """Return the user's own usage over `days`: views, distinct resources, favorites, by day."""
    since = (now or utcnow()) - timedelta(days=days)
    views = session.execute(
        select(View.at, View.resource_id).where(View.user_id == user.id, View.at >= since)
    ).all()
    per_day: dict[str, int] = {}
    for at, _rid in views:
        day = at.date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
    starred = session.scalar(
        select(func.count()).select_from(Favorite).where(Favorite.user_id == user.id)
    )
    return {
        "days": days,
        "views": len(views),
        "resources": len({rid for _at, rid in views}),
        "favorites": starred or 0,
        "per_day": dict(sorted(per_day.items())),
    }


def leaderboard(
    session: Session,
    locale: str | None = None,
    days: int = 30,
    limit: int = 10,
    types=None,
    visible=None,
    now: datetime | None = None,
) -> dict:
    """Return the most viewed resources and the most active users over `days`.

    `visible(resource) -> bool` filters the resources a viewer may see (e.g. not another
    department's private dashboard); users are listed by display name only.
    """
    since = (now or utcnow()) - timedelta(days=days)
    count = func.count(View.id).label("n")
    query = (
        select(Resource, count)
        .join(View, View.resource_id == Resource.id)
        .where(View.at >= since)
        .group_by(Resource.id)
        .order_by(count.desc(), Resource.id)
        .limit(limit * 3)
    )
    if types:
        query = query.where(Resource.type.in_(list(types)))
    resources = [
        _entry(r, locale, views=n)
        for r, n in session.execute(query).all()
        if visible is None or visible(r)
    ][:limit]
    active = func.count(View.id).label("n")
    users = [
        {"name": name, "views": n}
        for name, n in session.execute(
            select(User.display_name, active)
            .join(View, View.user_id == User.id)
            .where(View.at >= since)
            .group_by(User.id, User.display_name)
            .order_by(active.desc(), User.display_name)
            .limit(limit)
        ).all()
    ]
    return {"days": days, "resources": resources, "users": users}
