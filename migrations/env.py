"""Alembic environment of the portal store.

The database URL never comes from an ini file: `portal.migrate` passes it in
`config.attributes["database_url"]` (or an open connection in `config.attributes["connection"]`).
SQLite runs in batch mode so that ALTER TABLE works through table copies.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import context
from sqlalchemy import Connection, pool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.db import create_store_engine, normalize_url  # noqa: E402
from portal.models import Base, UTCDateTime  # noqa: E402
from portal.services.search_index import include_object  # noqa: E402

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: run migrations through portal.migrate")
    return normalize_url(url)


def _render_item(type_, obj, autogen_context):
    """Render the store's own column types as plain SQLAlchemy ones in migration files."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        include_object=include_object,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = _database_url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_store_engine(_database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
