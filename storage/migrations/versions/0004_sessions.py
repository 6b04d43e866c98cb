"""Sessions with places, registrations with a waiting list, anonymous evaluations.

Revision ID: 0004_sessions
Revises: 0002_outbox
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_sessions"
down_revision: str | None = "0002_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("offer", sa.String(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("signup_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "places_taken >= 0 AND places_taken <= capacity", name=op.f("ck_sessions_places")
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_sessions_capacity")),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_sessions_duration")),
        sa.CheckConstraint(
            "audience IN ('everyone', 'managers')", name=op.f("ck_sessions_audience")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'full', 'closed', 'cancelled', 'held')",
            name=op.f("ck_sessions_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_offer"), "sessions", ["offer"])
    op.create_index(op.f("ix_sessions_starts_at"), "sessions", ["starts_at"])
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("function", sa.String(), nullable=False),
        sa.Column("directorate", sa.String(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=False),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('confirmed', 'waiting', 'offered', 'cancelled')",
            name=op.f("ck_registrations_status"),
        ),
        sa.CheckConstraint(
            "status <> 'offered' OR offer_expires_at IS NOT NULL",
            name=op.f("ck_registrations_offer"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_registrations_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint(
            "session_id", "person", name=op.f("uq_registrations_session_id_person")
        ),
        sa.UniqueConstraint(
            "session_id", "ticket", name=op.f("uq_registrations_session_id_ticket")
        ),
    )
    op.create_index(op.f("ix_registrations_person"), "registrations", ["person"])
    op.create_table(
        "session_evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_session_evaluations_rating")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_evaluations_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_evaluations")),
    )


def downgrade() -> None:
    op.drop_table("session_evaluations")
    op.drop_index(op.f("ix_registrations_person"), table_name="registrations")
    op.drop_table("registrations")
    op.drop_index(op.f("ix_sessions_starts_at"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_offer"), table_name="sessions")
    op.drop_table("sessions")
