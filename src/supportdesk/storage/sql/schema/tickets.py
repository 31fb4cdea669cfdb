"""The SQL tables of tickets, their activity, collaborators, mutes, opt-outs and attachments."""

from __future__ import annotations

import sqlalchemy as sa

from ..dialects import UtcDateTime
from ._columns import SCANNING, id_column, metadata, partial_index, position_column, ticket_fk

tickets = sa.Table(
    "tickets",
    metadata,
    id_column(primary_key=True),
    sa.Column("reference", sa.String(64), nullable=False, unique=True),
    id_column("desk_id", nullable=False),
    id_column("request_type_id", nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("sub_status", sa.String(64), nullable=True),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    id_column("requester_id", nullable=False),
    id_column("organization_id", nullable=True),
    id_column("assignee_id", nullable=True),
    sa.Column("shared_with_organization", sa.Boolean, nullable=False),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    id_column("follow_up_of", nullable=True),
    sa.Column("status_epoch", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sla_due_at", UtcDateTime, nullable=True),
    # One index per list a portal shows, with the sort order next so that a
    # page is read in order rather than sorted, and then the columns its
    # counts filter on, so that a tab's count reads the index alone.  The
    # organisation index has the shared flag after the order: the "All" list
    # also shows the organisation's unshared tickets the actor requested, so
    # the flag is no equality there.
    sa.Index(None, "requester_id", "created_at", "id", "status"),
    sa.Index(
        "ix_tickets_organization_list",  # the columns' names would pass Postgres's 63 bytes
        "organization_id",
        "created_at",
        "id",
        "shared_with_organization",
        "status",
    ),
    sa.Index(None, "assignee_id", "created_at", "id", "status"),
    sa.Index(None, "desk_id", "created_at", "status", "assignee_id"),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "updated_at", "id"),
)
# The queue of breaches to come reads only tickets whose SLA clock runs.
partial_index(
    "ix_tickets_sla_due_at_id",
    tickets.c.sla_due_at,
    tickets.c.id,
    where=tickets.c.sla_due_at.is_not(None),
)

activities = sa.Table(
    "activities",
    metadata,
    id_column(primary_key=True),
    id_column("ticket_id", ticket_fk(), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    id_column("actor_id", nullable=True),
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
    position_column(),
    id_column("ticket_id", ticket_fk(), nullable=False),
    id_column("contact_id", nullable=False),
    id_column("added_by", nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("ticket_id", "contact_id"),
    # "Where I collaborate": from a contact to the tickets.
    sa.Index(None, "contact_id", "ticket_id"),
)

muted = sa.Table(
    "muted",
    metadata,
    id_column("ticket_id", ticket_fk(), primary_key=True),
    id_column("contact_id", primary_key=True),
    # A person's mutes, for export and erasure.
    sa.Index(None, "contact_id"),
)

email_opt_outs = sa.Table(
    "email_opt_outs",
    metadata,
    # Whom an event e-mails is read by contact: the key leads with it.
    id_column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
)
"""The kinds of ticket event each contact gets no e-mail of: ``NotificationSettings.email_off``."""

attachments = sa.Table(
    "attachments",
    metadata,
    # The order added: ids are random and upload times may tie.
    position_column(),
    id_column(nullable=False, unique=True),
    id_column("ticket_id", ticket_fk(), nullable=False),
    # The attachment_added entry; not a foreign key, like the other actor and
    # entry references: the log's entries are never deleted on their own.
    id_column("activity_id", nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    # Two attachments never share a blob; the orphan sweep looks keys up here.
    sa.Column("blob_key", sa.String(1024), nullable=False, unique=True),
    id_column("uploader_id", nullable=False),
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
partial_index(
    "ix_attachments_scanning_uploaded_at_position",
    attachments.c.uploaded_at,
    attachments.c.position,
    where=attachments.c.scan_status == SCANNING,
)
