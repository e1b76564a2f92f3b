"""Resources (apps, reports, dashboards, ...), grants on them, favorites, views, settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, one_of, utcnow

RESOURCE_TYPES = (
    "app",
    "report",
    "dashboard",
    "pivot",
    "query",
    "dataset",
    "metric",
    "tile",
    "external",
    "question",
    "upload",
    "screen",
)
SUBJECT_TYPES = ("user", "group", "role")
PERMISSIONS = ("view", "edit", "manage", "unmask", "export")

# 64-bit ids for the tables that grow with usage; SQLite only auto-increments INTEGER keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Resource(TimestampMixin, Base):
    """Something a user can open, share and be granted: identified by `(type, key)`.

    `key` is the natural id where one exists (a metric id, a dataset's table name), else a
    generated one.
    """

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("type", "key"), one_of("type", RESOURCE_TYPES))

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200), default=lambda: uuid.uuid4().hex)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    spec: Mapped[dict[str, Any] | None]

    def __repr__(self) -> str:
        return f"<Resource {self.type}:{self.key}>"


class Grant(Base):
    """A permission on a resource given to a user, a group or a role, maybe until a time."""

    __tablename__ = "grants"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "resource_id", "permission"),
        Index("ix_grants_resource_permission", "resource_id", "permission"),
        one_of("subject_type", SUBJECT_TYPES),
        one_of("permission", PERMISSIONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int]
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime | None]
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource] = relationship()

    def is_current(self, now: datetime | None = None) -> bool:
        """Return whether the grant has not expired at `now`."""
        return self.expires_at is None or self.expires_at > (now or utcnow())


class Favorite(Base):
    """A resource a user marked as favorite (我的收藏)."""

    __tablename__ = "favorites"
    __table_args__ = (UniqueConstraint("user_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class View(Base):
    """One opening of a resource by a user (recently viewed, popularity)."""

    __tablename__ = "resource_views"
    __table_args__ = (
        Index("ix_resource_views_user_at", "user_id", "at"),
        Index("ix_resource_views_resource_at", "resource_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSetting(Base):
    """A versioned JSON document per user and key, such as the home-page layout."""

    __tablename__ = "user_settings"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
