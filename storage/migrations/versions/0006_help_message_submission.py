"""A help-request message's submission key: a reply, note or answer sent twice is stored once.

Revision ID: 0006_help_message_submission
Revises: 0005_help_request_submission
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_help_message_submission"
down_revision: str | None = "0005_help_request_submission"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("help_request_messages") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(), nullable=True))
    # Messages stored before have none: NULLs never clash in a unique index.
    op.create_index(
        "ux_help_request_messages_request_submission",
        "help_request_messages",
        ["request_id", "submission_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(
        "ux_help_request_messages_request_submission", table_name="help_request_messages"
    )
    with op.batch_alter_table("help_request_messages") as batch:
        batch.drop_column("submission_key")
