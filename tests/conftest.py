"""Shared fixtures: a tiny warehouse, the app and its client, and the real-services tier.

PostgreSQL (127.0.0.1:5432, database `test`) and Redis (127.0.0.1:6379) are exercised for
real. Tests create and drop their own databases and use their own Redis key prefix. When a
service is unreachable the tests that need it are skipped with a loud notice, unless
PORTAL_REQUIRE_SERVICES=1 (set by .ci/run), which turns that into a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST, PG_PORT = os.environ.get("PORTAL_TEST_PG_HOST", "127.0.0.1"), 5432
REDIS_HOST, REDIS_PORT = os.environ.get("PORTAL_TEST_REDIS_HOST", "127.0.0.1"), 6379
TEST_SCALE = 0.01
_SKIPPED_TIERS: set[str] = set()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip loudly, or fail under PORTAL_REQUIRE_SERVICES=1, when a service is unreachable."""
    if _reachable(host, port):
        return
    message = f"{name} at {host}:{port} is not reachable"
    if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and PORTAL_REQUIRE_SERVICES=1")
    _SKIPPED_TIERS.add(name)
    pytest.skip(f"!!! {message}: skipping the {name} tier !!!")


def pytest_terminal_summary(terminalreporter):
    if _SKIPPED_TIERS:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            f"SKIPPED SERVICE TIERS: {', '.join(sorted(_SKIPPED_TIERS))} — these tests did NOT run. "
            "Start the services or run .ci/run.",
            red=True,
            bold=True,
        )
        terminalreporter.write_line(bar, red=True, bold=True)


# -- the tiny warehouse ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory) -> Path:
    """Generate the scale-0.01 warehouse once per test session."""
    from datasources.generator import generate_warehouse

    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    generate_warehouse(path, scale=TEST_SCALE, seed=20261130, progress=False)
    return path


@pytest.fixture(scope="session")
def warehouse_url(warehouse_path) -> str:
    return f"duckdb://{warehouse_path}"


@pytest.fixture(scope="session")
def duck(warehouse_path):
    """A raw DuckDB connection to the tiny warehouse, for hand-written reference SQL."""
    import duckdb

    con = duckdb.connect(str(warehouse_path), read_only=True)
    yield con
    con.close()


# -- PostgreSQL and Redis ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"


@pytest.fixture(scope="session")
def make_postgres_database(postgres_admin_url):
    """Return a factory of fresh PostgreSQL databases, all dropped at the end of the session."""
    import psycopg2

    created: list[str] = []

    def make(prefix: str = "portal_test") -> str:
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        con = psycopg2.connect(postgres_admin_url)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        con.close()
        created.append(name)
        return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"

    yield make
    con = psycopg2.connect(postgres_admin_url)
    con.autocommit = True
    with con.cursor() as cur:
        for name in created:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    con.close()


@pytest.fixture(scope="session")
def pg_warehouse_url(make_postgres_database, warehouse_url) -> str:
    """The tiny warehouse copied into a fresh PostgreSQL database, as an Ibis URL."""
    from datasources.transfer import copy_warehouse

    url = make_postgres_database("portal_wh")
    copy_warehouse(warehouse_url, url.replace("postgresql://", "postgres://", 1))
    return url.replace("postgresql://", "postgres://", 1)


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


# -- the app -----------------------------------------------------------------------------------
DEMO_PASSWORD = "Portal#2026"


@pytest.fixture(scope="session")
def store_template(tmp_path_factory) -> Path:
    """A SQLite portal store with the demo organisation, seeded once and copied per app."""
    from portal.services.setup import init_store

    path = tmp_path_factory.mktemp("store") / "portal.sqlite"
    init_store(f"sqlite:///{path}", demo=True, demo_password=DEMO_PASSWORD)
    return path


@pytest.fixture
def make_app(tmp_path, warehouse_url, store_template):
    """Return a factory building the portal on the tiny warehouse with test settings."""
    created = []

    def make(**overrides):
        from app import create_app

        data_dir = tmp_path / f"data{len(created)}"
        data_dir.mkdir()
        store = data_dir / "portal.sqlite"
        shutil.copyfile(store_template, store)
        settings = {
            "data_dir": str(data_dir),
            "warehouse_url": warehouse_url,
            "database_url": f"sqlite:///{store}",
            "secret_key": "test-secret-key-0123456789",
            "TESTING": True,
        }
        settings.update(overrides)
        app = create_app(settings)
        created.append(app)
        return app

    yield make
    for app in created:
        app.extensions["warehouse"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def pivot_demo_app(make_app):
    """The app with the demo saved pivots and report links seeded (see `seed_pivot_demo`)."""
    from portal.db import get_db
    from portal.services.pivot_demo import seed_pivot_demo

    app = make_app()
    with app.app_context(), get_db().session() as s, s.begin():
        seed_pivot_demo(s)
    return app


@pytest.fixture
def anonymous(app):
    """A client that has not logged in."""
    return app.test_client()


def login(client, username: str = "leader", password: str = DEMO_PASSWORD):
    """Log a test client in through the JSON API; return the response."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.fixture
def client(app):
    """A client logged in as the head-office leader (sees every branch)."""
    c = app.test_client()
    login(c, "leader")
    return c


@pytest.fixture
def client_as(app):
    """Return a factory of clients logged in as a given demo user."""

    def make(username: str):
        c = app.test_client()
        login(c, username)
        return c

    return make


@contextmanager
def request_as(app, username: str, path: str = "/", **kwargs):
    """Run code inside a request made by a logged-in demo user (for calling callbacks)."""
    from flask import g
    from flask_login import login_user
    from sqlalchemy import select

    from portal.db import get_db
    from portal.models import User

    with app.test_request_context(path, **kwargs):
        user = get_db().scoped.scalar(select(User).where(User.username == username))
        login_user(user)
        g.user = user
        yield user


def save_unchecked_dashboard(user, spec: dict, key: str = "broken") -> None:
    """Store a dashboard owned by `user` with `spec` as is, skipping validation (inside a request).

    Stands for a saved dashboard that the current code no longer accepts.
    """
    from portal.db import get_db
    from portal.models import Resource

    with get_db().session() as s, s.begin():
        s.add(
            Resource(
                type="dashboard",
                key=key,
                title_zh="坏",
                title_en="Broken",
                owner_id=user.id,
                spec=spec,
            )
        )
