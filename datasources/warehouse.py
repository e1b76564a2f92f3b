"""The warehouse connection and the one place where warehouse queries run.

`Warehouse` connects to any Ibis backend by URL (a DuckDB file by default) and executes Ibis
expressions: each is compiled to SQL, looked up in the cache under a key made of that SQL and
the caller's scope, run when missing, timed and reported to the query listeners (the access
log and the slow-query list of the operations console).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from portal.errors import Unavailable

log = logging.getLogger(__name__)
SLOW_QUERY_MS = 1000.0


@dataclass(frozen=True)
class QueryRecord:
    """One executed (or cache-served) warehouse query."""

    sql: str
    scope_key: str
    duration_ms: float
    rows: int
    cached: bool
    label: str = ""


QueryListener = Callable[[QueryRecord], None]


class Warehouse:
    """A lazily opened Ibis backend plus cached, timed query execution."""

    def __init__(
        self, url: str, cache=None, *, read_only: bool = True, slow_ms: float = SLOW_QUERY_MS
    ):
        self.url = url
        self.cache = cache
        self.read_only = read_only
        self.slow_ms = slow_ms
        self._lock = threading.Lock()
        self._backend = None
        self._raw_duckdb = None
        self._local = threading.local()
        self._listeners: list[QueryListener] = []
        self.recent = deque(maxlen=200)  # the latest queries, newest last
        self.slow = deque(maxlen=100)
        self._compile_cached = functools.lru_cache(maxsize=1024)(self._compile_uncached)

    # -- connection -------------------------------------------------------------------------
    @property
    def is_duckdb(self) -> bool:
        return self.url.startswith("duckdb://")

    @property
    def backend(self):
        """Return the shared Ibis backend, connecting on first use."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._connect()
        return self._backend

    def _connect(self):
        try:
            if self.is_duckdb:
                import duckdb

                path = self.url[len("duckdb://") :] or ":memory:"
                if path != ":memory:" and not Path(path).exists():
                    raise Unavailable(f"warehouse file not found: {path}", code="warehouse_missing")
                read_only = self.read_only and path != ":memory:"
                self._raw_duckdb = duckdb.connect(path, read_only=read_only)
                return ibis.duckdb.from_connection(self._raw_duckdb)
            return ibis.connect(self.url)
        except Unavailable:
            raise
        except Exception as exc:  # any driver error: the warehouse is unreachable
            raise Unavailable(
                f"cannot connect to the warehouse: {exc}", code="warehouse_unreachable"
            ) from exc

    def _thread_backend(self):
        """Return a backend safe for this thread (DuckDB: its own cursor of the shared file)."""
        backend = self.backend
        if self._raw_duckdb is None:
            return backend
        local = getattr(self._local, "backend", None)
        if local is None:
            local = ibis.duckdb.from_connection(self._raw_duckdb.cursor())
            self._local.backend = local
        return local

    def table(self, name: str):
        """Return the raw (unscoped) Ibis table; callers outside datasources use scoped access.

        Looked up through this thread's backend (a schema lookup is a query, and a DuckDB
        connection must not be used by two threads at once) and kept per thread.
        """
        backend = self._thread_backend()
        tables = getattr(self._local, "tables", None)
        if tables is None:
            tables = self._local.tables = {}
        if name not in tables:
            try:
                tables[name] = backend.table(name)
            except Exception as exc:
                if _is_connection_error(exc):
                    raise Unavailable(
                        f"the warehouse did not answer: {exc}", code="warehouse_unreachable"
                    ) from exc
                raise
        return tables[name]

    def list_tables(self) -> list[str]:
        return sorted(self._thread_backend().list_tables())

    def ping(self) -> bool:
        """Return True when the warehouse answers a trivial query."""
        try:
            self._thread_backend().execute(ibis.literal(1).name("one").as_table())
            return True
        except Exception:  # noqa: BLE001 - a health check reports, it does not raise
            log.warning("warehouse ping failed", exc_info=True)
            return False

    def close(self) -> None:
        with self._lock:
            if self._raw_duckdb is not None:
                self._raw_duckdb.close()
            elif self._backend is not None and hasattr(self._backend, "disconnect"):
                self._backend.disconnect()
            self._backend = self._raw_duckdb = None
            self._local = threading.local()

    # -- execution --------------------------------------------------------------------------
    def add_listener(self, listener: QueryListener) -> None:
        self._listeners.append(listener)

    def compile(self, expr) -> str:
        """Return the SQL of an expression, memoised (Ibis expressions hash by structure)."""
        try:
            return self._compile_cached(expr)
        except TypeError:  # an unhashable literal somewhere in the expression
            return str(self.backend.compile(expr))

    def _compile_uncached(self, expr) -> str:
        return str(self.backend.compile(expr))

    def execute(
        self, expr, *, scope_key: str = "", label: str = "", use_cache: bool = True
    ) -> pd.DataFrame:
        """Run an Ibis expression and return a DataFrame, served from the cache when possible."""
        sql = self.compile(expr)
        key = "wh:" + hashlib.sha256(f"{self.url}\n{scope_key}\n{sql}".encode()).hexdigest()
        start = time.perf_counter()
        if use_cache and self.cache is not None:
            hit = self._cache_get(key)
            if hit is not None:
                self._record(QueryRecord(sql, scope_key, _ms(start), len(hit), True, label))
                return hit.copy()
        try:
            frame = self._thread_backend().execute(expr)
        except Unavailable:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise Unavailable(
                    f"the warehouse did not answer: {exc}", code="warehouse_unreachable"
                ) from exc
            raise
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame({getattr(expr, "get_name", lambda: "value")(): [frame]})
        record = QueryRecord(sql, scope_key, _ms(start), len(frame), False, label)
        if use_cache and self.cache is not None:
            self._cache_set(key, frame)
        self._record(record)
        return frame

    def _cache_get(self, key: str):
        try:
            return self.cache.get(key)
        except Exception:  # noqa: BLE001 - a broken cache degrades to no cache
            log.warning("cache read failed", exc_info=True)
            return None

    def _cache_set(self, key: str, frame: pd.DataFrame) -> None:
        try:
            self.cache.set(key, frame)
        except Exception:  # noqa: BLE001
            log.warning("cache write failed", exc_info=True)

    def _record(self, record: QueryRecord) -> None:
        self.recent.append(record)
        if not record.cached and record.duration_ms >= self.slow_ms:
            self.slow.append(record)
            log.info(
                "slow warehouse query (%.0f ms, %d rows): %s",
                record.duration_ms,
                record.rows,
                record.label,
            )
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:  # noqa: BLE001 - a listener must not break a query
                log.exception("query listener failed")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _is_connection_error(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text for word in ("connection", "could not connect", "server closed", "timeout")
    )
