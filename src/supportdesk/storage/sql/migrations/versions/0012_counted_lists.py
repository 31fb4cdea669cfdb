"""The lists' indexes also hold the columns their counts filter on: a tab's count reads no row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Each page index gains trailing columns (status; the shared flag; the assignee),
so that its order, and the pages read in it, stay as they were.  No data
changes.
"""

from __future__ import annotations

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"

BEFORE = {
    "ix_tickets_requester_id_created_at_id": ["requester_id", "created_at", "id"],
    "ix_tickets_organization_id_created_at_id": ["organization_id", "created_at", "id"],
    "ix_tickets_assignee_id_created_at_id": ["assignee_id", "created_at", "id"],
    "ix_tickets_desk_id_created_at": ["desk_id", "created_at"],
}
AFTER = {
    "ix_tickets_requester_id_created_at_id_status": [
        "requester_id",
        "created_at",
        "id",
        "status",
    ],
    "ix_tickets_organization_list": [
        "organization_id",
        "created_at",
        "id",
        "shared_with_organization",
        "status",
    ],
    "ix_tickets_assignee_id_created_at_id_status": ["assignee_id", "created_at", "id", "status"],
    "ix_tickets_desk_id_created_at_status_assignee_id": [
        "desk_id",
        "created_at",
        "status",
        "assignee_id",
    ],
}


def upgrade() -> None:
    _swap(BEFORE, AFTER)


def downgrade() -> None:
    _swap(AFTER, BEFORE)


def _swap(old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    # The new index first: the list is never left without one.
    for name, columns in new.items():
        op.create_index(name, "tickets", columns)
    for name in old:
        op.drop_index(name, table_name="tickets")
