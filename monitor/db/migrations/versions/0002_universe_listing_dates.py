"""Listing dates: when a listing ended (``securities.delisted_on``), beside when it began (``listed_on``).

A security not yet listed, or already delisted, at an event's announcement is no hit for that event's study.

Revision ID: 0002_universe_listing_dates
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_universe_listing_dates"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("securities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delisted_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("securities", schema=None) as batch_op:
        batch_op.drop_column("delisted_on")
