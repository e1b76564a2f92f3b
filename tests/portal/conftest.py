"""Fixtures of the portal store tests: every store test runs on SQLite and on PostgreSQL.

`database_url` is parametrised over both backends: a fresh SQLite file, or a fresh
PostgreSQL database (created on the server of `postgres_admin_url` in tests/conftest.py and
dropped after the test). An unreachable PostgreSQL skips loudly, or fails when
PORTAL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import secrets

import pytest

DEMO_PASSWORD = "Portal#2026"
# Far cheaper than scrypt, so that seeding ten accounts per test stays fast.
FAST_HASH_METHOD = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Hash passwords with a cheap method in these tests (one test checks the real one)."""
    from portal.services import accounts

    monkeypatch.setattr(accounts, "PASSWORD_HASH_METHOD", FAST_HASH_METHOD)
    monkeypatch.setattr(accounts, "_dummy_hash", None)


def _postgres_unusable(message: str):
    if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and PORTAL_REQUIRE_SERVICES=1")
    pytest.skip(f"!!! {message}: skipping the PostgreSQL store tests !!!")


@pytest.fixture
def fresh_postgres_url(request):
    """Create a uniquely named PostgreSQL database for one test; drop it afterwards."""
    import psycopg2

    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        con = psycopg2.connect(admin_url, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        _postgres_unusable(f"cannot connect to {admin_url} ({str(exc).strip()})")
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database_url(request, tmp_path) -> str:
    """Return the URL of an empty portal store database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.sqlite'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def demo_password() -> str:
    """The password of every demo account in `store_url`."""
    return DEMO_PASSWORD


@pytest.fixture
def store_url(database_url, demo_password) -> str:
    """Return the URL of a migrated store seeded with the demo organisation."""
    from portal.services.setup import init_store

    init_store(database_url, demo=True, demo_password=demo_password)
    return database_url


@pytest.fixture
def db(store_url):
    """The seeded store as a PortalDB (engine + session factory)."""
    from portal.db import PortalDB

    store = PortalDB(store_url)
    yield store
    store.dispose()
