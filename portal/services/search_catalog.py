"""Turn the metric catalog and the warehouse tables into resources that search finds.

`sync_catalog_resources` upserts a metric resource per catalog metric and a dataset per
warehouse table, with titles in both languages, a description, a business domain and, for
datasets, their columns; the index hooks (portal/services/search_index.py) index them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Resource

# Warehouse table -> (title zh, title en, domain, owning department, description zh, en).
DATASETS: dict[str, tuple[str, str, str, str, str, str]] = {
    "dim_branch": (
        "机构维表", "Branches", "reference", "finance",
        "总行、分行、支行的层级、城市、区域与坐标。",
        "Head office, branches and sub-branches with city, region and coordinates.",
    ),
    "dim_customer": (
        "客户维表", "Customers", "customers", "retail",
        "个人与对公客户：类型、层级、年龄段、风险等级、开户日期、归属机构；姓名、证件号、电话、地址脱敏。",
        "Retail and corporate customers: type, segment, age band, risk grade, opening date, "
        "branch; name, ID number, phone and address are masked.",
    ),
    "dim_product": (
        "产品维表", "Products", "reference", "finance",
        "存款、贷款、银行卡、理财与基金产品及利率。",
        "Deposit, loan, card, wealth and fund products with their rates.",
    ),
    "dim_date": (
        "日期维表", "Calendar", "reference", "tech",
        "日历：年、季、月、星期、周末与月末标志。",
        "Calendar days with year, quarter, month, weekday, weekend and month-end flags.",
    ),
    "fact_balance_monthly": (
        "月末余额表", "Monthly balances", "deposits", "finance",
        "客户×产品×月末的余额及月、季、年日均余额。",
        "Balances per customer, product and month-end with monthly, quarterly and yearly "
        "daily averages.",
    ),
    "fact_transaction": (
        "交易流水表", "Transactions", "transactions", "ebank",
        "客户交易流水：渠道、交易类型、方向、金额、对手方类型。",
        "Customer transactions: channel, type, direction, amount and counterparty type.",
    ),
    "fact_loan": (
        "贷款明细表", "Loans", "loans", "risk",
        "贷款合同×月末：合同金额、余额、行业、担保方式与五级分类。",
        "Loan contracts per month-end: amount, balance, industry, collateral and "
        "five-category grade.",
    ),
    "fact_channel_usage": (
        "渠道使用表", "Channel usage", "transactions", "ebank",
        "手机银行、网上银行、微信银行的月登录与交易次数。",
        "Monthly logins and transactions per customer on mobile, online and WeChat banking.",
    ),
    "fact_budget": (
        "预算目标表", "Budget targets", "deposits", "finance",
        "分行×月的存款、贷款与新增客户预算目标。",
        "Monthly deposit, loan and new-customer budget targets per branch.",
    ),
    "ext_company_registry": (
        "工商登记信息", "Company registry", "external", "risk",
        "外部工商司法数据：企业名称、统一社会信用代码、法定代表人、注册资本、经营状态、涉诉次数。",
        "External registry and court data: company name, credit code, legal representative, "
        "registered capital, status and lawsuits.",
    ),
    "ext_industry_news": (
        "行业新闻舆情", "Industry news", "external", "risk",
        "外部行业新闻及情感倾向。",
        "External industry news with sentiment.",
    ),
    "meta_warehouse": (
        "数仓元数据", "Warehouse metadata", "reference", "tech",
        "数据仓库的生成版本、规模与数据日期。",
        "Generator version, scale and data date of the warehouse.",
    ),
}  # fmt: skip

# Metric id -> business domain; unknown metrics take their table's domain.
METRIC_DOMAINS = {
    "deposit_balance": "deposits",
    "time_deposit_balance": "deposits",
    "deposit_daily_average": "deposits",
    "wealth_balance": "deposits",
    "net_inflow": "deposits",
    "deposit_budget": "deposits",
    "budget_attainment": "deposits",
    "loan_balance": "loans",
    "new_loans": "loans",
    "npl_balance": "risk",
    "npl_ratio": "risk",
    "customer_count": "customers",
    "active_customers": "customers",
    "payroll_customers": "customers",
    "churned_customers": "customers",
    "churn_base_customers": "customers",
    "churn_rate": "customers",
    "payroll_amount": "transactions",
    "transaction_amount": "transactions",
    "transaction_count": "transactions",
    "ebank_active_customers": "transactions",
    "ebank_penetration": "transactions",
    "mobile_logins": "transactions",
}


def dataset_tables() -> list[str]:
    """Return the warehouse tables offered as datasets.

    Not the monthly rollups (`agg_*`): pivots read them in place of their facts unseen.
    """
    from datasources.schema import TABLES

    return [name for name in TABLES if name in DATASETS or not name.startswith("agg_")]


def _catalog_rows(catalog) -> list[dict]:
    from datasources.schema import PII_COLUMNS, TABLES

    rows = []
    for metric in catalog.metrics.values():
        table = DATASETS.get(metric.table or "")
        rows.append(
            {
                "type": "metric",
                "key": metric.id,
                "title_zh": metric.name.zh,
                "title_en": metric.name.en,
                "description": metric.description.zh,
                "spec": {
                    "unit": metric.unit,
                    "owner": metric.owner,
                    "domain": METRIC_DOMAINS.get(metric.id, table[2] if table else None),
                    "description_en": metric.description.en,
                },
            }
        )
    for name in dataset_tables():
        columns = TABLES[name]
        title_zh, title_en, domain, owner, description_zh, description_en = DATASETS.get(
            name, (name, name, "reference", "tech", "", "")
        )
        pii = PII_COLUMNS.get(name, {})
        rows.append(
            {
                "type": "dataset",
                "key": name,
                "title_zh": title_zh,
                "title_en": title_en,
                "description": description_zh,
                "spec": {
                    "columns": [
                        {"name": c, "type": t, "pii": c in pii} for c, t in columns.items()
                    ],
                    "domain": domain,
                    "owner": owner,
                    "description_en": description_en,
                },
            }
        )
    return rows


def sync_catalog_resources(session: Session, catalog) -> dict[str, int]:
    """Upsert a metric resource per catalog metric and a dataset per warehouse table.

    Idempotent: returns {"created": n, "updated": n}, both zero on a second run. Spec keys
    other code added (e.g. `published`) are kept. Does not commit.
    """
    existing = {
        (r.type, r.key): r
        for r in session.scalars(select(Resource).where(Resource.type.in_(("metric", "dataset"))))
    }
    created = updated = 0
    for row in _catalog_rows(catalog):
        resource = existing.get((row["type"], row["key"]))
        if resource is None:
            session.add(Resource(**row))
            created += 1
            continue
        row["spec"] = {**(resource.spec or {}), **row["spec"]}
        changed = {k: v for k, v in row.items() if getattr(resource, k) != v}
        for name, value in changed.items():
            setattr(resource, name, value)
        updated += bool(changed)
    session.flush()
    return {"created": created, "updated": updated}
