"""The warehouse schema (SPEC §5.1): every table, its columns and their Ibis types.

The generator writes exactly these tables and columns (a test checks it); the metric
catalog, scope rules and masking refer to them by name. `PII_COLUMNS` lists what masking
must hide, `BRANCH_COLUMN` the column that row-level scope filters on.
"""

from __future__ import annotations

from datasources.pivot_rollup import ROLLUP_TABLES

TABLES: dict[str, dict[str, str]] = {
    # Head office -> branches -> sub-branches, with city, region and coordinates.
    "dim_branch": {
        "branch_id": "string",
        "branch_name": "string",
        "branch_name_en": "string",
        "level": "string",  # head_office | branch | sub_branch
        "parent_id": "string",
        "branch_path": "string",  # e.g. /HO/BJ/BJ-CY/
        "city": "string",
        "city_en": "string",
        "region": "string",
        "region_en": "string",
        "latitude": "float64",
        "longitude": "float64",
    },
    "dim_customer": {
        "customer_id": "int64",
        "customer_type": "string",  # retail | corporate
        "segment": "string",  # mass | affluent | private | small_business | corporate
        "age_band": "string",  # 18-25 | 26-35 | 36-45 | 46-55 | 56-65 | 65+ | n/a
        "gender": "string",  # M | F | n/a
        "occupation": "string",
        "is_payroll": "boolean",  # 代发薪 at the as-of date
        "risk_grade": "string",  # R1..R5
        "open_date": "date",
        "branch_id": "string",  # a sub-branch
        "rm_id": "string",  # relationship manager
        # PII: masked unless the viewer holds an unmask grant (SPEC §7.2).
        "name": "string",
        "id_number": "string",
        "phone": "string",
        "address": "string",
    },
    "dim_product": {
        "product_id": "int64",
        "product_code": "string",
        "product_name": "string",
        "product_name_en": "string",
        "category": "string",  # deposit | loan | card | wealth | fund
        "subcategory": "string",
        "is_asset": "boolean",
        "rate": "float64",
    },
    "dim_date": {
        "date": "date",
        "year": "int32",
        "quarter": "int32",
        "month": "int32",
        "day": "int32",
        "year_month": "int32",  # 202611
        "weekday": "int32",  # 1 = Monday
        "is_weekend": "boolean",
        "is_month_end": "boolean",
    },
    # Customer x product x month-end snapshot with daily averages.
    "fact_balance_monthly": {
        "month_end": "date",
        "customer_id": "int64",
        "product_id": "int64",
        "branch_id": "string",
        "end_balance": "float64",
        "avg_daily_month": "float64",
        "avg_daily_quarter": "float64",
        "avg_daily_year": "float64",
    },
    "fact_transaction": {
        "txn_id": "int64",
        "txn_date": "date",
        "customer_id": "int64",
        "account_id": "int64",
        "branch_id": "string",
        "channel": "string",  # counter | mobile | online | atm | pos
        "txn_type": "string",  # payroll | transfer | consumption | withdrawal | deposit | ...
        "direction": "string",  # in | out
        "amount": "float64",
        "counterparty_type": "string",  # individual | corporate | government | internal
    },
    # Loan contract x month-end: balance and five-category grade, for NPL and migration.
    "fact_loan": {
        "month_end": "date",
        "contract_id": "int64",
        "customer_id": "int64",
        "product_id": "int64",
        "branch_id": "string",
        "start_date": "date",
        "maturity_date": "date",
        "contract_amount": "float64",
        "balance": "float64",
        "industry": "string",
        "collateral": "string",
        "grade": "string",  # 正常 | 关注 | 次级 | 可疑 | 损失
    },
    "fact_channel_usage": {
        "month_end": "date",
        "customer_id": "int64",
        "branch_id": "string",
        "channel": "string",  # mobile | online | wechat
        "logins": "int64",
        "transactions": "int64",
    },
    # Branch x month budget targets, for budget attainment.
    "fact_budget": {
        "month_end": "date",
        "branch_id": "string",  # a branch (level 'branch')
        "item": "string",  # deposit_balance | loan_balance | new_customers
        "target": "float64",
    },
    # External data (工商司法): company registry and court records.
    "ext_company_registry": {
        "company_id": "int64",
        "customer_id": "int64",  # the corporate customer it matches, or null
        "company_name": "string",
        "credit_code": "string",  # 统一社会信用代码
        "legal_representative": "string",
        "registered_capital": "float64",
        "industry": "string",
        "province": "string",
        "established_date": "date",
        "status": "string",  # 存续 | 注销 | 吊销
        "lawsuit_count": "int64",
        "branch_id": "string",  # the branch that serves the matched customer, or null
    },
    "ext_industry_news": {
        "news_id": "int64",
        "publish_date": "date",
        "industry": "string",
        "title": "string",
        "sentiment": "float64",  # -1 (negative) .. 1 (positive)
        "source": "string",
    },
    # One row describing the generated warehouse.
    "meta_warehouse": {
        "generator_version": "string",
        "seed": "int64",
        "scale": "float64",
        "as_of": "date",  # the data date: the last month-end of the history
        "history_months": "int32",
    },
}

# The monthly summary tables (DWS tier) the generator builds from the large facts; pivots and
# metrics read them when a query needs nothing finer (datasources/pivot_rollup.py).
TABLES.update(ROLLUP_TABLES)

# Columns that identify a person (SPEC §7.2), per table.
PII_COLUMNS: dict[str, dict[str, str]] = {
    "dim_customer": {
        "name": "name",
        "id_number": "id_number",
        "phone": "phone",
        "address": "address",
    },
    "ext_company_registry": {"legal_representative": "name"},
}

# The column row-level scope filters on; tables without one are not branch-scoped.
BRANCH_COLUMN = "branch_id"
UNSCOPED_TABLES = {"dim_product", "dim_date", "ext_industry_news", "meta_warehouse", "dim_branch"}
