"""Add sso_token_uses: launch tokens a target system has redeemed, so each works once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_token_uses",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_token_uses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_sso_token_uses")),
    )
    op.create_index(op.f("ix_sso_token_uses_expires_at"), "sso_token_uses", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sso_token_uses_expires_at"), table_name="sso_token_uses")
    op.drop_table("sso_token_uses")
