"""Sharing and the activity feed (群组分享, 发布动态; SPEC §6.2).

Sharing a resource with users or groups gives each of them a *view* grant and puts a "share"
message in the recipients' message centers. Grants are otherwise the security administrator's
duty (portal/services/grants.py); sharing is the one exception, and it is narrow: only the
resource's owner, someone holding `manage` on it, or a security administrator may share, and
a share only ever gives `view`. Every share is audited as a grant change.

The feed has posts (text, optionally linking a resource), likes and comments. A post is public
(no group: every user sees it) or belongs to one group (only its members see it). Texts are
stored as given and must be rendered as text, never as HTML.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Grant, Group, Resource, User
from portal.models.social import Post, PostComment, PostLike, Share
from portal.services import groups as group_service
from portal.services.activity import resource_title
from portal.services.audit import record_event
from portal.services.grants import GRANTING_ROLES, has_permission
from portal.services.messages import check_paging, notify, notify_many

MESSAGE_MAX = 1000
POST_MAX = 2000
COMMENT_MAX = 1000
MAX_RECIPIENTS = 200
# Resources everyone finds in the catalog (search shows them; datasets may show locked).
CATALOG_TYPES = frozenset({"metric", "dataset", "tile"})


# -- who may share ------------------------------------------------------------------------------
def can_share(session: Session, user, resource: Resource) -> bool:
    """Return whether the user may share the resource.

    Allowed: the resource's owner, a holder of a current `manage` grant (directly, through a
    group or a role), and the security administrator. Nobody else — not even the system
    administrator — since sharing creates grants.
    """
    if resource.owner_id is not None and resource.owner_id == user.id:
        return True
    if user.role_codes & GRANTING_ROLES:
        return True
    return has_permission(session, user, resource.id, "manage")


def can_see(session: Session, user, resource: Resource) -> bool:
    """Return whether the user may see that the resource exists (its title in a post)."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    return (
        resource.owner_id == user.id
        or resource.type in CATALOG_TYPES
        or spec.get("published") is True
        or has_permission(session, user, resource.id, "view")
    )


def resource_link(resource: Resource) -> str:
    """Return the portal path that opens a resource."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    link = spec.get("link") or spec.get("path")
    if isinstance(link, str) and link.startswith("/") and not link.startswith("//"):
        return link
    return "/search?q=" + quote(resource.title_zh or resource.key or "", safe="")


def _get_resource(session: Session, resource_id: Any) -> Resource:
    resource = session.get(Resource, resource_id) if isinstance(resource_id, int) else None
    if resource is None or isinstance(resource_id, bool):
        raise NotFound(_("The resource does not exist."), code="resource_not_found")
    return resource


def _ids(value: Any, code: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise Invalid(_("Send lists of user and group ids."), code=code)
    return list(dict.fromkeys(value))


def give_view_grant(
    session: Session, actor, subject_type: str, subject_id: int, resource_id: int
) -> Grant:
    """Give a current view grant (reusing an existing one; a time limit is lifted)."""
    grant = session.scalar(
        select(Grant).where(
            Grant.subject_type == subject_type,
            Grant.subject_id == subject_id,
            Grant.resource_id == resource_id,
            Grant.permission == "view",
        )
    )
    if grant is None:
        grant = Grant(
            subject_type=subject_type,
            subject_id=subject_id,
            resource_id=resource_id,
            permission="view",
            granted_by=actor.id,
        )
        session.add(grant)
    grant.expires_at = None
    session.flush()
    return grant


def share_resource(
    session: Session,
    actor,
    resource_id: Any,
    user_ids: Any = None,
    group_ids: Any = None,
    message: Any = "",
) -> list[Share]:
    """Share a resource with users and/or groups: view grants, share records, messages.

    Does not commit.
    """
    resource = _get_resource(session, resource_id)
    if not can_share(session, actor, resource):
        raise Forbidden(
            _("Only the resource's owner or someone who manages it may share it."),
            code="cannot_share",
        )
    user_ids, group_ids = _ids(user_ids, "bad_user_ids"), _ids(group_ids, "bad_group_ids")
    if not user_ids and not group_ids:
        raise Invalid(_("Choose at least one user or group."), code="no_recipients")
    if len(user_ids) + len(group_ids) > MAX_RECIPIENTS:
        raise Invalid(
            _("Share with at most %(n)d users and groups at once.", n=MAX_RECIPIENTS),
            code="too_many_recipients",
        )
    if message is None:
        message = ""
    if not isinstance(message, str) or len(message) > MESSAGE_MAX:
        raise Invalid(
            _("The message is text of at most %(n)d characters.", n=MESSAGE_MAX),
            code="bad_message",
        )
    message = message.strip()
    users = list(session.scalars(select(User).where(User.id.in_(user_ids)))) if user_ids else []
    groups = (
        list(session.scalars(select(Group).where(Group.id.in_(group_ids)))) if group_ids else []
    )
    if len(users) != len(user_ids):
        raise NotFound(_("No such user."), code="user_not_found")
    if len(groups) != len(group_ids):
        raise NotFound(_("No such group."), code="group_not_found")

    shares, recipients = [], []
    for subject_type, subjects in (("user", users), ("group", groups)):
        for subject in subjects:
            give_view_grant(session, actor, subject_type, subject.id, resource.id)
            share = Share(
                resource_id=resource.id,
                sharer_id=actor.id,
                subject_type=subject_type,
                subject_id=subject.id,
                message=message or None,
            )
            session.add(share)
            shares.append(share)
            if subject_type == "user":
                recipients.append(subject.id)
            else:
                recipients.extend(m.id for m in subject.members if m.is_active)
    session.flush()
    notify_many(
        session,
        recipients,
        "share",
        f"{actor.display_name} 与您分享了「{resource.title_zh}」",
        f"{actor.display_name} shared “{resource.title_en}” with you",
        body=message or None,
        link=resource_link(resource),
        actor_id=actor.id,
    )
    record_event(
        session,
        event_type="grant_change",
        actor=actor,
        object_type="resource",
        object_id=resource.id,
        details={
            "action": "share",
            "permission": "view",
            "user_ids": [u.id for u in users],
            "group_ids": [g.id for g in groups],
        },
    )
    return shares


def share_dict(share: Share) -> dict[str, Any]:
    return {
        "id": share.id,
        "resource_id": share.resource_id,
        "sharer_id": share.sharer_id,
        "subject_type": share.subject_type,
        "subject_id": share.subject_id,
        "message": share.message,
        "created_at": share.created_at.isoformat() if share.created_at else None,
    }


# -- the feed -----------------------------------------------------------------------------------
def _text(value: Any, limit: int, code: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(_("Write some text first."), code=code)
    value = value.strip()
    if len(value) > limit:
        raise Invalid(_("The text has at most %(n)d characters.", n=limit), code=code)
    return value


def _visible_posts(session: Session, user):
    """The clause of the posts the user sees: public ones and those of their groups."""
    group_ids = group_service.my_group_ids(session, user)
    if group_ids:
        return or_(Post.group_id.is_(None), Post.group_id.in_(group_ids))
    return Post.group_id.is_(None)


def get_post(session: Session, user, post_id: Any) -> Post:
    """Return a post the user may see, else raise NotFound (hidden posts are not confirmed)."""
    post = session.get(Post, post_id) if isinstance(post_id, int) else None
    if post is None or (
        post.group_id is not None and post.group_id not in group_service.my_group_ids(session, user)
    ):
        raise NotFound(_("No such post."), code="post_not_found")
    return post


def create_post(
    session: Session, user, text: Any, group_id: Any = None, resource_id: Any = None
) -> Post:
    """Publish a post, public or for one of the user's groups, maybe linking a resource."""
    text = _text(text, POST_MAX, "bad_text")
    if group_id is not None:
        group = group_service.get_group(session, group_id)
        if not group_service.is_member(session, user, group):
            raise Forbidden(_("Only the group's members may post in it."), code="not_group_member")
    if resource_id is not None:
        resource = _get_resource(session, resource_id)
        if not can_see(session, user, resource):
            raise NotFound(_("The resource does not exist."), code="resource_not_found")
    post = Post(author_id=user.id, text=text, group_id=group_id, resource_id=resource_id)
    session.add(post)
    session.flush()
    return post


def toggle_like(session: Session, user, post_id: Any, like: bool | None = None) -> dict:
    """Like or unlike a post (toggle when `like` is None); return {"liked", "likes"}."""
    post = get_post(session, user, post_id)
    existing = session.scalar(
        select(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == user.id)
    )
    want = existing is None if like is None else like
    if want and existing is None:
        session.add(PostLike(post_id=post.id, user_id=user.id))
    elif not want and existing is not None:
        session.delete(existing)
    session.flush()
    likes = session.scalar(select(func.count(PostLike.id)).where(PostLike.post_id == post.id))
    return {"post_id": post.id, "liked": want, "likes": likes}


def add_comment(session: Session, user, post_id: Any, text: Any) -> PostComment:
    """Comment on a post the user sees; the post's author gets a "comment" message."""
    post = get_post(session, user, post_id)
    text = _text(text, COMMENT_MAX, "bad_text")
    comment = PostComment(post_id=post.id, author_id=user.id, text=text)
    session.add(comment)
    session.flush()
    notify(
        session,
        post.author_id,
        "comment",
        f"{user.display_name} 评论了您的动态",
        f"{user.display_name} commented on your post",
        body=text[:200],
        link=f"/groups?post={post.id}",
        actor_id=user.id,
    )
    return comment


def comment_dict(comment: PostComment, authors: dict[int, User]) -> dict[str, Any]:
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "author": group_service.user_brief(authors.get(comment.author_id)),
        "text": comment.text,
        "created_at": comment.created_at.isoformat() if comment.created_at else None,
    }


def feed(
    session: Session,
    user,
    group_id: Any = None,
    page: Any = 1,
    per_page: Any = 20,
    locale: str | None = None,
) -> dict[str, Any]:
    """Return a page of the posts the user sees, newest first, with likes and comments.

    {"items": [post...], "total", "page", "per_page"}; `group_id` narrows to one group.
    """
    page, per_page = check_paging(page, per_page)
    where = [_visible_posts(session, user)]
    if group_id is not None:
        group = group_service.get_group(session, group_id)
        if not group_service.is_member(session, user, group):
            raise Forbidden(_("Only the group's members may see it."), code="not_group_member")
        where.append(Post.group_id == group.id)
    total = session.scalar(select(func.count(Post.id)).where(*where))
    posts = list(
        session.scalars(
            select(Post)
            .where(*where)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return {
        "items": posts_data(session, user, posts, locale),
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def posts_data(session: Session, user, posts: list[Post], locale: str | None = None) -> list:
    """Return posts as JSON-ready data with authors, like counts, comments and resources."""
    ids = [p.id for p in posts]
    if not ids:
        return []
    likes = dict(
        session.execute(
            select(PostLike.post_id, func.count(PostLike.id))
            .where(PostLike.post_id.in_(ids))
            .group_by(PostLike.post_id)
        ).all()
    )
    mine = set(
        session.scalars(
            select(PostLike.post_id).where(PostLike.post_id.in_(ids), PostLike.user_id == user.id)
        )
    )
    comments = list(
        session.scalars(
            select(PostComment)
            .where(PostComment.post_id.in_(ids))
            .order_by(PostComment.created_at, PostComment.id)
        )
    )
    author_ids = {p.author_id for p in posts} | {c.author_id for c in comments}
    authors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(author_ids)))}
    group_names = dict(
        session.execute(
            select(Group.id, Group.name).where(
                Group.id.in_({p.group_id for p in posts if p.group_id})
            )
        ).all()
    )
    resources = {
        r.id: r
        for r in session.scalars(
            select(Resource).where(Resource.id.in_({p.resource_id for p in posts if p.resource_id}))
        )
    }
    out = []
    for post in posts:
        resource = resources.get(post.resource_id)
        out.append(
            {
                "id": post.id,
                "author": group_service.user_brief(authors.get(post.author_id)),
                "text": post.text,
                "group_id": post.group_id,
                "group_name": group_names.get(post.group_id),
                "resource": None
                if resource is None
                else {
                    "id": resource.id,
                    "type": resource.type,
                    "title": resource_title(resource, locale),
                    "link": resource_link(resource),
                },
                "likes": likes.get(post.id, 0),
                "liked": post.id in mine,
                "comments": [comment_dict(c, authors) for c in comments if c.post_id == post.id],
                "created_at": post.created_at.isoformat() if post.created_at else None,
            }
        )
    return out
