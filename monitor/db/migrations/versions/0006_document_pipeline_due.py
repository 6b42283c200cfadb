"""Durable pipeline work on documents: ``pipeline_revision`` and ``pipeline_due_since``.

A document stored (or changed: its published version, a better extraction) but not yet run through the pipeline is
due; the poll that stores it, a later poll or the periodic sweep finishes it, and ``/readyz`` reports a document due
for too long. Entity List documents stored without an event before this migration are due since their first sighting.

Revision ID: 0006_document_pipeline_due
Revises: 0005_gleif_ownership
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_document_pipeline_due"
down_revision: str | None = "0005_gleif_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pipeline_revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("pipeline_due_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_documents_pipeline_due_since"), ["pipeline_due_since"], unique=False)
    op.execute(
        "UPDATE documents SET pipeline_due_since = first_seen_at "
        "WHERE is_entity_list AND id NOT IN (SELECT document_id FROM events)"
    )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_pipeline_due_since"))
        batch_op.drop_column("pipeline_due_since")
        batch_op.drop_column("pipeline_revision")
