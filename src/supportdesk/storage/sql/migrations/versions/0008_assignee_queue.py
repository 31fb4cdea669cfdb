"""The agents' "Assigned to me" queue read by index, newest first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

No data changes.
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    op.create_index(
        "ix_tickets_assignee_id_created_at_id", "tickets", ["assignee_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_id_created_at_id", table_name="tickets")
