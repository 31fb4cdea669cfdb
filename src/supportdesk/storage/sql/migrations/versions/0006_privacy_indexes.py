"""Indexes for privacy: a person's rows found without a scan, and history purged by age.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-21

Export and erasure find what a person wrote, uploaded and muted, and the feed
entries of a ticket; the retention purge reads finished timers, delivered
events and read feed entries, oldest first, from partial indexes that hold only
those.  No data changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"

_PARTIAL = {
    # name: (table, column, the rows it holds)
    "ix_timers_finished_done_at": ("timers", "done_at", "state <> 'pending'"),
    "ix_events_delivered_finished_at": ("events", "finished_at", "state = 'delivered'"),
    "ix_notifications_read_at": ("notifications", "at", "read_at IS NOT NULL"),
}


def upgrade() -> None:
    op.create_index("ix_activities_actor_id", "activities", ["actor_id"])
    op.create_index("ix_attachments_uploader_id", "attachments", ["uploader_id"])
    op.create_index("ix_muted_contact_id", "muted", ["contact_id"])
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])
    for name, (table, column, where) in _PARTIAL.items():
        holding = sa.text(where)
        op.create_index(name, table, [column], postgresql_where=holding, sqlite_where=holding)


def downgrade() -> None:
    for name, (table, _column, _where) in _PARTIAL.items():
        op.drop_index(name, table_name=table)
    op.drop_index("ix_notifications_ticket_id", table_name="notifications")
    op.drop_index("ix_muted_contact_id", table_name="muted")
    op.drop_index("ix_attachments_uploader_id", table_name="attachments")
    op.drop_index("ix_activities_actor_id", table_name="activities")
