"""The schema's MetaData, the state literals its partial indexes repeat, and column helpers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from ..dialects import UtcDateTime

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


def id_column(name: str = "id", *constraints: SchemaItem, **options: Any) -> sa.Column[str]:
    """An id column: text of at most 64 characters."""
    return sa.Column(name, sa.String(64), *constraints, **options)


def position_column() -> sa.Column[int]:
    """A ``position`` primary key that numbers rows in the order they were inserted."""
    # An always increasing surrogate key that orders rows as they were
    # inserted; SQLite autoincrements only an INTEGER PRIMARY KEY.
    return sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.Identity(),
        primary_key=True,
    )


def ticket_fk() -> sa.ForeignKey:
    """A reference to a ticket, deleted with it."""
    return sa.ForeignKey("tickets.id", ondelete="CASCADE")


def authorship_columns() -> list[sa.Column[Any]]:
    """Who wrote a piece of content (nullable), and when it was created and last updated."""
    return [
        id_column("author_id", nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=True),
    ]


def partial_index(name: str, *columns: sa.Column[Any], where: ColumnElement[bool]) -> sa.Index:
    """An index over only the rows matching ``where``, alike in PostgreSQL and SQLite."""
    return sa.Index(name, *columns, postgresql_where=where, sqlite_where=where)
