"""Each ticket keeps when its nearest SLA target breaches, for the queue of breaches to come.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Existing tickets have no SLA clock running until their next change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
    running = sa.column("sla_due_at").is_not(None)
    op.create_index(
        "ix_tickets_sla_due_at_id",
        "tickets",
        ["sla_due_at", "id"],
        postgresql_where=running,
        sqlite_where=running,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_due_at_id", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("sla_due_at")
