"""What every SQL repository shares: the transaction, its errors and the search-index writes."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql import Executable

from ..._errors import Conflict, StorageError
from ..._models import SearchKind
from . import dialects, rows
from .rows import M
from .schema import search_fields


@contextmanager
def translated_errors(conflict: Conflict | None = None) -> Iterator[None]:
    """Turn driver errors into :class:`StorageError`, or a duplicate key into ``conflict``."""
    try:
        yield
    except IntegrityError as error:
        if conflict is not None and dialects.is_unique_violation(error):
            raise conflict from error
        raise StorageError(_describe(error)) from error
    except SQLAlchemyError as error:
        raise StorageError(_describe(error)) from error


def _describe(error: SQLAlchemyError) -> str:
    """What failed, for a log: never the statement's parameters nor a row's values.

    SQLAlchemy's own message dumps the statement and its parameters, and
    Postgres adds the data to its words ("Failing row contains (...)", "Key
    (email)=(...)", the value of a bad input), which may be personal: a
    Postgres error is told by its class, SQLSTATE and the names of the
    constraint, table, column and type it reports.  SQLite's messages name
    the constraint and columns only, and are kept.
    """
    cause = getattr(error, "orig", None) or error
    name = type(cause).__name__
    sqlstate = getattr(cause, "sqlstate", None)
    diag = getattr(cause, "diag", None)
    if sqlstate is None or diag is None:
        return f"the database failed: {name}: {cause}".strip()
    named = [
        f"{what} {value}"
        for what, value in (
            ("constraint", diag.constraint_name),
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("type", diag.datatype_name),
        )
        if value
    ]
    where = f" ({', '.join(named)})" if named else ""
    return f"the database failed: {name}, SQLSTATE {sqlstate}{where}"


# Every area builds its statements once, at import, and those that need a
# dialect's ON CONFLICT once per dialect, on first use: SQLAlchemy then finds
# their compiled form in its cache without building and hashing them again on
# every call.


def by_id(table: sa.Table) -> sa.Select[Any]:
    """The row of ``table`` whose id is the bind ``id``."""
    return sa.select(table).where(table.c.id == sa.bindparam("id"))


@functools.cache
def upsert_by_id(dialect_name: str, table: sa.Table) -> Any:
    """Insert or replace a row of ``table`` by id, in the dialect's ``ON CONFLICT``."""
    # A surrogate position keeps its first value.
    statement = dialects.insert_for(dialect_name)(table)
    kept = {"id", "position"}
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in kept},
    )


@functools.cache
def _insert_new(dialect_name: str, table: sa.Table, key: str) -> Any:
    # No conflict target: any unique key already taken inserts nothing.
    return dialects.insert_for(dialect_name)(table).on_conflict_do_nothing().returning(table.c[key])


@functools.cache
def _index_field(dialect_name: str) -> Any:
    field = dialects.insert_for(dialect_name)(search_fields)
    indexed = ("text", "tokens", "weight", "internal")
    return field.on_conflict_do_update(
        index_elements=[search_fields.c.kind, search_fields.c.target_id, search_fields.c.field],
        set_={name: field.excluded[name] for name in indexed},
        # An unchanged field is left alone: no rewrite of its full-text entry.
        where=sa.or_(*(search_fields.c[name] != field.excluded[name] for name in indexed)),
    )


_UNINDEX = search_fields.delete().where(
    search_fields.c.kind == sa.bindparam("kind"),
    search_fields.c.target_id == sa.bindparam("target_id"),
)


class Transaction:
    """One unit of work's connection and transaction, which all its repositories share."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect_name = connection.dialect.name
        # Tickets whose row this transaction has written or locked, and holds
        # until it ends: appends to them need no lock of their own.  On SQLite
        # (BEGIN IMMEDIATE: one writer at a time) a ticket read is held too.
        self.held: set[str] = set()
        self.one_writer = self.dialect_name == "sqlite"
        # The searchable text of each ticket this transaction read or wrote, by
        # version: an update that leaves it as it was leaves the index alone.
        self.searched: dict[str, tuple[int, tuple[rows.Searchable, ...]]] = {}

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] = (),
    ) -> CursorResult[Any]:
        """Run ``statement``, driver errors turned into :class:`StorageError`."""
        with translated_errors():
            return self.connection.execute(statement, parameters or None)

    def one(self, mapping: rows.Rows[M], statement: Executable, **parameters: Any) -> M | None:
        """The model of the first row ``statement`` returns, or None without any."""
        row = self.execute(statement, parameters).mappings().first()
        return None if row is None else mapping.model(row)

    def all(self, mapping: rows.Rows[M], statement: Executable, **parameters: Any) -> list[M]:
        """The models of every row ``statement`` returns."""
        return [mapping.model(row) for row in self.execute(statement, parameters).mappings()]

    def add_new(self, table: sa.Table, key: str, row: Mapping[str, Any]) -> bool:
        """Insert ``row`` into ``table`` unless a unique key of it is taken; whether it did.

        ``ON CONFLICT DO NOTHING``: a taken key leaves the transaction usable,
        so the caller raises its own error (a Conflict) or reports it.
        ``key`` names the column returned to tell the two apart.
        """
        added = self.execute(_insert_new(self.dialect_name, table, key), row)
        return added.first() is not None

    def replace_guarded(
        self, statement: Executable, row: dict[str, Any], conflict: Conflict
    ) -> None:
        """Run an upsert that raises ``conflict`` on a duplicate key of another row."""
        # A savepoint keeps the transaction usable after the duplicate key, as
        # Postgres otherwise aborts it: the caller may handle the Conflict.
        with translated_errors(conflict), self.connection.begin_nested():
            self.connection.execute(statement, row)

    def index(self, kind: SearchKind, target_id: str, *fields: rows.Searchable) -> None:
        """Write the fields of a search target to the search index."""
        self.index_each(kind, [(target_id, field) for field in fields])

    def index_each(self, kind: SearchKind, fields: Sequence[tuple[str, rows.Searchable]]) -> None:
        """Write fields of many search targets, each ``(target id, field)``, in one statement."""
        if fields:
            indexed = [field.row(kind, target_id) for target_id, field in fields]
            self.execute(_index_field(self.dialect_name), indexed)

    def unindex(self, kind: SearchKind, target_id: str) -> None:
        """Remove a search target's every field from the search index."""
        self.execute(_UNINDEX, {"kind": kind.value, "target_id": target_id})


class Repository:
    """One area of a :class:`~.store.SqlUnitOfWork`: it works in the unit of work's transaction."""

    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction
