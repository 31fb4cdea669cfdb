"""Each desk names its workflow and calendar (None: the SupportDesk's defaults).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Existing desks keep the defaults they ran on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"


def upgrade() -> None:
    with op.batch_alter_table("desks") as batch:
        batch.add_column(sa.Column("workflow", sa.String(64), nullable=True))
        batch.add_column(sa.Column("calendar", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desks") as batch:
        batch.drop_column("calendar")
        batch.drop_column("workflow")
