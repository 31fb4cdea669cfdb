"""The agents' "Assigned to me" queue read by index, newest first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Written out in full rather than from the schema module, like 0001.  No data
changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_assignee_id_created_at_id", "tickets", ["assignee_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_id_created_at_id", table_name="tickets")
