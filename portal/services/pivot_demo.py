"""Demo content for the pivot page and the reports registry: saved pivots and report links.

`seed_pivot_demo(session)` is idempotent: it creates the demo pivots (one or two per
department, owned by the demo data owner or analyst and shared by role grants with the
business roles) and a few links to reports on other platforms, only where they are missing.
Existing ones are left as their owners changed them. Needs the demo users (seed_demo) first;
without them it creates nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Grant, Resource, Role, User

log = logging.getLogger(__name__)

SHARED_WITH_ROLES = ("leader", "analyst", "data_owner", "customer_manager")

# key -> (owner username, title zh, title en, description, pivot request)
DEMO_PIVOTS: dict[str, tuple[str, str, str, str, dict]] = {
    "demo-risk-loan-grade": (
        "owner",
        "各分行贷款余额（按五级分类）",
        "Loan balance by branch and loan grade",
        "风险管理部：本月末各区域、分行贷款余额按五级分类（正常/关注/次级/可疑/损失）分布。",
        {
            "rows": ["region", "branch"],
            "columns": ["grade"],
            "values": [{"metric": "loan_balance"}],
            "period": "this_month",
        },
    ),
    "demo-risk-npl-branch": (
        "owner",
        "各分行不良贷款与不良率",
        "Non-performing loans and NPL ratio by branch",
        "风险管理部：本月末各分行贷款余额、不良贷款余额与不良率，按不良率从高到低排列。",
        {
            "rows": ["branch"],
            "values": [
                {"metric": "loan_balance"},
                {"metric": "npl_balance"},
                {"metric": "npl_ratio"},
            ],
            "sort": {"by": "v2", "desc": True},
            "period": "this_month",
        },
    ),
    "demo-ebank-channel-month": (
        "analyst",
        "各渠道月度交易金额与笔数",
        "Transactions by channel and month",
        "电子银行部：2026 年 6 月以来各渠道每月交易金额与交易笔数，可下钻到交易明细。",
        {
            "dataset": "fact_transaction",
            "rows": ["channel"],
            "columns": ["month"],
            "values": [{"field": "amount", "agg": "sum"}, {"agg": "count"}],
            "filters": [{"field": "month", "op": "gte", "value": "2026-06"}],
        },
    ),
    "demo-retail-payroll-branch": (
        "analyst",
        "各分行代发薪客户（按客户层级）",
        "Payroll customers by branch and segment",
        "个金部：各分行、支行的代发薪客户数按客户层级分布，可下钻到（脱敏的）客户名单。",
        {
            "dataset": "dim_customer",
            "rows": ["branch", "sub_branch"],
            "columns": ["segment"],
            "values": [{"agg": "count"}],
            "filters": [{"field": "is_payroll", "op": "eq", "value": True}],
        },
    ),
    "demo-finance-budget-branch": (
        "owner",
        "各分行存款预算与实际",
        "Deposit budget vs actual by branch",
        "财务部：本月末各区域、分行存款余额、存款预算目标与预算达成率。",
        {
            "rows": ["region", "branch"],
            "values": [
                {"metric": "deposit_budget"},
                {"metric": "deposit_balance"},
                {"metric": "budget_attainment"},
            ],
            "period": "this_month",
        },
    ),
}

# key -> (owner username, title zh, title en, description, {url, platform, category})
DEMO_REPORTS: dict[str, tuple[str, str, str, str, dict]] = {
    "demo-1104-g01": (
        "ops",
        "1104 报表 G01 资产负债项目统计表",
        "1104 report G01: balance sheet statistics",
        "监管报表平台上的 1104 非现场监管报表 G01，按月报送。",
        {
            "url": "https://regulatory.bank.example/1104/G01",
            "platform": "监管报表平台",
            "category": "regulatory",
        },
    ),
    "demo-1104-g11": (
        "ops",
        "1104 报表 G11 资产质量五级分类情况表",
        "1104 report G11: asset quality by five-category grade",
        "监管报表平台上的 1104 报表 G11，贷款五级分类与不良情况。",
        {
            "url": "https://regulatory.bank.example/1104/G11",
            "platform": "监管报表平台",
            "category": "regulatory",
        },
    ),
    "demo-east-quality": (
        "ops",
        "EAST 数据报送质量报告",
        "EAST submission quality report",
        "监管数据标准化（EAST）报送的校验结果与整改进度。",
        {
            "url": "https://regulatory.bank.example/east/quality",
            "platform": "监管报表平台",
            "category": "regulatory",
        },
    ),
    "demo-cockpit-monthly": (
        "ops",
        "管理驾驶舱经营月报",
        "Management cockpit monthly report",
        "管理驾驶舱的全行经营月报：存贷款规模、收入、风险与重点指标完成情况。",
        {
            "url": "https://cockpit.bank.example/reports/monthly",
            "platform": "管理驾驶舱",
            "category": "management",
        },
    ),
    "demo-cockpit-branch-daily": (
        "ops",
        "分行经营业绩日报",
        "Branch performance daily report",
        "管理驾驶舱的分行日报：存款、贷款、中间业务收入当日变动与排名。",
        {
            "url": "https://cockpit.bank.example/reports/branch-daily",
            "platform": "管理驾驶舱",
            "category": "management",
        },
    ),
    "demo-card-risk": (
        "ops",
        "信用卡风险监测报表",
        "Credit card risk monitoring report",
        "风险数据集市的信用卡逾期、额度使用与欺诈预警月报。",
        {
            "url": "https://risk-mart.bank.example/reports/card-risk",
            "platform": "风险数据集市",
            "category": "risk",
        },
    ),
}


def seed_pivot_demo(session: Session) -> dict[str, int]:
    """Create the demo pivots, their role grants and the external report links if missing.

    Return how many pivots, report links and grants this run created (zeros the second time).
    Does not commit.
    """
    users = {u.username: u for u in session.scalars(select(User))}
    roles = {r.code: r for r in session.scalars(select(Role))}
    existing = {
        (r.type, r.key): r
        for r in session.scalars(
            select(Resource).where(
                Resource.key.in_(list(DEMO_PIVOTS) + list(DEMO_REPORTS)),
            )
        )
    }
    created = {"pivots": 0, "reports": 0, "grants": 0}
    shared: list[Resource] = []
    for kind, items in (("pivot", DEMO_PIVOTS), ("report", DEMO_REPORTS)):
        for key, (owner, title_zh, title_en, description, spec) in items.items():
            resource = existing.get((kind, key))
            if resource is None:
                if owner not in users:
                    continue
                resource = Resource(
                    type=kind,
                    key=key,
                    title_zh=title_zh,
                    title_en=title_en,
                    description=description,
                    owner_id=users[owner].id,
                    spec={**spec, "published": True} if kind == "report" else dict(spec),
                )
                session.add(resource)
                created["pivots" if kind == "pivot" else "reports"] += 1
            if kind == "pivot":
                shared.append(resource)
    session.flush()
    if shared:
        have = set(
            session.execute(
                select(Grant.resource_id, Grant.subject_id).where(
                    Grant.subject_type == "role",
                    Grant.permission == "view",
                    Grant.resource_id.in_([r.id for r in shared]),
                )
            ).all()
        )
        for resource in shared:
            for code in SHARED_WITH_ROLES:
                role = roles.get(code)
                if role is not None and (resource.id, role.id) not in have:
                    session.add(
                        Grant(
                            subject_type="role",
                            subject_id=role.id,
                            resource_id=resource.id,
                            permission="view",
                        )
                    )
                    created["grants"] += 1
        session.flush()
    if any(created.values()):
        log.info("pivot demo content: %s", created)
    return created
