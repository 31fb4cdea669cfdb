"""Inbound e-mails taken in, by Message-ID, so that none is taken in twice.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    op.create_table(
        "received_mail",
        sa.Column("message_id", sa.String(1000), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=True),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_received_mail_ticket_id", "received_mail", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("received_mail")
