"""The customer population: static traits, latent propensities and `dim_customer`.

Customers are numbered in order of their open date. Traits drawn here (segment, age,
occupation, digital propensity, activity, fee burden, wealth, salary) later drive holdings,
churn hazard, balances and transactions, so behaviour follows from who the customer is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasources.generator import text
from datasources.generator.dates import Timeline
from datasources.reference import SUB_BRANCHES

CUSTOMERS_AT_SCALE_1 = 100_000
FIRST_CUSTOMER_ID = 1_000_001
CORPORATE_SHARE = 0.08

SEGMENTS = ["mass", "affluent", "private", "small_business", "corporate"]
MASS, AFFLUENT, PRIVATE, SMALL_BUSINESS, CORPORATE = range(5)
AGE_BANDS = ["18-25", "26-35", "36-45", "46-55", "56-65", "65+", "n/a"]
AGE_LOW = np.array([18, 26, 36, 46, 56, 66])
AGE_HIGH = np.array([25, 35, 45, 55, 65, 85])
AGE_P = np.array([0.12, 0.24, 0.22, 0.18, 0.14, 0.10])
GENDERS = ["M", "F", "n/a"]
RISK_GRADES = ["R1", "R2", "R3", "R4", "R5"]
# Retail occupations; corporate customers carry their industry in `occupation`.
OCCUPATIONS = [
    "企业职员", "公务员", "教师", "医生", "工程师", "销售人员", "事业单位职员",
    "个体工商户", "私营企业主", "自由职业", "学生", "退休",
]  # fmt: skip
SELF_EMPLOYED = (7, 8)  # 个体工商户, 私营企业主
STUDENT, RETIRED = 10, 11
# Occupation probabilities per age band (rows) over OCCUPATIONS (columns).
OCC_P = np.array([
    [0.30, 0.03, 0.03, 0.02, 0.08, 0.08, 0.03, 0.03, 0.00, 0.08, 0.32, 0.00],
    [0.36, 0.07, 0.06, 0.05, 0.12, 0.09, 0.07, 0.07, 0.03, 0.08, 0.00, 0.00],
    [0.33, 0.08, 0.07, 0.05, 0.10, 0.08, 0.08, 0.10, 0.06, 0.05, 0.00, 0.00],
    [0.30, 0.09, 0.07, 0.05, 0.07, 0.06, 0.09, 0.12, 0.07, 0.04, 0.00, 0.04],
    [0.18, 0.07, 0.05, 0.04, 0.04, 0.03, 0.07, 0.09, 0.05, 0.03, 0.00, 0.35],
    [0.01, 0.00, 0.00, 0.01, 0.00, 0.00, 0.00, 0.01, 0.01, 0.01, 0.00, 0.95],
])  # fmt: skip
# Chance of receiving payroll through the bank (代发薪), per occupation.
PAYROLL_P = np.array([0.50, 0.66, 0.64, 0.62, 0.50, 0.36, 0.64, 0.02, 0.04, 0.03, 0.0, 0.0])
# Corporate industries (same order as text.INDUSTRIES) and their shares.
INDUSTRY_P = np.array([0.25, 0.25, 0.06, 0.10, 0.14, 0.10, 0.10])
BIG_CITIES = {"北京", "上海", "深圳"}


@dataclass
class Population:
    customer_id: np.ndarray
    corp: np.ndarray  # bool
    segment: np.ndarray  # index into SEGMENTS
    age_band: np.ndarray  # index into AGE_BANDS (6 = n/a)
    age: np.ndarray  # years at as_of (0 for corporate)
    male: np.ndarray  # bool (False for corporate)
    occupation: np.ndarray  # index into OCCUPATIONS, or 12 + industry for corporate
    industry: np.ndarray  # index into text.INDUSTRIES (corporate and self-employed), else -1
    risk: np.ndarray  # 0..4 -> R1..R5
    open_date: np.ndarray  # datetime64[D]
    open_k: np.ndarray  # month index of the open date (negative = before the simulation)
    sub: np.ndarray  # index into SUB_BRANCHES
    rm: np.ndarray  # index into rm_ids
    rm_ids: list[str]
    digital: np.ndarray  # 0..1 propensity to use mobile / online channels
    activity: np.ndarray  # expected transactions per month
    fee: np.ndarray  # 0..1 fee burden
    wealth: np.ndarray  # financial assets (retail) / deposits (corporate), CNY
    salary: np.ndarray  # monthly salary if paid through the bank, CNY
    payroll_p: np.ndarray  # chance of payroll at the start
    city_factor: np.ndarray  # price level of the city (loan sizes, salaries)

    def __len__(self) -> int:
        return len(self.customer_id)


def customer_count(scale: float) -> int:
    return max(50, round(CUSTOMERS_AT_SCALE_1 * scale))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def build_population(rng: np.random.Generator, n: int, tl: Timeline) -> Population:
    corp = rng.random(n) < CORPORATE_SHARE
    n_ret = int((~corp).sum())

    # Age (retail) and the open date, which cannot precede the customer's 16th birthday.
    age_band = np.full(n, 6)
    age_band[~corp] = rng.choice(6, size=n_ret, p=AGE_P)
    age = np.zeros(n, dtype=np.int64)
    ab = age_band[~corp]
    age[~corp] = AGE_LOW[ab] + (rng.random(n_ret) * (AGE_HIGH[ab] - AGE_LOW[ab] + 1)).astype(int)
    years = np.where(rng.random(n) < 0.16, rng.random(n) * 2.0, 2.0 + 13.0 * rng.random(n) ** 1.4)
    years = np.where(
        corp, years, np.minimum(years, np.maximum(age - 16, 0.3) * rng.random(n) ** 0.3)
    )
    open_date = np.datetime64(tl.as_of, "D") - np.round(years * 365.25).astype("timedelta64[D]")

    # Number customers by open date; every other trait is drawn in that order.
    order = np.argsort(open_date, kind="stable")
    corp, age_band, age, open_date = corp[order], age_band[order], age[order], open_date[order]
    retail = ~corp

    segment = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    # Older customers are more often affluent / private.
    lift = np.array([0.45, 0.8, 1.1, 1.3, 1.25, 1.0, 1.0])[age_band]
    p_priv, p_aff = 0.03 * lift, 0.17 * lift
    segment[retail] = np.where(
        u[retail] < p_priv[retail],
        PRIVATE,
        np.where(u[retail] < p_priv[retail] + p_aff[retail], AFFLUENT, MASS),
    )
    segment[corp] = np.where(u[corp] < 0.3, CORPORATE, SMALL_BUSINESS)

    male = retail & (rng.random(n) < 0.51)
    occupation = np.empty(n, dtype=np.int64)
    cum = OCC_P.cumsum(axis=1)
    cum /= cum[:, -1:]
    occ_u = rng.random(n)
    occupation[retail] = (occ_u[retail, None] > cum[age_band[retail]]).sum(axis=1)
    owner = retail & (segment == PRIVATE) & (rng.random(n) < 0.35) & (occupation != RETIRED)
    occupation[owner] = 8  # 私营企业主
    industry = np.full(n, -1)
    industry[corp] = rng.choice(len(text.INDUSTRIES), size=int(corp.sum()), p=INDUSTRY_P)
    self_emp = np.isin(occupation, SELF_EMPLOYED) & retail
    # The self-employed mostly trade, cater and haul.
    industry[self_emp] = rng.choice(
        len(text.INDUSTRIES), size=int(self_emp.sum()), p=[0.1, 0.4, 0.0, 0.1, 0.05, 0.25, 0.1]
    )
    occupation[corp] = len(OCCUPATIONS) + industry[corp]

    risk = rng.choice(5, size=n, p=[0.15, 0.35, 0.30, 0.15, 0.05])
    risk = (
        risk
        + ((segment == PRIVATE) & (rng.random(n) < 0.4))
        - ((age_band == 5) & (rng.random(n) < 0.5))
    )
    risk = np.clip(risk, 0, 4)

    weights = np.array([b.weight for b in SUB_BRANCHES])
    sub = rng.choice(len(SUB_BRANCHES), size=n, p=weights / weights.sum())
    rm, rm_ids = _relationship_managers(rng, sub)
    city_factor = np.array(
        [
            1.35 if b.city_zh in BIG_CITIES else 1.1 if b.city_zh in {"广州", "杭州"} else 0.9
            for b in SUB_BRANCHES
        ]
    )[sub]

    digital_base = np.array([2.2, 2.0, 1.4, 0.6, -0.2, -1.1, 0.8])[age_band]
    digital = _sigmoid(digital_base + rng.normal(0, 0.9, n))
    act_median = np.array([3.4, 4.8, 5.5, 5.5, 8.0])[segment]
    activity = act_median * rng.lognormal(0, 0.55, n) * (0.6 + 0.8 * digital)
    fee = rng.random(n) ** 2.0 * np.where(segment == MASS, 1.0, 0.6)

    wealth_median = np.array([18_000, 380_000, 7_500_000, 400_000, 6_000_000])[segment]
    wealth_sigma = np.array([1.15, 0.45, 0.45, 1.0, 1.1])[segment]
    wealth = wealth_median * rng.lognormal(0, wealth_sigma, n) * np.sqrt(city_factor)
    salary_median = np.array([6_500, 16_000, 42_000, 0, 0])[segment]
    salary = np.round(salary_median * rng.lognormal(0, 0.4, n) * city_factor, -1)
    payroll_p = np.where(retail, PAYROLL_P[np.minimum(occupation, len(OCCUPATIONS) - 1)], 0.0)

    return Population(
        customer_id=FIRST_CUSTOMER_ID + np.arange(n, dtype=np.int64),
        corp=corp,
        segment=segment,
        age_band=age_band,
        age=age,
        male=male,
        occupation=occupation,
        industry=industry,
        risk=risk,
        open_date=open_date,
        open_k=tl.month_index(open_date),
        sub=sub,
        rm=rm,
        rm_ids=rm_ids,
        digital=digital,
        activity=activity,
        fee=fee,
        wealth=wealth,
        salary=salary,
        payroll_p=payroll_p,
        city_factor=city_factor,
    )


def _relationship_managers(rng, sub):
    """About one relationship manager per 300 customers of each sub-branch, numbered per branch."""
    counts = np.bincount(sub, minlength=len(SUB_BRANCHES))
    n_rm = np.maximum(1, np.round(counts / 300).astype(int))
    ids, offset, next_no = [], np.zeros(len(SUB_BRANCHES), dtype=int), {}
    for i, b in enumerate(SUB_BRANCHES):
        offset[i] = len(ids)
        start = next_no.get(b.parent_id, 1)
        ids.extend(f"RM-{b.parent_id}-{start + j:03d}" for j in range(n_rm[i]))
        next_no[b.parent_id] = start + n_rm[i]
    rm = offset[sub] + (rng.random(len(sub)) * n_rm[sub]).astype(int)
    return rm, ids


def dim_customer(rng: np.random.Generator, pop: Population, is_payroll: np.ndarray, tl: Timeline):
    """The `dim_customer` columns, with PII drawn from the `rng` stream."""
    n = len(pop)
    corp = pop.corp
    # Birth date consistent with the age at as_of.
    birth = np.datetime64(tl.as_of, "D") - np.floor(pop.age * 365.25 + rng.random(n) * 364).astype(
        "timedelta64[D]"
    )
    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970
    local = rng.random(n) < 0.7
    other = np.array([a for a, _ in text.OTHER_AREAS])[rng.integers(0, len(text.OTHER_AREAS), n)]
    area = np.where(local, text.SUB_AREA[pop.sub], other)
    city = text.pick(text.CITIES, text.SUB_CITY_IDX[pop.sub])

    person = text.person_names(rng, pop.male, birth_year)
    company = text.company_names(rng, city, np.maximum(pop.industry, 0), pop.segment == CORPORATE)
    corp_arr = pa.array(corp)
    id_person = text.id_numbers(rng, area, birth, pop.male)
    id_company = text.credit_codes(rng, text.SUB_AREA[pop.sub], pop.segment == SMALL_BUSINESS)
    gender = np.where(corp, 2, np.where(pop.male, 0, 1))
    return {
        "customer_id": pop.customer_id,
        "customer_type": text.pick(["retail", "corporate"], corp.astype(int)),
        "segment": text.pick(SEGMENTS, pop.segment),
        "age_band": text.pick(AGE_BANDS, pop.age_band),
        "gender": text.pick(GENDERS, gender),
        "occupation": text.pick(OCCUPATIONS + text.INDUSTRIES, pop.occupation),
        "is_payroll": is_payroll,
        "risk_grade": text.pick(RISK_GRADES, pop.risk),
        "open_date": pop.open_date,
        "branch_id": text.pick(text.SUB_IDS, pop.sub),
        "rm_id": text.pick(pop.rm_ids, pop.rm),
        "name": pc.if_else(corp_arr, company, person),
        "id_number": pc.if_else(corp_arr, id_company, id_person),
        "phone": text.phones(rng, n),
        "address": text.addresses(rng, pop.sub, corp),
    }
