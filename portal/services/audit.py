"""The audit log (SPEC §7.4): append events to a hash chain and verify the chain.

Each event's `hash` is sha256(prev_hash + canonical JSON of its fields) and events are
numbered 1, 2, 3, ... from the one-row `audit_chain_head`, which also keeps the last hash.
Appending updates that row first, so concurrent appends queue on its row lock (PostgreSQL)
or on the database's write lock (SQLite) and the chain never forks. The lock is held until
the caller's transaction ends: record the event last in a command and keep it short.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models.audit import AUDIT_RESULTS, GENESIS_HASH, AuditChainHead, AuditEvent
from portal.models.base import utcnow

log = logging.getLogger(__name__)

HASHED_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "client_addr",
    "event_type",
    "object_type",
    "object_id",
    "result",
    "duration_ms",
    "row_count",
    "details",
)


def _canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(fields: dict[str, Any]) -> str:
    """Return the canonical JSON of an event's hashed fields (sorted keys, UTC times)."""
    data = {name: fields.get(name) for name in HASHED_FIELDS}
    data["at"] = _canonical_time(data["at"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """Return sha256(prev_hash + canonical JSON of the fields) as hex."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("utf-8")).hexdigest()


def _plain_json(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the details as the database will give them back (JSON types only)."""
    if details is None:
        return None
    return json.loads(json.dumps(details, default=str, ensure_ascii=False))


def record_event(
    session: Session,
    *,
    event_type: str,
    actor=None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    client_addr: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    result: str = "ok",
    duration_ms: float | None = None,
    row_count: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an event to the audit chain inside the caller's transaction.

    `actor` may be a User, filling `actor_id` and `actor_name`. Does not commit.
    """
    if result not in AUDIT_RESULTS:
        raise ValueError(f"audit result must be one of {AUDIT_RESULTS}, not {result!r}")
    if actor is not None:
        actor_id = actor.id if actor_id is None else actor_id
        actor_name = actor.username if actor_name is None else actor_name
    fields = {
        "at": (at or utcnow()).astimezone(UTC),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "client_addr": client_addr,
        "event_type": event_type,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "result": result,
        "duration_ms": None if duration_ms is None else int(round(duration_ms)),
        "row_count": None if row_count is None else int(row_count),
        "details": _plain_json(details),
    }
    # Updating the head row first takes the lock before the last hash is read.
    head = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(last_id=AuditChainHead.last_id + 1)
        .returning(AuditChainHead.last_id, AuditChainHead.last_hash)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head is missing: run the store's migrations")
    fields["id"] = head.last_id
    event = AuditEvent(
        **fields, prev_hash=head.last_hash, hash=compute_hash(head.last_hash, fields)
    )
    session.add(event)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(last_hash=event.hash)
        .execution_options(synchronize_session=False)
    )
    return event


def verify_chain(session: Session, batch_size: int = 1000) -> tuple[bool, int | None]:
    """Check every event's hash and link; return (True, None) or (False, first bad id).

    A missing event (deleted row) reports the id that should be there; a chain cut short
    of the head reports the head's last id.
    """
    table = AuditEvent.__table__
    expected_prev, expected_id = GENESIS_HASH, 1
    rows = session.execute(
        select(table).order_by(table.c.id), execution_options={"yield_per": batch_size}
    )
    for row in rows.mappings():
        fields = dict(row)
        if row["id"] != expected_id:
            return False, expected_id
        if row["prev_hash"] != expected_prev or row["hash"] != compute_hash(
            row["prev_hash"], fields
        ):
            return False, row["id"]
        expected_prev, expected_id = row["hash"], expected_id + 1
    head = session.execute(select(AuditChainHead.last_id, AuditChainHead.last_hash)).one_or_none()
    if head is not None and (head.last_id != expected_id - 1 or head.last_hash != expected_prev):
        log.warning("audit chain head at %s but events end at %s", head.last_id, expected_id - 1)
        return False, head.last_id
    return True, None
