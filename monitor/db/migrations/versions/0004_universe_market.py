"""The universe at market scale: ISINs on listings (to link GLEIF ownership records), the year of an exposure's
disclosed revenue share, and update times on links and exposures so the match index notices any change.

Revision ID: 0004_universe_market
Revises: 0003_document_pi_text
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_universe_market"
down_revision: str | None = "0003_document_pi_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EPOCH = sa.text("'1970-01-01 00:00:00+00:00'")


def upgrade() -> None:
    with op.batch_alter_table("securities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("isin", sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f("ix_securities_isin"), ["isin"], unique=False)
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_EPOCH))
    with op.batch_alter_table("corporate_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_EPOCH))
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.alter_column("updated_at", server_default=None)
    with op.batch_alter_table("corporate_links", schema=None) as batch_op:
        batch_op.alter_column("updated_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("corporate_links", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("year")
    with op.batch_alter_table("securities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_securities_isin"))
        batch_op.drop_column("isin")
