"""The SQL tables of timers, the outbox of events, the in-app feed and inbound e-mail."""

from __future__ import annotations

import sqlalchemy as sa

from ..dialects import UtcDateTime
from ._columns import (
    DELIVERED,
    PENDING,
    id_column,
    metadata,
    partial_index,
    position_column,
    ticket_fk,
)

timers = sa.Table(
    "timers",
    metadata,
    id_column(primary_key=True),
    id_column("ticket_id", ticket_fk(), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("status_epoch", sa.Integer, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("trigger", sa.String(64), nullable=True),
    sa.Column("stale_at", UtcDateTime, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("done_at", UtcDateTime, nullable=True),
)

# Sweeps read only pending timers; the partial index stays as small as the
# backlog however long the history grows.
partial_index(
    "ix_timers_pending_due_at", timers.c.due_at, timers.c.id, where=timers.c.state == PENDING
)
# The retention purge reads only finished timers, oldest first.
partial_index("ix_timers_finished_done_at", timers.c.done_at, where=timers.c.state != PENDING)

events = sa.Table(
    "events",
    metadata,
    position_column(),
    id_column(nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    id_column("ticket_id", nullable=True),
    id_column("actor_id", nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    # The delivery: the event's OutboxEntry, in the same row.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    # The dispatcher holding the lease: only its acknowledgement counts.
    id_column("claimed_by", nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    # Until when the payload keeps its secrets (a sign-up link's token), if it has any.
    sa.Column("secret_until", UtcDateTime, nullable=True),
    sa.Index(None, "ticket_id", "position"),
    # Outbox readers may remember the last position they saw: never reuse one.
    sqlite_autoincrement=True,
)

# Dispatchers read only pending events: in order, and per ticket to hold
# back an event while an earlier one of its ticket is pending.
partial_index("ix_events_pending_position", events.c.position, where=events.c.state == PENDING)
partial_index(
    "ix_events_pending_ticket_id_position",
    events.c.ticket_id,
    events.c.position,
    where=events.c.state == PENDING,
)
# Dispatchers empty the secrets of events not delivered in time: the few that hold one.
partial_index(
    "ix_events_secret_until", events.c.secret_until, where=events.c.secret_until.is_not(None)
)
# The retention purge reads only delivered events, oldest first.
partial_index(
    "ix_events_delivered_finished_at", events.c.finished_at, where=events.c.state == DELIVERED
)

notifications = sa.Table(
    "notifications",
    metadata,
    id_column(primary_key=True),
    id_column("contact_id", nullable=False),
    id_column("event_id", nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    id_column("ticket_id", nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("read_at", UtcDateTime, nullable=True),
    # The feed, newest first, page by page.
    sa.Index(None, "contact_id", "at", "id"),
    # Entries that copy what a person wrote on a ticket, for erasure.
    sa.Index(None, "ticket_id"),
)

# The bell's unread count.
partial_index(
    "ix_notifications_unread_contact_id",
    notifications.c.contact_id,
    where=notifications.c.read_at.is_(None),
)
# The retention purge reads only read entries, oldest first.
partial_index(
    "ix_notifications_read_at", notifications.c.at, where=notifications.c.read_at.is_not(None)
)

received_mail = sa.Table(
    "received_mail",
    metadata,
    # The key makes taking in a message twice impossible, even at once.
    sa.Column("message_id", sa.String(1000), primary_key=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    id_column("ticket_id", nullable=True, index=True),
    id_column("contact_id", nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
)
