"""Budgets and external data: `fact_budget`, `ext_company_registry`, `ext_industry_news`."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa

from datasources.generator import text
from datasources.generator.balances import BalanceResult
from datasources.generator.customers import CORPORATE, SMALL_BUSINESS, Population
from datasources.generator.dates import Timeline
from datasources.generator.holdings import LOANS, Holdings
from datasources.reference import BRANCHES, SUB_BRANCHES

BUDGET_ITEMS = ["deposit_balance", "loan_balance", "new_customers"]
NEWS_SOURCES = [
    "新华财经",
    "证券时报",
    "第一财经",
    "财新网",
    "经济日报",
    "21世纪经济报道",
    "中国证券报",
    "上海证券报",
]
REGISTRY_STATUS = ["存续", "注销", "吊销"]

# Title templates per industry: (positive, negative, neutral).
NEWS_TEMPLATES = {
    "制造业": (
        [
            "{month}月制造业PMI升至{pmi}，{city}高端装备订单明显回暖",
            "{city}智能制造产业集群获政策支持，龙头企业扩产",
        ],
        [
            "原材料价格上涨挤压利润，{city}部分中小制造企业经营承压",
            "{month}月制造业PMI回落至{pmi}，外需走弱",
        ],
        ["{city}召开制造业转型升级推进会", "工信部发布制造业数字化转型指引"],
    ),
    "批发零售": (
        [
            "{month}月社会消费品零售总额同比增长{pct}%，消费持续回暖",
            "{city}商圈客流创新高，零售企业销售额增长",
        ],
        ["消费需求偏弱，{city}部分批发商库存积压", "电商冲击加剧，传统零售门店关闭潮延续"],
        ["商务部部署促消费系列活动", "{city}发布商贸流通业发展规划"],
    ),
    "房地产": (
        [
            "{city}优化住房限购政策，{month}月新房成交环比上升",
            "保交楼稳步推进，房企融资环境边际改善",
        ],
        [
            "{month}月{city}商品房销售面积同比下降{pct}%，房企资金链承压",
            "又一房企债务展期，行业风险持续暴露",
        ],
        ["住建部召开房地产市场平稳健康发展座谈会", "{city}发布年度住宅用地供应计划"],
    ),
    "建筑业": (
        ["专项债发行提速，{city}重大基建项目集中开工", "建筑业新签合同额同比增长{pct}%"],
        ["工程款拖欠问题突出，{city}部分建筑企业回款困难", "基建投资增速放缓，建筑企业订单下滑"],
        ["住建部推进建筑业工业化、数字化转型", "{city}公布年度重点建设项目清单"],
    ),
    "信息技术": (
        ["{city}数字经济核心产业增加值增长{pct}%", "人工智能应用加速落地，软件企业营收创新高"],
        ["科技企业融资遇冷，{city}部分初创公司裁员", "芯片供应波动，电子信息企业交付延迟"],
        ["工信部发布软件和信息技术服务业运行情况", "{city}举办数字经济创新发展大会"],
    ),
    "住宿餐饮": (
        ["假期出游火热，{city}酒店入住率同比提升{pct}%", "餐饮消费回暖，连锁品牌加速开店"],
        ["客流不及预期，{city}部分餐饮门店闭店", "成本上升叠加需求疲软，住宿业利润下滑"],
        ["文旅部发布假日旅游市场情况", "{city}出台促进餐饮业高质量发展措施"],
    ),
    "交通运输": (
        ["{month}月社会物流总额同比增长{pct}%，运输需求回升", "{city}港口集装箱吞吐量创新高"],
        ["运价持续低位，{city}中小物流企业经营困难", "燃油成本上升，货运企业利润承压"],
        ["交通运输部部署降低全社会物流成本工作", "{city}推进综合交通枢纽建设"],
    ),
}


def build_budget(
    rng: np.random.Generator, pop: Population, hold: Holdings, bal: BalanceResult, tl: Timeline
) -> dict:
    branches = [b for b in BRANCHES if b.level == "branch"]
    parent = np.array([[b.branch_id for b in branches].index(s.parent_id) for s in SUB_BRANCHES])
    cust_branch = parent[pop.sub]
    months = np.arange(tl.first_out, tl.n_months)
    nb = len(branches)
    loan = np.isin(hold.product, LOANS)
    rows = []
    for k in months:
        dep = np.bincount(cust_branch, weights=bal.deposit_total[:, k], minlength=nb)
        lb = np.bincount(cust_branch[hold.cust[loan]], weights=bal.end[loan, k], minlength=nb)
        new = np.bincount(cust_branch[pop.open_k == k], minlength=nb).astype(float)
        rows.append(np.stack([dep, lb, new], axis=1))
    actual = np.stack(rows)  # (T, branches, items)
    target = actual * np.clip(rng.normal(1.0, 0.045, actual.shape), 0.9, 1.1)
    target[..., :2] = np.round(target[..., :2], -4)
    target[..., 2] = np.maximum(np.round(target[..., 2]), 1)
    kk, bb, ii = np.indices(actual.shape).reshape(3, -1)
    return {
        "month_end": tl.month_end[months][kk],
        "branch_id": text.pick([b.branch_id for b in branches], bb),
        "item": text.pick(BUDGET_ITEMS, ii),
        "target": target.reshape(-1),
    }


def build_registry(
    rng: np.random.Generator, pop: Population, customer: dict, npl: np.ndarray, tl: Timeline
) -> dict:
    """One row per corporate customer plus about 30% companies that are not customers."""
    corp = np.flatnonzero(pop.corp)
    nm = len(corp)
    nu = max(1, round(nm * 0.3))
    n = nm + nu
    seg = np.concatenate(
        [pop.segment[corp], np.where(rng.random(nu) < 0.3, CORPORATE, SMALL_BUSINESS)]
    )
    industry = np.concatenate([pop.industry[corp], rng.choice(len(text.INDUSTRIES), size=nu)])
    # Unmatched companies: in the bank's cities or elsewhere in China.
    local = rng.random(nu) < 0.6
    sub_u = rng.integers(0, len(SUB_BRANCHES), nu)
    other = rng.integers(0, len(text.OTHER_AREAS), nu)
    area_u = np.where(
        local, text.SUB_AREA[sub_u], np.array([a for a, _ in text.OTHER_AREAS])[other]
    )
    province_names = [text.PROVINCE[c] for c in text.CITIES] + [p for _, p in text.OTHER_AREAS]
    province_u = np.where(local, text.SUB_CITY_IDX[sub_u], len(text.CITIES) + other)
    other_city = ["石家庄", "郑州", "长沙", "合肥", "济南", "南昌", "南宁", "沈阳", "长春", "哈尔滨",
                  "福州", "昆明", "贵阳", "兰州", "太原", "海口"]  # fmt: skip
    city_u = text.pick(text.CITIES + other_city, province_u)
    name_u = text.company_names(rng, city_u, industry[nm:], seg[nm:] == CORPORATE)
    code_u = text.credit_codes(rng, area_u, seg[nm:] == SMALL_BUSINESS)
    province = np.concatenate([text.SUB_CITY_IDX[pop.sub[corp]], province_u])

    capital_median = np.where(seg == CORPORATE, 50_000_000, 1_000_000)
    capital = np.maximum(np.round(capital_median * rng.lognormal(0, 0.9, n), -4), 100_000.0)
    years_before = rng.uniform(0.5, 12.0, n)
    open_m = np.concatenate([pop.open_date[corp], np.full(nu, np.datetime64(tl.as_of, "D"))])
    established = open_m - np.round(years_before * 365.25).astype("timedelta64[D]")
    u = rng.random(n)
    matched = np.arange(n) < nm
    status = np.where(matched, np.where(u < 0.98, 0, np.where(u < 0.99, 1, 2)),
                      np.where(u < 0.85, 0, np.where(u < 0.95, 1, 2)))  # fmt: skip
    trouble = np.concatenate([npl[corp], np.zeros(nu, dtype=bool)])
    p_suit = np.where(trouble, 0.7, np.where(status == 2, 0.5, 0.15))
    lawsuits = np.where(rng.random(n) < p_suit, rng.geometric(np.where(trouble, 0.3, 0.55), n), 0)
    male = rng.random(n) < 0.8
    birth_year = rng.integers(1955, 1995, n)
    cust_ids = pa.array(
        np.concatenate([pop.customer_id[corp], np.zeros(nu, dtype=np.int64)]), mask=~matched
    )
    branch = pa.array(
        np.array(text.SUB_IDS, dtype=object)[
            np.concatenate([pop.sub[corp], np.zeros(nu, dtype=int)])
        ],
        type=pa.string(),
        mask=~matched,
    )
    names = pa.concat_arrays([customer["name"].take(pa.array(corp)), name_u])
    codes = pa.concat_arrays([customer["id_number"].take(pa.array(corp)), code_u])
    return {
        "company_id": np.arange(1, n + 1, dtype=np.int64),
        "customer_id": cust_ids,
        "company_name": names,
        "credit_code": codes,
        "legal_representative": text.person_names(rng, male, birth_year),
        "registered_capital": capital,
        "industry": text.pick(text.INDUSTRIES, industry),
        "province": text.pick(province_names, province),
        "established_date": established,
        "status": text.pick(REGISTRY_STATUS, status),
        "lawsuit_count": lawsuits.astype(np.int64),
        "branch_id": branch,
    }


def build_news(rng: np.random.Generator, scale: float, tl: Timeline) -> dict:
    n = max(50, round(300 * scale))
    first = tl.month_start[tl.first_out]
    span = int((tl.month_end[-1] - first).astype(int)) + 1
    dates = np.sort(first + rng.integers(0, span, n).astype("timedelta64[D]"))
    industry = rng.integers(0, len(text.INDUSTRIES), n)
    tone = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])  # positive, negative, neutral
    sentiment = np.select(
        [tone == 0, tone == 1],
        [rng.uniform(0.3, 0.95, n), rng.uniform(-0.95, -0.3, n)],
        rng.uniform(-0.2, 0.2, n),
    )
    pick_t = rng.integers(0, 2, n)
    city = rng.integers(0, len(text.CITIES), n)
    pct = rng.uniform(1.0, 15.0, n)
    titles = []
    for i in range(n):  # a few hundred rows: a plain loop is clearest
        template = NEWS_TEMPLATES[text.INDUSTRIES[industry[i]]][tone[i]][pick_t[i]]
        month = datetime.date.fromisoformat(str(dates[i])).month
        titles.append(
            template.format(
                city=text.CITIES[city[i]],
                month=month,
                pct=f"{pct[i]:.1f}",
                pmi=f"{(50.6 if tone[i] == 0 else 49.2) + pct[i] / 30:.1f}",
            )
        )
    return {
        "news_id": np.arange(1, n + 1, dtype=np.int64),
        "publish_date": dates,
        "industry": text.pick(text.INDUSTRIES, industry),
        "title": pa.array(titles, pa.string()),
        "sentiment": np.round(sentiment, 3),
        "source": text.pick(NEWS_SOURCES, rng.integers(0, len(NEWS_SOURCES), n)),
    }
