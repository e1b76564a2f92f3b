"""Build customer features for data mining in the warehouse, point in time and scoped.

Every function takes a `TableProvider` (so row scope and masking apply) and a cut-off: a
date, or a list of dates for one row per customer and cut-off (training sets scan each fact
table once for all of them). Cut-offs are month-ends; the result has a `cutoff` column.

Point in time: features for a cut-off use only rows dated on or before its month-end —
balances of earlier month-ends, transactions up to the cut-off, customers opened by then.
`dim_customer.is_payroll` is the status at the data date, so payroll status comes from
payroll transactions instead. Labels (`churn_labels`) look three months ahead by definition.

Facts are first summed per customer and month (month index = year * 12 + month), then
aggregated over month windows relative to each cut-off. Run with `run(...)`.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Sequence

import ibis

from datasources.relations import CHURN_LOOKBACK_MONTHS, CHURN_MIN_BALANCE, CHURN_REMAINING_SHARE

CUSTOMER_COLUMNS = ["segment", "age_band", "gender", "occupation", "risk_grade"]
KEYS = ["customer_id", "cutoff"]
BALANCE_MONTHS = 12  # months of balances before a cut-off that features read
TXN_WINDOWS = (1, 3, 6)  # months of transactions before a cut-off
RATE_LIMITS = (-1.0, 10.0)  # change rates are clipped to this range
STF_DAYS = 5  # short-term funds: out again within this many days
STF_SHARE = 0.8  # ... with at least this share of the inflow
STF_MIN_AMOUNT = 10_000.0  # ... of an inflow at least this large
COUNTERPARTY_TYPES = ("individual", "corporate", "government", "internal")


# -- dates and cut-offs ----------------------------------------------------------------------------
def month_end(day: datetime.date) -> datetime.date:
    """Return the last day of the month of `day`."""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    if isinstance(day, datetime.datetime):
        day = day.date()
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the month-end `months` months after (negative: before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return month_end(datetime.date(index // 12, index % 12 + 1, 1))


def _cutoffs(cutoff) -> list[datetime.date]:
    many = isinstance(cutoff, Sequence) and not isinstance(cutoff, str)
    dates = sorted({month_end(c) for c in (cutoff if many else [cutoff])})
    if not dates:
        raise ValueError("at least one cut-off is needed")
    return dates


def _cutoff_table(dates: list[datetime.date]) -> ibis.Table:
    """Return a table with one row per cut-off: its date, month index and calendar month."""
    return ibis.memtable(
        {
            "cutoff": dates,
            "ci": [d.year * 12 + d.month for d in dates],
            "cmonth": [d.month for d in dates],
        },
        schema={"cutoff": "date", "ci": "int64", "cmonth": "int64"},
    )


def _month_index(date_col):
    return date_col.year().cast("int64") * 12 + date_col.month().cast("int64")


def _windowed(monthly: ibis.Table, dates, months: int, lags=None) -> ibis.Table:
    """Pair each customer-month row with every cut-off it precedes by less than `months`
    months; `lag` = months before the cut-off (0 = the cut-off month). `lags(pairs)` may
    narrow the pairs to the lags that are used."""
    cuts = _cutoff_table(dates)
    pairs = monthly.join(cuts, [monthly.mi <= cuts.ci, monthly.mi > cuts.ci - months])
    pairs = pairs.mutate(lag=pairs.ci - pairs.mi)
    return pairs if lags is None else pairs.filter(lags(pairs))


def run(warehouse, tables, expr, label: str, use_cache: bool = False):
    """Execute a feature expression under the provider's scope key; return a DataFrame.

    Feature frames are large and read once per training run, so they skip the query cache
    unless asked.
    """
    return warehouse.execute(
        expr, scope_key=tables.scope_key, label=f"mining:{label}", use_cache=use_cache
    )


def _rate(now, before):
    """Return (now - before) / before, clipped; NULL when there was nothing before."""
    lower, upper = RATE_LIMITS
    rate = (now - before) / before
    return ibis.cases(
        (before.isnull() | (before <= 0), ibis.null("float64")),
        (rate > upper, upper),
        (rate < lower, lower),
        else_=rate,
    )


def _when(condition, value):
    """Return `value` where `condition` holds, else NULL.

    Aggregating over it equals aggregating with a FILTER clause (`where=`), which DuckDB
    runs about a third slower over many conditional aggregates.
    """
    return ibis.ifelse(condition, value, ibis.null(value.type()))


def _share(part, whole):
    return ibis.ifelse(whole > 0, part / whole, ibis.null("float64"))


# -- building blocks -----------------------------------------------------------------------------
def retail_customers(tables, cutoff) -> ibis.Table:
    """Return the retail customers open at each cut-off, with their descriptive attributes."""
    dates = _cutoffs(cutoff)
    c = tables.table("dim_customer")
    c = c.filter(c.customer_type == "retail", c.open_date <= dates[-1])
    cuts = _cutoff_table(dates)
    j = c.join(cuts, c.open_date <= cuts.cutoff)
    return j.select(
        "customer_id",
        "cutoff",
        "branch_id",
        *CUSTOMER_COLUMNS,
        tenure_months=j.ci - _month_index(j.open_date),
    )


def balance_features(tables, cutoff) -> ibis.Table:
    """Return balance features: deposits now and before, daily averages, start-of-year
    balance, change rates, six-month stability, product holdings."""
    dates = _cutoffs(cutoff)
    bal = tables.table("fact_balance_monthly")
    bal = bal.filter(
        bal.month_end <= dates[-1], bal.month_end > add_months(dates[0], -BALANCE_MONTHS - 1)
    )
    prod = tables.table("dim_product").select("product_id", "category", "subcategory")
    j = bal.join(prod, "product_id")
    dep = j.category == "deposit"
    wealth = j.category.isin(["wealth", "fund"])
    # One row per customer x product x month: counting rows counts products.
    monthly = j.group_by(["customer_id", _month_index(j.month_end).name("mi")]).aggregate(
        dep=_when(dep, j.end_balance).sum(),
        time_dep=_when(j.subcategory == "time", j.end_balance).sum(),
        wealth=_when(wealth, j.end_balance).sum(),
        card=_when(j.category == "card", j.end_balance).sum(),
        loan=_when(j.category == "loan", j.end_balance).sum(),
        n_card=_when(j.category == "card", j.product_id).count(),
        n_loan=_when(j.category == "loan", j.product_id).count(),
        n_wealth=_when(wealth, j.product_id).count(),
        n_products=j.product_id.count(),
        avg_m=_when(dep, j.avg_daily_month).sum(),
        avg_q=_when(dep, j.avg_daily_quarter).sum(),
        avg_y=_when(dep, j.avg_daily_year).sum(),
    )
    monthly = monthly.mutate(dep=monthly.dep.fill_null(0.0))
    mo = _windowed(
        monthly,
        dates,
        BALANCE_MONTHS + 1,
        lags=lambda p: (p.lag < 6) | p.lag.isin([6, BALANCE_MONTHS]) | (p.lag == p.cmonth),
    )
    now, last6 = mo.lag == 0, mo.lag < 6

    def at(column, lag):
        return _when(mo.lag == lag, column).max()

    per = mo.group_by(KEYS).aggregate(
        deposit_balance=at(mo.dep, 0),
        deposit_1m_ago=at(mo.dep, 1),
        deposit_2m_ago=at(mo.dep, 2),
        deposit_3m_ago=at(mo.dep, 3),
        deposit_6m_ago=at(mo.dep, 6),
        deposit_12m_ago=at(mo.dep, 12),
        deposit_start_of_year=_when(mo.lag == mo.cmonth, mo.dep).max(),  # the December before
        deposit_avg_daily_month=at(mo.avg_m, 0),
        deposit_avg_daily_quarter=at(mo.avg_q, 0),
        deposit_avg_daily_year=at(mo.avg_y, 0),
        deposit_mean_6m=_when(last6, mo.dep).mean(),
        deposit_std_6m=_when(last6, mo.dep).std(),
        deposit_min_6m=_when(last6, mo.dep).min(),
        deposit_max_6m=_when(last6, mo.dep).max(),
        time_deposit_balance=at(mo.time_dep, 0),
        wealth_balance=at(mo.wealth, 0),
        wealth_3m_ago=at(mo.wealth, 3),
        card_balance=at(mo.card, 0),
        loan_balance=at(mo.loan, 0),
        n_credit_cards=_when(now, mo.n_card).max(),
        n_loans=_when(now, mo.n_loan).max(),
        n_wealth_products=_when(now, mo.n_wealth).max(),
        n_products=_when(now, mo.n_products).max(),
        n_products_6m_ago=at(mo.n_products, 6),
    )
    zero = ["deposit_balance", "time_deposit_balance", "wealth_balance", "card_balance"]
    zero += ["loan_balance", "n_credit_cards", "n_loans", "n_wealth_products", "n_products"]
    per = per.mutate(**{c: per[c].fill_null(0) for c in zero})
    d = per.deposit_balance
    return per.mutate(
        deposit_change_1m=_rate(d, per.deposit_1m_ago),
        deposit_change_3m=_rate(d, per.deposit_3m_ago),
        deposit_change_6m=_rate(d, per.deposit_6m_ago),
        deposit_change_12m=_rate(d, per.deposit_12m_ago),
        deposit_change_ytd=_rate(d, per.deposit_start_of_year),
        deposit_vs_avg_month=_rate(d, per.deposit_avg_daily_month),
        deposit_vs_avg_quarter=_rate(d, per.deposit_avg_daily_quarter),
        deposit_vs_avg_year=_rate(d, per.deposit_avg_daily_year),
        deposit_vs_max_6m=_share(d, per.deposit_max_6m),
        deposit_cv_6m=_share(per.deposit_std_6m, per.deposit_mean_6m),
        time_deposit_share=_share(per.time_deposit_balance, d),
        wealth_change_3m=_rate(per.wealth_balance, per.wealth_3m_ago),
        has_credit_card=(per.n_credit_cards > 0).cast("int8"),
        has_loan=(per.n_loans > 0).cast("int8"),
        has_wealth=(per.n_wealth_products > 0).cast("int8"),
        products_change_6m=per.n_products - per.n_products_6m_ago.fill_null(0),
    ).drop("n_products_6m_ago")


def _monthly_transactions(tables, dates, months: int, usage: bool = False) -> ibis.Table:
    t = tables.table("fact_transaction")
    t = t.filter(t.txn_date <= dates[-1], t.txn_date > add_months(dates[0], -months))
    inflow, outflow = t.direction == "in", t.direction == "out"
    to_person = outflow & (t.txn_type == "transfer") & (t.counterparty_type == "individual")
    return t.group_by(["customer_id", _month_index(t.txn_date).name("mi")]).aggregate(
        in_count=_when(inflow, t.amount).count(),
        out_count=_when(outflow, t.amount).count(),
        in_amount=_when(inflow, t.amount).sum(),
        out_amount=_when(outflow, t.amount).sum(),
        payroll=_when(t.txn_type == "payroll", t.amount).sum(),
        to_person=_when(to_person, t.amount).sum(),
        consumption=_when(t.txn_type == "consumption", t.amount).count(),
        digital=_when(t.channel.isin(["mobile", "online"]), t.amount).count(),
        last_date=t.txn_date.max(),
        # Distinct counts are dear: only for the usage measures of transaction mining.
        **({"channels": t.channel.nunique(), "types": t.txn_type.nunique()} if usage else {}),
    )


def transaction_features(tables, cutoff) -> ibis.Table:
    """Return transaction counts and amounts by window (1 / 3 / 6 months) and direction,
    payroll status and its loss, transfers out to individuals, channel mix and recency."""
    dates = _cutoffs(cutoff)
    months = max(TXN_WINDOWS)
    mo = _windowed(_monthly_transactions(tables, dates, months), dates, months)
    aggs = {}
    for k in TXN_WINDOWS:
        within = mo.lag < k
        aggs[f"txn_in_count_{k}m"] = _when(within, mo.in_count).sum()
        aggs[f"txn_out_count_{k}m"] = _when(within, mo.out_count).sum()
        aggs[f"txn_in_amount_{k}m"] = _when(within, mo.in_amount).sum()
        aggs[f"txn_out_amount_{k}m"] = _when(within, mo.out_amount).sum()
    quarter, paid = mo.lag < 3, mo.payroll > 0
    per = mo.group_by(KEYS).aggregate(
        **aggs,
        payroll_amount_1m=_when(mo.lag == 0, mo.payroll).sum(),
        payroll_months_3m=_when(quarter & paid, mo.lag).count(),
        payroll_months_prev_3m=_when(~quarter & paid, mo.lag).count(),
        transfer_out_individual_1m=_when(mo.lag == 0, mo.to_person).sum(),
        transfer_out_individual_3m=_when(quarter, mo.to_person).sum(),
        consumption_count_3m=_when(quarter, mo.consumption).sum(),
        digital_count_3m=_when(quarter, mo.digital).sum(),
        last_txn_date=mo.last_date.max(),
    )
    per = per.mutate(days_since_last_txn=per.cutoff.delta(per.last_txn_date, unit="day"))
    per = per.drop("last_txn_date")
    counts = [c for c in per.columns if c not in (*KEYS, "days_since_last_txn")]
    per = per.mutate(**{c: per[c].fill_null(0) for c in counts})
    monthly_6m = (per.txn_in_count_6m + per.txn_out_count_6m) / float(months)
    return per.mutate(
        net_flow_1m=per.txn_in_amount_1m - per.txn_out_amount_1m,
        net_flow_3m=per.txn_in_amount_3m - per.txn_out_amount_3m,
        activity_trend=_share(per.txn_in_count_1m + per.txn_out_count_1m, monthly_6m),
        digital_share_3m=_share(per.digital_count_3m, per.txn_in_count_3m + per.txn_out_count_3m),
        has_payroll=(per.payroll_amount_1m > 0).cast("int8"),
        payroll_lost=((per.payroll_months_prev_3m > 0) & (per.payroll_amount_1m == 0)).cast("int8"),
    )


def channel_features(tables, cutoff) -> ibis.Table:
    """Return e-banking logins and transactions: this month, last quarter, the quarter
    before, their trend, and the most channels used in a month of the last quarter."""
    dates = _cutoffs(cutoff)
    u = tables.table("fact_channel_usage")
    u = u.filter(u.month_end <= dates[-1], u.month_end > add_months(dates[0], -6))
    monthly = u.group_by(["customer_id", _month_index(u.month_end).name("mi")]).aggregate(
        logins=u.logins.sum(), transactions=u.transactions.sum(), channels=u.channel.count()
    )
    mo = _windowed(monthly, dates, 6)
    quarter = mo.lag < 3
    per = mo.group_by(KEYS).aggregate(
        logins_1m=_when(mo.lag == 0, mo.logins).sum(),
        logins_3m=_when(quarter, mo.logins).sum(),
        logins_prev_3m=_when(~quarter, mo.logins).sum(),
        channel_txns_3m=_when(quarter, mo.transactions).sum(),
        channels_used_3m=_when(quarter, mo.channels).max(),
    )
    per = per.mutate(**{c: per[c].fill_null(0) for c in per.columns if c not in KEYS})
    return per.mutate(logins_trend=_rate(per.logins_3m, per.logins_prev_3m))


def _left_join_all(base: ibis.Table, parts: list[ibis.Table]) -> ibis.Table:
    for part in parts:
        base = base.left_join(part, KEYS).drop("customer_id_right", "cutoff_right")
    return base


def _zero_missing(expr: ibis.Table, parts: list[ibis.Table], keep_null: set[str]):
    """Zero the counts and amounts of customers absent from a part (they have none of it)."""
    fills = {}
    for part in parts:
        for name, dtype in part.schema().items():
            if name not in KEYS and name not in keep_null and dtype.is_numeric():
                fills[name] = expr[name].fill_null(0)
    return expr.mutate(**fills)


# Features left NULL when a customer has no data: rates, ratios, past values and recency.
_NULLABLE = {
    "days_since_last_txn", "activity_trend", "digital_share_3m", "logins_trend",
    "time_deposit_share", "deposit_mean_6m", "deposit_min_6m", "deposit_max_6m",
    "deposit_start_of_year", "inflow_stability", "stf_days_held", "stf_recovery_rate",
}  # fmt: skip
_NULLABLE_PREFIXES = ("deposit_change", "deposit_vs", "deposit_cv", "deposit_std", "wealth_change")


def _nullable(columns) -> set[str]:
    keep = {c for c in columns if c.startswith(_NULLABLE_PREFIXES) or c.endswith("_ago")}
    return keep | _NULLABLE


# -- public feature sets ---------------------------------------------------------------------------
def customer_features(tables, cutoff) -> ibis.Table:
    """Return one row per retail customer open at the cut-off (per customer and cut-off for
    several) with every model feature.

    `customer_id`, `cutoff` and `branch_id` identify the row; the rest are features.
    """
    parts = [
        balance_features(tables, cutoff),
        transaction_features(tables, cutoff),
        channel_features(tables, cutoff),
    ]
    joined = _left_join_all(retail_customers(tables, cutoff), parts)
    return _zero_missing(joined, parts, _nullable(joined.columns))


POTENTIAL_VALUE_COLUMNS = [
    "deposit_balance", "deposit_avg_daily_month", "deposit_avg_daily_quarter",
    "deposit_avg_daily_year", "deposit_start_of_year", "deposit_change_ytd",
    "deposit_change_3m", "deposit_vs_avg_year", "wealth_balance", "time_deposit_balance",
    "n_products", "has_credit_card", "has_loan", "has_wealth",
]  # fmt: skip


def potential_value_features(tables, cutoff) -> ibis.Table:
    """Return deposit balance, monthly / quarterly / yearly daily averages, start-of-year
    balance, growth, holdings and total assets: the inputs of potential-value mining."""
    part = balance_features(tables, cutoff).select(*KEYS, *POTENTIAL_VALUE_COLUMNS)
    joined = _left_join_all(retail_customers(tables, cutoff), [part])
    joined = _zero_missing(joined, [part], _nullable(POTENTIAL_VALUE_COLUMNS))
    return joined.mutate(assets=joined.deposit_balance + joined.wealth_balance)


def short_term_funds(tables, cutoff, months: int = 12, days: int = STF_DAYS) -> ibis.Table:
    """Return short-term fund episodes before one cut-off: a large inflow (not payroll) out
    again, at least 80% of it, within `days` days.

    One row per inflow with its first matching outflow and that outflow's counterparty type
    (the destination). Only transactions up to the cut-off are read.
    """
    m = _cutoffs(cutoff)[-1]
    t = tables.table("fact_transaction")
    t = t.filter(t.txn_date <= m, t.txn_date > add_months(m, -months))
    ins = t.filter(t.direction == "in", t.txn_type != "payroll", t.amount >= STF_MIN_AMOUNT)
    ins = ins.select("customer_id", in_id=ins.txn_id, in_date=ins.txn_date, in_amount=ins.amount)
    outs = t.filter(t.direction == "out", t.amount >= STF_MIN_AMOUNT * STF_SHARE)
    outs = outs.select(
        out_customer=outs.customer_id,
        out_id=outs.txn_id,
        out_date=outs.txn_date,
        out_amount=outs.amount,
        destination=outs.counterparty_type,
    )
    pairs = ins.join(
        outs,
        [
            ins.customer_id == outs.out_customer,
            outs.out_date >= ins.in_date,
            outs.out_date <= ins.in_date + ibis.interval(days=days),
            outs.out_amount >= ins.in_amount * STF_SHARE,
            outs.out_amount <= ins.in_amount * 1.05,
            outs.out_id > ins.in_id,
        ],
    )
    first = ibis.row_number().over(group_by=pairs.in_id, order_by=[pairs.out_date, pairs.out_id])
    pairs = pairs.mutate(rank=first)
    pairs = pairs.filter(pairs.rank == 0)
    return pairs.select(
        "customer_id",
        "in_date",
        "in_amount",
        "out_date",
        "out_amount",
        "destination",
        days_held=pairs.out_date.delta(pairs.in_date, unit="day"),
    )


def transaction_mining_features(tables, cutoff, months: int = 12) -> ibis.Table:
    """Return stability, activity, usage, monthly / quarterly / yearly flows, short-term
    fund recovery and its destinations per retail customer, from the transactions of the
    `months` months up to one cut-off."""
    m = _cutoffs(cutoff)[-1]
    mo = _windowed(_monthly_transactions(tables, [m], months, usage=True), [m], months)
    mo = mo.mutate(inflow=mo.in_amount.fill_null(0.0), outflow=mo.out_amount.fill_null(0.0))
    quarter, month = mo.lag < 3, mo.lag == 0
    activity = mo.group_by(KEYS).aggregate(
        active_months=mo.lag.count(),
        txns_per_month=(mo.in_count + mo.out_count).sum() / float(months),
        inflow_month=_when(month, mo.inflow).sum(),
        outflow_month=_when(month, mo.outflow).sum(),
        inflow_quarter=_when(quarter, mo.inflow).sum(),
        outflow_quarter=_when(quarter, mo.outflow).sum(),
        inflow_year=mo.inflow.sum(),
        outflow_year=mo.outflow.sum(),
        inflow_mean=mo.inflow.mean(),
        inflow_std=mo.inflow.std(),
        channels_used=mo.channels.max(),
        txn_types_used=mo.types.max(),
    )
    activity = activity.mutate(
        activity=activity.active_months / float(months),
        inflow_stability=1.0 - _share(activity.inflow_std, activity.inflow_mean).clip(0.0, 1.0),
    ).drop("inflow_mean", "inflow_std")
    stf = short_term_funds(tables, m, months=months)
    dest = {
        f"stf_to_{c}": _when(stf.destination == c, stf.out_amount).sum() for c in COUNTERPARTY_TYPES
    }
    funds = stf.group_by("customer_id").aggregate(
        stf_count=stf.count(),
        stf_in_amount=stf.in_amount.sum(),
        stf_out_amount=stf.out_amount.sum(),
        stf_days_held=stf.days_held.mean(),
        **dest,
    )
    funds = funds.mutate(
        cutoff=ibis.literal(m, type="date"),
        stf_recovery_rate=_share(funds.stf_out_amount, funds.stf_in_amount),
    )
    parts = [activity, funds]
    joined = _left_join_all(retail_customers(tables, m), parts)
    return _zero_missing(joined, parts, _nullable(joined.columns))


def churn_labels(tables, cutoff) -> ibis.Table:
    """Return the retail churn label at each cut-off for customers holding >= 1,000 deposits.

    `churned` is 1 when deposits three months after the cut-off fell below 20% of those at
    the cut-off (as `relations.customer_deposit_monthly` defines churn). The label reads the
    future by definition: the caller checks that the later month is in the warehouse.
    """
    dates = _cutoffs(cutoff)
    later = [add_months(d, CHURN_LOOKBACK_MONTHS) for d in dates]
    bal = tables.table("fact_balance_monthly")
    prod = tables.table("dim_product")
    prod = prod.filter(prod.category == "deposit").select("product_id")
    bal = bal.filter(bal.month_end.isin(sorted(set(dates) | set(later))))
    dep = bal.join(prod, "product_id")
    monthly = dep.group_by(["customer_id", _month_index(dep.month_end).name("mi")]).aggregate(
        dep=dep.end_balance.sum()
    )
    cuts = _cutoff_table(dates)
    pairs = monthly.join(
        cuts, (monthly.mi == cuts.ci) | (monthly.mi == cuts.ci + CHURN_LOOKBACK_MONTHS)
    )
    per = pairs.group_by(KEYS).aggregate(
        deposit_at_cutoff=_when(pairs.mi == pairs.ci, pairs.dep).sum(),
        deposit_later=_when(pairs.mi != pairs.ci, pairs.dep).sum(),
    )
    per = per.filter(per.deposit_at_cutoff >= CHURN_MIN_BALANCE)
    per = per.join(retail_customers(tables, dates).select(*KEYS), KEYS)
    churned = per.deposit_later.fill_null(0.0) < per.deposit_at_cutoff * CHURN_REMAINING_SHARE
    return per.select(*KEYS, "deposit_at_cutoff", churned=churned.cast("int8"))
