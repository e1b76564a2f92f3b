"""Access requests (申请权限): a user asks for a permission on a resource they cannot use.

`request_access` records the request (one pending request per user, resource and permission)
and puts an "access" message in the message centers of the resource's owner and of the
security administrators. `decide` approves or rejects it:

- the security administrator may decide any request;
- the resource's owner, or a holder of `manage` on it, may decide requests for `view` and
  `edit` (the permissions sharing could give); `manage`, `unmask` and `export` stay with the
  security administrator (三权分立, leak prevention).

Approval creates the grant (audited as a grant change); the requester is notified either way.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Grant, Resource, Role, User, user_roles
from portal.models.base import utcnow
from portal.models.resources import PERMISSIONS
from portal.models.social import ACCESS_REQUEST_STATUSES, AccessRequest
from portal.services.audit import record_event
from portal.services.grants import GRANTING_ROLES, has_permission
from portal.services.messages import check_paging, notify, notify_many

OWNER_DECIDES = frozenset({"view", "edit"})
REASON_MAX = 1000
PERMISSION_NAMES = {
    "view": ("查看", "view"),
    "edit": ("编辑", "edit"),
    "manage": ("管理", "manage"),
    "unmask": ("查看明文", "unmask"),
    "export": ("导出", "export"),
}


def _security_admin_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(User.id)
            .join(user_roles, user_roles.c.user_id == User.id)
            .join(Role, Role.id == user_roles.c.role_id)
            .where(Role.code.in_(GRANTING_ROLES), User.is_active)
        )
    )


def is_security_admin(user) -> bool:
    return bool(user.role_codes & GRANTING_ROLES)


def can_decide(session: Session, user, request: AccessRequest) -> bool:
    """Return whether the user may approve or reject the request."""
    if is_security_admin(user):
        return True
    if request.permission not in OWNER_DECIDES or request.requester_id == user.id:
        return False
    return has_permission(session, user, request.resource_id, "manage")


def request_access(
    session: Session, user, resource_id: Any, permission: Any = "view", reason: Any = ""
) -> AccessRequest:
    """Ask for a permission on a resource; a pending duplicate is returned, not repeated."""
    resource = session.get(Resource, resource_id) if isinstance(resource_id, int) else None
    if resource is None or isinstance(resource_id, bool):
        raise NotFound(_("The resource does not exist."), code="resource_not_found")
    if permission not in PERMISSIONS:
        raise Invalid(
            _("Unknown permission: %(permission)s", permission=str(permission)[:20]),
            code="bad_permission",
        )
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > REASON_MAX:
        raise Invalid(
            _("The reason is text of at most %(n)d characters.", n=REASON_MAX),
            code="bad_reason",
        )
    if has_permission(session, user, resource.id, permission):
        raise Invalid(_("You have this permission already."), code="already_granted")
    pending = session.scalar(
        select(AccessRequest).where(
            AccessRequest.requester_id == user.id,
            AccessRequest.resource_id == resource.id,
            AccessRequest.permission == permission,
            AccessRequest.status == "pending",
        )
    )
    if pending is not None:
        return pending
    request = AccessRequest(
        requester_id=user.id,
        resource_id=resource.id,
        permission=permission,
        reason=reason.strip() or None,
    )
    session.add(request)
    session.flush()
    zh, en = PERMISSION_NAMES[permission]
    recipients = _security_admin_ids(session)
    if resource.owner_id is not None and permission in OWNER_DECIDES:
        recipients.insert(0, resource.owner_id)
    notify_many(
        session,
        recipients,
        "access",
        f"{user.display_name} 申请「{resource.title_zh}」的{zh}权限",
        f"{user.display_name} asks to {en} “{resource.title_en}”",
        body=request.reason,
        link=f"/messages?request={request.id}",
        actor_id=user.id,
    )
    record_event(
        session,
        event_type="access_request",
        actor=user,
        object_type="resource",
        object_id=resource.id,
        details={"request_id": request.id, "permission": permission},
    )
    return request


def decide(
    session: Session, actor, request_id: Any, approve: Any, note: Any = None
) -> AccessRequest:
    """Approve (creating the grant) or reject a pending request; notify the requester."""
    request = session.get(AccessRequest, request_id) if isinstance(request_id, int) else None
    if request is None:
        raise NotFound(_("No such access request."), code="request_not_found")
    if not can_decide(session, actor, request):
        raise Forbidden(
            _("Only the resource's owner or a security administrator may decide this request."),
            code="cannot_decide",
        )
    if not isinstance(approve, bool):
        raise Invalid(_("approve must be true or false."), code="bad_decision")
    if note is not None and (not isinstance(note, str) or len(note) > REASON_MAX):
        raise Invalid(
            _("The note is text of at most %(n)d characters.", n=REASON_MAX), code="bad_note"
        )
    if request.status != "pending":
        raise Invalid(_("This request has been decided already."), code="already_decided")
    request.status = "approved" if approve else "rejected"
    request.decided_by = actor.id
    request.decided_at = utcnow()
    request.note = (note.strip() or None) if note else None
    resource = session.get(Resource, request.resource_id)
    if approve:
        grant = session.scalar(
            select(Grant).where(
                Grant.subject_type == "user",
                Grant.subject_id == request.requester_id,
                Grant.resource_id == request.resource_id,
                Grant.permission == request.permission,
            )
        )
        if grant is None:
            grant = Grant(
                subject_type="user",
                subject_id=request.requester_id,
                resource_id=request.resource_id,
                permission=request.permission,
                granted_by=actor.id,
            )
            session.add(grant)
        grant.expires_at = None
    session.flush()
    zh, en = PERMISSION_NAMES[request.permission]
    if approve:
        title_zh = f"您对「{resource.title_zh}」的{zh}权限申请已批准"
        title_en = f"Your request to {en} “{resource.title_en}” was approved"
    else:
        title_zh = f"您对「{resource.title_zh}」的{zh}权限申请被拒绝"
        title_en = f"Your request to {en} “{resource.title_en}” was rejected"
    notify(
        session,
        request.requester_id,
        "access",
        title_zh,
        title_en,
        body=request.note,
        link=f"/messages?request={request.id}",
        actor_id=actor.id,
    )
    record_event(
        session,
        event_type="grant_change" if approve else "access_decision",
        actor=actor,
        object_type="resource",
        object_id=request.resource_id,
        details={
            "action": "approve_request" if approve else "reject_request",
            "request_id": request.id,
            "subject_type": "user",
            "subject_id": request.requester_id,
            "permission": request.permission,
        },
    )
    return request


def list_requests(
    session: Session,
    user,
    scope: str = "mine",
    status: str | None = None,
    page: Any = 1,
    per_page: Any = 20,
) -> dict[str, Any]:
    """Return a page of requests: `mine` (made by the user) or `to_decide` (they may decide)."""
    page, per_page = check_paging(page, per_page)
    if scope not in ("mine", "to_decide"):
        raise Invalid(_("Unknown scope: %(scope)s", scope=str(scope)[:20]), code="bad_scope")
    if status is not None and status not in ACCESS_REQUEST_STATUSES:
        raise Invalid(_("Unknown status: %(status)s", status=str(status)[:20]), code="bad_status")
    where = []
    if status:
        where.append(AccessRequest.status == status)
    if scope == "mine":
        where.append(AccessRequest.requester_id == user.id)
    elif not is_security_admin(user):
        managed = managed_resource_ids(session, user)
        where += [
            AccessRequest.resource_id.in_(managed),
            AccessRequest.permission.in_(OWNER_DECIDES),
            AccessRequest.requester_id != user.id,
        ]
    total = session.scalar(select(func.count(AccessRequest.id)).where(*where))
    rows = list(
        session.scalars(
            select(AccessRequest)
            .where(*where)
            .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return {
        "items": requests_data(session, rows),
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def managed_resource_ids(session: Session, user):
    """A select of the ids of resources the user owns or holds `manage` on."""
    from portal.services.grants import subject_clause

    now = utcnow()
    granted = select(Grant.resource_id).where(
        Grant.permission == "manage",
        or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        subject_clause(user),
    )
    return select(Resource.id).where(or_(Resource.owner_id == user.id, Resource.id.in_(granted)))


def requests_data(session: Session, rows: list[AccessRequest]) -> list[dict[str, Any]]:
    resources = {
        r.id: r
        for r in session.scalars(
            select(Resource).where(Resource.id.in_({r.resource_id for r in rows}))
        )
    }
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({r.requester_id for r in rows})))
    }
    out = []
    for row in rows:
        resource, requester = resources.get(row.resource_id), users.get(row.requester_id)
        out.append(
            {
                "id": row.id,
                "resource_id": row.resource_id,
                "resource_title_zh": resource.title_zh if resource else None,
                "resource_title_en": resource.title_en if resource else None,
                "resource_type": resource.type if resource else None,
                "requester_id": row.requester_id,
                "requester": requester.display_name if requester else None,
                "permission": row.permission,
                "reason": row.reason,
                "status": row.status,
                "decided_by": row.decided_by,
                "decided_at": row.decided_at.isoformat() if row.decided_at else None,
                "note": row.note,
                "created_at": row.created_at.isoformat() if row.created_at else None,
            }
        )
    return out
