"""The SQL schema: one MetaData holding every table and index the SQL store uses.

Column names equal the model attribute names, so that a row and
:func:`~supportdesk.to_data` of its model line up.  The Alembic revisions,
run in turn, create exactly this schema; a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.elements import ColumnClause

from .dialects import SEARCH_DDL, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Every table of the SQL store."""

PENDING: ColumnClause[str] = sa.literal_column("'pending'")
"""The pending state of timers and outbox events, as a literal: a partial index
is used only by queries that repeat its predicate with the same literal."""

SCANNING: ColumnClause[str] = sa.literal_column("'scanning'")
"""The scan status of quarantined attachments, as a literal, for the same reason."""

REJECTED: ColumnClause[str] = sa.literal_column("'rejected'")
"""The scan status of refused attachments, as a literal."""

DELIVERED: ColumnClause[str] = sa.literal_column("'delivered'")
"""The state of delivered outbox events, as a literal, for the purge's partial index."""


def _id(name: str = "id", *constraints: SchemaItem, **options: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), *constraints, **options)


def _position() -> sa.Column[int]:
    # An always increasing surrogate key that orders rows as they were
    # inserted; SQLite autoincrements only an INTEGER PRIMARY KEY.
    return sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.Identity(),
        primary_key=True,
    )


def _ticket_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tickets.id", ondelete="CASCADE")


organizations = sa.Table(
    "organizations",
    metadata,
    _id(primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _id(primary_key=True),
    # Stored normalised (stripped, lower-case), so a plain unique index
    # makes e-mails unique case-insensitively.
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    _id("organization_id", nullable=True),
    sa.Column("desk_ids", sa.JSON, nullable=False),
)

contact_desks = sa.Table(
    "contact_desks",
    metadata,
    _id("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    _id("desk_id", primary_key=True),
    # A desk's members without reading every contact: whom a ticket event reaches.
    sa.Index(None, "desk_id", "contact_id"),
)
"""The desks a contact works on: ``Contact.desk_ids`` as rows, kept in step by ``put_contact``."""

# Every single-use link's token, sign-up or password reset by its purpose
# (the table's name predates resets).
signup_tokens = sa.Table(
    "signup_tokens",
    metadata,
    # Only the token's hash is stored: the table cannot hand out working links.
    sa.Column("token_hash", sa.String(128), primary_key=True),
    _id("contact_id", nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("purpose", sa.String(32), nullable=False),
)

# Apart from contacts, so that reading a contact never reads its password.
password_hashes = sa.Table(
    "password_hashes",
    metadata,
    _id("contact_id", primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
)

desks = sa.Table(
    "desks",
    metadata,
    _id(primary_key=True),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("share_with_organization", sa.Boolean, nullable=False),
    sa.Column("follow_up_policy", sa.String(32), nullable=False),
    # In seconds, as the converter writes a timedelta.
    sa.Column("follow_up_window", sa.Float, nullable=True),
    # AttachmentLimits as the converter writes it: read with the desk, always whole.
    sa.Column("attachment_limits", sa.JSON, nullable=False),
)

request_types = sa.Table(
    "request_types",
    metadata,
    _position(),
    _id(nullable=False, unique=True),
    _id("desk_id", sa.ForeignKey("desks.id"), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("group", sa.Text, nullable=True),
    sa.Column("description_required", sa.Boolean, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("attachments", sa.String(32), nullable=False),
)

desk_sequences = sa.Table(
    "desk_sequences",
    metadata,
    _id("desk_id", primary_key=True),
    sa.Column("last_number", sa.BigInteger, nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    _id(primary_key=True),
    sa.Column("reference", sa.String(64), nullable=False, unique=True),
    _id("desk_id", nullable=False),
    _id("request_type_id", nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("sub_status", sa.String(64), nullable=True),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    _id("requester_id", nullable=False),
    _id("organization_id", nullable=True),
    _id("assignee_id", nullable=True),
    sa.Column("shared_with_organization", sa.Boolean, nullable=False),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    _id("follow_up_of", nullable=True),
    sa.Column("status_epoch", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # One index per list a portal shows, ending with the sort order so that a
    # page is read in order rather than sorted.  The organisation index leaves
    # out the shared flag: the "All" list also shows the organisation's
    # unshared tickets the actor requested, so the flag is no equality there.
    sa.Index(None, "requester_id", "created_at", "id"),
    sa.Index(None, "organization_id", "created_at", "id"),
    sa.Index(None, "desk_id", "created_at"),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "updated_at", "id"),
)

activities = sa.Table(
    "activities",
    metadata,
    _id(primary_key=True),
    _id("ticket_id", _ticket_fk(), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    _id("actor_id", nullable=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("internal", sa.Boolean, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("ticket_id", "seq"),
    # What a person wrote, for export and erasure.
    sa.Index(None, "actor_id"),
)

collaborators = sa.Table(
    "collaborators",
    metadata,
    _position(),
    _id("ticket_id", _ticket_fk(), nullable=False),
    _id("contact_id", nullable=False),
    _id("added_by", nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("ticket_id", "contact_id"),
    # "Where I collaborate": from a contact to the tickets.
    sa.Index(None, "contact_id", "ticket_id"),
)

muted = sa.Table(
    "muted",
    metadata,
    _id("ticket_id", _ticket_fk(), primary_key=True),
    _id("contact_id", primary_key=True),
    # A person's mutes, for export and erasure.
    sa.Index(None, "contact_id"),
)

email_opt_outs = sa.Table(
    "email_opt_outs",
    metadata,
    # Whom an event e-mails is read by contact: the key leads with it.
    _id("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
)
"""The kinds of ticket event each contact gets no e-mail of: ``NotificationSettings.email_off``."""

attachments = sa.Table(
    "attachments",
    metadata,
    # The order added: ids are random and upload times may tie.
    _position(),
    _id(nullable=False, unique=True),
    _id("ticket_id", _ticket_fk(), nullable=False),
    # The attachment_added entry; not a foreign key, like the other actor and
    # entry references: the log's entries are never deleted on their own.
    _id("activity_id", nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    # Two attachments never share a blob; the orphan sweep looks keys up here.
    sa.Column("blob_key", sa.String(1024), nullable=False, unique=True),
    _id("uploader_id", nullable=False),
    sa.Column("uploaded_at", UtcDateTime, nullable=False),
    sa.Column("internal", sa.Boolean, nullable=False),
    sa.Column("scan_status", sa.String(16), nullable=False),
    sa.Column("rejection_reason", sa.Text, nullable=True),
    # A ticket's Attachments tab, and its usage of the limits, in order added.
    sa.Index(None, "ticket_id", "position"),
    # A person's files, for export and erasure.
    sa.Index(None, "uploader_id"),
)

# The scan worker reads only quarantined files, oldest upload first: the
# partial index stays as small as the queue.
sa.Index(
    "ix_attachments_scanning_uploaded_at_position",
    attachments.c.uploaded_at,
    attachments.c.position,
    postgresql_where=attachments.c.scan_status == SCANNING,
    sqlite_where=attachments.c.scan_status == SCANNING,
)

timers = sa.Table(
    "timers",
    metadata,
    _id(primary_key=True),
    _id("ticket_id", _ticket_fk(), nullable=False, index=True),
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
sa.Index(
    "ix_timers_pending_due_at",
    timers.c.due_at,
    timers.c.id,
    postgresql_where=timers.c.state == PENDING,
    sqlite_where=timers.c.state == PENDING,
)
# The retention purge reads only finished timers, oldest first.
sa.Index(
    "ix_timers_finished_done_at",
    timers.c.done_at,
    postgresql_where=timers.c.state != PENDING,
    sqlite_where=timers.c.state != PENDING,
)

events = sa.Table(
    "events",
    metadata,
    _position(),
    _id(nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    _id("ticket_id", nullable=True),
    _id("actor_id", nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    # The delivery: the event's OutboxEntry, in the same row.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    # The dispatcher holding the lease: only its acknowledgement counts.
    _id("claimed_by", nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    # Until when the payload keeps its secrets (a sign-up link's token), if it has any.
    sa.Column("secret_until", UtcDateTime, nullable=True),
    sa.Index(None, "ticket_id", "position"),
    # Outbox readers may remember the last position they saw: never reuse one.
    sqlite_autoincrement=True,
)

# Dispatchers read only pending events: in order, and per ticket to hold
# back an event while an earlier one of its ticket is pending.
sa.Index(
    "ix_events_pending_position",
    events.c.position,
    postgresql_where=events.c.state == PENDING,
    sqlite_where=events.c.state == PENDING,
)
sa.Index(
    "ix_events_pending_ticket_id_position",
    events.c.ticket_id,
    events.c.position,
    postgresql_where=events.c.state == PENDING,
    sqlite_where=events.c.state == PENDING,
)
# Dispatchers empty the secrets of events not delivered in time: the few that hold one.
sa.Index(
    "ix_events_secret_until",
    events.c.secret_until,
    postgresql_where=events.c.secret_until.is_not(None),
    sqlite_where=events.c.secret_until.is_not(None),
)
# The retention purge reads only delivered events, oldest first.
sa.Index(
    "ix_events_delivered_finished_at",
    events.c.finished_at,
    postgresql_where=events.c.state == DELIVERED,
    sqlite_where=events.c.state == DELIVERED,
)

notifications = sa.Table(
    "notifications",
    metadata,
    _id(primary_key=True),
    _id("contact_id", nullable=False),
    _id("event_id", nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    _id("ticket_id", nullable=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("read_at", UtcDateTime, nullable=True),
    # The feed, newest first, page by page.
    sa.Index(None, "contact_id", "at", "id"),
    # Entries that copy what a person wrote on a ticket, for erasure.
    sa.Index(None, "ticket_id"),
)

# The bell's unread count.
sa.Index(
    "ix_notifications_unread_contact_id",
    notifications.c.contact_id,
    postgresql_where=notifications.c.read_at.is_(None),
    sqlite_where=notifications.c.read_at.is_(None),
)
# The retention purge reads only read entries, oldest first.
sa.Index(
    "ix_notifications_read_at",
    notifications.c.at,
    postgresql_where=notifications.c.read_at.is_not(None),
    sqlite_where=notifications.c.read_at.is_not(None),
)

announcements = sa.Table(
    "announcements",
    metadata,
    _id(primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("audience", sa.String(16), nullable=False),
    sa.Column("active_from", UtcDateTime, nullable=True),
    sa.Column("active_until", UtcDateTime, nullable=True),
    _id("author_id", nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=True),
)

articles = sa.Table(
    "articles",
    metadata,
    _id(primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    _id("author_id", nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=True),
)

search_fields = sa.Table(
    "search_fields",
    metadata,
    # Also the row id the SQLite full-text index refers to.
    _position(),
    sa.Column("kind", sa.String(16), nullable=False),
    _id("target_id", nullable=False),
    sa.Column("field", sa.String(80), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # The text as search.tokenize() splits it, space-separated: both full-text
    # engines index these tokens as they are, so every store matches alike.
    sa.Column("tokens", sa.Text, nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("internal", sa.Boolean, nullable=False),
    sa.UniqueConstraint("kind", "target_id", "field"),
)
"""One searchable field of a ticket, an activity entry, an article or an announcement.

The full-text index over ``tokens`` is dialect-specific DDL outside this
metadata (:data:`~supportdesk.storage.sql.dialects.SEARCH_DDL`).
"""


@sa.event.listens_for(search_fields, "after_create")
def _create_full_text_index(_table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    for statement in SEARCH_DDL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
