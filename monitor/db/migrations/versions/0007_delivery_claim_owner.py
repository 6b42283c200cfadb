"""Who holds an outbox claim: ``alert_deliveries.claim_owner``.

A delivery being sent records its worker's owner id (host, PID, random suffix), so a restarted daemon takes over at
once the claims of a predecessor that provably died (as it already does with leases) instead of waiting out
``alerts.claim_timeout_seconds``; the sink still looks for an earlier copy before posting again.

Revision ID: 0007_delivery_claim_owner
Revises: 0006_document_pipeline_due
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_delivery_claim_owner"
down_revision: str | None = "0006_document_pipeline_due"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_owner", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_column("claim_owner")
