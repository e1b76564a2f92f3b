"""Groups (群组, SPEC §6.2): any user creates a group and owns it; the owner (or a system
administrator) adds and removes members. Members, the owner and administrators see a group's
members; everyone else sees only that it exists.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Group, User, group_members
from portal.services.audit import record_event

NAME_MAX = 100
DESCRIPTION_MAX = 2000
MAX_MEMBERS_PER_CALL = 200


def is_admin(user) -> bool:
    """Return whether the user is a system administrator (role `admin`)."""
    return user.has_role("admin")


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid(_("Give the group a name."), code="bad_group_name")
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise Invalid(
            _("A group name has at most %(n)d characters.", n=NAME_MAX), code="bad_group_name"
        )
    return name


def _clean_description(description: Any) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str):
        raise Invalid(_("The description must be text."), code="bad_description")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            _("A description has at most %(n)d characters.", n=DESCRIPTION_MAX),
            code="bad_description",
        )
    return description or None


def _check_unique(session: Session, name: str, group_id: int | None = None) -> None:
    query = select(Group.id).where(func.lower(Group.name) == name.lower())
    if group_id is not None:
        query = query.where(Group.id != group_id)
    if session.scalar(query) is not None:
        raise Invalid(_("A group named %(name)s exists already.", name=name), code="duplicate")


def get_group(session: Session, group_id: Any) -> Group:
    """Return the group or raise NotFound."""
    group = session.get(Group, group_id) if isinstance(group_id, int) else None
    if group is None:
        raise NotFound(_("No such group."), code="group_not_found")
    return group


def is_member(session: Session, user, group: Group) -> bool:
    """Return whether the user belongs to the group."""
    return (
        session.scalar(
            select(group_members.c.user_id).where(
                group_members.c.group_id == group.id, group_members.c.user_id == user.id
            )
        )
        is not None
    )


def can_see_members(session: Session, user, group: Group) -> bool:
    """Members, the owner and system administrators see who is in a group."""
    return group.owner_id == user.id or is_admin(user) or is_member(session, user, group)


def can_manage(user, group: Group) -> bool:
    """The owner and system administrators add and remove members."""
    return (group.owner_id is not None and group.owner_id == user.id) or is_admin(user)


def _check_manage(user, group: Group) -> None:
    if not can_manage(user, group):
        raise Forbidden(
            _("Only the group's owner or a system administrator may change its members."),
            code="not_group_owner",
        )


def create_group(
    session: Session, actor, name: Any, description: Any = None, owner: User | None = None
) -> Group:
    """Create a group owned by `owner` (default: the actor), who becomes its first member."""
    name = _clean_name(name)
    description = _clean_description(description)
    _check_unique(session, name)
    owner = owner or session.get(User, actor.id)
    group = Group(name=name, description=description, owner_id=owner.id)
    group.members.append(owner)
    session.add(group)
    session.flush()
    record_event(
        session,
        event_type="group_create",
        actor=actor,
        object_type="group",
        object_id=group.id,
        details={"name": name, "owner_id": owner.id},
    )
    return group


def _users(session: Session, user_ids: Any) -> list[User]:
    if (
        not isinstance(user_ids, list)
        or not user_ids
        or len(user_ids) > MAX_MEMBERS_PER_CALL
        or not all(isinstance(u, int) and not isinstance(u, bool) for u in user_ids)
    ):
        raise Invalid(_("Send a list of user ids."), code="bad_user_ids")
    users = list(session.scalars(select(User).where(User.id.in_(user_ids))))
    missing = set(user_ids) - {u.id for u in users}
    if missing:
        raise NotFound(
            _("No such user: %(user)s", user=", ".join(str(i) for i in sorted(missing))),
            code="user_not_found",
        )
    return users


def record_change(session: Session, actor, group: Group, action: str, **details) -> None:
    """Record a change to a group (`action` and its details) in the audit log."""
    record_event(
        session,
        event_type="group_change",
        actor=actor,
        object_type="group",
        object_id=group.id,
        details={"action": action, **details},
    )


def add_members(session: Session, actor, group_id: Any, user_ids: Any) -> Group:
    """Add users to a group (owner or system administrator); already-members are skipped."""
    group = get_group(session, group_id)
    _check_manage(actor, group)
    users = _users(session, user_ids)
    added = [u for u in users if u not in group.members]
    group.members.extend(added)
    session.flush()
    if added:
        record_change(session, actor, group, "add_members", user_ids=sorted(u.id for u in added))
    return group


def remove_members(session: Session, actor, group_id: Any, user_ids: Any) -> Group:
    """Remove users from a group (owner or administrator; anyone may leave a group)."""
    group = get_group(session, group_id)
    users = _users(session, user_ids)
    if not (len(users) == 1 and users[0].id == actor.id):
        _check_manage(actor, group)
    removed = [u for u in users if u in group.members]
    for user in removed:
        group.members.remove(user)
    session.flush()
    if removed:
        record_change(
            session, actor, group, "remove_members", user_ids=sorted(u.id for u in removed)
        )
    return group


def my_groups(session: Session, user) -> list[Group]:
    """Return the groups the user belongs to or owns, by name."""
    member_of = select(group_members.c.group_id).where(group_members.c.user_id == user.id)
    return list(
        session.scalars(
            select(Group)
            .where(or_(Group.id.in_(member_of), Group.owner_id == user.id))
            .order_by(Group.name)
            .options(selectinload(Group.members))  # group_dict counts them: not a query each
        )
    )


def my_group_ids(session: Session, user) -> set[int]:
    """Return the ids of the groups the user belongs to."""
    return set(
        session.scalars(select(group_members.c.group_id).where(group_members.c.user_id == user.id))
    )


def user_brief(user: User | None) -> dict[str, Any] | None:
    """Return the public fields of a user (id, user name, display name, branch)."""
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "branch_id": user.branch_id,
    }


def group_dict(
    session: Session, group: Group, viewer=None, with_members: bool = False
) -> dict[str, Any]:
    """Return a group as JSON-ready data; members only when asked and allowed."""
    data = {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "owner_id": group.owner_id,
        "member_count": len(group.members),
        "created_at": group.created_at.isoformat() if group.created_at else None,
    }
    if viewer is not None:
        data["is_member"] = any(m.id == viewer.id for m in group.members)
        data["can_manage"] = can_manage(viewer, group)
    if with_members:
        data["members"] = [user_brief(m) for m in sorted(group.members, key=lambda m: m.username)]
    return data


def group_detail(session: Session, viewer, group_id: Any) -> dict[str, Any]:
    """Return a group with its members, for members, its owner and administrators."""
    group = get_group(session, group_id)
    if not can_see_members(session, viewer, group):
        raise Forbidden(_("Only the group's members may see it."), code="not_group_member")
    return group_dict(session, group, viewer, with_members=True)
