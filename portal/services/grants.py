"""Resource grants (SPEC §7.2): who holds which permission on which resource.

A grant names a subject (a user, a group or a role), a resource and a permission (view, edit,
manage, unmask, export), and may expire. A user holds a permission when any of their subjects
holds a current grant for it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Grant, Group, Resource, Role, User
from portal.models.base import utcnow
from portal.models.resources import PERMISSIONS, SUBJECT_TYPES
from portal.services.audit import record_event


def subject_clause(user):
    """Return the SQL condition: a grant names the user, one of their groups or roles."""
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
            subject_clause(user),
        )
    )
    return frozenset(session.scalars(query))


def unmask_tables(session: Session, user, now: datetime | None = None) -> frozenset[str]:
    """Return the warehouse tables (dataset resources) whose PII the user may see unmasked."""
    return granted_keys(session, user, "dataset", "unmask", now)


# Granting is the security administrator's duty (三权分立), not the system administrator's.
GRANTING_ROLES = frozenset({"security_admin"})
# A permission implies the weaker ones: manage > edit > view.
IMPLIED = {
    "view": {"view", "edit", "manage"},
    "edit": {"edit", "manage"},
    "manage": {"manage"},
    "unmask": {"unmask"},
    "export": {"export"},
}


def has_permission(
    session: Session, user, resource_id: int, permission: str, now: datetime | None = None
) -> bool:
    """Return whether the user owns the resource or holds a current grant implying `permission`."""
    resource = session.get(Resource, resource_id)
    if resource is None:
        return False
    if (
        resource.owner_id is not None
        and resource.owner_id == user.id
        and permission in ("view", "edit", "manage")
    ):
        return True
    now = now or utcnow()
    query = select(Grant.id).where(
        Grant.resource_id == resource_id,
        Grant.permission.in_(IMPLIED[permission]),
        or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        subject_clause(user),
    )
    return session.scalar(query.limit(1)) is not None


def _check_granter(actor) -> None:
    if not (actor.role_codes & GRANTING_ROLES):
        raise Forbidden(
            _("Only a security administrator may change grants."), code="not_security_admin"
        )


def grant_permission(
    session: Session,
    actor,
    *,
    subject_type: str,
    subject_id: int,
    resource_id: int,
    permission: str,
    expires_at: datetime | None = None,
    client_addr: str | None = None,
) -> Grant:
    """Give a user, group or role a permission on a resource; audited. Does not commit."""
    _check_granter(actor)
    if subject_type not in SUBJECT_TYPES:
        raise Invalid(
            _("Unknown grant subject type: %(type)s", type=str(subject_type)[:20]),
            code="bad_subject",
        )
    if permission not in PERMISSIONS:
        raise Invalid(
            _("Unknown permission: %(permission)s", permission=str(permission)[:20]),
            code="bad_permission",
        )
    subject_model = {"user": User, "group": Group, "role": Role}[subject_type]
    if session.get(subject_model, subject_id) is None:
        raise NotFound(_("The grant's subject does not exist."), code="subject_not_found")
    if session.get(Resource, resource_id) is None:
        raise NotFound(_("The resource does not exist."), code="resource_not_found")
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid(_("A grant must expire in the future."), code="bad_expiry")
    grant = session.scalar(
        select(Grant).where(
            Grant.subject_type == subject_type,
            Grant.subject_id == subject_id,
            Grant.resource_id == resource_id,
            Grant.permission == permission,
        )
    )
    if grant is None:
        grant = Grant(
            subject_type=subject_type,
            subject_id=subject_id,
            resource_id=resource_id,
            permission=permission,
            granted_by=actor.id,
        )
        session.add(grant)
    grant.expires_at = expires_at
    session.flush()
    record_event(
        session,
        event_type="grant_change",
        actor=actor,
        client_addr=client_addr,
        object_type="grant",
        object_id=grant.id,
        details={
            "action": "grant",
            "subject_type": subject_type,
            "subject_id": subject_id,
            "resource_id": resource_id,
            "permission": permission,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return grant


def revoke_grant(session: Session, actor, grant_id: int, client_addr: str | None = None) -> None:
    """Remove a grant; audited. Does not commit."""
    _check_granter(actor)
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_("No such grant."), code="grant_not_found")
    details = {
        "action": "revoke",
        "subject_type": grant.subject_type,
        "subject_id": grant.subject_id,
        "resource_id": grant.resource_id,
        "permission": grant.permission,
    }
    session.delete(grant)
    session.flush()
    record_event(
        session,
        event_type="grant_change",
        actor=actor,
        client_addr=client_addr,
        object_type="grant",
        object_id=grant_id,
        details=details,
    )
