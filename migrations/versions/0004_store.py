"""Add the app store (apps, likes, ratings, comments, installs) and questions & answers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Written by hand against portal/models/store.py (SPEC §6.1).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE"):
    referred, _, key = target.partition(".")
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "store_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_resource_id", sa.Integer(), nullable=True),
        sa.Column("target_url", sa.String(500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("category", sa.String(32), server_default="other", nullable=False),
        sa.Column("preview", sa.String(500), nullable=True),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), server_default="draft", nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        _counter("install_count"),
        _counter("like_count"),
        _counter("favorite_count"),
        _counter("rating_sum"),
        _counter("rating_count"),
        _counter("view_count"),
        _counter("comment_count"),
        *_timestamps(),
        sa.CheckConstraint(
            "kind IN ('dashboard', 'pivot', 'query', 'mining', 'external')",
            name=op.f("ck_store_apps_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'listed', 'unlisted', 'rejected')",
            name=op.f("ck_store_apps_status"),
        ),
        _fk("store_apps", "resource_id", "resources.id"),
        _fk("store_apps", "target_resource_id", "resources.id", "SET NULL"),
        _fk("store_apps", "reviewed_by", "users.id", "SET NULL"),
        _fk("store_apps", "author_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_apps")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_store_apps_resource_id")),
    )
    op.create_index(op.f("ix_store_apps_author_id"), "store_apps", ["author_id"])
    op.create_index("ix_store_apps_status_category", "store_apps", ["status", "category"])

    op.create_table(
        "store_likes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("store_likes", "app_id", "store_apps.id"),
        _fk("store_likes", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_likes")),
        sa.UniqueConstraint("app_id", "user_id", name=op.f("uq_store_likes_app_id_user_id")),
    )
    op.create_index(op.f("ix_store_likes_user_id"), "store_likes", ["user_id"])

    op.create_table(
        "store_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_store_ratings_stars")),
        _fk("store_ratings", "app_id", "store_apps.id"),
        _fk("store_ratings", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_ratings")),
        sa.UniqueConstraint("app_id", "user_id", name=op.f("uq_store_ratings_app_id_user_id")),
    )
    op.create_index(op.f("ix_store_ratings_user_id"), "store_ratings", ["user_id"])

    op.create_table(
        "store_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        *_timestamps(),
        _fk("store_comments", "app_id", "store_apps.id"),
        _fk("store_comments", "parent_id", "store_comments.id"),
        _fk("store_comments", "author_id", "users.id", "SET NULL"),
        _fk("store_comments", "deleted_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_comments")),
    )
    op.create_index(op.f("ix_store_comments_parent_id"), "store_comments", ["parent_id"])
    op.create_index("ix_store_comments_app_created", "store_comments", ["app_id", "created_at"])

    op.create_table(
        "store_installs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        *_timestamps(),
        _fk("store_installs", "app_id", "store_apps.id"),
        _fk("store_installs", "user_id", "users.id"),
        _fk("store_installs", "resource_id", "resources.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_installs")),
        sa.UniqueConstraint("app_id", "user_id", name=op.f("uq_store_installs_app_id_user_id")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_store_installs_resource_id")),
    )
    op.create_index(op.f("ix_store_installs_user_id"), "store_installs", ["user_id"])

    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=True),
        sa.Column("asker_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column("best_answer_id", sa.Integer(), nullable=True),
        _counter("answer_count"),
        *_timestamps(),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_questions_status")),
        _fk("questions", "resource_id", "resources.id"),
        _fk("questions", "app_id", "store_apps.id"),
        _fk("questions", "asker_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_questions_resource_id")),
    )
    op.create_index(op.f("ix_questions_asker_id"), "questions", ["asker_id"])
    op.create_index("ix_questions_app_created", "questions", ["app_id", "created_at"])

    op.create_table(
        "question_invites",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("question_invites", "question_id", "questions.id"),
        _fk("question_invites", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("question_id", "user_id", name=op.f("pk_question_invites")),
    )
    op.create_index(op.f("ix_question_invites_user_id"), "question_invites", ["user_id"])

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _counter("vote_count"),
        sa.Column("is_best", sa.Boolean(), server_default=sa.false(), nullable=False),
        *_timestamps(),
        _fk("answers", "question_id", "questions.id"),
        _fk("answers", "author_id", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index("ix_answers_question_created", "answers", ["question_id", "created_at"])

    op.create_table(
        "answer_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("answer_votes", "answer_id", "answers.id"),
        _fk("answer_votes", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_votes")),
        sa.UniqueConstraint("answer_id", "user_id", name=op.f("uq_answer_votes_answer_id_user_id")),
    )
    op.create_index(op.f("ix_answer_votes_user_id"), "answer_votes", ["user_id"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM resources WHERE id IN (SELECT resource_id FROM questions)"))
    op.execute(
        sa.text("DELETE FROM resources WHERE id IN (SELECT resource_id FROM store_installs)")
    )
    op.execute(sa.text("DELETE FROM resources WHERE id IN (SELECT resource_id FROM store_apps)"))
    for table in (
        "answer_votes",
        "answers",
        "question_invites",
        "questions",
        "store_installs",
        "store_comments",
        "store_ratings",
        "store_likes",
        "store_apps",
    ):
        op.drop_table(table)
