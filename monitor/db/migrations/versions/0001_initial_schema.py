"""Initial schema: documents, listing actions, events, universe, matches, prices, studies, outbox, leases.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON text on SQLite; timestamps are timestamptz (UTC, see monitor.db.types.UTCDateTime).
JSON_ = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "csl_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=False),
        sa.Column("source_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("alt_names", JSON_, nullable=False),
        sa.Column("addresses", JSON_, nullable=False),
        sa.Column("countries", JSON_, nullable=False),
        sa.Column("federal_register_notice", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("license_requirement", sa.Text(), nullable=True),
        sa.Column("license_policy", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csl_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_csl_entries_entry_id")),
    )
    with op.batch_alter_table("csl_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csl_entries_source_code"), ["source_code"], unique=False)

    op.create_table(
        "daily_prices",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("open", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("close", sa.Float(), nullable=True),
        sa.Column("adj_close", sa.Float(), nullable=True),
        sa.Column("volume", sa.Float(), nullable=True),
        sa.Column("dividends", sa.Float(), nullable=False),
        sa.Column("splits", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "date", name=op.f("pk_daily_prices")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=True),
        sa.Column("agencies", JSON_, nullable=False),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("citation", sa.String(length=64), nullable=True),
        sa.Column("start_page", sa.Integer(), nullable=True),
        sa.Column("end_page", sa.Integer(), nullable=True),
        sa.Column("cfr_parts", JSON_, nullable=False),
        sa.Column("html_url", sa.Text(), nullable=True),
        sa.Column("pdf_url", sa.Text(), nullable=True),
        sa.Column("public_inspection_pdf_url", sa.Text(), nullable=True),
        sa.Column("full_text_xml_url", sa.Text(), nullable=True),
        sa.Column("raw_text_url", sa.Text(), nullable=True),
        sa.Column("filing_type", sa.String(length=16), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pi_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_entity_list", sa.Boolean(), nullable=False),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("parse_status", sa.String(length=16), nullable=False),
        sa.Column("parse_error", sa.Text(), nullable=True),
        sa.Column("raw", JSON_, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("document_number", name=op.f("uq_documents_document_number")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_is_entity_list"), ["is_entity_list"], unique=False)

    op.create_table(
        "feed_state",
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("cursor", JSON_, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_feed_state")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "price_sync_state",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("last_session", sa.Date(), nullable=True),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history_since", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_price_sync_state")),
    )
    op.create_table(
        "securities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("issuer_name", sa.Text(), nullable=False),
        sa.Column("exchange_mic", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("benchmark", sa.String(length=32), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_securities")),
        sa.UniqueConstraint("symbol", name=op.f("uq_securities_symbol")),
    )
    op.create_table(
        "corporate_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_name", sa.Text(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("aliases", JSON_, nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["security_id"],
            ["securities.id"],
            name=op.f("fk_corporate_links_security_id_securities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporate_links")),
        sa.UniqueConstraint(
            "entity_name",
            "security_id",
            "relation",
            name=op.f("uq_corporate_links_entity_name_security_id_relation"),
        ),
    )
    with op.batch_alter_table("corporate_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corporate_links_security_id"), ["security_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_source", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("is_backfill", sa.Boolean(), nullable=False),
        sa.Column("alerts_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_events_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("document_id", name=op.f("uq_events_document_id")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_announced_at"), ["announced_at"], unique=False)

    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("counterparty", sa.Text(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["security_id"],
            ["securities.id"],
            name=op.f("fk_exposures_security_id_securities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sa.UniqueConstraint(
            "security_id",
            "counterparty",
            "relation",
            name=op.f("uq_exposures_security_id_counterparty_relation"),
        ),
    )
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposures_security_id"), ["security_id"], unique=False)

    op.create_table(
        "listing_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entity_name", sa.Text(), nullable=False),
        sa.Column("aliases", JSON_, nullable=False),
        sa.Column("country", sa.String(length=128), nullable=False),
        sa.Column("country_iso", sa.String(length=2), nullable=True),
        sa.Column("addresses", JSON_, nullable=False),
        sa.Column("license_requirement", sa.Text(), nullable=True),
        sa.Column("license_review_policy", sa.Text(), nullable=True),
        sa.Column("federal_register_citation", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_listing_actions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_actions")),
        sa.UniqueConstraint(
            "document_id",
            "action",
            "country",
            "entity_name",
            name=op.f("uq_listing_actions_document_id_action_country_entity_name"),
        ),
    )
    with op.batch_alter_table("listing_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_actions_document_id"), ["document_id"], unique=False)

    op.create_table(
        "security_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["security_id"],
            ["securities.id"],
            name=op.f("fk_security_aliases_security_id_securities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_aliases")),
        sa.UniqueConstraint("security_id", "alias", name=op.f("uq_security_aliases_security_id_alias")),
    )
    with op.batch_alter_table("security_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_security_aliases_security_id"), ["security_id"], unique=False)

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("symbol", sa.String(length=32), nullable=True),
        sa.Column("group_key", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("payload", JSON_, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_alert_outbox_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alert_outbox_dedup_key")),
    )
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_outbox_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_outbox_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_statistics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("caar", sa.Float(), nullable=True),
        sa.Column("aar", JSON_, nullable=False),
        sa.Column("tests", JSON_, nullable=False),
        sa.Column("parameters", JSON_, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_statistics_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_statistics")),
        sa.UniqueConstraint("event_id", "group_key", name=op.f("uq_event_statistics_event_id_group_key")),
    )
    with op.batch_alter_table("event_statistics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_statistics_event_id"), ["event_id"], unique=False)

    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_action_id", sa.Integer(), nullable=False),
        sa.Column("security_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("features", JSON_, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_action_id"],
            ["listing_actions.id"],
            name=op.f("fk_matches_listing_action_id_listing_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["security_id"],
            ["securities.id"],
            name=op.f("fk_matches_security_id_securities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint(
            "listing_action_id",
            "security_id",
            "relation",
            name=op.f("uq_matches_listing_action_id_security_id_relation"),
        ),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matches_listing_action_id"), ["listing_action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_security_id"), ["security_id"], unique=False)

    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=True),
        sa.Column("benchmark", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("day0", sa.Date(), nullable=True),
        sa.Column("day0_halted", sa.Boolean(), nullable=False),
        sa.Column("reaction_date", sa.Date(), nullable=True),
        sa.Column("through_date", sa.Date(), nullable=True),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("estimation", sa.Integer(), nullable=False),
        sa.Column("gap", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.Integer(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=True),
        sa.Column("beta", sa.Float(), nullable=True),
        sa.Column("sigma", sa.Float(), nullable=True),
        sa.Column("n_estimation", sa.Integer(), nullable=True),
        sa.Column("car", sa.Float(), nullable=True),
        sa.Column("car_variance", sa.Float(), nullable=True),
        sa.Column("car_t", sa.Float(), nullable=True),
        sa.Column("car_p", sa.Float(), nullable=True),
        sa.Column("bhar", sa.Float(), nullable=True),
        sa.Column("sub_windows", JSON_, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_studies_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("event_id", "symbol", name=op.f("uq_studies_event_id_symbol")),
    )
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studies_event_id"), ["event_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("sink", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("thread_ref", sa.String(length=64), nullable=True),
        sa.Column("routing", JSON_, nullable=False),
        sa.Column("receipt", JSON_, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert_outbox.id"],
            name=op.f("fk_alert_deliveries_alert_id_alert_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("alert_id", "sink", name=op.f("uq_alert_deliveries_alert_id_sink")),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_deliveries_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_deliveries_status"), ["status"], unique=False)

    op.create_table(
        "study_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("rel_day", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("ret", sa.Float(), nullable=True),
        sa.Column("benchmark_return", sa.Float(), nullable=True),
        sa.Column("ar", sa.Float(), nullable=True),
        sa.Column("ar_t", sa.Float(), nullable=True),
        sa.Column("car", sa.Float(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("halted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_study_days_study_id_studies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_days")),
        sa.UniqueConstraint("study_id", "rel_day", name=op.f("uq_study_days_study_id_rel_day")),
    )
    with op.batch_alter_table("study_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_days_study_id"), ["study_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("study_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_days_study_id"))

    op.drop_table("study_days")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_alert_id"))

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studies_event_id"))

    op.drop_table("studies")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_security_id"))
        batch_op.drop_index(batch_op.f("ix_matches_listing_action_id"))

    op.drop_table("matches")
    with op.batch_alter_table("event_statistics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_statistics_event_id"))

    op.drop_table("event_statistics")
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_outbox_event_id"))
        batch_op.drop_index(batch_op.f("ix_alert_outbox_due_at"))

    op.drop_table("alert_outbox")
    with op.batch_alter_table("security_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_aliases_security_id"))

    op.drop_table("security_aliases")
    with op.batch_alter_table("listing_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_actions_document_id"))

    op.drop_table("listing_actions")
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposures_security_id"))

    op.drop_table("exposures")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_announced_at"))

    op.drop_table("events")
    with op.batch_alter_table("corporate_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corporate_links_security_id"))

    op.drop_table("corporate_links")
    op.drop_table("securities")
    op.drop_table("price_sync_state")
    op.drop_table("leases")
    op.drop_table("feed_state")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_is_entity_list"))

    op.drop_table("documents")
    op.drop_table("daily_prices")
    with op.batch_alter_table("csl_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csl_entries_source_code"))

    op.drop_table("csl_entries")
