"""Notification settings: the kinds of ticket event each contact gets no e-mail of.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-28

A new table only: every contact starts with every e-mail on, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"


def upgrade() -> None:
    op.create_table(
        "email_opt_outs",
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_email_opt_outs_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "kind", name="pk_email_opt_outs"),
    )


def downgrade() -> None:
    op.drop_table("email_opt_outs")
