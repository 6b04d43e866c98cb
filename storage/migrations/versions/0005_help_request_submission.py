"""A help request's submission key: the intake's Versturen pressed twice stores one request.

Revision ID: 0005_help_request_submission
Revises: 0003_help_requests
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_help_request_submission"
down_revision: str | None = "0003_help_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("help_requests") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(), nullable=True))
    # Requests stored before have none: NULLs never clash in a unique index.
    op.create_index(
        "ux_help_requests_requester_submission",
        "help_requests",
        ["requester_id", "submission_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_help_requests_requester_submission", table_name="help_requests")
    with op.batch_alter_table("help_requests") as batch:
        batch.drop_column("submission_key")
