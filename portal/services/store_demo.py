"""Demo content of the app store and Q&A: listed apps from the seed's scenarios, with use.

`seed_store_demo(session)` is idempotent: an app whose key (demo-app-...) exists is left
alone. Apps open the demo dashboards and pivots when those exist, else a portal path. Everything
goes through the services (lifecycle, audit, counters, notifications), as a real user would.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import PortalError
from portal.models import Resource, User
from portal.services import questions as qa
from portal.services import store

log = logging.getLogger(__name__)

# key, author, zh, en, kind, (target type, key) or None, fallback url, category, tags, params, text
DEMO_APPS = (
    (
        "deposit-board", "analyst", "存款余额看板", "Deposit balance board", "dashboard",
        ("dashboard", "demo-finance"), "/dashboards", "deposit", ["存款", "余额", "deposit"],
        {"branch": "HO", "months": 12},
        "全行及各分行存款余额、日均与预算达成，按月趋势；可切换机构与月份数。",
    ),
    (
        "npl-pivot", "owner", "不良率透视", "NPL ratio pivot", "pivot",
        ("pivot", "demo-risk-npl-branch"), "/pivot", "risk", ["不良", "风险", "npl"],
        {"period": "this_month"},
        "各分行贷款余额、不良贷款余额与不良率透视，按不良率排序，可下钻明细。",
    ),
    (
        "payroll-churn", "analyst", "代发客户流失预警", "Payroll churn alert", "mining",
        None, "/mining/payroll-churn", "customer", ["代发", "流失", "churn"],
        {"threshold": 0.6, "branch": "HO"},
        "基于代发入账与交易行为的流失概率模型，输出高风险客户名单，供客户经理维护。",
    ),
    (
        "ebank-penetration", "analyst", "电子银行渗透率", "E-banking penetration", "dashboard",
        ("dashboard", "demo-ebank"), "/dashboards", "channel", ["电子银行", "渠道", "手机银行"],
        {"months": 6},
        "手机银行、网上银行等电子渠道交易占比与活跃客户渗透率，按分行对比。",
    ),
    (
        "budget-attainment", "owner", "预算达成", "Budget attainment", "pivot",
        ("pivot", "demo-finance-budget-branch"), "/pivot", "finance", ["预算", "财务"],
        {"period": "this_month", "branch": "HO"},
        "各分行存贷款规模与中间业务收入的预算达成率，红黄绿灯提示。",
    ),
)  # fmt: skip

# (app key, commenter, text, reply by author)
COMMENTS = (
    ("deposit-board", "bj_cm", "很实用，每天早上看一眼分行存款变化。", "谢谢！后续会加上日均口径。"),
    ("deposit-board", "leader", "建议增加与去年同期的对比。", None),
    ("payroll-churn", "bj_cm", "名单准确率挺高，已经按名单做了回访。", "欢迎反馈回访结果，帮助改进模型。"),
    ("npl-pivot", "bj_leader", "能否按支行再细分？", None),
    ("ebank-penetration", "sh_cm", "手机银行渗透率的口径是什么？", "月内有手机银行交易的客户数 / 有效客户数。"),
)  # fmt: skip
RATINGS = (
    ("deposit-board", "bj_cm", 5), ("deposit-board", "leader", 4), ("deposit-board", "sh_cm", 5),
    ("npl-pivot", "leader", 4), ("npl-pivot", "bj_leader", 5),
    ("payroll-churn", "bj_cm", 5), ("payroll-churn", "sh_cm", 4), ("payroll-churn", "bj_leader", 4),
    ("ebank-penetration", "sh_cm", 4), ("budget-attainment", "leader", 5),
)  # fmt: skip
LIKES = (
    ("deposit-board", ("bj_cm", "sh_cm", "leader", "bj_leader")),
    ("payroll-churn", ("bj_cm", "sh_cm", "bj_leader")),
    ("npl-pivot", ("leader", "bj_leader")),
    ("ebank-penetration", ("sh_cm",)),
    ("budget-attainment", ("leader",)),
)
INSTALLS = (
    ("deposit-board", "bj_cm", {"branch": "BJ"}),
    ("deposit-board", "bj_leader", {"branch": "BJ", "months": 6}),
    ("payroll-churn", "bj_cm", {"branch": "BJ", "threshold": 0.5}),
    ("payroll-churn", "sh_cm", {"branch": "SH"}),
    ("ebank-penetration", "sh_cm", None),
    ("npl-pivot", "bj_leader", None),
)


def _users(session: Session) -> dict[str, User]:
    names = {"admin", "analyst", "owner", "leader", "bj_leader", "bj_cm", "sh_cm"}
    return {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}


def _create(session: Session, author: User, spec: tuple) -> store.StoreApp:
    _key, _who, zh, en, kind, target, url, category, tags, params, text = spec
    data = {
        "title_zh": zh,
        "title_en": en,
        "kind": kind,
        "category": category,
        "tags": tags,
        "params": params,
        "description": text,
        "target_url": url,
    }
    if target is not None:
        resource_id = session.scalar(
            select(Resource.id).where(Resource.type == target[0], Resource.key == target[1])
        )
        if resource_id is not None:
            try:
                return store.create_app(session, author, {**data, "target_resource_id": resource_id,
                                                           "target_url": None})  # fmt: skip
            except PortalError:  # the author may not open it: fall back to the path
                pass
    return store.create_app(session, author, data)


def seed_store_demo(session: Session) -> dict[str, int]:
    """Create the demo apps (listed, with likes, ratings, comments, installs) and a resolved
    question with a best answer; return what was created. Does not commit."""
    users = _users(session)
    created = {"apps": 0, "comments": 0, "installs": 0, "questions": 0}
    if not {"admin", "analyst", "owner"} <= set(users):
        log.info("store demo: the demo accounts are missing; nothing seeded")
        return created
    admin = users["admin"]
    apps: dict[str, int] = {}
    fresh: set[str] = set()
    for spec in DEMO_APPS:
        key = f"demo-app-{spec[0]}"
        existing = session.scalar(
            select(store.StoreApp.id)
            .join(Resource, Resource.id == store.StoreApp.resource_id)
            .where(Resource.type == "app", Resource.key == key)
        )
        if existing is not None:
            apps[spec[0]] = existing
            continue
        author = users[spec[1]]
        app = _create(session, author, spec)
        app.resource.key = key
        session.flush()
        store.submit_app(session, author, app.id)
        store.review_app(session, admin, app.id, "approve")
        apps[spec[0]] = app.id
        fresh.add(spec[0])
        created["apps"] += 1
    for app_key, names in LIKES:
        if app_key in fresh:
            for name in names:
                if name in users:
                    store.like(session, users[name], apps[app_key])
                    store.favorite(session, users[name], apps[app_key])
    for app_key, name, stars in RATINGS:
        if app_key in fresh and name in users:
            store.rate(session, users[name], apps[app_key], stars)
    for app_key, name, text, reply in COMMENTS:
        if app_key not in fresh or name not in users:
            continue
        comment = store.add_comment(session, users[name], apps[app_key], text)
        created["comments"] += 1
        if reply:
            author = next(users[s[1]] for s in DEMO_APPS if s[0] == app_key)
            store.add_comment(session, author, apps[app_key], reply, parent_id=comment.id)
            created["comments"] += 1
    for app_key, name, params in INSTALLS:
        if app_key in fresh and name in users:
            store.install(session, users[name], apps[app_key], params)
            created["installs"] += 1
    if "payroll-churn" in fresh and {"bj_cm", "owner"} <= set(users):
        question = qa.ask(
            session,
            users["bj_cm"],
            {
                "title": "流失概率阈值设多少合适？",
                "body": "代发客户流失预警里，阈值 0.6 会不会漏掉一些客户？支行该怎么设？",
                "app_id": apps["payroll-churn"],
                "invite": ["analyst"],
            },
        )
        best = qa.answer(
            session,
            users["analyst"],
            question.id,
            "建议支行从 0.5 开始：名单会多约三成，但能覆盖八成以上实际流失的客户；"
            "客户经理人手紧张时再提高到 0.6。安装应用后在“我的副本”里改 threshold 即可。",
        )
        other = qa.answer(
            session, users["owner"], question.id, "也可以先看模型页面的提升度曲线再决定。"
        )
        qa.vote(session, users["sh_cm"], best.id) if "sh_cm" in users else None
        qa.vote(session, users["analyst"], other.id)
        qa.choose_best(session, users["bj_cm"], question.id, best.id)
        created["questions"] += 1
    session.flush()
    return created
