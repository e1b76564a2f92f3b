"""The audit log: an append-only, hash-chained table of events, and its chain head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from portal.errors import Forbidden
from portal.models.base import Base, one_of, utcnow

AUDIT_RESULTS = ("ok", "denied", "error")
GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One audited action. `hash` = sha256(prev_hash + canonical JSON of the other fields).

    Rows are written only by `portal.services.audit.record_event`, which numbers them
    without gaps; the ORM refuses to update or delete them.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_at", "actor_id", "at"),
        Index("ix_audit_events_type_at", "event_type", "at"),
        one_of("result", AUDIT_RESULTS),
    )

    # Assigned from the chain head, not by the database: no gaps, so deletions show.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign key: events outlive users, and ON DELETE SET NULL would rewrite history.
    actor_id: Mapped[int | None]
    actor_name: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(8), default="ok", server_default="ok")
    duration_ms: Mapped[int | None]
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.event_type} {self.result}>"


class AuditChainHead(Base):
    """The single row holding the last event's id and hash; locking it serialises appends."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditImmutableError(Forbidden):
    """Raised when code tries to change or delete an audit event through the ORM."""

    code = "audit_immutable"


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditImmutableError(f"audit event {obj.id} cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditImmutableError(f"audit event {obj.id} cannot be changed")
    for obj in session.new:
        if isinstance(obj, AuditEvent) and not obj.hash:
            raise AuditImmutableError("audit events are written by record_event only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is AuditEvent:
        raise AuditImmutableError("audit events cannot be updated or deleted")
