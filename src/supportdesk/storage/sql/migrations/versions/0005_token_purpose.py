"""Each link token says what it is for: a sign-up or a password reset.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-14

Every token stored before this revision is a sign-up link's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    # A NOT NULL column needs a default to fill the rows there are; the store
    # always writes the column, so Postgres drops the default again.  SQLite
    # keeps it, as 0002 does: dropping it there means copying the table.
    op.add_column(
        "signup_tokens",
        sa.Column("purpose", sa.String(32), nullable=False, server_default="signup"),
    )
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("signup_tokens", "purpose", server_default=None)


def downgrade() -> None:
    # Reset links mean nothing to the older schema: they go with the column.
    tokens = sa.table("signup_tokens", sa.column("purpose", sa.String))
    op.execute(tokens.delete().where(tokens.c.purpose != "signup"))
    with op.batch_alter_table("signup_tokens") as batch:
        batch.drop_column("purpose")
