"""Benchmark unified search (SPEC §8: over 10,000 resources, p95 ≤ 50 ms on two cores).

`bench_search(url)` fills an empty store with synthetic resources whose titles combine banking
words (北京分行存款月报 / Beijing branch deposits monthly report), views and grants, indexes
them, then times `search()` calls as the API makes them (a new session each) over a mix of
Chinese substrings, Chinese phrases without spaces, pinyin initials, English words, typos and
exact titles, as a head-office leader and as a customer manager.

python -m bench.search [--n 10000] [--queries 300] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_P95_MS = 50

PLACES = [
    ("总行", "Head office"),
    ("北京分行", "Beijing branch"),
    ("上海分行", "Shanghai branch"),
    ("广州分行", "Guangzhou branch"),
    ("深圳分行", "Shenzhen branch"),
    ("杭州分行", "Hangzhou branch"),
    ("对公", "Corporate"),
    ("零售", "Retail"),
    ("小微", "Small business"),
]
SUBJECTS = [
    ("存款", "deposits"),
    ("贷款", "loans"),
    ("客户", "customers"),
    ("客户流失", "customer churn"),
    ("代发", "payroll"),
    ("理财", "wealth management"),
    ("信用卡", "credit cards"),
    ("手机银行", "mobile banking"),
    ("不良贷款", "non-performing loans"),
    ("存款余额", "deposit balance"),
    ("贷款余额", "loan balance"),
    ("资金净流入", "net inflow"),
    ("交易", "transactions"),
    ("渠道", "channels"),
    ("营销", "marketing"),
    ("基金", "funds"),
    ("按揭", "mortgages"),
    ("定期存款", "time deposits"),
    ("活期存款", "demand deposits"),
    ("中间业务收入", "fee income"),
    ("网点", "outlets"),
    ("客户经理", "relationship managers"),
    ("预算达成", "budget attainment"),
    ("活跃客户", "active customers"),
    ("新增客户", "new customers"),
]
FORMS = [
    ("月报", "monthly report"),
    ("日报", "daily report"),
    ("周报", "weekly report"),
    ("季报", "quarterly report"),
    ("仪表盘", "dashboard"),
    ("分析", "analysis"),
    ("明细", "details"),
    ("汇总", "summary"),
    ("看板", "board"),
    ("排行", "ranking"),
    ("清单", "list"),
    ("预警", "alerts"),
    ("趋势", "trend"),
]
TYPES = [
    ("report", 35),
    ("dashboard", 20),
    ("pivot", 15),
    ("app", 10),
    ("query", 10),
    ("dataset", 10),
]
OWNERS = ["analyst", "owner", "leader", "bj_leader", "ops", "bj_cm", "sh_cm"]
TYPOS = ["depost", "custmer", "dashbord", "transactons", "paryoll", "mortages", "wealht", "alerst"]


def _title(rng: random.Random) -> tuple[str, str]:
    place = rng.choice(PLACES) if rng.random() < 0.6 else ("", "")
    subjects = rng.sample(SUBJECTS, rng.choice((1, 1, 2)))
    form = rng.choice(FORMS)
    zh = place[0] + "".join(s[0] for s in subjects) + form[0]
    en = " ".join(p for p in (place[1], " and ".join(s[1] for s in subjects), form[1]) if p)
    return zh, en[:1].upper() + en[1:]


def _resources(rng: random.Random, n: int, owners: dict[str, int]) -> list[dict]:
    from datasources.schema import TABLES

    columns = sorted({c for cols in TABLES.values() for c in cols})
    kinds = [t for t, weight in TYPES for _ in range(weight)]
    rows = []
    for i in range(n):
        zh, en = _title(rng)
        kind = rng.choice(kinds)
        spec = {"published": rng.random() < 0.6}
        if kind == "dataset":
            spec["columns"] = rng.sample(columns, 8)
            spec["domain"] = rng.choice(["customers", "deposits", "loans", "transactions", "risk"])
        rows.append(
            {
                "type": kind,
                "key": f"bench-{i:06d}",
                "title_zh": f"{zh}（{i}）" if rng.random() < 0.3 else zh,
                "title_en": en,
                "description": f"展示{zh}的统计口径、指标说明与数据来源，按机构与月份汇总。"
                f" Shows {en.lower()} by branch and month.",
                "owner_id": owners[rng.choice(OWNERS)],
                "spec": spec,
            }
        )
    return rows


def _queries(
    rng: random.Random, count: int, titles: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    from portal.services.search_index import pinyin_forms

    makers = {
        "chinese": lambda: rng.choice(SUBJECTS + FORMS)[0],
        "chinese_phrase": lambda: rng.choice(PLACES)[0][:2] + rng.choice(SUBJECTS)[0],
        "pinyin": lambda: pinyin_forms(rng.choice(SUBJECTS + FORMS)[0])[0],
        "english": lambda: rng.choice(SUBJECTS + FORMS)[1].split()[0],
        "english_words": lambda: f"{rng.choice(PLACES)[1].split()[0]} {rng.choice(SUBJECTS)[1]}",
        "typo": lambda: rng.choice(TYPOS),
        "exact_title": lambda: rng.choice(rng.choice(titles)),
    }
    names = list(makers)
    return [(name, makers[name]()) for name in (names[i % len(names)] for i in range(count))]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def bench_search(
    database_url: str, n: int = 10_000, queries: int = 300, seed: int = 20261205
) -> dict:
    """Fill an empty store with `n` resources, index them and time `queries` searches."""
    from sqlalchemy import insert, select

    from datasources.catalog import load_catalog
    from portal.db import PortalDB
    from portal.models import Grant, Group, Resource, User, View, utcnow
    from portal.services import accounts
    from portal.services.search import search, sync_catalog_resources
    from portal.services.search_index import refresh_popularity, reindex_all
    from portal.services.setup import init_store

    rng = random.Random(seed)
    hashing, accounts.PASSWORD_HASH_METHOD = accounts.PASSWORD_HASH_METHOD, "pbkdf2:sha256:1000"
    try:  # a cheap hash: the demo accounts are not what is measured
        init_store(database_url, demo=True)
    finally:
        accounts.PASSWORD_HASH_METHOD = hashing
    db = PortalDB(database_url)
    try:
        with db.session() as s, s.begin():
            owners = dict(s.execute(select(User.username, User.id)).all())
            group = s.scalar(select(Group.id).where(Group.name == "营销团队"))
            rows = _resources(rng, n, owners)
            s.execute(insert(Resource), rows)
            sync_catalog_resources(s, load_catalog())
            ids = list(s.scalars(select(Resource.id)))
            now = utcnow()
            views = [
                {
                    "user_id": rng.choice(list(owners.values())),
                    "resource_id": rng.choice(ids[: len(ids) // 5])
                    if rng.random() < 0.7
                    else rng.choice(ids),
                    "at": now - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                }
                for _ in range(5 * n)
            ]
            s.execute(insert(View), views)
            grants = [
                {
                    "subject_type": "group",
                    "subject_id": group,
                    "resource_id": rid,
                    "permission": "view",
                }
                for rid in rng.sample(ids, len(ids) // 20)
            ]
            s.execute(insert(Grant), grants)
        started = time.perf_counter()
        with db.session() as s, s.begin():
            indexed = reindex_all(s)
            refresh_popularity(s)
        index_seconds = time.perf_counter() - started

        workload = _queries(rng, queries, [(r["title_zh"], r["title_en"]) for r in rows])
        with db.session() as s:
            users = [s.scalar(select(User).where(User.username == u)) for u in ("leader", "bj_cm")]
            for user in users:
                user.groups, user.role_codes  # noqa: B018 - load before the session closes
        for i, (_kind, q) in enumerate(workload[:20]):  # warm caches and the vocabulary
            with db.session() as s:
                search(s, users[i % 2], q)
        timings: dict[str, list[float]] = {}
        totals, slowest = [], []
        for i, (kind, q) in enumerate(workload):
            started = time.perf_counter()
            with db.session() as s:
                result = search(s, users[i % 2], q, locale="en" if q.isascii() else "zh_CN")
            elapsed = (time.perf_counter() - started) * 1000
            timings.setdefault(kind, []).append(elapsed)
            slowest.append((elapsed, q))
            totals.append(result["total"])
    finally:
        db.dispose()
    every = [t for values in timings.values() for t in values]
    return {
        "backend": db.engine.dialect.name,
        "resources": indexed,
        "index_seconds": round(index_seconds, 2),
        "queries": len(every),
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(_percentile(every, 0.95), 2),
        "max_ms": round(max(every), 2),
        "mean_results": round(statistics.mean(totals), 1),
        "p95_ms_by_kind": {k: round(_percentile(v, 0.95), 2) for k, v in timings.items()},
        "slowest": [(round(ms, 1), q) for ms, q in sorted(slowest, reverse=True)[:3]],
    }


def _postgres_database(admin_url: str):
    import psycopg2

    name = f"portal_bench_search_{os.getpid()}_{secrets.token_hex(3)}"
    con = psycopg2.connect(admin_url, connect_timeout=3)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def _print(result: dict) -> None:
    print(
        f"  search {result['backend']:<10} {result['resources']:>6} resources  "
        f"p50 {result['p50_ms']:6.2f} ms  p95 {result['p95_ms']:6.2f} ms  "
        f"max {result['max_ms']:6.2f} ms  (index {result['index_seconds']} s, "
        f"{result['queries']} queries, {result['mean_results']} matches on average)"
    )
    print("    p95 by kind: " + ", ".join(f"{k} {v}" for k, v in result["p95_ms_by_kind"].items()))
    print("    slowest: " + ", ".join(f"{q!r} {ms} ms" for ms, q in result["slowest"]))


def bench_backends(
    n: int = 10_000, queries: int = 300, postgres: str | None = DEFAULT_POSTGRES
) -> list[dict]:
    """Run the benchmark on SQLite and, when `postgres` is given and reachable, PostgreSQL."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_search(f"sqlite:///{tmp}/search.sqlite", n, queries))
        _print(results[-1])
    if postgres:
        try:
            url, drop = _postgres_database(postgres)
        except Exception as exc:  # noqa: BLE001 - an absent server only skips the run
            print(f"  search postgresql: skipped ({str(exc).strip()})")
            return results
        try:
            results.append(bench_search(url, n, queries))
            _print(results[-1])
        finally:
            drop()
    return results


def report(results: list[dict]) -> tuple[list[str], bool]:
    """Markdown rows for the summary table, and whether every backend met p95 <= 50 ms."""
    lines = [
        f"| search, {r['resources']:,} resources, {r['backend']} | p50 {r['p50_ms']:.1f} ms, "
        f"p95 {r['p95_ms']:.1f} ms | target p95 <= {TARGET_P95_MS} ms |"
        for r in results
    ]
    return lines, all(r["p95_ms"] <= TARGET_P95_MS for r in results)


def main(argv: list[str] | None = None) -> int:
    """Run the search benchmark on SQLite and, if reachable, PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    results = bench_backends(args.n, args.queries, None if args.no_postgres else args.postgres)
    lines, ok = report(results)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
