"""What differs between SQLite and Postgres: engine setup, timestamps, upserts and error codes.

Everything else in :mod:`supportdesk.storage.sql` is written once, in portable
SQLAlchemy Core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..._errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for another one to commit before failing."""

SQLITE_AUTOCHECKPOINT_PAGES = 8000
"""How many pages (about 32 MiB) the write-ahead log may hold before a commit folds it in.

SQLite's default, 1,000, has a request pay for a checkpoint every few hundred
writes (a commit p99 of several milliseconds).  With a
:class:`~supportdesk.Worker` running, its passes checkpoint the log long before
this; without one, the commit that fills it still does, so the log stays bounded.
"""

SQLITE_ANALYZE_EVERY = 3600.0
"""Seconds between two refreshes of SQLite's planner statistics by :meth:`SqlStore.maintain`.

Each refresh changes the schema's statistics, which makes every connection
prepare its statements again: hourly, not every pass.
"""

SQLITE_ANALYSIS_LIMIT = 1000
"""Rows ``ANALYZE`` samples per index: enough to rank the lists' indexes, quick at any size."""

SYNCHRONOUS_LEVELS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
"""The values SQLite's ``PRAGMA synchronous`` takes."""

Insert = Callable[[sa.Table], Any]
"""A dialect's ``insert()``: one that knows ``ON CONFLICT``."""

_INSERTS: dict[str, Insert] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime stored in UTC and read back aware, in UTC, on every dialect.

    Postgres keeps ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC text, whose fixed width keeps text order equal to time
    order.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Typed as a boolean, SQLite (no native booleans) would get "... = 1" appended
# to the predicate, which hides it from the index planner.
_PREDICATE = cast("sa.types.TypeEngine[bool]", sa.types.NullType())


class InSubquery(FunctionElement[bool]):
    """``InSubquery(column, subquery)``: ``column`` is among the values ``subquery`` returns.

    Postgres reads it as ``= ANY(ARRAY(subquery))``: an uncorrelated subquery
    run once, whose result an index scan can use, even inside an OR.  A plain
    ``IN`` there becomes a hashed filter that forces a scan of the whole table.
    """

    type = _PREDICATE
    inherit_cache = True
    name = "in_subquery"


@compiles(InSubquery, "sqlite")
def _sqlite_in_subquery(element: InSubquery, compiler: SQLCompiler, **kw: Any) -> str:
    column, subquery = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} IN {subquery}"


@compiles(InSubquery, "postgresql")
def _postgres_in_subquery(element: InSubquery, compiler: SQLCompiler, **kw: Any) -> str:
    column, subquery = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} = ANY(ARRAY{subquery})"


SEARCH_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        # Tokens are split on spaces only: every character of a token is a
        # token character, and they arrive folded already.
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
    ),
    "postgresql": (
        # The tokens become the lexemes as they are: no parser, no dictionary.
        "CREATE INDEX ix_search_fields_tokens ON search_fields "
        "USING gin (array_to_tsvector(string_to_array(tokens, ' ')))",
    ),
}
"""The full-text index of ``search_fields``, per dialect: SQLite FTS5, a Postgres GIN."""


def is_search_machinery(name: str | None) -> bool:
    """True for the full-text tables and indexes that :data:`SEARCH_DDL` makes.

    Schema comparisons skip them: they live outside the SQLAlchemy metadata.
    """
    return name is not None and (name.startswith("search_fts") or name == "ix_search_fields_tokens")


class HoldsToken(FunctionElement[bool]):
    """``HoldsToken(position, tokens, query)``: the search field holds the token.

    ``query`` comes from :func:`token_query` for the same dialect.
    """

    type = _PREDICATE
    inherit_cache = True
    name = "holds_token"


@compiles(HoldsToken, "sqlite")
def _sqlite_holds_token(element: HoldsToken, compiler: SQLCompiler, **kw: Any) -> str:
    position, _tokens, query = (compiler.process(clause, **kw) for clause in element.clauses)
    # Compiled SQL with bound parameters, not input.
    return f"{position} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {query})"  # noqa: S608


@compiles(HoldsToken, "postgresql")
def _postgres_holds_token(element: HoldsToken, compiler: SQLCompiler, **kw: Any) -> str:
    _position, tokens, query = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"array_to_tsvector(string_to_array({tokens}, ' ')) @@ CAST({query} AS tsquery)"


def token_query(dialect_name: str, token: str, *, prefix: bool = False) -> str:
    """``token`` as a one-token full-text query of the dialect, quoted to match it whole.

    With ``prefix`` it also matches the tokens it begins (``"sft"*`` in
    FTS5, ``'sft':*`` in a Postgres ``tsquery``).
    """
    if dialect_name == "sqlite":
        return '"' + token.replace('"', '""') + '"' + ("*" if prefix else "")
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if prefix else "")


def insert_for(dialect_name: str) -> Insert:
    """The dialect's ``insert()``, with ``on_conflict_do_update`` / ``_do_nothing``.

    :raises StorageError: for a database other than SQLite or Postgres.
    """
    try:
        return _INSERTS[dialect_name]
    except KeyError:
        raise StorageError(
            f"supportdesk stores data in SQLite or PostgreSQL, not {dialect_name}"
        ) from None


def is_unique_violation(error: IntegrityError) -> bool:
    """True when the driver reports a duplicate key (not a foreign key or NOT NULL)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    name = getattr(error.orig, "sqlite_errorname", "")
    return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def make_engine(
    url: str | URL, *, synchronous: str = "NORMAL", echo: bool = False, schema: str | None = None
) -> Engine:
    """An engine set up the way :class:`~supportdesk.storage.sql.SqlStore` needs it.

    SQLite: WAL, a busy timeout, foreign keys, ``PRAGMA synchronous`` as given
    and ``BEGIN IMMEDIATE`` transactions; an in-memory URL (``sqlite://``)
    shares one connection across threads.  Postgres: a pool whose connections
    are checked before use.

    :param schema: Postgres only: every connection's ``search_path``, so the
        library's tables live in that schema, apart from a host's tables in
        the same database.  (SQLite has no schemas: give the library a file
        of its own.)
    :raises StorageError: when the URL is malformed or names a missing driver.
    :raises ValueError: for a ``schema`` that is no plain identifier, or on SQLite.
    """
    try:
        parsed = sa.make_url(url)
        if schema is not None:
            parsed = _in_schema(parsed, schema)
        if parsed.get_backend_name() != "sqlite":
            return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)
        options: dict[str, Any] = {}
        if _is_memory(parsed):
            options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        engine = sa.create_engine(parsed, echo=echo, **options)
    except sa.exc.SQLAlchemyError as error:
        raise StorageError(f"cannot use database URL: {error}") from error
    configure_sqlite(engine, synchronous=synchronous)
    return engine


_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_schema_name(schema: str) -> str:
    """``schema`` once it is a plain lower-case identifier, safe to quote into DDL."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"schema must be a lower-case identifier (a-z, 0-9, _): {schema!r}")
    return schema


def _in_schema(url: URL, schema: str) -> URL:
    check_schema_name(schema)
    if url.get_backend_name() != "postgresql":
        raise ValueError(
            f"schema= is for Postgres; on {url.get_backend_name()} "
            "give the library a database of its own"
        )
    given = url.query.get("options", "")
    options = f"{given} -csearch_path={schema}".strip() if isinstance(given, str) else given
    return url.update_query_dict({"options": options})


def shares_one_connection(engine: Engine) -> bool:
    """True when every checkout gets the same connection (in-memory SQLite).

    Units of work must then take turns: two transactions cannot share it.
    """
    return isinstance(engine.pool, StaticPool)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def configure_sqlite(engine: Engine, *, synchronous: str = "NORMAL") -> None:
    """Give a SQLite engine's connections the settings the store relies on; idempotent.

    Call it before the engine first connects: connections already in its
    pool keep their settings.
    """
    level = synchronous.upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_LEVELS)}, not {level!r}")
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _begin_immediate):
        return
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA synchronous={level}",
        f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}",
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: the "begin"
        # listener opens every one, as BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", _begin_immediate)


def _begin_immediate(connection: Connection) -> None:
    # Taking the write lock up front makes concurrent writers queue on the
    # busy timeout; a deferred transaction would fail when upgrading its lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
