"""Help requests, their messages and audit trail, and the Bureau's linked channel.

Revision ID: 0003_help_requests
Revises: 0004_sessions
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_help_requests"
down_revision: str | None = "0004_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requester_id", sa.String(), nullable=False),
        sa.Column("directorate", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("urgency", sa.String(), nullable=False),
        sa.Column("contact", sa.String(), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=True),
        sa.Column("theme", sa.String(), nullable=True),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("claimed_by_id", sa.String(), nullable=True),
        sa.Column("claimed_by_name", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_to_id", sa.String(), nullable=True),
        sa.Column("assigned_to_name", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
    )
    op.create_index("ix_help_requests_requester_id", "help_requests", ["requester_id"])
    op.create_index(
        "ix_help_requests_status_created_at", "help_requests", ["status", "created_at"]
    )
    op.create_table(
        "help_request_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=True),
        sa.Column("author_name", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
            name=op.f("fk_help_request_messages_request_id_help_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request_messages")),
    )
    op.create_index(
        "ix_help_request_messages_request_id", "help_request_messages", ["request_id"]
    )
    op.create_table(
        "help_request_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("from_value", sa.String(), nullable=True),
        sa.Column("to_value", sa.String(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
            name=op.f("fk_help_request_audit_request_id_help_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request_audit")),
    )
    op.create_index("ix_help_request_audit_request_id", "help_request_audit", ["request_id"])
    op.create_table(
        "bureau_channels",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("linked_by", sa.String(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_bureau_channels")),
    )


def downgrade() -> None:
    op.drop_table("bureau_channels")
    op.drop_table("help_request_audit")
    op.drop_table("help_request_messages")
    op.drop_table("help_requests")
