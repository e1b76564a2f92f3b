"""The quick-entry tiles a new portal starts with, and the demo's external systems.

Internal pages are tiles on every install; the external systems (a report platform, a
management cockpit, an external-data site, a branch marketing platform) are demo data whose
addresses point at the built-in stand-in target (/sso/demo/<key>), so single sign-on can be
tried without those systems.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Resource

ANALYSTS = ["leader", "analyst", "data_owner"]

# key, title zh, title en, url, icon, order, visibility, description
PAGE_TILES = (
    ("search", "统一搜索", "Search", "/search", "search", 10, {}, "找数据、报表、应用与指标"),
    ("pivot", "透视分析", "Pivot", "/pivot", "grid-3x3", 20, {"roles": ANALYSTS}, "拖拽式多维分析"),
    ("dashboards", "仪表板", "Dashboards", "/dashboards", "speedometer2", 30, {}, "自助看板"),
    ("reports", "常用报表", "Reports", "/reports", "file-earmark-bar-graph", 40, {}, "报表目录"),
    ("mining", "数据挖掘", "Mining", "/mining", "diagram-3", 50, {}, "流失预警与价值客户"),
    ("store", "应用商店", "App store", "/store", "shop", 60, {}, "共享与复用分析应用"),
    ("bigscreen", "大屏展示", "Big screen", "/bigscreen", "display", 70, {}, "经营数据大屏"),
)

DEMO_SYSTEMS = (
    (
        "report-platform", "报表平台", "Report platform", "bar-chart-line", 80, {},
        "监管报表与管理报表平台（单点登录）",
    ),
    (
        "cockpit", "管理驾驶舱", "Management cockpit", "speedometer", 90,
        {"roles": ["leader"]}, "行领导经营驾驶舱（单点登录）",
    ),
    (
        "external-data", "外部数据网站", "External data site", "globe2", 100, {},
        "工商、司法等外部数据查询（单点登录）",
    ),
    (
        "bj-marketing", "北京分行营销平台", "Beijing marketing platform", "megaphone", 110,
        {"branches": ["BJ"]}, "北京分行客户营销活动（单点登录）",
    ),
)  # fmt: skip


def _upsert(session: Session, key: str, fields: dict) -> bool:
    existing = session.scalar(select(Resource).where(Resource.type == "tile", Resource.key == key))
    if existing is not None:
        return False  # an administrator may have changed it: leave it
    session.add(Resource(type="tile", key=key, **fields))
    return True


def seed_tiles(session: Session, demo: bool = False) -> int:
    """Add the default tiles (and the demo's external systems) that are missing; return how many."""
    created = 0
    for key, zh, en, url, icon, order, visibility, description in PAGE_TILES:
        spec = {"url": url, "external": False, "sso": False, "icon": icon, "order": order}
        spec["visibility"] = visibility
        created += _upsert(
            session, key, {"title_zh": zh, "title_en": en, "description": description, "spec": spec}
        )
    if demo:
        for key, zh, en, icon, order, visibility, description in DEMO_SYSTEMS:
            spec = {
                "url": f"/sso/demo/{key}",
                "external": True,
                "sso": True,
                "icon": icon,
                "order": order,
                "visibility": visibility,
                "new_until": "2027-03-31" if key == "external-data" else None,
            }
            created += _upsert(
                session,
                key,
                {"title_zh": zh, "title_en": en, "description": description, "spec": spec},
            )
    session.flush()
    return created
