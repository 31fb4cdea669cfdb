"""The outbox records who holds each lease, and until when a payload keeps its secrets.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

An event leased before the upgrade has no owner, so its old dispatcher's
acknowledgement no longer counts and it is claimed again once its lease ends.
Sign-up events written before lose the link's token at once when delivered, and
otherwise keep it until the link's ``expires_at``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.add_column("events", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.add_column("events", sa.Column("secret_until", sa.DateTime(timezone=True), nullable=True))
    holding = sa.text("secret_until IS NOT NULL")
    op.create_index(
        "ix_events_secret_until",
        "events",
        ["secret_until"],
        postgresql_where=holding,
        sqlite_where=holding,
    )
    _keep_tokens_until_they_expire()


def _keep_tokens_until_they_expire() -> None:
    events = sa.table(
        "events",
        sa.column("id", sa.String),
        sa.column("kind", sa.String),
        sa.column("state", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("secret_until", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    found = connection.execute(
        sa.select(events.c.id, events.c.state, events.c.payload).where(
            events.c.kind == "signup_requested"
        )
    )
    scrubbed: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for event_id, state, stored in found:
        payload = json.loads(stored) if isinstance(stored, str) else dict(stored)
        if not payload.get("token"):
            continue
        if state == "delivered" or not payload.get("expires_at"):
            scrubbed.append({"match_id": event_id, "payload": {**payload, "token": ""}})
        else:
            until = datetime.fromisoformat(payload["expires_at"]).astimezone(UTC)
            # As the store writes times: naive UTC text on SQLite, timestamptz on Postgres.
            if connection.dialect.name == "sqlite":
                until = until.replace(tzinfo=None)
            kept.append({"match_id": event_id, "until": until})
    by_id = events.c.id == sa.bindparam("match_id")
    if scrubbed:
        connection.execute(
            events.update().where(by_id).values(payload=sa.bindparam("payload")), scrubbed
        )
    if kept:
        connection.execute(
            events.update().where(by_id).values(secret_until=sa.bindparam("until")), kept
        )


def downgrade() -> None:
    op.drop_index("ix_events_secret_until", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("secret_until")
        batch.drop_column("claimed_by")
