"""Chinese names, ID numbers, credit codes, phones, addresses and company names.

Everything is vectorised: numbers are assembled as ASCII byte matrices and turned into Arrow
string arrays in one go; Chinese strings are joined element-wise from small lookup arrays.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasources.reference import SUB_BRANCHES

# Common surnames, most frequent first (weights fall off like real frequency tables).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
) + ["欧阳", "司马", "诸葛", "上官"]
_SURNAME_W = 1.0 / (np.arange(len(SURNAMES)) + 6.0)
_SURNAME_W[-4:] = 0.002
SURNAME_P = _SURNAME_W / _SURNAME_W.sum()

# Given names by gender and birth cohort (born before 1975 / 1975-1994 / 1995 on).
GIVEN = {
    (
        "M",
        0,
    ): "建国 建华 建军 国强 振华 立新 永刚 德明 卫东 红军 志刚 海波 国栋 庆华 文明 长江 保国 "
    "福生 玉林 树林 春生 金龙",
    (
        "M",
        1,
    ): "伟 强 磊 军 洋 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 志强 志明 海涛 晓东 "
    "宏伟 文杰 鹏飞 建平 少华 俊 帆 旭 宁 龙 林 阳 亮 峰",
    ("M", 2): "子轩 浩然 宇航 俊杰 博文 天佑 一鸣 晨阳 家豪 子豪 思远 明轩 嘉诚 梓睿 浩宇 宇轩 "
    "皓轩 睿 泽宇 梓豪 子墨 奕辰 宇 浩 杰 鑫",
    ("F", 0): "秀英 桂英 玉兰 秀兰 淑珍 桂芳 淑华 玉梅 秋菊 月华 凤英 玉珍 丽华 美华 翠花 素芬 "
    "桂兰 淑英",
    (
        "F",
        1,
    ): "芳 娜 敏 静 丽 艳 娟 霞 婷 雪 琳 颖 倩 洁 丹 萍 红 玲 慧 燕 晓燕 丽娟 海燕 美玲 慧敏 "
    "丽萍 晓丽 春梅 文静 亚楠 晓雯 雅婷",
    ("F", 2): "欣怡 梓涵 诗涵 雨涵 思琪 佳怡 紫萱 梦琪 婉清 雨桐 可欣 静怡 一诺 若曦 语嫣 嘉欣 "
    "子涵 梓萱 欣妍 诗雨 佳琪 雨欣",
}
_GIVEN_KEYS = [("M", 0), ("M", 1), ("M", 2), ("F", 0), ("F", 1), ("F", 2)]
_GIVEN_LISTS = [GIVEN[k].split() for k in _GIVEN_KEYS]
GIVEN_ALL = [name for names in _GIVEN_LISTS for name in names]
_GIVEN_START = np.cumsum([0] + [len(v) for v in _GIVEN_LISTS[:-1]])
_GIVEN_LEN = np.array([len(v) for v in _GIVEN_LISTS])

# Administrative area codes (first six ID digits) of each sub-branch's district.
AREA_CODE = {
    "BJ-CY": 110105, "BJ-HD": 110108, "BJ-XC": 110102, "BJ-DC": 110101, "BJ-FT": 110106,
    "SH-PD": 310115, "SH-HP": 310101, "SH-XH": 310104, "SH-JA": 310106, "SH-MH": 310112,
    "GZ-TH": 440106, "GZ-YX": 440104, "GZ-HZ": 440105, "GZ-BY": 440111,
    "SZ-FT": 440304, "SZ-NS": 440305, "SZ-LH": 440303, "SZ-BA": 440306,
    "HZ-XH": 330106, "HZ-SC": 330102, "HZ-BJ": 330108, "HZ-XS": 330109,
    "NJ-GL": 320106, "NJ-XW": 320102, "NJ-JN": 320115,
    "SU-GS": 320508, "SU-YQ": 320571, "SU-WZ": 320506,
    "TJ-HP": 120101, "TJ-NK": 120104, "TJ-BH": 120116,
    "CD-JJ": 510104, "CD-WH": 510107, "CD-GX": 510109, "CD-QY": 510105,
    "CQ-YZ": 500103, "CQ-JB": 500105, "CQ-NA": 500108,
    "WH-JA": 420102, "WH-WC": 420106, "WH-HS": 420111,
    "XA-YT": 610113, "XA-BL": 610103, "XA-WY": 610112,
}  # fmt: skip
# Where people (and unmatched companies) from elsewhere come from: area code, province.
OTHER_AREAS = [
    (130102, "河北省"), (410102, "河南省"), (430102, "湖南省"), (340102, "安徽省"),
    (370102, "山东省"), (360102, "江西省"), (450102, "广西壮族自治区"), (210102, "辽宁省"),
    (220102, "吉林省"), (230102, "黑龙江省"), (350102, "福建省"), (530102, "云南省"),
    (520102, "贵州省"), (620102, "甘肃省"), (140105, "山西省"), (460105, "海南省"),
]  # fmt: skip
PROVINCE = {
    "北京": "北京市", "上海": "上海市", "广州": "广东省", "深圳": "广东省", "杭州": "浙江省",
    "南京": "江苏省", "苏州": "江苏省", "天津": "天津市", "成都": "四川省", "重庆": "重庆市",
    "武汉": "湖北省", "西安": "陕西省",
}  # fmt: skip
_DISTRICT_SUFFIX = {"园区": "工业园区", "高新": "高新区", "滨海": "滨海新区", "浦东": "浦东新区"}

SUB_IDS = [b.branch_id for b in SUB_BRANCHES]
SUB_CITY = [b.city_zh for b in SUB_BRANCHES]
SUB_DISTRICT = [
    _DISTRICT_SUFFIX.get(d, d + "区")
    for d in (b.name_zh[len(b.city_zh) : -2] for b in SUB_BRANCHES)
]
SUB_AREA = np.array([AREA_CODE[b] for b in SUB_IDS], dtype=np.int64)
CITIES = sorted(set(SUB_CITY), key=SUB_CITY.index)
SUB_CITY_IDX = np.array([CITIES.index(c) for c in SUB_CITY])
# Sub-branches of each city (padded rows), to spread addresses over the city's districts.
_CITY_SUBS = [np.flatnonzero(c == SUB_CITY_IDX) for c in range(len(CITIES))]
CITY_SUB_COUNT = np.array([len(s) for s in _CITY_SUBS])
CITY_SUB_TABLE = np.array([np.resize(s, CITY_SUB_COUNT.max()) for s in _CITY_SUBS])

ROADS = [
    "人民",
    "中山",
    "解放",
    "建设",
    "和平",
    "新华",
    "长江",
    "黄河",
    "光明",
    "文化",
    "复兴",
    "东风",
    "青年",
    "学院",
    "科技",
    "滨江",
    "湖滨",
    "延安",
    "胜利",
    "友谊",
    "阳光",
    "幸福",
    "团结",
    "振兴",
    "迎宾",
    "春晓",
    "金桥",
    "银河",
    "世纪",
    "民主",
    "工农",
    "南京",
    "北京",
    "朝阳",
    "花园",
]
ROAD_SUFFIX = ["路", "路", "路", "街", "大道", "大街"]
OFFICE_BUILDINGS = ["国际大厦", "科技园", "金融中心", "商务中心", "创业大厦", "广场", "产业园"]

INDUSTRIES = ["制造业", "批发零售", "房地产", "建筑业", "信息技术", "住宿餐饮", "交通运输"]
INDUSTRY_WORDS = {
    "制造业": "机械制造 精密机械 电子 新材料 汽车零部件 化工 纺织 智能装备",
    "批发零售": "商贸 贸易 百货 供应链管理 进出口 医药连锁",
    "房地产": "房地产开发 置业 地产 物业管理",
    "建筑业": "建设工程 建筑安装 路桥工程 装饰工程",
    "信息技术": "科技 信息技术 软件 网络科技 数据科技 智能科技",
    "住宿餐饮": "餐饮管理 酒店管理 餐饮 食品",
    "交通运输": "物流 运输 货运代理 供应链物流",
}
_IND_LISTS = [INDUSTRY_WORDS[i].split() for i in INDUSTRIES]
IND_WORDS_ALL = [w for ws in _IND_LISTS for w in ws]
_IND_START = np.cumsum([0] + [len(v) for v in _IND_LISTS[:-1]])
_IND_LEN = np.array([len(v) for v in _IND_LISTS])
BRAND1 = list("华恒鼎瑞宏金天博中永盛德嘉新东汇正祥星远泰信安聚辰锦昌隆通达诚丰佳和润福景创凯腾")
BRAND2 = list("信达盛通泰源丰辰宇诚华成远安润茂兴邦昊越晟锐航峰拓嘉鑫瑞弘耀")
COMPANY_SUFFIX = ["有限公司", "有限责任公司", "股份有限公司"]

PHONE_PREFIX = np.array(
    list(range(130, 140)) + [150, 151, 152, 153, 155, 156, 157, 158, 159] + list(range(180, 190))
)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_W = np.array([pow(3, i, 31) for i in range(17)])
_ID_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def ascii_strings(codes: np.ndarray) -> pa.Array:
    """An (n, width) uint8 matrix of ASCII codes -> Arrow string array."""
    n, width = codes.shape
    data = np.ascontiguousarray(codes, dtype=np.uint8)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative ints -> (n, width) decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers) % 10


def pick(values: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def id_check_digit(first17: np.ndarray) -> np.ndarray:
    """GB 11643 ISO 7064 MOD 11-2 check character (ASCII code) for (n, 17) digit rows."""
    return _ID_CHECK[(first17 * _ID_W).sum(axis=1) % 11]


def person_names(rng: np.random.Generator, male: np.ndarray, birth_year: np.ndarray) -> pa.Array:
    n = len(male)
    surname = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    cohort = np.where(birth_year < 1975, 0, np.where(birth_year < 1995, 1, 2))
    # Mostly the own cohort's names, sometimes the neighbouring (common) cohort.
    cohort = np.where(rng.random(n) < 0.25, 1, cohort)
    key = np.where(male, 0, 3) + cohort
    given = _GIVEN_START[key] + (rng.random(n) * _GIVEN_LEN[key]).astype(np.int64)
    return join(pick(SURNAMES, surname), pick(GIVEN_ALL, given))


def _redraw_duplicates(rng, key_of, values, draw, tries: int = 50):
    """Redraw `values` where `key_of(values)` repeats an earlier row, until keys are unique."""
    for _ in range(tries):
        _, first = np.unique(key_of(values), return_index=True)
        dup = np.ones(len(values), dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        values[dup] = draw(int(dup.sum()))
    return values


def id_numbers(
    rng: np.random.Generator, area: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> pa.Array:
    """Unique 18-digit resident ID numbers: area, birth date, sequence (odd = male), check."""
    n = len(area)
    ymd = birth.astype("datetime64[D]").astype(str)  # YYYY-MM-DD
    ymd_int = np.char.replace(ymd, "-", "").astype(np.int64)
    parity = male.astype(np.int64)

    def draw(k):
        return rng.integers(0, 100, k) * 10 + rng.integers(0, 5, k) * 2

    seq = _redraw_duplicates(
        rng, lambda s: (area * 10**8 + ymd_int) * 1000 + s + parity, draw(n), draw
    )
    seq = seq + parity
    digits = np.concatenate([_digits(area, 6), _digits(ymd_int, 8), _digits(seq, 3)], axis=1)
    codes = np.empty((n, 18), dtype=np.uint8)
    codes[:, :17] = digits + 48
    codes[:, 17] = id_check_digit(digits)
    return ascii_strings(codes)


def credit_codes(rng: np.random.Generator, area: np.ndarray, small: np.ndarray) -> pa.Array:
    """统一社会信用代码 (GB 32100): 9, org type, area, organisation code, MOD 31 check."""
    n = len(area)
    vals = np.empty((n, 17), dtype=np.int64)
    vals[:, 0] = 9  # registered with market regulation (工商)
    vals[:, 1] = np.where(small & (rng.random(n) < 0.3), 2, 1)
    vals[:, 2:8] = _digits(area, 6)
    org = rng.integers(0, 10, (n, 8))
    org_check = 11 - (org * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
    vals[:, 8:16] = org
    # GB 11714 check: 10 -> X, 11 -> 0
    x = CREDIT_CHARS.index("X")
    vals[:, 16] = np.where(org_check == 11, 0, np.where(org_check == 10, x, org_check))
    check = (31 - (vals * _CREDIT_W).sum(axis=1) % 31) % 31
    chars = np.frombuffer(CREDIT_CHARS.encode(), dtype=np.uint8)
    codes = np.empty((n, 18), dtype=np.uint8)
    codes[:, :17] = chars[vals]
    codes[:, 17] = chars[check]
    return ascii_strings(codes)


def credit_code_valid(code: str) -> bool:
    vals = [CREDIT_CHARS.index(c) for c in code]
    return (31 - sum(v * w for v, w in zip(vals[:17], _CREDIT_W, strict=True)) % 31) % 31 == vals[
        17
    ]


def phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Unique 11-digit mobile numbers starting 13x / 15x / 18x."""

    def draw(k):
        return PHONE_PREFIX[rng.integers(0, len(PHONE_PREFIX), k)] * 10**8 + rng.integers(
            0, 10**8, k
        )

    number = _redraw_duplicates(rng, lambda v: v, draw(n), draw)
    return ascii_strings((_digits(number, 11) + 48).astype(np.uint8))


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def addresses(rng: np.random.Generator, sub_idx: np.ndarray, office: np.ndarray) -> pa.Array:
    """An address in the sub-branch's city, mostly in its own district."""
    n = len(sub_idx)
    city_idx = SUB_CITY_IDX[sub_idx]
    other = CITY_SUB_TABLE[city_idx, rng.integers(0, 1 << 30, n) % CITY_SUB_COUNT[city_idx]]
    district_sub = np.where(rng.random(n) < 0.35, other, sub_idx)
    city = pick([c + "市" for c in CITIES], city_idx)
    district = pick(SUB_DISTRICT, district_sub)
    road = join(
        pick(ROADS, rng.integers(0, len(ROADS), n)),
        pick(ROAD_SUFFIX, rng.integers(0, len(ROAD_SUFFIX), n)),
        _num(np.minimum(rng.geometric(0.012, n), 999)),
        pa.scalar("号"),
    )
    home = join(
        _num(rng.integers(1, 30, n)),
        pa.scalar("栋"),
        _num(rng.integers(1, 7, n)),
        pa.scalar("单元"),
        _num(rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)),
        pa.scalar("室"),
    )
    work = join(
        pick(OFFICE_BUILDINGS, rng.integers(0, len(OFFICE_BUILDINGS), n)),
        _num(rng.integers(1, 40, n)),
        pa.scalar("层"),
    )
    tail = pc.if_else(pa.array(office), work, home)
    return join(city, district, road, tail)


def company_names(
    rng: np.random.Generator, city: pa.Array, industry_idx: np.ndarray, large: np.ndarray
) -> pa.Array:
    n = len(industry_idx)
    b1 = rng.integers(0, len(BRAND1), n)
    b2 = rng.integers(0, len(BRAND2), n)
    same = np.array(BRAND1)[b1] == np.array(BRAND2)[b2]
    b2[same] = (b2[same] + 1) % len(BRAND2)
    word = _IND_START[industry_idx] + (rng.random(n) * _IND_LEN[industry_idx]).astype(np.int64)
    u = rng.random(n)
    suffix = np.where(large & (u < 0.3), 2, np.where(u < 0.75, 0, 1))
    return join(
        city,
        pick(BRAND1, b1),
        pick(BRAND2, b2),
        pick(IND_WORDS_ALL, word),
        pick(COMPANY_SUFFIX, suffix),
    )
