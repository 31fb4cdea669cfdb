"""The SQL tables of announcements, articles, and the search index over everything."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..dialects import SEARCH_DDL, UtcDateTime
from ._columns import authorship_columns, id_column, metadata, position_column

announcements = sa.Table(
    "announcements",
    metadata,
    id_column(primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("audience", sa.String(16), nullable=False),
    sa.Column("active_from", UtcDateTime, nullable=True),
    sa.Column("active_until", UtcDateTime, nullable=True),
    *authorship_columns(),
)

articles = sa.Table(
    "articles",
    metadata,
    id_column(primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    *authorship_columns(),
)

search_fields = sa.Table(
    "search_fields",
    metadata,
    # Also the row id the SQLite full-text index refers to.
    position_column(),
    sa.Column("kind", sa.String(16), nullable=False),
    id_column("target_id", nullable=False),
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
