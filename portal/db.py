"""The portal store's engine and sessions, bound to a Flask app with `init_db(app)`.

Data-access helpers take a `Session` and never commit; a command owns the transaction::

    db = get_db()
    with db.session() as s, s.begin():
        ...
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal_db"
# Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 15


def normalize_url(database_url: str) -> str:
    """Return the URL SQLAlchemy expects (`postgres://` is spelled `postgresql://`)."""
    if database_url.startswith("postgres://"):
        return "postgresql://" + database_url[len("postgres://") :]
    return database_url


def create_store_engine(database_url: str, **kwargs) -> Engine:
    """Create an engine for the portal store, tuned for SQLite or PostgreSQL."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        in_memory = url.database in (None, "", ":memory:")
        event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(wal: bool):
    def on_connect(dbapi_connection, connection_record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return on_connect


def _scope_id() -> int:
    """Return the id of the current Flask app context, else of the current thread."""
    if app_ctx:
        return id(app_ctx._get_current_object())
    return threading.get_ident()


class PortalDB:
    """The store's engine, a session factory and a session scoped to the app context.

    `session()` opens a new session (use it as a context manager); `scoped` is the one
    session of the current app context, removed when the context ends.
    """

    def __init__(self, database_url: str, **engine_kwargs) -> None:
        self.url = normalize_url(database_url)
        self.engine = create_store_engine(self.url, **engine_kwargs)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        self.scoped = scoped_session(self.session, scopefunc=_scope_id)

    @property
    def dialect(self) -> str:
        """Return the backend's name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def remove(self, exc: BaseException | None = None) -> None:
        """Close the scoped session of the current app context."""
        self.scoped.remove()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.scoped.remove()
        self.engine.dispose()


def init_db(app: Flask) -> PortalDB:
    """Create the store's engine from the app's settings and register it on the app."""
    settings = app.config["PORTAL_SETTINGS"]
    db = PortalDB(settings.database_url)
    app.extensions[EXTENSION_KEY] = db
    app.teardown_appcontext(db.remove)
    log.info("portal store: %s", db.engine.url.render_as_string(hide_password=True))
    return db


def get_db() -> PortalDB:
    """Return the store bound to the current Flask app."""
    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("the portal store is not initialised: call init_db(app)") from None


__all__ = ["PortalDB", "Session", "create_store_engine", "get_db", "init_db", "normalize_url"]
