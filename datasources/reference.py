"""Reference data of the synthetic bank: its branch hierarchy and product shelf.

Static and small, so that the warehouse generator and the portal store (which mirrors
`dim_branch`) agree on the same ids without reading each other.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_OFFICE_ID = "HO"


@dataclass(frozen=True)
class Branch:
    branch_id: str
    name_zh: str
    name_en: str
    level: str  # head_office | branch | sub_branch
    parent_id: str | None
    city_zh: str
    city_en: str
    region_zh: str
    region_en: str
    latitude: float
    longitude: float
    weight: float  # share of customers (sub-branches only)


# (id, city zh, city en, region zh, region en, lat, lon, size weight, sub-branch districts)
_BRANCHES = [
    (
        "BJ",
        "北京",
        "Beijing",
        "华北",
        "North",
        39.9042,
        116.4074,
        1.6,
        [
            ("CY", "朝阳", "Chaoyang"),
            ("HD", "海淀", "Haidian"),
            ("XC", "西城", "Xicheng"),
            ("DC", "东城", "Dongcheng"),
            ("FT", "丰台", "Fengtai"),
        ],
    ),
    (
        "SH",
        "上海",
        "Shanghai",
        "华东",
        "East",
        31.2304,
        121.4737,
        1.6,
        [
            ("PD", "浦东", "Pudong"),
            ("HP", "黄浦", "Huangpu"),
            ("XH", "徐汇", "Xuhui"),
            ("JA", "静安", "Jing'an"),
            ("MH", "闵行", "Minhang"),
        ],
    ),
    (
        "GZ",
        "广州",
        "Guangzhou",
        "华南",
        "South",
        23.1291,
        113.2644,
        1.2,
        [
            ("TH", "天河", "Tianhe"),
            ("YX", "越秀", "Yuexiu"),
            ("HZ", "海珠", "Haizhu"),
            ("BY", "白云", "Baiyun"),
        ],
    ),
    (
        "SZ",
        "深圳",
        "Shenzhen",
        "华南",
        "South",
        22.5431,
        114.0579,
        1.3,
        [
            ("FT", "福田", "Futian"),
            ("NS", "南山", "Nanshan"),
            ("LH", "罗湖", "Luohu"),
            ("BA", "宝安", "Bao'an"),
        ],
    ),
    (
        "HZ",
        "杭州",
        "Hangzhou",
        "华东",
        "East",
        30.2741,
        120.1551,
        1.1,
        [
            ("XH", "西湖", "Xihu"),
            ("SC", "上城", "Shangcheng"),
            ("BJ", "滨江", "Binjiang"),
            ("XS", "萧山", "Xiaoshan"),
        ],
    ),
    (
        "NJ",
        "南京",
        "Nanjing",
        "华东",
        "East",
        32.0603,
        118.7969,
        0.9,
        [("GL", "鼓楼", "Gulou"), ("XW", "玄武", "Xuanwu"), ("JN", "江宁", "Jiangning")],
    ),
    (
        "SU",
        "苏州",
        "Suzhou",
        "华东",
        "East",
        31.2989,
        120.5853,
        0.8,
        [("GS", "姑苏", "Gusu"), ("YQ", "园区", "Industrial Park"), ("WZ", "吴中", "Wuzhong")],
    ),
    (
        "TJ",
        "天津",
        "Tianjin",
        "华北",
        "North",
        39.3434,
        117.3616,
        0.8,
        [("HP", "和平", "Heping"), ("NK", "南开", "Nankai"), ("BH", "滨海", "Binhai")],
    ),
    (
        "CD",
        "成都",
        "Chengdu",
        "西南",
        "Southwest",
        30.5728,
        104.0668,
        1.0,
        [
            ("JJ", "锦江", "Jinjiang"),
            ("WH", "武侯", "Wuhou"),
            ("GX", "高新", "Hi-tech Zone"),
            ("QY", "青羊", "Qingyang"),
        ],
    ),
    (
        "CQ",
        "重庆",
        "Chongqing",
        "西南",
        "Southwest",
        29.5630,
        106.5516,
        0.9,
        [("YZ", "渝中", "Yuzhong"), ("JB", "江北", "Jiangbei"), ("NA", "南岸", "Nan'an")],
    ),
    (
        "WH",
        "武汉",
        "Wuhan",
        "华中",
        "Central",
        30.5928,
        114.3055,
        0.9,
        [("JA", "江岸", "Jiang'an"), ("WC", "武昌", "Wuchang"), ("HS", "洪山", "Hongshan")],
    ),
    (
        "XA",
        "西安",
        "Xi'an",
        "西北",
        "Northwest",
        34.3416,
        108.9398,
        0.7,
        [("YT", "雁塔", "Yanta"), ("BL", "碑林", "Beilin"), ("WY", "未央", "Weiyang")],
    ),
]


def _build_branches() -> tuple[Branch, ...]:
    out = [
        Branch(
            HEAD_OFFICE_ID,
            "总行",
            "Head Office",
            "head_office",
            None,
            "北京",
            "Beijing",
            "总行",
            "Head Office",
            39.9139,
            116.3917,
            0.0,
        )
    ]
    for code, city_zh, city_en, reg_zh, reg_en, lat, lon, weight, subs in _BRANCHES:
        out.append(
            Branch(
                code,
                f"{city_zh}分行",
                f"{city_en} Branch",
                "branch",
                HEAD_OFFICE_ID,
                city_zh,
                city_en,
                reg_zh,
                reg_en,
                lat,
                lon,
                0.0,
            )
        )
        for i, (sub, d_zh, d_en) in enumerate(subs):
            # Spread sub-branches a little around the city centre, deterministically.
            out.append(
                Branch(
                    f"{code}-{sub}",
                    f"{city_zh}{d_zh}支行",
                    f"{city_en} {d_en} Sub-branch",
                    "sub_branch",
                    code,
                    city_zh,
                    city_en,
                    reg_zh,
                    reg_en,
                    round(lat + 0.03 * ((i % 3) - 1), 4),
                    round(lon + 0.04 * ((i // 3) - 0.5), 4),
                    weight / len(subs) * (1.3 if i == 0 else 1.0),
                )
            )
    return tuple(out)


BRANCHES: tuple[Branch, ...] = _build_branches()
BRANCH_BY_ID = {b.branch_id: b for b in BRANCHES}
SUB_BRANCHES = tuple(b for b in BRANCHES if b.level == "sub_branch")


def descendants(branch_id: str) -> set[str]:
    """Return the branch and every branch below it in the hierarchy."""
    children: dict[str | None, list[str]] = {}
    for b in BRANCHES:
        children.setdefault(b.parent_id, []).append(b.branch_id)
    found, stack = set(), [branch_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


@dataclass(frozen=True)
class Product:
    product_id: int
    code: str
    name_zh: str
    name_en: str
    category: str  # deposit | loan | card | wealth | fund
    subcategory: str
    is_asset: bool  # True for the bank's assets (loans, card receivables)
    rate: float  # annual interest or expected return, percent


PRODUCTS: tuple[Product, ...] = (
    Product(1, "DEP-CUR", "活期存款", "Current deposit", "deposit", "current", False, 0.2),
    Product(2, "DEP-T3M", "三个月定期", "3-month time deposit", "deposit", "time", False, 1.05),
    Product(3, "DEP-T1Y", "一年期定期", "1-year time deposit", "deposit", "time", False, 1.35),
    Product(4, "DEP-T3Y", "三年期定期", "3-year time deposit", "deposit", "time", False, 1.75),
    Product(5, "LN-MTG", "个人住房贷款", "Mortgage", "loan", "mortgage", True, 3.5),
    Product(6, "LN-CON", "个人消费贷款", "Consumer loan", "loan", "consumer", True, 4.2),
    Product(7, "LN-BUS", "经营贷款", "Business loan", "loan", "business", True, 4.0),
    Product(
        8,
        "LN-COR",
        "对公流动资金贷款",
        "Corporate working-capital loan",
        "loan",
        "corporate",
        True,
        3.8,
    ),
    Product(9, "CC-STD", "标准信用卡", "Standard credit card", "card", "credit_card", True, 0.0),
    Product(10, "CC-PLT", "白金信用卡", "Platinum credit card", "card", "credit_card", True, 0.0),
    Product(11, "WM-R2", "稳健理财", "Conservative wealth product", "wealth", "wealth", False, 2.6),
    Product(12, "WM-R3", "进取理财", "Growth wealth product", "wealth", "wealth", False, 3.4),
    Product(13, "FD-BOND", "债券基金", "Bond fund", "fund", "fund", False, 3.0),
    Product(14, "FD-EQ", "股票基金", "Equity fund", "fund", "fund", False, 6.0),
)
PRODUCT_BY_ID = {p.product_id: p for p in PRODUCTS}

LOAN_GRADES = ("正常", "关注", "次级", "可疑", "损失")
NON_PERFORMING_GRADES = ("次级", "可疑", "损失")


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


DEPARTMENTS: tuple[Department, ...] = (
    Department("corporate", "公司业务部", "Corporate Banking"),
    Department("ebank", "电子银行部", "E-banking"),
    Department("finance", "财务部", "Finance"),
    Department("retail", "个金部", "Retail Banking"),
    Department("risk", "风险管理部", "Risk Management"),
    Department("tech", "科技部", "Technology"),
)
DEPARTMENT_BY_CODE = {d.code: d for d in DEPARTMENTS}
