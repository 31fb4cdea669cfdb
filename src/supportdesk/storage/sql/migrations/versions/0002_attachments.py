"""Attachments: their metadata table, and each desk's attachment limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-16

Desks that exist already get the default limits of this release.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"

DEFAULT_LIMITS: dict[str, Any] = {
    "max_file_bytes": 25 * 1024 * 1024,
    "max_ticket_bytes": 100 * 1024 * 1024,
    "max_ticket_files": 50,
    "allowed_types": [
        "application/json",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/plain",
    ],
}
"""``AttachmentLimits()`` as the converter writes it, when this revision was made."""


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def upgrade() -> None:
    # A NOT NULL column needs a default to fill the rows there are; the store
    # always writes the column, so Postgres drops the default again.  SQLite
    # keeps it: dropping it there means copying the table, which the foreign
    # key from request_types forbids inside the migration's transaction.
    op.add_column(
        "desks",
        sa.Column(
            "attachment_limits",
            sa.JSON(),
            nullable=False,
            server_default=json.dumps(DEFAULT_LIMITS, separators=(",", ":")),
        ),
    )
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("desks", "attachment_limits", server_default=None)
    op.create_table(
        "attachments",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        _id(),
        _id("ticket_id"),
        _id("activity_id"),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(1024), nullable=False),
        _id("uploader_id"),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("scan_status", sa.String(16), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_attachments_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("position", name="pk_attachments"),
        sa.UniqueConstraint("id", name="uq_attachments_id"),
        sa.UniqueConstraint("blob_key", name="uq_attachments_blob_key"),
    )
    op.create_index("ix_attachments_ticket_id_position", "attachments", ["ticket_id", "position"])
    scanning = sa.text("scan_status = 'scanning'")
    op.create_index(
        "ix_attachments_scanning_uploaded_at_position",
        "attachments",
        ["uploaded_at", "position"],
        postgresql_where=scanning,
        sqlite_where=scanning,
    )


def downgrade() -> None:
    op.drop_table("attachments")
    op.drop_column("desks", "attachment_limits")
