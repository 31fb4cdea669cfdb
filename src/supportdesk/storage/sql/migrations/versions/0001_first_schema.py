"""The first schema: directory, tickets, activity log, timers, outbox and in-app feed.

Revision ID: 0001
Revises:
Create Date: 2026-03-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None


def _id(name: str = "id", *constraints: Any, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), *constraints, nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _string(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(), nullable=False)


def _position() -> sa.Column[int]:
    return sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.Identity(always=False),
        nullable=False,
    )


def _ticket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["ticket_id"], ["tickets.id"], name=f"fk_{table}_ticket_id_tickets", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "organizations",
        _id(),
        _text("name"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "contacts",
        _id(),
        _string("email", 320),
        _text("full_name"),
        _string("role", 32),
        _string("state", 32),
        _id("organization_id", nullable=True),
        _json("desk_ids"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("email", name="uq_contacts_email"),
    )
    op.create_table(
        "signup_tokens",
        _string("token_hash", 128),
        _id("contact_id"),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_signup_tokens"),
    )
    op.create_index("ix_signup_tokens_contact_id", "signup_tokens", ["contact_id"])
    op.create_table(
        "password_hashes",
        _id("contact_id"),
        _text("password_hash"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_password_hashes"),
    )
    op.create_table(
        "desks",
        _id(),
        _string("key", 32),
        _text("name"),
        _text("description"),
        _flag("share_with_organization"),
        _string("follow_up_policy", 32),
        sa.Column("follow_up_window", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_desks"),
        sa.UniqueConstraint("key", name="uq_desks_key"),
    )
    op.create_table(
        "request_types",
        _position(),
        _id(),
        _id("desk_id"),
        _text("name"),
        _text("description"),
        _text("group", nullable=True),
        _flag("description_required"),
        _json("fields"),
        _string("attachments", 32),
        sa.ForeignKeyConstraint(["desk_id"], ["desks.id"], name="fk_request_types_desk_id_desks"),
        sa.PrimaryKeyConstraint("position", name="pk_request_types"),
        sa.UniqueConstraint("id", name="uq_request_types_id"),
    )
    op.create_index("ix_request_types_desk_id", "request_types", ["desk_id"])
    op.create_table(
        "desk_sequences",
        _id("desk_id"),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("desk_id", name="pk_desk_sequences"),
    )
    _create_tickets()
    _create_ticket_children()
    _create_events()
    _create_content()
    _create_search()


def _create_tickets() -> None:
    op.create_table(
        "tickets",
        _id(),
        _string("reference", 64),
        _id("desk_id"),
        _id("request_type_id"),
        _text("summary"),
        _text("description"),
        _json("fields"),
        _string("status", 64),
        _string("sub_status", 64, nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        _id("requester_id"),
        _id("organization_id", nullable=True),
        _id("assignee_id", nullable=True),
        _flag("shared_with_organization"),
        _flag("escalated"),
        _time("created_at"),
        _time("updated_at"),
        _time("resolved_at", nullable=True),
        _time("closed_at", nullable=True),
        _id("follow_up_of", nullable=True),
        sa.Column("status_epoch", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("reference", name="uq_tickets_reference"),
    )
    for columns in (
        ["requester_id", "created_at", "id"],
        ["organization_id", "created_at", "id"],
        ["desk_id", "created_at"],
        ["created_at", "id"],
        ["updated_at", "id"],
    ):
        op.create_index("ix_tickets_" + "_".join(columns), "tickets", columns)


def _create_ticket_children() -> None:
    op.create_table(
        "activities",
        _id(),
        _id("ticket_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _string("kind", 32),
        _id("actor_id", nullable=True),
        _time("at"),
        _text("body"),
        _flag("internal"),
        _json("data"),
        _ticket_fk("activities"),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_activities_ticket_id_seq"),
    )
    op.create_table(
        "collaborators",
        _position(),
        _id("ticket_id"),
        _id("contact_id"),
        _id("added_by"),
        _time("added_at"),
        _ticket_fk("collaborators"),
        sa.PrimaryKeyConstraint("position", name="pk_collaborators"),
        sa.UniqueConstraint(
            "ticket_id", "contact_id", name="uq_collaborators_ticket_id_contact_id"
        ),
    )
    op.create_index(
        "ix_collaborators_contact_id_ticket_id", "collaborators", ["contact_id", "ticket_id"]
    )
    op.create_table(
        "muted",
        _id("ticket_id"),
        _id("contact_id"),
        _ticket_fk("muted"),
        sa.PrimaryKeyConstraint("ticket_id", "contact_id", name="pk_muted"),
    )
    op.create_table(
        "timers",
        _id(),
        _id("ticket_id"),
        _string("name", 64),
        _string("status", 64),
        sa.Column("status_epoch", sa.Integer(), nullable=False),
        _time("due_at"),
        _string("trigger", 64, nullable=True),
        _time("stale_at", nullable=True),
        _string("state", 16),
        _time("done_at", nullable=True),
        _ticket_fk("timers"),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
    )
    op.create_index("ix_timers_ticket_id", "timers", ["ticket_id"])
    pending = sa.text("state = 'pending'")
    op.create_index(
        "ix_timers_pending_due_at",
        "timers",
        ["due_at", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )


def _create_events() -> None:
    op.create_table(
        "events",
        _position(),
        _id(),
        _string("kind", 32),
        _time("at"),
        _id("ticket_id", nullable=True),
        _id("actor_id", nullable=True),
        _json("payload"),
        _json("recipients"),
        _string("state", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _text("last_error", nullable=True),
        _time("next_attempt_at"),
        _time("claimed_until", nullable=True),
        _time("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_ticket_id_position", "events", ["ticket_id", "position"])
    pending = sa.text("state = 'pending'")
    for name, columns in (
        ("ix_events_pending_position", ["position"]),
        ("ix_events_pending_ticket_id_position", ["ticket_id", "position"]),
    ):
        op.create_index(name, "events", columns, postgresql_where=pending, sqlite_where=pending)
    op.create_table(
        "notifications",
        _id(),
        _id("contact_id"),
        _id("event_id"),
        _string("kind", 32),
        _time("at"),
        _id("ticket_id", nullable=True),
        _json("payload"),
        _time("read_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index(
        "ix_notifications_contact_id_at_id", "notifications", ["contact_id", "at", "id"]
    )
    unread = sa.text("read_at IS NULL")
    op.create_index(
        "ix_notifications_unread_contact_id",
        "notifications",
        ["contact_id"],
        postgresql_where=unread,
        sqlite_where=unread,
    )


def _create_content() -> None:
    op.create_table(
        "announcements",
        _id(),
        _text("title"),
        _text("body"),
        _string("audience", 16),
        _time("active_from", nullable=True),
        _time("active_until", nullable=True),
        _id("author_id", nullable=True),
        _time("created_at", nullable=True),
        _time("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )
    op.create_table(
        "articles",
        _id(),
        _string("kind", 16),
        _text("title"),
        _text("body"),
        _json("tags"),
        _flag("published"),
        _id("author_id", nullable=True),
        _time("created_at", nullable=True),
        _time("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
    )


_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_fields', "
    "content_rowid='position', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '-.@''_'\")",
    "CREATE TRIGGER search_fields_inserted AFTER INSERT ON search_fields BEGIN "
    "INSERT INTO search_fts (rowid, tokens) VALUES (new.position, new.tokens); END",
    "CREATE TRIGGER search_fields_deleted AFTER DELETE ON search_fields BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, tokens) "
    "VALUES ('delete', old.position, old.tokens); END",
    "CREATE TRIGGER search_fields_updated AFTER UPDATE ON search_fields BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, tokens) "
    "VALUES ('delete', old.position, old.tokens); "
    "INSERT INTO search_fts (rowid, tokens) VALUES (new.position, new.tokens); END",
)
_POSTGRES_SEARCH = (
    "CREATE INDEX ix_search_fields_tokens ON search_fields "
    "USING gin (array_to_tsvector(string_to_array(tokens, ' ')))",
)


def _create_search() -> None:
    op.create_table(
        "search_fields",
        _position(),
        _string("kind", 16),
        _id("target_id"),
        _string("field", 80),
        _text("text"),
        _text("tokens"),
        sa.Column("weight", sa.Float(), nullable=False),
        _flag("internal"),
        sa.PrimaryKeyConstraint("position", name="pk_search_fields"),
        sa.UniqueConstraint(
            "kind", "target_id", "field", name="uq_search_fields_kind_target_id_field"
        ),
    )
    dialect = op.get_context().dialect.name
    for statement in {"sqlite": _SQLITE_SEARCH, "postgresql": _POSTGRES_SEARCH}[dialect]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    for table in (
        "search_fields",
        "articles",
        "announcements",
        "notifications",
        "events",
        "timers",
        "muted",
        "collaborators",
        "activities",
        "tickets",
        "desk_sequences",
        "request_types",
        "desks",
        "password_hashes",
        "signup_tokens",
        "contacts",
        "organizations",
    ):
        op.drop_table(table)
