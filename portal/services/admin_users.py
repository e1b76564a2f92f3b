"""User, role and group administration for the system administrator (role `admin`).

Separation of duties (三权分立, SPEC §7.4): the system administrator manages accounts, roles and
groups but not grants (portal/services/grants.py, security administrator only) and not the
audit log (auditor). No account may hold two of the three administrative roles, and an
administrator changes neither their own roles nor their own active flag.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Branch, Department, Grant, Group, Role, Share, User
from portal.models.identity import LANGUAGES
from portal.services import groups as group_service
from portal.services.accounts import create_user
from portal.services.audit import record_event
from portal.services.messages import check_paging

ADMIN_ROLES = frozenset({"admin", "security_admin", "auditor"})
USER_FIELDS = ("display_name", "email", "branch_id", "department_code", "language", "is_active")


def check_admin(actor) -> None:
    """Raise Forbidden unless the actor is a system administrator."""
    if actor is None or not actor.has_role("admin"):
        raise Forbidden(
            _("Only a system administrator may manage users, roles and groups."),
            code="not_system_admin",
        )


def user_dict(user: User) -> dict[str, Any]:
    """Return an account as JSON-ready data (never the password hash or TOTP secret)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "employee_no": user.employee_no,
        "email": user.email,
        "branch_id": user.branch_id,
        "department_code": user.department_code,
        "language": user.language,
        "is_active": user.is_active,
        "locked": user.is_locked(),
        "roles": sorted(user.role_codes),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def role_dict(role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "code": role.code,
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "scope": role.scope,
    }


def _get_user(session: Session, user_id: Any) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise NotFound(_("No such user."), code="user_not_found")
    return user


def list_users(
    session: Session, actor, q: str | None = None, page: Any = 1, per_page: Any = 20
) -> dict[str, Any]:
    """Return a page of accounts, optionally filtered by user name / display name."""
    check_admin(actor)
    page, per_page = check_paging(page, per_page)
    where = []
    if q:
        needle = f"%{q.strip().lower()[:64]}%"
        where.append(
            or_(
                func.lower(User.username).like(needle),
                func.lower(User.display_name).like(needle),
                func.lower(User.employee_no).like(needle),
            )
        )
    total = session.scalar(select(func.count(User.id)).where(*where))
    users = session.scalars(
        select(User)
        .where(*where)
        .order_by(User.username)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return {
        "items": [user_dict(u) for u in users],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def _check_roles(session: Session, role_codes: Any) -> list[str]:
    if not isinstance(role_codes, list) or not all(isinstance(c, str) for c in role_codes):
        raise Invalid(_("Send the roles as a list of role codes."), code="bad_roles")
    codes = sorted(set(role_codes))
    known = set(session.scalars(select(Role.code).where(Role.code.in_(codes))))
    unknown = set(codes) - known
    if unknown:
        raise Invalid(
            _("Unknown roles: %(roles)s", roles=", ".join(sorted(unknown))[:200]),
            code="unknown_role",
        )
    if len(ADMIN_ROLES.intersection(codes)) > 1:
        raise Invalid(
            _(
                "Separation of duties: one account may not hold more than one of the system "
                "administrator, security administrator and auditor roles."
            ),
            code="separation_of_duties",
        )
    return codes


def _check_reference(session: Session, model, value: Any, code: str) -> None:
    if value is not None and (not isinstance(value, str) or session.get(model, value) is None):
        raise Invalid(_("Unknown value: %(value)s", value=str(value)[:40]), code=code)


def admin_create_user(session: Session, actor, data: Any) -> User:
    """Create an account (user name, display name, branch, roles, optional password)."""
    check_admin(actor)
    if not isinstance(data, dict):
        raise Invalid(_("Send the account as a JSON object."), code="bad_body")
    for field in ("username", "display_name", "branch_id"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise Invalid(_("The field %(field)s is required.", field=field), code="missing_field")
    roles = _check_roles(session, data.get("roles", []))
    _check_reference(session, Branch, data["branch_id"], "unknown_branch")
    _check_reference(session, Department, data.get("department_code"), "unknown_department")
    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        raise Invalid(_("Unknown language."), code="bad_language")
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise Invalid(_("The password must be text."), code="bad_password")
    if len(data["display_name"].strip()) > 100:
        raise Invalid(_("A display name has at most 100 characters."), code="bad_display_name")
    return create_user(
        session,
        username=data["username"],
        display_name=data["display_name"].strip(),
        branch_id=data["branch_id"],
        department_code=data.get("department_code"),
        role_codes=roles,
        employee_no=data.get("employee_no") or None,
        email=data.get("email") or None,
        language=language,
        password=password,
        actor=actor,
    )


def update_user(session: Session, actor, user_id: Any, changes: Any) -> User:
    """Change an account's profile fields or disable / enable it."""
    check_admin(actor)
    user = _get_user(session, user_id)
    if not isinstance(changes, dict) or not changes:
        raise Invalid(_("Send the changes as a JSON object."), code="bad_body")
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise Invalid(
            _("These fields cannot be changed: %(fields)s", fields=", ".join(sorted(unknown))),
            code="bad_field",
        )
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            raise Invalid(_("is_active must be true or false."), code="bad_field")
        if user.id == actor.id and not changes["is_active"]:
            raise Invalid(_("You cannot disable your own account."), code="self_disable")
    if "display_name" in changes and (
        not isinstance(changes["display_name"], str)
        or not changes["display_name"].strip()
        or len(changes["display_name"]) > 100
    ):
        raise Invalid(_("A display name has 1 to 100 characters."), code="bad_display_name")
    if "branch_id" in changes:
        if changes["branch_id"] is None:
            raise Invalid(_("Unknown value: %(value)s", value="null"), code="unknown_branch")
        _check_reference(session, Branch, changes["branch_id"], "unknown_branch")
    if "department_code" in changes:
        _check_reference(session, Department, changes["department_code"], "unknown_department")
    if "language" in changes and changes["language"] not in (*LANGUAGES, None):
        raise Invalid(_("Unknown language."), code="bad_language")
    if "email" in changes and not (
        changes["email"] is None
        or (isinstance(changes["email"], str) and len(changes["email"]) <= 255)
    ):
        raise Invalid(_("The e-mail address is not valid."), code="bad_email")
    before = {field: getattr(user, field) for field in changes}
    for field, value in changes.items():
        setattr(user, field, value.strip() if field == "display_name" else value)
    session.flush()
    record_event(
        session,
        event_type="user_update",
        actor=actor,
        object_type="user",
        object_id=user.id,
        details={"before": before, "after": dict(changes)},
    )
    return user


def set_roles(session: Session, actor, user_id: Any, role_codes: Any) -> User:
    """Replace an account's roles (not one's own; separation of duties enforced)."""
    check_admin(actor)
    user = _get_user(session, user_id)
    codes = _check_roles(session, role_codes)
    if user.id == actor.id:
        raise Forbidden(_("You cannot change your own roles."), code="self_roles")
    before = sorted(user.role_codes)
    user.roles = list(session.scalars(select(Role).where(Role.code.in_(codes))))
    session.flush()
    record_event(
        session,
        event_type="role_change",
        actor=actor,
        object_type="user",
        object_id=user.id,
        details={"before": before, "after": codes},
    )
    return user


def list_roles(session: Session, actor) -> list[dict[str, Any]]:
    check_admin(actor)
    return [role_dict(r) for r in session.scalars(select(Role).order_by(Role.id))]


# -- groups -------------------------------------------------------------------------------------
def list_all_groups(session: Session, actor, page: Any = 1, per_page: Any = 20) -> dict[str, Any]:
    check_admin(actor)
    page, per_page = check_paging(page, per_page)
    total = session.scalar(select(func.count(Group.id)))
    groups = session.scalars(
        select(Group)
        .order_by(Group.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Group.members))
    )
    return {
        "items": [group_service.group_dict(session, g, actor, with_members=True) for g in groups],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def admin_create_group(session: Session, actor, data: Any) -> Group:
    """Create a group with an owner (default: the administrator) and members."""
    check_admin(actor)
    if not isinstance(data, dict):
        raise Invalid(_("Send the group as a JSON object."), code="bad_body")
    owner = None
    if data.get("owner_id") is not None:
        owner = _get_user(session, data["owner_id"])
    group = group_service.create_group(
        session, actor, data.get("name"), data.get("description"), owner=owner
    )
    if data.get("member_ids"):
        group_service.add_members(session, actor, group.id, data["member_ids"])
    return group


def admin_update_group(session: Session, actor, group_id: Any, data: Any) -> Group:
    """Rename a group, change its description, owner or (whole) member list."""
    check_admin(actor)
    group = group_service.get_group(session, group_id)
    if not isinstance(data, dict) or not data:
        raise Invalid(_("Send the changes as a JSON object."), code="bad_body")
    unknown = set(data) - {"name", "description", "owner_id", "member_ids"}
    if unknown:
        raise Invalid(
            _("These fields cannot be changed: %(fields)s", fields=", ".join(sorted(unknown))),
            code="bad_field",
        )
    if "name" in data:
        name = group_service._clean_name(data["name"])
        group_service._check_unique(session, name, group.id)
        group.name = name
    if "description" in data:
        group.description = group_service._clean_description(data["description"])
    if "owner_id" in data:
        group.owner_id = (
            None if data["owner_id"] is None else _get_user(session, data["owner_id"]).id
        )
    if "member_ids" in data:
        members = (
            [] if data["member_ids"] == [] else group_service._users(session, data["member_ids"])
        )
        group.members = members
    session.flush()
    group_service.record_change(session, actor, group, "update", fields=sorted(data))
    return group


def admin_delete_group(session: Session, actor, group_id: Any) -> None:
    """Delete a group, with the grants and shares naming it (ids may be reused)."""
    check_admin(actor)
    group = group_service.get_group(session, group_id)
    name = group.name
    grants = session.execute(
        delete(Grant).where(Grant.subject_type == "group", Grant.subject_id == group.id)
    ).rowcount
    session.execute(
        delete(Share).where(Share.subject_type == "group", Share.subject_id == group.id)
    )
    session.delete(group)
    session.flush()
    record_event(
        session,
        event_type="group_delete",
        actor=actor,
        object_type="group",
        object_id=group_id,
        details={"name": name, "grants_removed": grants or 0},
    )
