"""Desk membership as rows: whom a ticket event reaches, found by index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Every contact's ``desk_ids`` become rows of ``contact_desks``; the JSON column
stays, as the contact is read whole from it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    contact_desks = op.create_table(
        "contact_desks",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("desk_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_contact_desks_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "desk_id", name="pk_contact_desks"),
    )
    op.create_index(
        "ix_contact_desks_desk_id_contact_id", "contact_desks", ["desk_id", "contact_id"]
    )
    contacts = sa.table("contacts", sa.column("id", sa.String), sa.column("desk_ids", sa.JSON))
    members: list[dict[str, Any]] = []
    for contact_id, desk_ids in op.get_bind().execute(
        sa.select(contacts.c.id, contacts.c.desk_ids)
    ):
        held = json.loads(desk_ids) if isinstance(desk_ids, str) else desk_ids
        members.extend({"contact_id": contact_id, "desk_id": desk_id} for desk_id in set(held))
    if members:
        op.bulk_insert(contact_desks, members)


def downgrade() -> None:
    op.drop_table("contact_desks")
