"""The synthetic bank generator: contract, integrity, determinism and realism (scale 0.01)."""

from __future__ import annotations

import datetime
import os
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from datasources import reference, schema
from datasources.generator import generate_warehouse
from datasources.generator.text import credit_code_valid

SCALE = 0.01
SEED = 7
AS_OF = datetime.date(2026, 11, 30)
SQL_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
AGE_BANDS = {
    "18-25": (18, 25),
    "26-35": (26, 35),
    "36-45": (36, 45),
    "46-55": (46, 55),
    "56-65": (56, 65),
    "65+": (66, 200),
}
NPL = "grade IN ('次级', '可疑', '损失')"
SUB_BRANCHES = "SELECT branch_id FROM dim_branch WHERE level = 'sub_branch'"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("gen") / "bank.duckdb")
    rows = generate_warehouse(path, scale=SCALE, seed=SEED, progress=False, as_of=AS_OF)
    return path, rows


@pytest.fixture(scope="module")
def con(warehouse):
    connection = duckdb.connect(warehouse[0], read_only=True)
    yield connection
    connection.close()


def q(con, sql):
    return con.execute(sql).fetchall()


def one(con, sql):
    return con.execute(sql).fetchone()[0]


def none_of(con, table, where):
    """No row of `table` matches `where`."""
    return one(con, f"SELECT count(*) FROM {table} WHERE {where}") == 0


def df(con, sql) -> pd.DataFrame:
    return con.execute(sql).df()


# -- contract ---------------------------------------------------------------------------


def test_tables_and_columns_match_the_schema(con):
    tables = {r[0] for r in q(con, "SELECT table_name FROM information_schema.tables")}
    assert tables == set(schema.TABLES)
    for table, columns in schema.TABLES.items():
        got = q(
            con,
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
        assert [c for c, _ in got] == list(columns), table
        assert [t for _, t in got] == [SQL_TYPES[k] for k in columns.values()], table


def test_returned_row_counts(con, warehouse):
    _, rows = warehouse
    assert set(rows) == set(schema.TABLES)
    for table, n in rows.items():
        assert n == one(con, f'SELECT count(*) FROM "{table}"') > 0, table
    assert rows["dim_customer"] == 1000
    assert rows["meta_warehouse"] == 1


def test_meta_and_calendar(con):
    meta = q(
        con, "SELECT generator_version, seed, scale, as_of, history_months FROM meta_warehouse"
    )
    assert meta == [("1", SEED, SCALE, AS_OF, 24)]
    first, last, days, month_ends = q(
        con, "SELECT min(date), max(date), count(*), count(*) FILTER (is_month_end) FROM dim_date"
    )[0]
    assert (first, last) == (datetime.date(2024, 12, 1), AS_OF)
    assert days == 730 and month_ends == 24
    assert none_of(
        con,
        "dim_date",
        "year_month != year * 100 + month OR weekday != isodow(date) "
        "OR is_weekend != (isodow(date) >= 6) OR quarter != quarter(date) OR day != day(date)",
    )
    months = [
        r[0] for r in q(con, "SELECT DISTINCT month_end FROM fact_balance_monthly ORDER BY 1")
    ]
    assert len(months) == 24
    assert months[0] == datetime.date(2024, 12, 31) and months[-1] == AS_OF


@pytest.mark.parametrize(
    "table, key",
    [
        ("dim_branch", "branch_id"),
        ("dim_customer", "customer_id"),
        ("dim_product", "product_id"),
        ("dim_date", "date"),
        ("fact_balance_monthly", "month_end, customer_id, product_id"),
        ("fact_transaction", "txn_id"),
        ("fact_loan", "contract_id, month_end"),
        ("fact_channel_usage", "month_end, customer_id, channel"),
        ("fact_budget", "month_end, branch_id, item"),
        ("ext_company_registry", "company_id"),
        ("ext_industry_news", "news_id"),
    ],
)
def test_primary_keys_are_unique(con, table, key):
    dupes = one(
        con, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
    )
    assert dupes == 0
    assert none_of(con, table, " OR ".join(f"{k} IS NULL" for k in key.split(", ")))


@pytest.mark.parametrize(
    "table", ["fact_balance_monthly", "fact_transaction", "fact_loan", "fact_channel_usage"]
)
def test_no_orphans(con, table):
    assert none_of(con, table, "customer_id NOT IN (SELECT customer_id FROM dim_customer)")
    assert none_of(con, table, f"branch_id NOT IN ({SUB_BRANCHES})")
    # Fact rows carry the customer's own sub-branch.
    mismatched = one(
        con,
        f"SELECT count(*) FROM {table} f JOIN dim_customer c USING (customer_id) "
        "WHERE f.branch_id != c.branch_id",
    )
    assert mismatched == 0
    if table != "fact_transaction":
        assert none_of(
            con, table, "month_end NOT IN (SELECT date FROM dim_date WHERE is_month_end)"
        )
    if table in ("fact_balance_monthly", "fact_loan"):
        assert none_of(con, table, "product_id NOT IN (SELECT product_id FROM dim_product)")


def test_other_references(con):
    assert none_of(con, "fact_transaction", "txn_date NOT IN (SELECT date FROM dim_date)")
    assert none_of(
        con,
        "fact_transaction",
        "account_id // 100 != customer_id "
        "OR account_id % 100 NOT IN (SELECT product_id FROM dim_product)",
    )
    assert none_of(
        con,
        "fact_budget",
        "branch_id NOT IN (SELECT branch_id FROM dim_branch WHERE level = 'branch')",
    )
    assert none_of(con, "dim_customer", f"branch_id NOT IN ({SUB_BRANCHES})")
    assert none_of(
        con,
        "ext_company_registry r LEFT JOIN dim_customer c USING (customer_id)",
        "r.customer_id IS NOT NULL "
        "AND (c.customer_type IS DISTINCT FROM 'corporate' OR r.branch_id != c.branch_id)",
    )


def test_transaction_accounts_are_held(con):
    """Every transaction's account is a product the customer holds that month."""
    assert none_of(
        con,
        "fact_transaction t",
        """NOT EXISTS (
            SELECT 1 FROM fact_balance_monthly b
            WHERE b.customer_id = t.customer_id AND b.product_id = t.account_id % 100
              AND b.month_end = last_day(t.txn_date))""",
    )


# -- branches, customers, PII ------------------------------------------------------------


def test_branch_hierarchy(con):
    rows = {
        r[0]: r[1:]
        for r in q(con, "SELECT branch_id, level, parent_id, branch_path FROM dim_branch")
    }
    assert len(rows) == len(reference.BRANCHES)
    assert rows["HO"] == ("head_office", None, "/HO/")
    assert rows["BJ"] == ("branch", "HO", "/HO/BJ/")
    assert rows["BJ-CY"] == ("sub_branch", "BJ", "/HO/BJ/BJ-CY/")


def test_customers_follow_sub_branch_weights(con):
    counts = dict(q(con, "SELECT branch_id, count(*) FROM dim_customer GROUP BY 1"))
    weights = {b.branch_id: b.weight for b in reference.SUB_BRANCHES}
    assert set(counts) <= set(weights)
    # Per branch (sum of its sub-branches), within four binomial deviations of the weights.
    total = sum(weights.values())
    for branch in {b.parent_id for b in reference.SUB_BRANCHES}:
        subs = [s for s in weights if s.startswith(branch + "-")]
        expected = 1000 * sum(weights[s] for s in subs) / total
        got = sum(counts.get(s, 0) for s in subs)
        assert abs(got - expected) < 4 * np.sqrt(expected) + 2, branch


def test_customer_mix(con):
    retail = one(con, "SELECT avg((customer_type = 'retail')::INT) FROM dim_customer")
    assert 0.88 <= retail <= 0.96
    seg = dict(
        q(
            con,
            "SELECT segment, count(*) / sum(count(*)) OVER () FROM dim_customer "
            "WHERE customer_type = 'retail' GROUP BY 1",
        )
    )
    assert 0.72 <= seg["mass"] <= 0.88
    assert 0.10 <= seg["affluent"] <= 0.24
    assert 0.01 <= seg["private"] <= 0.06
    corporate = q(
        con, "SELECT DISTINCT segment FROM dim_customer WHERE customer_type = 'corporate'"
    )
    assert {r[0] for r in corporate} == {"small_business", "corporate"}
    payroll = one(
        con, "SELECT avg(is_payroll::INT) FROM dim_customer WHERE customer_type = 'retail'"
    )
    assert 0.20 <= payroll <= 0.38
    assert none_of(
        con,
        "dim_customer",
        "customer_type = 'corporate' AND (gender != 'n/a' OR age_band != 'n/a' OR is_payroll)",
    )
    grades = {r[0] for r in q(con, "SELECT DISTINCT risk_grade FROM dim_customer")}
    assert grades <= {"R1", "R2", "R3", "R4", "R5"}
    first, last, recent = q(
        con,
        "SELECT min(open_date), max(open_date), avg((open_date > DATE '2024-11-30')::INT) "
        "FROM dim_customer",
    )[0]
    assert first >= datetime.date(2011, 11, 30) and last <= AS_OF
    assert 0.05 <= recent <= 0.3  # some customers opened within the history
    rms = [r[0] for r in q(con, "SELECT DISTINCT rm_id FROM dim_customer")]
    assert all(re.fullmatch(r"RM-[A-Z]{2}-\d{3}", r) for r in rms)


def _id_ok(idn: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", idn):
        return False
    total = sum(int(d) * w for d, w in zip(idn[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == idn[17]


def test_retail_pii_formats(con):
    rows = df(
        con,
        "SELECT c.*, b.city FROM dim_customer c JOIN dim_branch b USING (branch_id) "
        "WHERE customer_type = 'retail'",
    )
    assert rows.id_number.map(_id_ok).all()
    assert rows.id_number.is_unique
    assert rows.phone.str.fullmatch(r"1[358]\d{9}").all()
    assert rows.name.str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert rows.apply(lambda r: r.address.startswith(r.city + "市"), axis=1).all()
    # Gender from the sequence digit, age band from the birth date.
    male = rows.id_number.str[16].astype(int) % 2 == 1
    assert (male == (rows.gender == "M")).all()
    birth = pd.to_datetime(rows.id_number.str[6:14], format="%Y%m%d")
    age = (pd.Timestamp(AS_OF) - birth).dt.days // 365.25
    low = rows.age_band.map(lambda b: AGE_BANDS[b][0])
    high = rows.age_band.map(lambda b: AGE_BANDS[b][1])
    assert ((age >= low - 1) & (age <= high + 1)).all()


def test_corporate_identity(con):
    rows = df(con, "SELECT name, id_number FROM dim_customer WHERE customer_type = 'corporate'")
    assert rows.id_number.map(credit_code_valid).all()
    assert rows.name.str.endswith("公司").all()


# -- balances ----------------------------------------------------------------------------


def test_balances_are_consistent(con):
    table = "fact_balance_monthly"
    assert none_of(
        con,
        table,
        "end_balance < 0 OR avg_daily_month < 0 OR avg_daily_quarter < 0 OR avg_daily_year < 0",
    )
    # Loans and cards are positive amounts owed.
    assert none_of(
        con, f"{table} JOIN dim_product USING (product_id)", "is_asset AND end_balance <= 0"
    )
    # Quarter-to-date and year-to-date averages start from the month average.
    assert none_of(
        con,
        table,
        "month(month_end) IN (1, 4, 7, 10) AND abs(avg_daily_quarter - avg_daily_month) > 0.011",
    )
    assert none_of(
        con, table, "month(month_end) = 1 AND abs(avg_daily_year - avg_daily_month) > 0.011"
    )
    # Products per customer: 1..5; every customer keeps a current account.
    low, high = q(
        con,
        f"SELECT min(n), max(n) FROM (SELECT customer_id, count(DISTINCT product_id) n "
        f"FROM {table} GROUP BY 1)",
    )[0]
    assert low >= 1 and high <= 5
    assert none_of(
        con,
        "dim_customer",
        f"customer_id NOT IN (SELECT customer_id FROM {table} "
        f"WHERE product_id = 1 AND month_end = DATE '{AS_OF}')",
    )
    # Loan balances equal the sum of the contracts' balances.
    diff = one(
        con,
        f"""SELECT max(abs(b.end_balance - l.balance)) FROM {table} b
        JOIN (SELECT month_end, customer_id, product_id, sum(balance) balance
              FROM fact_loan GROUP BY ALL) l
        USING (month_end, customer_id, product_id)""",
    )
    assert diff < 0.01


def test_wealthier_segments_hold_more(con):
    median = dict(
        q(
            con,
            f"""SELECT segment, median(total) FROM (
                SELECT c.segment, b.customer_id, sum(end_balance) total
                FROM fact_balance_monthly b JOIN dim_customer c USING (customer_id)
                WHERE month_end = DATE '{AS_OF}' AND product_id IN (1, 2, 3, 4, 11, 12, 13, 14)
                GROUP BY ALL)
            GROUP BY 1""",
        )
    )
    assert median["private"] > 5 * median["affluent"] > 25 * median["mass"]


# -- loans -------------------------------------------------------------------------------


def test_loans(con):
    grades = {r[0] for r in q(con, "SELECT DISTINCT grade FROM fact_loan")}
    assert grades <= set(reference.LOAN_GRADES) and "正常" in grades
    assert 0.002 <= one(con, f"SELECT avg(({NPL})::INT) FROM fact_loan") <= 0.06
    assert one(con, f"SELECT sum(balance) FILTER ({NPL}) / sum(balance) FROM fact_loan") < 0.15
    assert none_of(
        con,
        "fact_loan",
        "balance <= 0 OR balance > contract_amount + 0.01 "
        "OR maturity_date <= start_date OR start_date > month_end",
    )
    # A contract keeps its attributes from month to month.
    changing = one(
        con,
        "SELECT count(*) FROM (SELECT contract_id FROM fact_loan GROUP BY 1 HAVING count(DISTINCT "
        "(customer_id, product_id, start_date, contract_amount, industry, collateral)) > 1)",
    )
    assert changing == 0
    assert none_of(con, "fact_loan", "(product_id IN (5, 6)) != (industry = '个人')")
    collateral = {r[0] for r in q(con, "SELECT DISTINCT collateral FROM fact_loan")}
    assert collateral <= {"房产抵押", "保证", "信用", "质押"}
    new_per_month = q(
        con,
        "SELECT month_end, count(DISTINCT contract_id) "
        "FILTER (start_date > month_end - INTERVAL 1 MONTH) FROM fact_loan GROUP BY 1",
    )
    assert sum(1 for _, n in new_per_month if n > 0) >= 20
    # Grades migrate: some contracts change grade over time.
    migrating = one(
        con,
        "SELECT count(*) FROM (SELECT contract_id FROM fact_loan "
        "GROUP BY 1 HAVING count(DISTINCT grade) > 1)",
    )
    assert migrating > 0


# -- transactions, channels, budget, external ------------------------------------------------


def test_transactions(con):
    first, last = q(con, "SELECT min(txn_date), max(txn_date) FROM fact_transaction")[0]
    assert first >= datetime.date(2025, 12, 1) and last <= AS_OF
    # txn_id follows date order.
    assert none_of(
        con,
        "(SELECT txn_date, lag(txn_date) OVER (ORDER BY txn_id) prev FROM fact_transaction)",
        "txn_date < prev",
    )
    assert none_of(con, "fact_transaction", "amount <= 0 OR round(amount, 2) != amount")
    directions = dict(
        q(
            con,
            "SELECT txn_type, string_agg(DISTINCT direction, ',' ORDER BY direction) "
            "FROM fact_transaction GROUP BY 1",
        )
    )
    assert directions == {
        "payroll": "in",
        "transfer": "in,out",
        "consumption": "out",
        "withdrawal": "out",
        "deposit": "in",
        "repayment": "out",
        "wealth_purchase": "out",
        "fee": "out",
    }
    counterparties = {
        r[0] for r in q(con, "SELECT DISTINCT counterparty_type FROM fact_transaction")
    }
    assert counterparties <= {"individual", "corporate", "government", "internal"}
    assert none_of(
        con,
        "fact_transaction",
        "txn_type = 'payroll' AND (day(txn_date) NOT BETWEEN 8 AND 15 "
        "OR counterparty_type != 'corporate')",
    )
    share = dict(
        q(con, "SELECT channel, count(*) / sum(count(*)) OVER () FROM fact_transaction GROUP BY 1")
    )
    assert set(share) == {"counter", "mobile", "online", "atm", "pos"}
    assert max(share, key=share.get) == "mobile" and share["mobile"] > 0.4
    counter = dict(
        q(
            con,
            "SELECT txn_date >= DATE '2026-09-01', avg((channel = 'counter')::INT) "
            "FROM fact_transaction WHERE txn_date < DATE '2026-03-01' "
            "OR txn_date >= DATE '2026-09-01' GROUP BY 1",
        )
    )
    assert counter[True] < counter[False]  # the counter declines


def test_short_term_fund_round_trips(con):
    """Large inflows followed within days by an outflow of most of the amount."""
    trips = one(
        con,
        """SELECT count(*) FROM fact_transaction i JOIN fact_transaction o
          ON o.customer_id = i.customer_id AND o.direction = 'out' AND o.txn_type = 'transfer'
         AND o.txn_date BETWEEN i.txn_date + 1 AND i.txn_date + 5
         AND o.amount BETWEEN 0.85 * i.amount AND i.amount
        WHERE i.direction = 'in' AND i.amount >= 20000""",
    )
    assert trips >= 10


def test_channel_usage_and_penetration(con):
    assert none_of(con, "fact_channel_usage", "logins <= 0 OR transactions < 0")
    channels = {r[0] for r in q(con, "SELECT DISTINCT channel FROM fact_channel_usage")}
    assert channels == {"mobile", "online", "wechat"}
    penetration = q(
        con,
        """SELECT b.month_end, count(DISTINCT u.customer_id) / count(DISTINCT b.customer_id)
        FROM fact_balance_monthly b LEFT JOIN fact_channel_usage u
          ON u.customer_id = b.customer_id AND u.month_end = b.month_end
         AND u.channel IN ('mobile', 'online')
        GROUP BY 1 ORDER BY 1""",
    )
    values = [p for _, p in penetration]
    assert all(0.5 <= p <= 0.85 for p in values)
    assert np.mean(values[-3:]) > np.mean(values[:3])


def test_budget_attainment_near_target(con):
    rows = df(
        con,
        """WITH actual AS (
            SELECT b.month_end, s.parent_id AS branch_id, sum(end_balance) actual
            FROM fact_balance_monthly b JOIN dim_branch s USING (branch_id)
            WHERE product_id IN (1, 2, 3, 4) GROUP BY ALL)
        SELECT actual / target AS attainment
        FROM actual JOIN fact_budget USING (month_end, branch_id)
        WHERE item = 'deposit_balance' AND target > 0""",
    )
    assert len(rows) == 12 * 24
    assert rows.attainment.between(0.85, 1.15).all()
    items = {r[0] for r in q(con, "SELECT DISTINCT item FROM fact_budget")}
    assert items == {"deposit_balance", "loan_balance", "new_customers"}


def test_external_data(con):
    corporate = one(con, "SELECT count(*) FROM dim_customer WHERE customer_type = 'corporate'")
    matched, unmatched = q(
        con, "SELECT count(customer_id), count(*) - count(customer_id) FROM ext_company_registry"
    )[0]
    assert matched == corporate
    assert 0.2 <= unmatched / corporate <= 0.4
    assert none_of(con, "ext_company_registry", "customer_id IS NULL AND branch_id IS NOT NULL")
    reg = df(con, "SELECT * FROM ext_company_registry")
    assert reg.credit_code.map(credit_code_valid).all()
    assert reg.status.value_counts(normalize=True)["存续"] > 0.8
    assert (reg.lawsuit_count == 0).mean() > 0.6
    assert reg.legal_representative.str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    news = df(con, "SELECT * FROM ext_industry_news")
    assert len(news) >= 50
    assert news.sentiment.between(-1, 1).all()
    assert news.publish_date.min() >= pd.Timestamp("2024-12-01")


# -- churn emerges from behaviour ----------------------------------------------------------


@pytest.fixture(scope="module")
def monthly(con):
    """Retail customer x month matrices: deposits, transactions, payroll, logins."""
    months = [
        r[0] for r in q(con, "SELECT date::VARCHAR FROM dim_date WHERE is_month_end ORDER BY 1")
    ]
    ids = [
        r[0]
        for r in q(
            con, "SELECT customer_id FROM dim_customer WHERE customer_type = 'retail' ORDER BY 1"
        )
    ]

    def matrix(select, table, where="TRUE"):
        frame = df(
            con,
            f"SELECT customer_id, {select} FROM {table} WHERE {where} GROUP BY ALL",
        )
        out = frame.pivot(index="customer_id", columns="m", values="v")
        return out.reindex(index=ids, columns=months).fillna(0).to_numpy()

    by_day = "last_day(txn_date)::VARCHAR m, count(*) v"
    return {
        "dep": matrix(
            "month_end::VARCHAR m, sum(end_balance) v", "fact_balance_monthly", "product_id <= 4"
        ),
        "txn": matrix(by_day, "fact_transaction"),
        "pay": matrix(by_day, "fact_transaction", "txn_type = 'payroll'"),
        "logins": matrix("month_end::VARCHAR m, sum(logins) v", "fact_channel_usage"),
    }


def _churn_months(dep):
    """First month whose deposits are below 2% of the customer's earlier peak, or -1."""
    peak = np.maximum.accumulate(dep, axis=1)
    prev_peak = np.concatenate([np.zeros((len(dep), 1)), peak[:, :-1]], axis=1)
    gone = (dep < 0.02 * prev_peak) & (prev_peak > 1000)
    return np.where(gone.any(axis=1), gone.argmax(axis=1), -1)


def test_churn_share(monthly):
    churn = _churn_months(monthly["dep"])
    assert 0.08 <= (churn >= 0).mean() <= 0.22
    # Spread over the history, more of it in the last twelve months.
    months = churn[churn >= 0]
    assert len(set(months)) >= 10
    assert (months >= 12).mean() > 0.5


def test_churners_behave_differently_before_churn(monthly):
    churn = _churn_months(monthly["dep"])
    first_txn = 12  # transactions cover the last 12 of the 24 months
    rows = np.flatnonzero(churn >= first_txn + 6)
    assert len(rows) >= 20
    c = churn[rows]

    def window(m, lo, hi):
        return np.stack([m[rows, c + j] for j in range(lo, hi)], axis=1).sum(axis=1)

    # Transactions and logins in the 3 months before churn vs the 3 months before that.
    txn_recent, txn_before = window(monthly["txn"], -3, 0), window(monthly["txn"], -6, -3)
    log_recent, log_before = window(monthly["logins"], -3, 0), window(monthly["logins"], -6, -3)
    assert txn_recent.sum() < 0.8 * txn_before.sum()
    assert log_recent.sum() < 0.75 * log_before.sum()
    # Everyone else shows no such fall over the last six months.
    others = np.flatnonzero(churn < 0)
    txn = monthly["txn"][others]
    assert txn[:, -3:].sum() > 0.9 * txn[:, -6:-3].sum()
    # After churn, transactions nearly stop and the money does not come back.
    after = np.flatnonzero((churn >= first_txn) & (churn < 23))
    assert np.mean([monthly["txn"][i, churn[i] + 1 :].mean() for i in after]) < 0.5
    dep = monthly["dep"]
    peak = np.array([dep[i, : churn[i]].max() for i in after])
    stays = np.array([dep[i, churn[i] :].max() for i in after])
    assert np.mean(stays < 0.03 * peak) > 0.95

    # Payroll is lost before churn far more often than otherwise.
    had = window(monthly["pay"], -6, -3) > 0
    lost = window(monthly["pay"], -1, 1) == 0
    assert had.sum() >= 3
    base_had = (monthly["pay"][others][:, 12:15] > 0).all(axis=1)
    base_loss = (monthly["pay"][others][base_had, -1] == 0).mean()
    assert lost[had].mean() > 0.5 and lost[had].mean() > 4 * base_loss


def test_churn_label_is_not_trivial(monthly):
    """Some deposit collapses come from customers who do not churn (dips, big purchases)."""
    dep = monthly["dep"]
    m = np.arange(6, 21)
    label = (dep[:, m + 3] < 0.2 * dep[:, m]) & (dep[:, m] >= 1000)
    assert 0.01 < label.mean() < 0.1
    assert label[_churn_months(dep) < 0].any()


# -- determinism, progress, atomic write -----------------------------------------------------


def _table_hash(con, alias, table):
    return one(
        con,
        "SELECT md5(string_agg(CAST(t AS VARCHAR), '\n' ORDER BY CAST(t AS VARCHAR))) "
        f"FROM {alias}.{table} t",
    )


def test_deterministic_and_silent(warehouse, tmp_path, capfd):
    path, rows = warehouse
    other = str(tmp_path / "again.duckdb")
    capfd.readouterr()
    again = generate_warehouse(other, scale=SCALE, seed=SEED, progress=False, as_of=AS_OF)
    assert capfd.readouterr().err == ""
    assert again == rows
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{other}' AS b (READ_ONLY)")
    for table in schema.TABLES:
        assert _table_hash(con, "a", table) == _table_hash(con, "b", table), table
    con.close()
    assert not os.path.exists(other + ".tmp")


def test_progress_bar_and_overwrite(tmp_path, capfd):
    path = str(tmp_path / "small.duckdb")
    with open(path + ".tmp", "w") as stale:  # a stale temporary file is replaced
        stale.write("junk")
    with open(path, "w") as old:  # an existing file is overwritten
        old.write("old")
    capfd.readouterr()
    rows = generate_warehouse(path, scale=0.002, seed=SEED + 1, progress=True, as_of=AS_OF)
    err = capfd.readouterr().err
    assert "fact_transaction" in err and "100%" in err
    assert rows["dim_customer"] == 200
    assert not os.path.exists(path + ".tmp")
    with duckdb.connect(path, read_only=True) as con:
        assert one(con, "SELECT count(*) FROM dim_customer") == 200


def test_failure_keeps_the_previous_file(tmp_path, monkeypatch):
    import datasources.generator as gen

    path = str(tmp_path / "keep.duckdb")
    with open(path, "w") as old:
        old.write("previous")

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(gen, "build_channel_usage", boom)
    with pytest.raises(RuntimeError, match="boom"):
        generate_warehouse(path, scale=0.002, progress=False)
    with open(path) as kept:
        assert kept.read() == "previous"
    assert not os.path.exists(path + ".tmp")


def test_invalid_arguments(tmp_path):
    path = str(tmp_path / "x.duckdb")
    with pytest.raises(ValueError, match="month-end"):
        generate_warehouse(path, scale=0.002, progress=False, as_of=datetime.date(2026, 11, 15))
    with pytest.raises(ValueError):
        generate_warehouse(path, scale=0, progress=False)
    assert not os.path.exists(path) and not os.path.exists(path + ".tmp")
