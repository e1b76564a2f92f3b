"""Demo content for the social features: the marketing group's members and a few feed posts.

`seed_social_demo(session)` is idempotent: it only adds what is missing. It expects the demo
accounts and the 营销团队 group of portal/services/setup.py (it does nothing without them).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Group, User
from portal.models.social import Post, PostComment, PostLike

MARKETING_GROUP = "营销团队"
MARKETING_MEMBERS = ("bj_cm", "sh_cm", "analyst")
# (author, public?, text, comments [(author, text)], likers)
DEMO_POSTS = (
    (
        "analyst",
        False,
        "本月北京、上海两地代发工资客户新增明显，建议优先跟进代发客户的理财转化。",
        (("bj_cm", "收到，朝阳支行本周安排一次代发单位走访。"),),
        ("bj_cm", "sh_cm"),
    ),
    (
        "sh_cm",
        True,
        "浦东支行存款余额本月环比增长，分享一下：重点是到期定期的提前沟通。",
        (("analyst", "很好的经验，我把到期提醒做成了智能提醒规则。"),),
        ("analyst",),
    ),
)


def seed_social_demo(session: Session) -> dict[str, int]:
    """Add the marketing members and demo posts that are missing; return what was added."""
    group = session.scalar(select(Group).where(Group.name == MARKETING_GROUP))
    users = {u.username: u for u in session.scalars(select(User))}
    added = {"members": 0, "posts": 0}
    if group is None:
        return added
    for username in MARKETING_MEMBERS:
        user = users.get(username)
        if user is not None and user not in group.members:
            group.members.append(user)
            added["members"] += 1
    if group.owner_id is None and "analyst" in users:
        group.owner_id = users["analyst"].id
    session.flush()
    for author, public, text, comments, likers in DEMO_POSTS:
        if author not in users:
            continue
        if session.scalar(select(Post.id).where(Post.text == text)) is not None:
            continue
        post = Post(author_id=users[author].id, group_id=None if public else group.id, text=text)
        session.add(post)
        session.flush()
        for commenter, comment in comments:
            if commenter in users:
                session.add(
                    PostComment(post_id=post.id, author_id=users[commenter].id, text=comment)
                )
        for liker in likers:
            if liker in users:
                session.add(PostLike(post_id=post.id, user_id=users[liker].id))
        added["posts"] += 1
    session.flush()
    return added
