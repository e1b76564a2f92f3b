"""The app store (应用商城) and questions & answers (互助问答), SPEC §6.1.

An app is a packaged analysis; each app is also a Resource of type "app" (search, grants,
favorites and views work on it like on any resource). Counters on `store_apps` are kept by
atomic `UPDATE ... SET n = n + 1` in the transaction that inserts the unique row they count
(portal/services/store.py). An install is "my app": an independent copy, a Resource owned by
the installer with its own parameters. A question may be on an app or general; private ones
are seen by the asker, the invited answerers and administrators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, one_of, utcnow
from portal.models.resources import Resource

APP_KINDS = ("dashboard", "pivot", "query", "mining", "external")
APP_STATUSES = ("draft", "submitted", "listed", "unlisted", "rejected")
QUESTION_STATUSES = ("open", "resolved")


class StoreApp(TimestampMixin, Base):
    """An app of the store: what it packages, how it looks, where it is in its lifecycle."""

    __tablename__ = "store_apps"
    __table_args__ = (
        one_of("kind", APP_KINDS),
        one_of("status", APP_STATUSES),
        Index("ix_store_apps_status_category", "status", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # What the app opens: a resource (dashboard, pivot, ...) or a URL (external, portal path).
    target_resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resources.id", ondelete="SET NULL")
    )
    target_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any] | None]
    category: Mapped[str] = mapped_column(String(32), default="other", server_default="other")
    preview: Mapped[str | None] = mapped_column(String(500))
    params: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    listed_at: Mapped[datetime | None]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    install_count: Mapped[int] = mapped_column(default=0, server_default="0")
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    favorite_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    view_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")

    resource: Mapped[Resource] = relationship(foreign_keys=[resource_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<StoreApp {self.id} {self.status}>"


class AppLike(Base):
    """A user's like (点赞) of an app: at most one per user and app."""

    __tablename__ = "store_likes"
    __table_args__ = (UniqueConstraint("app_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppRating(Base):
    """A user's rating of an app, 1 to 5 stars; one per user, which they may change."""

    __tablename__ = "store_ratings"
    __table_args__ = (
        UniqueConstraint("app_id", "user_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppComment(TimestampMixin, Base):
    """A comment on an app, maybe a reply to another; removed ones keep their place."""

    __tablename__ = "store_comments"
    __table_args__ = (Index("ix_store_comments_app_created", "app_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("store_comments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AppInstall(Base):
    """An installed app ("my app"): the installer's own copy, a Resource with its parameters."""

    __tablename__ = "store_installs"
    __table_args__ = (UniqueConstraint("app_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), unique=True
    )
    params: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    app: Mapped[StoreApp] = relationship(lazy="joined")
    resource: Mapped[Resource] = relationship(foreign_keys=[resource_id], lazy="joined")


question_invites = Table(
    "question_invites",
    Base.metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Question(TimestampMixin, Base):
    """A question (互助问答) on an app or in general; also a Resource of type "question"."""

    __tablename__ = "questions"
    __table_args__ = (
        one_of("status", QUESTION_STATUSES),
        Index("ix_questions_app_created", "app_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), unique=True
    )
    app_id: Mapped[int | None] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    asker_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    # No foreign key (answers point at questions): the service keeps it to one of its answers.
    best_answer_id: Mapped[int | None]
    answer_count: Mapped[int] = mapped_column(default=0, server_default="0")

    invited: Mapped[list[Any]] = relationship("User", secondary=question_invites, lazy="selectin")


class Answer(TimestampMixin, Base):
    """An answer to a question; `vote_count` counts its up-votes."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_question_created", "question_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    vote_count: Mapped[int] = mapped_column(default=0, server_default="0")
    is_best: Mapped[bool] = mapped_column(default=False, server_default=false())


class AnswerVote(Base):
    """A user's up-vote of an answer: at most one per user and answer."""

    __tablename__ = "answer_votes"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
