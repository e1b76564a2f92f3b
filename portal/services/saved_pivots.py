"""Saved pivots (SPEC §4.2): pivot requests kept as resources that can be reopened and shared.

A saved pivot is a `Resource` of type "pivot" whose `spec` is the pivot request exactly as the
pivot service takes it (dataset, rows, columns, values, filters, sort, top, period), with a
title in both languages and the user who saved it as owner. Its owner, anyone holding a
current view grant (user, group or role), and everyone once it is published (`"published":
true` in the spec, kept when it is saved again) may open it; its owner and edit grants may
overwrite it; its owner and manage grants may delete it. Opening runs the request with the
*viewer's* scope and masking, so sharing a pivot never shares its owner's rows.

Functions take a store session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import json
import uuid

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource, User
from portal.services.activity import can_view as activity_can_view
from portal.services.activity import is_favorite, record_view, resource_url
from portal.services.audit import record_event
from portal.services.grants import has_permission
from portal.services.pivot import SPEC_KEYS

PIVOT = "pivot"
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_SPEC_BYTES = 64_000


def _clean_title(value, *, required: bool) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("A title must be text."), code="bad_title")
    value = " ".join(value.split())
    if len(value) > MAX_TITLE:
        raise Invalid(
            _("A title may have at most %(n)d characters.", n=MAX_TITLE), code="bad_title"
        )
    if required and not value:
        raise Invalid(_("Give the pivot a title."), code="missing_title")
    return value or None


def clean_request(spec) -> dict:
    """Check the shape of a pivot request (a JSON object of the pivot service's keys)."""
    if not isinstance(spec, dict) or not spec:
        raise Invalid(_("The pivot spec must be a JSON object"), code="invalid_json")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise Invalid(
            _("Unknown field(s): %(fields)s", fields=", ".join(sorted(map(str, unknown)))[:200]),
            code="unknown_key",
        )
    try:
        text = json.dumps(spec, ensure_ascii=False)
    except (TypeError, ValueError):
        raise Invalid(_("The pivot spec must be a JSON object"), code="invalid_json") from None
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise Invalid(_("This pivot spec is too large to save."), code="spec_too_large")
    return json.loads(text)


def request_of(resource: Resource) -> dict:
    """Return the pivot request a saved pivot holds (only the pivot service's keys)."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    return {k: v for k, v in spec.items() if k in SPEC_KEYS}


def find_pivot(session: Session, key) -> Resource:
    """Return the saved pivot with this key, or raise NotFound."""
    resource = None
    if isinstance(key, str) and 0 < len(key) <= 200:
        resource = session.scalar(
            select(Resource).where(Resource.type == PIVOT, Resource.key == key)
        )
    if resource is None:
        raise NotFound(
            _("This saved pivot does not exist (it may have been deleted)."),
            code="pivot_not_found",
        )
    return resource


def can_view(session: Session, user, resource: Resource) -> bool:
    """Return whether the user may open the pivot: owner, view grant, or published."""
    return activity_can_view(session, user, resource)


def can_edit(session: Session, user, resource: Resource) -> bool:
    return has_permission(session, user, resource.id, "edit")


def get_pivot(session: Session, user, key) -> Resource:
    """Return a saved pivot the user may open; NotFound or Forbidden otherwise."""
    resource = find_pivot(session, key)
    if not can_view(session, user, resource):
        raise Forbidden(
            _("You do not have permission to open this pivot. Ask its owner to share it with you."),
            code="pivot_forbidden",
        )
    return resource


def describe(session: Session, user, resource: Resource, locale: str | None = None) -> dict:
    """Return a saved pivot as plain data for a page or an API."""
    owner = session.get(User, resource.owner_id) if resource.owner_id else None
    english = (locale or "").startswith("en")
    return {
        "id": resource.id,
        "key": resource.key,
        "title": (resource.title_en if english else resource.title_zh)
        or resource.title_zh
        or resource.title_en,
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "description": resource.description or "",
        "spec": request_of(resource),
        "owner": owner.display_name if owner else None,
        "owner_id": resource.owner_id,
        "is_owner": resource.owner_id == user.id,
        "can_edit": can_edit(session, user, resource),
        "favorite": is_favorite(session, user, resource.id),
        "url": resource_url(resource),
        "updated_at": resource.updated_at.isoformat() if resource.updated_at else None,
    }


def open_pivot(session: Session, user, key, locale: str | None = None) -> dict:
    """Open a saved pivot: check the permission, record the view, return it (see describe)."""
    resource = get_pivot(session, user, key)
    record_view(session, user, resource)
    return describe(session, user, resource, locale)


def save_pivot(
    session: Session,
    user,
    spec,
    *,
    title_zh=None,
    title_en=None,
    description=None,
    key=None,
    validate=None,
) -> Resource:
    """Save a pivot request as a new resource, or overwrite the saved pivot `key`.

    One title is enough (the other language gets the same). `validate(spec)` may check the
    request in full (the page passes the pivot service's parser, so a broken request is
    refused before it is stored). Overwriting needs the edit permission; the owner stays.
    """
    request = clean_request(spec)
    zh = _clean_title(title_zh, required=False)
    en = _clean_title(title_en, required=False)
    if not zh and not en:
        raise Invalid(_("Give the pivot a title."), code="missing_title")
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION
    ):
        raise Invalid(
            _("A description may have at most %(n)d characters.", n=MAX_DESCRIPTION),
            code="bad_description",
        )
    if validate is not None:
        validate(request)
    if key:
        resource = find_pivot(session, key)
        if not can_edit(session, user, resource):
            raise Forbidden(
                _("You may open this pivot but not change it: save it as a new pivot instead."),
                code="pivot_read_only",
            )
        action = "update"
    else:
        resource = Resource(type=PIVOT, key=uuid.uuid4().hex, owner_id=user.id)
        session.add(resource)
        action = "create"
    resource.title_zh = zh or en
    resource.title_en = en or zh
    if description is not None:
        resource.description = description.strip() or None
    published = isinstance(resource.spec, dict) and resource.spec.get("published") is True
    resource.spec = {**request, "published": True} if published else request
    session.flush()
    record_event(
        session,
        event_type="pivot_save",
        actor=user,
        object_type=PIVOT,
        object_id=resource.key,
        details={"action": action, "dataset": request.get("dataset")},
    )
    return resource


def delete_pivot(session: Session, user, key) -> None:
    """Delete a saved pivot: its owner or a manage grant only."""
    resource = find_pivot(session, key)
    if not has_permission(session, user, resource.id, "manage"):
        raise Forbidden(_("Only the owner may delete this pivot."), code="pivot_forbidden")
    session.delete(resource)
    session.flush()
    record_event(
        session,
        event_type="pivot_delete",
        actor=user,
        object_type=PIVOT,
        object_id=key,
    )
