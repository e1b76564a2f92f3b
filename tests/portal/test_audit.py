"""The audit log: hash chain, tamper detection, immutability, concurrent appends (SPEC §7.4)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text, update

from portal.models import AuditEvent, AuditImmutableError, User
from portal.services.audit import GENESIS_HASH, compute_hash, record_event, verify_chain


def _record(db, n: int, **fields) -> list[int]:
    ids = []
    for i in range(n):
        with db.session() as s, s.begin():
            event = record_event(
                s,
                event_type=fields.get("event_type", "page_view"),
                actor_name="analyst",
                client_addr="10.1.2.3",
                object_type="page",
                object_id=f"/catalog/{i}",
                duration_ms=12.6,
                row_count=i,
                details={"i": i, "标签": "存款"},
            )
            ids.append(event.id)
    return ids


def _fresh_log(db) -> None:
    """Start from the events the seeding wrote; they must verify too."""
    with db.session() as s:
        assert verify_chain(s) == (True, None)


def test_events_form_a_verifiable_chain(db):
    _fresh_log(db)
    with db.session() as s:
        before = s.scalar(select(func.max(AuditEvent.id))) or 0
    ids = _record(db, 5)
    assert ids == list(range(before + 1, before + 6))
    with db.session() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert events[0].prev_hash == GENESIS_HASH
        for prev, event in zip(events, events[1:], strict=False):
            assert event.prev_hash == prev.hash
        last = events[-1]
        assert last.duration_ms == 13 and last.details == {"i": 4, "标签": "存款"}
        assert last.at.tzinfo == UTC
        assert verify_chain(s) == (True, None)


def test_details_are_stored_as_plain_json(db):
    with db.session() as s, s.begin():
        event = record_event(
            s,
            event_type="export",
            details={
                "when": datetime(2026, 1, 2, 3, 4, 5),
                "day": date(2026, 1, 2),
                "amount": Decimal("1.5"),
            },
        )
    with db.session() as s:
        stored = s.get(AuditEvent, event.id)
        assert stored.details == {
            "when": "2026-01-02 03:04:05",
            "day": "2026-01-02",
            "amount": "1.5",
        }
        assert verify_chain(s) == (True, None)


def test_chain_verifies_in_another_session_time_zone(db):
    _record(db, 3)
    with db.session() as s:
        if db.dialect == "postgresql":
            s.execute(text("SET TIME ZONE 'Asia/Shanghai'"))
        assert verify_chain(s) == (True, None)


def test_record_event_with_a_user_as_actor(db):
    with db.session() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "auditor"))
        event = record_event(
            s, event_type="resource_open", actor=user, object_type="report", object_id=7
        )
        assert (event.actor_id, event.actor_name, event.object_id) == (user.id, "auditor", "7")
        with pytest.raises(ValueError):
            record_event(s, event_type="query", result="maybe")


def test_a_rolled_back_event_leaves_no_gap(db):
    first = _record(db, 1)[0]
    with db.session() as s:
        s.begin()
        record_event(s, event_type="query")
        s.rollback()
    assert _record(db, 1)[0] == first + 1
    with db.session() as s:
        assert verify_chain(s) == (True, None)


def test_tampered_row_is_detected(db):
    ids = _record(db, 5)
    with db.session() as s, s.begin():
        s.execute(
            text("UPDATE audit_events SET actor_name = 'mallory' WHERE id = :id"), {"id": ids[2]}
        )
    with db.session() as s:
        assert verify_chain(s) == (False, ids[2])


def test_rehashed_row_breaks_the_next_link(db):
    ids = _record(db, 4)
    with db.session() as s, s.begin():
        row = (
            s.execute(select(AuditEvent.__table__).where(AuditEvent.id == ids[1])).mappings().one()
        )
        fields = {**row, "row_count": 999}
        forged = compute_hash(row["prev_hash"], fields)
        s.execute(
            text("UPDATE audit_events SET row_count = 999, hash = :h WHERE id = :id"),
            {"h": forged, "id": ids[1]},
        )
    with db.session() as s:
        assert verify_chain(s) == (False, ids[2])


def test_deleted_rows_are_detected(db):
    ids = _record(db, 5)
    with db.session() as s, s.begin():
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    with db.session() as s:
        assert verify_chain(s) == (False, ids[1])
    with db.session() as s, s.begin():
        s.execute(text("DELETE FROM audit_events WHERE id > :id"), {"id": ids[0]})
    with db.session() as s:
        assert verify_chain(s) == (False, ids[-1])


def test_orm_refuses_to_change_or_delete_events(db):
    event_id = _record(db, 1)[0]
    with pytest.raises(AuditImmutableError), db.session() as s, s.begin():
        s.get(AuditEvent, event_id).actor_name = "mallory"
    with pytest.raises(AuditImmutableError), db.session() as s, s.begin():
        s.delete(s.get(AuditEvent, event_id))
    with pytest.raises(AuditImmutableError), db.session() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(result="error"))
    with pytest.raises(AuditImmutableError), db.session() as s, s.begin():
        s.execute(delete(AuditEvent))
    with pytest.raises(AuditImmutableError), db.session() as s, s.begin():
        s.add(AuditEvent(id=10**9, event_type="login", prev_hash="x", hash=""))
    with db.session() as s:
        assert s.get(AuditEvent, event_id).actor_name == "analyst"
        assert verify_chain(s) == (True, None)


def test_concurrent_appends_keep_the_chain(db):
    threads, per_thread = 8, 15
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with db.session() as s, s.begin():
                    # A little work in the transaction before the event, as a command would do.
                    s.execute(select(func.count()).select_from(User))
                    record_event(s, event_type="query", actor_name=f"worker{n}", row_count=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    with db.session() as s:
        ids = list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
        assert len(ids) == before + threads * per_thread
        assert ids == list(range(1, len(ids) + 1))
        assert verify_chain(s) == (True, None)
