"""Benchmark the home page's widgets (SPEC §8): every widget's callback, warm and cold.

Targets on the scale-1 warehouse: warm cache ≤ 50 ms server time (p95) per widget callback,
cold cache ≤ 500 ms per widget. "Server time" is what one Dash callback costs in the web
process (wall time; "cold CPU" adds up the CPU time of every thread, which does not grow when
other processes share the cores): the request context with the logged-in user, the callback function, and the JSON
encoding Dash applies to its output. "Cold" empties the query-result cache (and the metric
service's data-date memo) before every call; "warm" repeats a call whose results are cached.

The widgets are a registry, `WIDGETS = {name: callable(ctx)}`; each callable runs one widget
callback inside `ctx` (see `HomeContext`) and returns its output. `default_widgets()` fills it
with what exists: the home grid's widgets (components.home_widgets.RENDERERS through
callbacks.home_grid.load_widget), each KPI card, each carousel slide of the user's default set,
the metric detail page and (for reference) a whole big screen. Extend it with `register`:

    from bench.home import register
    register("widget:my_widget", lambda ctx: my_callback({"widget": "my_widget"}))

python -m bench.home --warehouse data/bench/bench-1.duckdb [--repeat 15] [--user leader]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WARM_TARGET_MS = 50.0
COLD_TARGET_MS = 500.0
DEMO_PASSWORD = "Portal#2026"

WIDGETS: dict[str, Callable] = {}


def register(name: str, fn: Callable) -> None:
    """Add (or replace) a widget callback in the benchmark."""
    WIDGETS[name] = fn


@dataclass
class HomeContext:
    """The app and the user a widget callback runs as."""

    app: object
    username: str = "leader"
    locale: str = "zh_CN"
    extras: dict = field(default_factory=dict)

    @contextlib.contextmanager
    def request(self):
        """A request of the logged-in user, as Dash's callback endpoint would run it."""
        from flask import g
        from flask_login import login_user
        from sqlalchemy import select

        from portal.db import get_db
        from portal.models import User

        lang = "en" if self.locale.startswith("en") else "zh-CN"
        with self.app.test_request_context(
            "/_dash-update-component", method="POST", headers={"Accept-Language": lang}
        ):
            user = get_db().scoped.scalar(select(User).where(User.username == self.username))
            login_user(user)
            g.user = user
            yield user

    def clear_caches(self) -> None:
        """Forget cached query results and the metric service's data date (a cold start)."""
        from portal.extensions import cache

        with self.app.app_context():
            cache.clear()
        self.app.extensions["metric_service"]._as_of = None


def default_widgets(ctx: HomeContext) -> dict[str, Callable]:
    """Register every home widget callback that exists in this portal; return the registry."""
    from components.ids import KPI_BODY

    with contextlib.suppress(ImportError):
        from callbacks.home_grid import load_widget
        from components.home_widgets import RENDERERS

        for name in RENDERERS:
            register(f"widget:{name}", lambda c, name=name: load_widget({"widget": name}))
    with contextlib.suppress(ImportError):
        from callbacks.home import load_kpi

        try:
            from components.home_widgets import HOME_METRICS
        except ImportError:
            from pages.home import HOME_METRICS
        for metric in HOME_METRICS:
            register(
                f"kpi:{metric}",
                lambda c, m=metric: load_kpi({"type": KPI_BODY, "metric": m}),
            )
    from callbacks.bigscreen import load_screen
    from callbacks.carousel import load_detail, load_slide
    from components.carousel import SLIDE_BODY
    from portal.db import get_db
    from portal.services.slides import user_slides

    with ctx.request() as user, get_db().session() as s:
        shown = user_slides(s, user, ctx.locale)
    for i, slide in enumerate(shown["slides"]):
        body_id = {
            "type": SLIDE_BODY,
            "carousel": "home",
            "index": i,
            "metric": slide["metric"],
            "breakdown": slide.get("breakdown") or "",
        }
        register(f"slide:{slide['metric']}", lambda c, b=body_id: load_slide(b))
    register(
        "metric_detail:deposit_balance", lambda c: load_detail("branch", "deposit_balance", None)
    )
    if shown["set"]:
        register(f"bigscreen:{shown['set']}", lambda c, k=shown["set"]: load_screen(0, k, None))
    return WIDGETS


def _encode(output) -> None:
    """JSON-encode a callback's output the way Dash does (it is part of the server time)."""
    from dash._utils import to_json

    to_json(output)


def _time_ms(ctx: HomeContext, fn: Callable, cpu: list | None = None) -> float:
    """Return the wall time of one call; append its CPU time (all threads) to `cpu`."""
    start, start_cpu = time.perf_counter(), time.process_time()
    with ctx.request():
        _encode(fn(ctx))
    if cpu is not None:
        cpu.append((time.process_time() - start_cpu) * 1000.0)
    return (time.perf_counter() - start) * 1000.0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_widgets(ctx: HomeContext, repeat: int = 15, names=None) -> dict[str, dict]:
    """Return {widget: {cold_ms, cold_p95_ms, warm_ms, warm_p95_ms}} (medians and p95)."""
    results = {}
    for name, fn in WIDGETS.items():
        if names and name not in names:
            continue
        cold, cold_cpu = [], []
        for _ in range(max(3, repeat // 3)):
            ctx.clear_caches()
            cold.append(_time_ms(ctx, fn, cold_cpu))
        _time_ms(ctx, fn)  # fill the cache
        warm = [_time_ms(ctx, fn) for _ in range(repeat)]
        results[name] = {
            "cold_ms": statistics.median(cold),
            "cold_p95_ms": _p95(cold),
            "cold_cpu_ms": statistics.median(cold_cpu),
            "warm_ms": statistics.median(warm),
            "warm_p95_ms": _p95(warm),
        }
    return results


def scale1_warehouse(out_dir: Path, seed: int) -> Path:
    """Return a scale-1 warehouse under `out_dir`, generating it once."""
    import duckdb

    from datasources.generator import generate_warehouse
    from datasources.schema import TABLES

    path = out_dir / "bench-1.duckdb"
    if path.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            present = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            scale = con.execute("SELECT scale FROM meta_warehouse").fetchone()[0]
        if set(TABLES) <= present and scale == 1:
            return path
    print("  generating the scale-1 warehouse ...", flush=True)
    generate_warehouse(path, scale=1, seed=seed, progress=False)
    return path


def make_context(warehouse: Path, username: str = "leader", locale: str = "zh_CN") -> HomeContext:
    """Build the portal on `warehouse` with a fresh demo store (slide sets seeded)."""
    import logging

    from app import create_app
    from portal.db import get_db
    from portal.services.setup import init_store
    from portal.services.slides import seed_screen_demo

    logging.getLogger("datasources.warehouse").setLevel(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="portal-bench-home-"))
    store = f"sqlite:///{data_dir / 'portal.sqlite'}"
    init_store(store, demo=True, demo_password=DEMO_PASSWORD)
    app = create_app(
        {
            "data_dir": str(data_dir),
            "warehouse_url": f"duckdb://{warehouse}",
            "database_url": store,
            "secret_key": "bench-home-secret-0123456789",
        }
    )
    with app.app_context(), get_db().session() as s, s.begin():
        seed_screen_demo(s)
    return HomeContext(app, username, locale)


def bench_home(warehouse: Path, repeat: int = 15, username: str = "leader") -> dict[str, dict]:
    """Benchmark every registered home widget on `warehouse`; return the results."""
    ctx = make_context(warehouse, username)
    default_widgets(ctx)
    # One call of anything first: connects to the warehouse and loads the catalog once.
    ctx.clear_caches()
    with ctx.request():
        ctx.app.extensions["metric_service"].as_of(_tables())
    return bench_widgets(ctx, repeat)


def _tables():
    from portal.security import current_tables

    return current_tables()


def report(results: dict[str, dict]) -> tuple[list[str], bool]:
    """Return markdown table lines and whether every home widget met the targets."""
    lines = [
        "| widget callback | cold median | cold p95 | cold CPU | warm median | warm p95 | SPEC §8 |",
        "|---|---|---|---|---|---|---|",
    ]
    ok = True
    for name, r in results.items():
        informational = name.startswith(("bigscreen:", "metric_detail:"))
        met = r["cold_p95_ms"] <= COLD_TARGET_MS and r["warm_p95_ms"] <= WARM_TARGET_MS
        if not informational:
            ok = ok and met
        status = "(not a home widget)" if informational else ("met" if met else "NOT met")
        lines.append(
            f"| {name} | {r['cold_ms']:.0f} ms | {r['cold_p95_ms']:.0f} ms | "
            f"{r['cold_cpu_ms']:.0f} ms | "
            f"{r['warm_ms']:.1f} ms | {r['warm_p95_ms']:.1f} ms | {status} |"
        )
    return lines, ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.home", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--warehouse", type=Path, help="a scale-1 warehouse (generated if absent)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--user", default="leader")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args(argv)
    warehouse = args.warehouse
    if warehouse is None:
        args.out.mkdir(parents=True, exist_ok=True)
        warehouse = scale1_warehouse(args.out, args.seed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results = bench_home(warehouse, args.repeat, args.user)
    lines, ok = report(results)
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} when the run started")
    print("\n".join(lines))
    print()
    print("home widgets, SPEC §8 targets:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
