"""Demo dashboards of four departments, owned by demo users and shared with business roles.

`seed_dashboard_demo(session)` is idempotent: a dashboard whose key exists is left as it is
(a user may have edited it), and missing role grants are added.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from datasources.catalog import load_catalog
from portal.models import Grant, Resource, Role, User
from portal.services.dashboards import TYPE, validate_spec

# Roles that read business data see the demo dashboards (the three admin roles do not).
VIEWER_ROLES = ("leader", "analyst", "data_owner", "operator", "customer_manager")


def _chart(chart_id, chart_type, metric, x, y, w, h, dimension=None, **extra) -> dict:
    metrics = metric if isinstance(metric, list) else [metric]
    return {
        "id": chart_id,
        "type": chart_type,
        "metrics": metrics,
        "dimension": dimension,
        "layout": {"x": x, "y": y, "w": w, "h": h},
        **extra,
    }


DEMO_DASHBOARDS = (
    {
        "key": "demo-risk",
        "owner": "owner",
        "title_zh": "风险管理部 · 资产质量监测",
        "title_en": "Risk management · Asset quality",
        "description": "风险管理部：不良率、五级分类迁徙与行业分布 / NPL ratio, grade migration",
        "charts": [
            _chart("npl", "kpi", "npl_ratio", 0, 0, 3, 3),
            _chart("loans", "kpi", "loan_balance", 3, 0, 3, 3),
            _chart("npl_bal", "kpi", "npl_balance", 6, 0, 3, 3),
            _chart("new", "kpi", "new_loans", 9, 0, 3, 3),
            _chart("npl_branch", "bar", "npl_ratio", 0, 3, 6, 5, "branch"),
            _chart(
                "grade_trend",
                "area",
                "loan_balance",
                6,
                3,
                6,
                5,
                "month",
                series_dimension="grade",
                period="last_12_months",
            ),
            _chart("npl_map", "map", "npl_ratio", 0, 8, 6, 6, "branch"),
            _chart("industry", "table", "npl_balance", 6, 8, 6, 6, "industry", top=10),
        ],
    },
    {
        "key": "demo-finance",
        "owner": "owner",
        "title_zh": "财务部 · 存款预算达成",
        "title_en": "Finance · Deposit budget attainment",
        "description": "财务部：各分行存款预算达成率 / Budget attainment by branch",
        "charts": [
            _chart("attain", "kpi", "budget_attainment", 0, 0, 4, 3),
            _chart("deposits", "kpi", "deposit_balance", 4, 0, 4, 3),
            _chart("budget", "kpi", "deposit_budget", 8, 0, 4, 3),
            _chart("attain_branch", "bar", "budget_attainment", 0, 3, 7, 6, "branch"),
            _chart(
                "vs_budget",
                "line",
                ["deposit_balance", "deposit_budget"],
                7,
                3,
                5,
                6,
                "month",
                period="last_12_months",
            ),
            _chart(
                "by_region", "table", ["deposit_balance", "deposit_budget"], 0, 9, 12, 5, "region"
            ),
        ],
    },
    {
        "key": "demo-ebank",
        "owner": "analyst",
        "title_zh": "电子银行部 · 渠道渗透",
        "title_en": "E-banking · Channel penetration",
        "description": "电子银行部：电子银行渗透率与各渠道交易 / E-banking penetration by channel",
        "charts": [
            _chart("penetration", "kpi", "ebank_penetration", 0, 0, 4, 3),
            _chart("ebank_active", "kpi", "ebank_active_customers", 4, 0, 4, 3),
            _chart("logins", "kpi", "mobile_logins", 8, 0, 4, 3),
            _chart("by_channel", "pie", "transaction_count", 0, 3, 5, 6, "channel"),
            _chart("active_channel", "bar", "active_customers", 5, 3, 7, 6, "channel"),
            _chart(
                "pen_trend",
                "line",
                "ebank_penetration",
                0,
                9,
                6,
                5,
                "month",
                period="last_12_months",
            ),
            _chart("pen_branch", "bar", "ebank_penetration", 6, 9, 6, 5, "branch", top=10),
        ],
    },
    {
        "key": "demo-payroll",
        "owner": "analyst",
        "title_zh": "个人金融部 · 代发薪客户",
        "title_en": "Retail banking · Payroll customers",
        "description": "个金部：代发薪客户趋势与分行分布 / Payroll customers trend and by branch",
        "charts": [
            _chart("payroll", "kpi", "payroll_customers", 0, 0, 4, 3),
            _chart("amount", "kpi", "payroll_amount", 4, 0, 4, 3),
            _chart("churn", "kpi", "churn_rate", 8, 0, 4, 3),
            _chart(
                "trend",
                "line",
                "payroll_customers",
                0,
                3,
                7,
                5,
                "month",
                period="last_12_months",
            ),
            _chart("segments", "pie", "payroll_customers", 7, 3, 5, 5, "segment"),
            _chart("by_branch", "bar", "payroll_customers", 0, 8, 6, 6, "branch"),
            _chart("map", "map", "payroll_customers", 6, 8, 6, 6, "branch"),
        ],
    },
)


def seed_dashboard_demo(session: Session, catalog=None) -> int:
    """Create the demo dashboards that do not exist yet; return how many were created."""
    catalog = catalog or load_catalog()
    roles = {r.code: r for r in session.scalars(select(Role).where(Role.code.in_(VIEWER_ROLES)))}
    created = 0
    for demo in DEMO_DASHBOARDS:
        owner = session.scalar(select(User).where(User.username == demo["owner"]))
        if owner is None:
            continue
        resource = session.scalar(
            select(Resource).where(Resource.type == TYPE, Resource.key == demo["key"])
        )
        if resource is None:
            spec = validate_spec({"version": 1, "charts": demo["charts"]}, catalog)
            resource = Resource(
                type=TYPE,
                key=demo["key"],
                title_zh=demo["title_zh"],
                title_en=demo["title_en"],
                description=demo["description"],
                owner_id=owner.id,
                spec=spec,
            )
            session.add(resource)
            session.flush()
            created += 1
        for role in roles.values():
            exists = session.scalar(
                select(Grant.id).where(
                    Grant.resource_id == resource.id,
                    Grant.subject_type == "role",
                    Grant.subject_id == role.id,
                    Grant.permission == "view",
                )
            )
            if exists is None:
                session.add(
                    Grant(
                        subject_type="role",
                        subject_id=role.id,
                        resource_id=resource.id,
                        permission="view",
                        granted_by=owner.id,
                    )
                )
    session.flush()
    return created
