"""Add the social tables: messages, shares, feed posts / likes / comments, access requests and
personal API tokens.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Message preferences per kind are kept as a user setting (`user_settings`, key
"messages.preferences"), so they need no table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MESSAGE_KINDS = ("share", "comment", "answer", "review", "access", "alert", "install")


def _in(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({allowed})"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title_zh", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("link", sa.String(500), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        _time("read_at", nullable=True),
        _time("created_at"),
        sa.CheckConstraint(_in("kind", MESSAGE_KINDS), name=op.f("ck_messages_kind")),
        _fk("messages", "user_id", "users.id", "CASCADE"),
        _fk("messages", "actor_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_user_created", "messages", ["user_id", "created_at"])
    op.create_index("ix_messages_user_read", "messages", ["user_id", "read_at"])

    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("sharer_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            _in("subject_type", ("user", "group")), name=op.f("ck_shares_subject_type")
        ),
        _fk("shares", "resource_id", "resources.id", "CASCADE"),
        _fk("shares", "sharer_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    op.create_index("ix_shares_resource", "shares", ["resource_id"])
    op.create_index(op.f("ix_shares_sharer_id"), "shares", ["sharer_id"])

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        _time("created_at"),
        _fk("posts", "author_id", "users.id", "CASCADE"),
        _fk("posts", "group_id", "groups.id", "CASCADE"),
        _fk("posts", "resource_id", "resources.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index(op.f("ix_posts_author_id"), "posts", ["author_id"])
    op.create_index("ix_posts_group_created", "posts", ["group_id", "created_at"])

    op.create_table(
        "post_likes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _time("created_at"),
        _fk("post_likes", "post_id", "posts.id", "CASCADE"),
        _fk("post_likes", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_likes")),
        sa.UniqueConstraint("post_id", "user_id", name=op.f("uq_post_likes_post_id_user_id")),
    )
    op.create_index(op.f("ix_post_likes_user_id"), "post_likes", ["user_id"])

    op.create_table(
        "post_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _time("created_at"),
        _fk("post_comments", "post_id", "posts.id", "CASCADE"),
        _fk("post_comments", "author_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_comments")),
    )
    op.create_index(op.f("ix_post_comments_post_id"), "post_comments", ["post_id"])

    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(8), server_default="pending", nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        _time("decided_at", nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            _in("status", ("pending", "approved", "rejected")),
            name=op.f("ck_access_requests_status"),
        ),
        _fk("access_requests", "requester_id", "users.id", "CASCADE"),
        _fk("access_requests", "resource_id", "resources.id", "CASCADE"),
        _fk("access_requests", "decided_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index(op.f("ix_access_requests_requester_id"), "access_requests", ["requester_id"])
    op.create_index(
        "ix_access_requests_resource_status", "access_requests", ["resource_id", "status"]
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at", nullable=True),
        _time("last_used_at", nullable=True),
        _time("revoked_at", nullable=True),
        _fk("api_tokens", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("access_requests")
    op.drop_table("post_comments")
    op.drop_table("post_likes")
    op.drop_table("posts")
    op.drop_table("shares")
    op.drop_table("messages")
