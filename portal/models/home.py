"""The home page: default layouts per role, and announcements (公告栏, SPEC §2.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, one_of, utcnow

ANNOUNCEMENT_LEVELS = ("info", "important", "urgent")


class RoleSetting(Base):
    """A versioned JSON document per role and key, such as the role's default home layout."""

    __tablename__ = "role_settings"
    __table_args__ = (UniqueConstraint("role_code", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("roles.code", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Announcement(Base):
    """A notice an administrator publishes to everyone or chosen roles, groups or branches."""

    __tablename__ = "announcements"
    __table_args__ = (one_of("level", ANNOUNCEMENT_LEVELS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16), default="info", server_default="info")
    # {"roles": [...], "groups": [...], "branches": [...]}; an empty list does not restrict.
    audience: Mapped[Any] = mapped_column(JSON, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
