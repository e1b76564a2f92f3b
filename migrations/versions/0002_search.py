"""Add the unified search index: one document per resource, its terms, and text indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

The index is derived data kept by portal/services/search_index.py, outside the models'
metadata (every table is named `search_*`, and Alembic's autogenerate skips them). On SQLite a
FTS5 trigram table `search_fts` holds the documents' text and Chinese grams for substring
lookups; on PostgreSQL pg_trgm GIN indexes on `search_documents.body`, `.grams` and
`.title_grams` do the same.
Either is skipped when the server lacks it (FTS5 not compiled in, pg_trgm not installable):
search then scans with LIKE, which is correct and still fast at tens of thousands of
resources. Documents are (re)built by `search_index.ensure_index`, not here.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


OLD_TYPES = ("app", "report", "dashboard", "pivot", "query", "dataset", "metric", "tile")
NEW_TYPES = (*OLD_TYPES, "external", "question", "upload", "screen")


def _resource_types(types: tuple[str, ...]) -> None:
    """Replace the CHECK constraint on resources.type (batch mode copies the table on SQLite)."""
    allowed = ", ".join(f"'{t}'" for t in types)
    with op.batch_alter_table("resources") as batch:
        batch.drop_constraint(op.f("ck_resources_type"), type_="check")
        batch.create_check_constraint(op.f("ck_resources_type"), f"type IN ({allowed})")


def upgrade() -> None:
    _resource_types(NEW_TYPES)
    op.create_table(
        "search_documents",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("domain", sa.String(32), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("titles", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("grams", sa.Text(), nullable=False),
        sa.Column("title_grams", sa.Text(), nullable=False),
        sa.Column("views_30d", sa.Integer(), server_default="0", nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_search_documents_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_search_documents_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_search_documents")),
    )
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _create_fts(bind)
    elif bind.dialect.name == "postgresql":
        _create_trigram_index(bind)


def _create_fts(bind) -> None:
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(
                "CREATE VIRTUAL TABLE search_fts "
                "USING fts5(body, grams, title_grams, tokenize='trigram')"
            )
    except sa.exc.DBAPIError as exc:
        log.warning("search: no FTS5 trigram table (%s); search will scan with LIKE", exc)


def _create_trigram_index(bind) -> None:
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for column in ("body", "grams", "title_grams"):
                bind.exec_driver_sql(
                    f"CREATE INDEX ix_search_documents_{column}_trgm ON search_documents "
                    f"USING gin ({column} gin_trgm_ops)"
                )
    except sa.exc.DBAPIError as exc:
        log.warning("search: no pg_trgm index (%s); search will scan with LIKE", exc)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_search_documents_body_trgm")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_search_documents_grams_trgm")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_search_documents_title_grams_trgm")
    op.drop_table("search_terms")
    op.drop_table("search_documents")
    op.execute(
        sa.text("DELETE FROM resources WHERE type IN ('external', 'question', 'upload', 'screen')")
    )
    _resource_types(OLD_TYPES)
