"""Pivot analysis over one warehouse table: datasets, their fields, and the pivot spec.

A dataset is one warehouse table. Its fields are its own columns plus every catalog dimension
reachable from it through the catalog joins (`branch`, `segment`, `product`, ...) and the
`month` time dimension (the month of the table's main date column). Dimensions group and filter
by their key formula and display their label formula in the user's language.

The modules beside this one: `pivot_query` (column aggregations with subtotals and grand
totals, aggregated in the warehouse), `pivot_rollup` (the monthly summary tables it reads when
it can), `pivot_metrics` (catalog metrics as values), `pivot_layout` (ordering, the cell
limit, the JSON shape) and `pivot_drill` (the detail rows of one cell, paged in the
warehouse). All obtain tables through a `TableProvider`, so row scope and PII masking apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis

from datasources.catalog import Catalog, Dimension, Text
from datasources.errors import QueryError
from datasources.formula import (
    JOIN_SEPARATOR,
    column_resolver,
    compile_formula,
    referenced_names,
)
from datasources.periods import Period
from datasources.relations import UnboundTables, build_source
from datasources.schema import TABLES

AGGS = ("sum", "count", "count_distinct", "mean", "min", "max")
NUMERIC_AGGS = AGGS
DATE_AGGS = ("count", "count_distinct", "min", "max")
OTHER_AGGS = ("count", "count_distinct")
KINDS = ("dimension", "numeric", "date", "string")  # Field.kind, for the UI
DEFAULT_CELL_LIMIT = 10_000
DEFAULT_MAX_COLUMNS = 200


class PivotError(QueryError):
    """A pivot the data layer cannot build (unknown field, bad combination); says why."""

    default_code = "invalid_pivot"


@dataclass(frozen=True)
class Dataset:
    id: str
    name: Text
    date_column: str | None  # the main date column: `month` is its month
    order_by: tuple[str, ...]  # a unique key, for deterministic paging of detail rows


DATASETS: dict[str, Dataset] = {
    d.id: d
    for d in (
        Dataset("fact_transaction", Text("交易流水", "Transactions"), "txn_date", ("txn_id",)),
        Dataset(
            "fact_balance_monthly",
            Text("月末余额", "Monthly balances"),
            "month_end",
            ("month_end", "customer_id", "product_id"),
        ),
        Dataset("fact_loan", Text("贷款", "Loans"), "month_end", ("month_end", "contract_id")),
        Dataset(
            "fact_channel_usage",
            Text("渠道使用", "Channel usage"),
            "month_end",
            ("month_end", "customer_id", "channel"),
        ),
        Dataset(
            "fact_budget", Text("预算", "Budgets"), "month_end", ("month_end", "branch_id", "item")
        ),
        Dataset("dim_customer", Text("客户", "Customers"), "open_date", ("customer_id",)),
        Dataset("dim_product", Text("产品", "Products"), None, ("product_id",)),
        Dataset(
            "ext_company_registry",
            Text("工商信息", "Company registry"),
            "established_date",
            ("company_id",),
        ),
    )
}

COLUMN_NAMES: dict[str, Text] = {
    "txn_id": Text("交易编号", "Transaction ID"),
    "txn_date": Text("交易日期", "Transaction date"),
    "customer_id": Text("客户编号", "Customer ID"),
    "account_id": Text("账户编号", "Account ID"),
    "branch_id": Text("机构编号", "Branch ID"),
    "channel": Text("渠道", "Channel"),
    "txn_type": Text("交易类型", "Transaction type"),
    "direction": Text("资金方向", "Direction"),
    "amount": Text("交易金额", "Amount"),
    "counterparty_type": Text("交易对手类型", "Counterparty type"),
    "month_end": Text("月末日期", "Month end"),
    "product_id": Text("产品编号", "Product ID"),
    "end_balance": Text("期末余额", "End balance"),
    "avg_daily_month": Text("月日均", "Monthly daily average"),
    "avg_daily_quarter": Text("季日均", "Quarterly daily average"),
    "avg_daily_year": Text("年日均", "Yearly daily average"),
    "contract_id": Text("合同编号", "Contract ID"),
    "start_date": Text("发放日期", "Start date"),
    "maturity_date": Text("到期日期", "Maturity date"),
    "contract_amount": Text("合同金额", "Contract amount"),
    "balance": Text("贷款余额", "Loan balance"),
    "industry": Text("行业", "Industry"),
    "collateral": Text("担保方式", "Collateral"),
    "grade": Text("五级分类", "Loan grade"),
    "logins": Text("登录次数", "Logins"),
    "transactions": Text("交易次数", "Transactions"),
    "item": Text("预算项目", "Budget item"),
    "target": Text("目标值", "Target"),
    "customer_type": Text("客户类型", "Customer type"),
    "segment": Text("客户层级", "Customer segment"),
    "age_band": Text("年龄段", "Age band"),
    "gender": Text("性别", "Gender"),
    "occupation": Text("职业", "Occupation"),
    "is_payroll": Text("代发薪客户", "Payroll customer"),
    "risk_grade": Text("风险等级", "Risk grade"),
    "open_date": Text("开户日期", "Opening date"),
    "rm_id": Text("客户经理", "Relationship manager"),
    "name": Text("姓名", "Name"),
    "id_number": Text("证件号码", "ID number"),
    "phone": Text("手机号码", "Phone"),
    "address": Text("地址", "Address"),
    "product_code": Text("产品代码", "Product code"),
    "product_name": Text("产品名称", "Product name"),
    "product_name_en": Text("产品英文名称", "Product name (English)"),
    "category": Text("产品大类", "Product category"),
    "subcategory": Text("产品子类", "Product subcategory"),
    "is_asset": Text("资产类产品", "Asset product"),
    "rate": Text("利率", "Rate"),
    "company_id": Text("企业编号", "Company ID"),
    "company_name": Text("企业名称", "Company name"),
    "credit_code": Text("统一社会信用代码", "Unified social credit code"),
    "legal_representative": Text("法定代表人", "Legal representative"),
    "registered_capital": Text("注册资本", "Registered capital"),
    "province": Text("省份", "Province"),
    "established_date": Text("成立日期", "Established date"),
    "status": Text("经营状态", "Status"),
    "lawsuit_count": Text("涉诉数量", "Lawsuits"),
}


@dataclass(frozen=True)
class Field:
    """One field of a dataset: an own column or a reachable catalog dimension."""

    id: str
    name: Text
    kind: str  # dimension | numeric | date | string
    dtype: str  # Ibis type of the key: string, int64, float64, date, boolean
    column: str | None = None  # the own column, for column fields
    dimension: Dimension | None = None

    @property
    def aggs(self) -> tuple[str, ...]:
        if self.kind == "numeric":
            return NUMERIC_AGGS
        if self.kind == "date":
            return DATE_AGGS
        return OTHER_AGGS

    @property
    def is_month(self) -> bool:
        return self.dimension is not None and self.dimension.time

    def has_label(self, locale: str | None) -> bool:
        return self.dimension is not None and bool(self.dimension.label_for(locale))

    def to_dict(self, locale: str | None = None) -> dict:
        return {
            "id": self.id,
            "name": self.name.get(locale) if locale else self.name.to_dict(),
            "kind": self.kind,
            "type": self.dtype,
            "aggs": list(self.aggs),
        }


# -- the spec ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PivotValue:
    """A measure: `agg` of `field` (field None with count: rows), or a catalog `metric`."""

    field: str | None = None
    agg: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class PivotFilter:
    field: str
    op: str
    value: object  # already typed: dates as `date`, months as the month's first day


@dataclass(frozen=True)
class PivotSort:
    """Order rows by a row field, or by a value (index into values) across all columns."""

    field: str | None = None
    value: int | None = None
    descending: bool = False


@dataclass(frozen=True)
class PivotTop:
    """Keep the top `n` keys of the first row field by value number `value`."""

    n: int
    value: int = 0


@dataclass(frozen=True)
class PivotSpec:
    dataset: str | None
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[PivotValue, ...]
    filters: tuple[PivotFilter, ...] = ()
    sort: PivotSort | None = None
    top: PivotTop | None = None
    period: Period | None = None  # metric values only

    @property
    def is_metric(self) -> bool:
        return any(v.metric for v in self.values)

    @property
    def group(self) -> tuple[str, ...]:
        return self.rows + self.columns


# -- fields --------------------------------------------------------------------------------------
_FIELD_CACHE: dict[tuple[int, str], tuple[Catalog, dict[str, Field]]] = {}


def _kind(column: str, dtype: str) -> str:
    if dtype in ("date", "timestamp"):
        return "date"
    if dtype.startswith(("int", "float", "decimal")) and not column.endswith("_id"):
        return "numeric"
    return "string"  # text, booleans and identifiers: grouped and counted, never summed


def _reachable(dim: Dimension, columns, aliases: set[str]) -> bool:
    for formula in dim.formulas():
        for ref in referenced_names(formula):
            if JOIN_SEPARATOR in ref:
                if ref.split(JOIN_SEPARATOR, 1)[0] not in aliases:
                    return False
            elif ref not in columns:
                return False
    return True


resolver = column_resolver  # kept under the name the pivot modules use


def field_map(catalog: Catalog, dataset: str) -> dict[str, Field]:
    """Return the dataset's fields by id: reachable dimensions first, then own columns."""
    if dataset not in DATASETS:
        raise PivotError(f"unknown dataset {dataset!r}", "unknown_dataset", dataset=dataset)
    cached = _FIELD_CACHE.get((id(catalog), dataset))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    columns = TABLES[dataset]
    aliases = {a for a, j in catalog.joins.items() if j.on in columns}
    unbound = build_source(UnboundTables(), catalog.joins, dataset, aliases)
    fields: dict[str, Field] = {}
    for dim in catalog.dimensions.values():
        if dim.time:
            if DATASETS[dataset].date_column:
                fields[dim.id] = Field(dim.id, dim.name, "dimension", "date", dimension=dim)
        elif _reachable(dim, columns, aliases):
            dtype = str(compile_formula(dim.key, resolver(unbound)).type())
            fields[dim.id] = Field(dim.id, dim.name, "dimension", dtype, dimension=dim)
    for column, dtype in columns.items():
        if column not in fields:  # a column a dimension is named after is that dimension
            name = COLUMN_NAMES.get(column, Text(column, column))
            fields[column] = Field(column, name, _kind(column, dtype), dtype, column=column)
    _FIELD_CACHE[(id(catalog), dataset)] = (catalog, fields)
    return fields


def dataset_fields(catalog: Catalog, dataset: str, locale: str | None = None) -> list[dict]:
    """List a dataset's fields for the UI: id, name, kind, type and the aggregations allowed."""
    return [f.to_dict(locale) for f in field_map(catalog, dataset).values()]


def list_datasets(locale: str | None = None) -> list[dict]:
    """List the datasets a pivot can be built on."""
    return [
        {"id": d.id, "name": d.name.get(locale) if locale else d.name.to_dict()}
        for d in DATASETS.values()
    ]


def alias_columns(fields: list[Field], locale: str | None, *, labels: bool = True) -> dict:
    """Return {join alias: its columns} that the key (and label) formulas of `fields` read."""
    found: dict[str, set[str]] = {}
    for f in fields:
        if f.dimension is None or f.dimension.time:
            continue
        for formula in (f.dimension.key, f.dimension.label_for(locale) if labels else None):
            for ref in referenced_names(formula) if formula else ():
                if JOIN_SEPARATOR in ref:
                    alias, column = ref.split(JOIN_SEPARATOR, 1)
                    found.setdefault(alias, set()).add(column)
    return found


def aliases_for(fields: list[Field], locale: str | None, *, labels: bool = True) -> set[str]:
    """Return the catalog joins the key (and label) formulas of `fields` need."""
    return set(alias_columns(fields, locale, labels=labels))


def own_columns_for(field: Field, locale: str | None) -> set[str]:
    """Return the dataset's own columns that a field's key and label read."""
    if field.column:
        return {field.column}
    if field.dimension is None or field.dimension.time:
        return set()
    found: set[str] = set()
    for formula in (field.dimension.key, field.dimension.label_for(locale)):
        if formula:
            found |= {r for r in referenced_names(formula) if JOIN_SEPARATOR not in r}
    return found


def key_expr(field: Field, table, date_column: str | None = None, month_column: str | None = None):
    """Return the grouping key of `field` on `table` (the month from a date or month column)."""
    if field.column:
        return table[field.column]
    if field.is_month:
        if month_column:
            return table[month_column]
        return table[date_column].truncate("M").cast("date")
    return compile_formula(field.dimension.key, resolver(table))


def label_expr(field: Field, table, locale: str | None):
    """Return the display label of a dimension on `table`, or None when the key is shown."""
    if not field.has_label(locale):
        return None
    return compile_formula(field.dimension.label_for(locale), resolver(table))


def predicate(expr, op: str, value):
    """Return `expr <op> value` as an Ibis boolean; None means NULL for eq / ne / in."""
    if op in ("in", "not_in"):
        present = [v for v in value if v is not None]
        test = expr.isin(present) if present else ibis.literal(False)
        if None in value:
            test = test | expr.isnull()
        return test if op == "in" else ~test  # NULL keys never pass not_in, as in SQL
    if value is None:
        if op == "eq":
            return expr.isnull()
        if op == "ne":
            return expr.notnull()
        raise PivotError(f"{op} needs a value", "bad_filter_value")
    match op:
        case "eq":
            return expr == value
        case "ne":
            return expr != value
        case "gt":
            return expr > value
        case "gte":
            return expr >= value
        case "lt":
            return expr < value
        case "lte":
            return expr <= value
    raise PivotError(f"unknown filter operator {op!r}", "bad_filter_op", op=op)


def month_start(value) -> date:
    """Return the first day of the month of a date."""
    return date(value.year, value.month, 1)
