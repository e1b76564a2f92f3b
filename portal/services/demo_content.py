"""The demo organisation's content: saved pivots and report links, dashboards, listed apps with
their comments and ratings, the marketing group's members and posts, and the notice board's
announcements (`init --demo` only).

Each area's seeder is idempotent and returns what it created; this runs them in an order where
each finds what it builds on (pivots and dashboards before the apps that package them).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.models import Announcement, User, utcnow
from portal.services.dashboard_demo import seed_dashboard_demo
from portal.services.pivot_demo import seed_pivot_demo
from portal.services.social_demo import seed_social_demo
from portal.services.store_demo import seed_store_demo

ANNOUNCEMENTS = (
    {
        "title_zh": "统一数据门户试运行：一个账号访问全行数据",
        "title_en": "The unified data portal is in pilot: one login for the bank's data",
        "body": "搜索、透视分析、仪表板与应用商店已开放；问题与建议请在互助问答中提出。"
        " Search, pivots, dashboards and the app store are open; ask questions in Q&A.",
        "level": "important",
        "audience": {},
    },
    {
        "title_zh": "代发客户流失名单已按月更新，请客户经理及时维护",
        "title_en": "The payroll churn list is refreshed monthly: relationship managers, follow up",
        "body": "数据挖掘 → 代发客户流失：名单按预测流失概率排序，可导出与分享。",
        "level": "info",
        "audience": {"roles": ["customer_manager", "leader"]},
    },
)


def seed_announcements(session: Session) -> int:
    """Post the demo notices from the administrator, once (none when any notice exists)."""
    if session.scalar(select(exists().where(Announcement.id.is_not(None)))):
        return 0
    admin = session.scalar(select(User.id).where(User.username == "admin"))
    now = utcnow()
    for notice in ANNOUNCEMENTS:
        session.add(
            Announcement(
                **notice,
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=90),
                created_by=admin,
            )
        )
    return len(ANNOUNCEMENTS)


SEEDERS = (
    ("pivots", seed_pivot_demo),
    ("dashboards", seed_dashboard_demo),
    ("store", seed_store_demo),
    ("social", seed_social_demo),
    ("announcements", seed_announcements),
)


def seed_demo_content(session: Session) -> dict[str, int]:
    """Create the demo content that is missing; return {"<area>.<kind>": n} of what was added."""
    created: dict[str, int] = {}
    for area, seed in SEEDERS:
        result = seed(session)
        counts = result if isinstance(result, dict) else {area: result}
        for kind, n in counts.items():
            created[kind if kind == area else f"{area}.{kind}"] = int(n)
    session.flush()
    return created
