"""Per-day statuses of a study survive storage: ``study_days.status``.

What happened to the security on each event-window session (traded, halted, bad_price, suspect, benchmark_gap,
no_data; ``monitor.models.DayStatus``) was computed by the engine but only ``halted`` was stored, so a suspect
return or a benchmark gap read back from the database looked traded. Rows stored before this migration keep what
was known of them: ``halted`` where the halted flag is set, else ``traded``.

Revision ID: 0008_study_day_status
Revises: 0007_delivery_claim_owner
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_study_day_status"
down_revision: str | None = "0007_delivery_claim_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("study_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="traded"))
    op.execute(sa.text("UPDATE study_days SET status = 'halted' WHERE halted"))


def downgrade() -> None:
    with op.batch_alter_table("study_days", schema=None) as batch_op:
        batch_op.drop_column("status")
