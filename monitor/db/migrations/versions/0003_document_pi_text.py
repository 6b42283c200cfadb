"""The public-inspection text a rule was first read from (``documents.pi_text``), kept for name spotting.

The pipeline spots every universe name in the text a filing had at PI time (its raw text, or the text of its PDF
when the raw text is missing), so that text is stored once with the document rather than fetched again.

Revision ID: 0003_document_pi_text
Revises: 0002_universe_listing_dates
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_document_pi_text"
down_revision: str | None = "0002_universe_listing_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pi_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("pi_text")
