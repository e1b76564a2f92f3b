"""The access log (SPEC §7.4): page views and warehouse queries, written off the request path.

Requests put events on an in-memory queue and return at once; a background thread writes
them to the audit chain in batches, each batch in its own transaction, so a request that fails
(and rolls back its own work) never takes its access record with it, and a slow disk never
slows a page. Security events (log-ins, lock-outs, grant changes) do not come here: their
services write them synchronously inside their own transaction.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_request_context

from datasources.warehouse import QueryRecord
from portal.services.audit import record_event

log = logging.getLogger(__name__)
FLUSH_INTERVAL = 0.5
MAX_BATCH = 500
# While the store is unreachable events wait in memory; past this many, new ones are dropped
# (and counted, and logged) rather than let the web process run out of memory.
MAX_QUEUED = 100_000


class AccessLogWriter:
    """Queue access events and write them to the audit chain from a background thread."""

    def __init__(self, db, interval: float = FLUSH_INTERVAL):
        self.db = db
        self.interval = interval
        self._queue: queue.Queue[dict] = queue.Queue(maxsize=MAX_QUEUED)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failed = 0
        self.dropped = 0

    def record(self, **event) -> None:
        """Queue one event (the keyword arguments of audit.record_event)."""
        event.setdefault("at", datetime.now(UTC))
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("access log queue full: %d events dropped so far", self.dropped)
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="access-log", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        """Write every queued event now; return how many were written."""
        with self._lock:
            batch: list[dict] = []
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not batch:
                return 0
            try:
                with self.db.session() as s, s.begin():
                    for event in batch:
                        record_event(s, **event)
            except Exception:  # noqa: BLE001 - put them back and retry on the next tick
                log.exception("access log write failed; %d events kept for retry", len(batch))
                self.failed += len(batch)
                for event in batch:
                    try:
                        self._queue.put_nowait(event)
                    except queue.Full:
                        self.dropped += 1
                return 0
            self.written += len(batch)
            return len(batch)

    def close(self) -> None:
        self._stop.set()
        while self.flush():
            pass


def _actor() -> dict:
    """Return who is acting in the current request, for an event."""
    if not has_request_context():
        return {"actor_name": "system"}
    user = getattr(g, "user", None)
    from portal.auth import client_address

    if user is None:
        return {"client_addr": client_address()}
    return {"actor_id": user.id, "actor_name": user.username, "client_addr": client_address()}


def query_listener(writer: AccessLogWriter):
    """Return a warehouse listener that logs each query with its duration and row count."""

    def on_query(record: QueryRecord) -> None:
        writer.record(
            event_type="query",
            object_type="warehouse",
            object_id=record.label or None,
            duration_ms=record.duration_ms,
            row_count=record.rows,
            details={"cached": record.cached, "scope": record.scope_key},
            **_actor(),
        )

    return on_query


def audit_page_views(page_registry) -> None:
    """Wrap every registered page layout so that building a page logs a page view."""
    for page in page_registry.values():
        layout = page.get("layout")
        if callable(layout) and not getattr(layout, "__wrapped__", None):
            page["layout"] = _audited_layout(page["path_template"] or page["path"], layout)


def _audited_layout(path_template: str, layout):
    def audited_layout(**kwargs):
        writer = current_app.extensions.get("access_log") if has_request_context() else None
        if writer is not None:
            params = {k: str(v)[:200] for k, v in kwargs.items()}
            writer.record(
                event_type="page_view",
                object_type="page",
                object_id=path_template,
                details=params or None,
                **_actor(),
            )
        return layout(**kwargs)

    audited_layout.__wrapped__ = layout
    return audited_layout


def init_access_log(app: Flask) -> AccessLogWriter:
    """Create the app's writer, log warehouse queries and page views through it."""
    from portal.db import get_db

    with app.app_context():
        writer = AccessLogWriter(get_db())
    app.extensions["access_log"] = writer
    app.extensions["warehouse"].add_listener(query_listener(writer))
    atexit.register(writer.close)
    return writer
