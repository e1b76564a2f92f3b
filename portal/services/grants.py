"""Resource grants (SPEC §7.2): who holds which permission on which resource.

A grant names a subject (a user, a group or a role), a resource and a permission (view, edit,
manage, unmask, export), and may expire. A user holds a permission when any of their subjects
holds a current grant for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal.models import Grant, Resource
from portal.models.base import utcnow


def _subject_clause(user):
    clauses = [and_(Grant.subject_type == "user", Grant.subject_id == user.id)]
    group_ids = [g.id for g in user.groups]
    role_ids = [r.id for r in user.roles]
    if group_ids:
        clauses.append(and_(Grant.subject_type == "group", Grant.subject_id.in_(group_ids)))
    if role_ids:
        clauses.append(and_(Grant.subject_type == "role", Grant.subject_id.in_(role_ids)))
    return or_(*clauses)


def granted_keys(
    session: Session, user, resource_type: str, permission: str, now: datetime | None = None
) -> frozenset[str]:
    """Return the keys of the resources of a type on which the user holds a current permission."""
    now = now or utcnow()
    query = (
        select(Resource.key)
        .join(Grant, Grant.resource_id == Resource.id)
        .where(
            Resource.type == resource_type,
            Grant.permission == permission,
            or_(Grant.expires_at.is_(None), Grant.expires_at > now),
            _subject_clause(user),
        )
    )
    return frozenset(session.scalars(query))


def unmask_tables(session: Session, user, now: datetime | None = None) -> frozenset[str]:
    """Return the warehouse tables (dataset resources) whose PII the user may see unmasked."""
    return granted_keys(session, user, "dataset", "unmask", now)
