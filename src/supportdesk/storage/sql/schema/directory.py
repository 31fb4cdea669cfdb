"""The SQL tables of organisations, contacts and what proves who they are, desks, references."""

from __future__ import annotations

import sqlalchemy as sa

from ..dialects import UtcDateTime
from ._columns import id_column, metadata, position_column

organizations = sa.Table(
    "organizations",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    id_column(primary_key=True),
    # Stored normalised (stripped, lower-case), so a plain unique index
    # makes e-mails unique case-insensitively.
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    id_column("organization_id", nullable=True),
    sa.Column("desk_ids", sa.JSON, nullable=False),
)

contact_desks = sa.Table(
    "contact_desks",
    metadata,
    id_column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    id_column("desk_id", primary_key=True),
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
    id_column("contact_id", nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Column("purpose", sa.String(32), nullable=False),
)

# Apart from contacts, so that reading a contact never reads its password.
password_hashes = sa.Table(
    "password_hashes",
    metadata,
    id_column("contact_id", primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
)

# What a sign-up waiting for review answered; gone once an admin decides.
signup_answers = sa.Table(
    "signup_answers",
    metadata,
    id_column("contact_id", primary_key=True),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("submitted_at", UtcDateTime, nullable=False),
)

desks = sa.Table(
    "desks",
    metadata,
    id_column(primary_key=True),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("share_with_organization", sa.Boolean, nullable=False),
    sa.Column("follow_up_policy", sa.String(32), nullable=False),
    # In seconds, as the converter writes a timedelta.
    sa.Column("follow_up_window", sa.Float, nullable=True),
    # AttachmentLimits as the converter writes it: read with the desk, always whole.
    sa.Column("attachment_limits", sa.JSON, nullable=False),
    # Names the host's code resolves (SupportDesk(workflows=..., calendars=...)).
    sa.Column("workflow", sa.String(64), nullable=True),
    sa.Column("calendar", sa.String(64), nullable=True),
)

request_types = sa.Table(
    "request_types",
    metadata,
    position_column(),
    id_column(nullable=False, unique=True),
    id_column("desk_id", sa.ForeignKey("desks.id"), nullable=False, index=True),
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
    id_column("desk_id", primary_key=True),
    sa.Column("last_number", sa.BigInteger, nullable=False),
)
