"""GLEIF ownership cache: LEI records, consolidation relationships (direct and ultimate) and listings' LEIs.

Revision ID: 0005_gleif_ownership
Revises: 0004_universe_market
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_gleif_ownership"
down_revision: str | None = "0004_universe_market"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_ = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lei_records",
        sa.Column("lei", sa.String(length=20), nullable=False),
        sa.Column("legal_name", sa.Text(), nullable=False),
        sa.Column("other_names", JSON_, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lei", name=op.f("pk_lei_records")),
    )
    op.create_table(
        "lei_relationships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_lei", sa.String(length=20), nullable=False),
        sa.Column("parent_lei", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lei_relationships")),
        sa.UniqueConstraint(
            "child_lei", "parent_lei", "kind", name=op.f("uq_lei_relationships_child_lei_parent_lei_kind")
        ),
    )
    with op.batch_alter_table("lei_relationships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lei_relationships_child_lei"), ["child_lei"], unique=False)
        batch_op.create_index(batch_op.f("ix_lei_relationships_parent_lei"), ["parent_lei"], unique=False)
    op.create_table(
        "security_leis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("lei", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["security_id"], ["securities.id"], name=op.f("fk_security_leis_security_id_securities"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_leis")),
        sa.UniqueConstraint("security_id", name=op.f("uq_security_leis_security_id")),
    )
    with op.batch_alter_table("security_leis", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_security_leis_lei"), ["lei"], unique=False)


def downgrade() -> None:
    op.drop_table("security_leis")
    op.drop_table("lei_relationships")
    op.drop_table("lei_records")
