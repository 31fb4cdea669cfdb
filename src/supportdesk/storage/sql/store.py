"""The SQL store: units of work over SQLAlchemy Core, on SQLite and Postgres."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..._errors import StorageError
from . import dialects
from ._transaction import Transaction, translated_errors
from .accounts import SqlAccounts
from .activity import SqlActivityLog
from .attachments import SqlAttachments
from .content import SqlContent
from .desks import SqlDesks
from .directory import SqlDirectory
from .feed import SqlNotificationFeed
from .mail import SqlMail
from .migrate import require_head, upgrade
from .outbox import SqlOutbox
from .participants import SqlParticipants
from .privacy import SqlPrivacy
from .search import SqlSearch
from .tickets import SqlTickets
from .timers import SqlTimers


class SqlUnitOfWork:
    """One transaction on one connection of a :class:`SqlStore`; its repositories all work in it."""

    def __init__(self, connection: Connection) -> None:
        transaction = Transaction(connection)
        self.directory = SqlDirectory(transaction)
        self.accounts = SqlAccounts(transaction)
        self.desks = SqlDesks(transaction)
        self.tickets = SqlTickets(transaction)
        self.activity = SqlActivityLog(transaction)
        self.participants = SqlParticipants(transaction)
        self.attachments = SqlAttachments(transaction)
        self.timers = SqlTimers(transaction)
        self.content = SqlContent(transaction)
        self.search = SqlSearch(transaction)
        self.outbox = SqlOutbox(transaction)
        self.feed = SqlNotificationFeed(transaction)
        self.mail = SqlMail(transaction)
        self.privacy = SqlPrivacy(transaction)


class SqlStore:
    """A store in SQLite or PostgreSQL, through SQLAlchemy Core.

    Each unit of work is one connection and one transaction.  The schema must
    be at the head revision: run ``supportdesk db upgrade URL`` (or
    :func:`~supportdesk.storage.sql.upgrade`), or open the store with
    ``from_url(url, create=True)``.

    A SQLite engine gets the settings of :func:`make_engine` (WAL, busy timeout,
    foreign keys, ``BEGIN IMMEDIATE``) if it lacks them; give it one that has
    not connected yet.
    """

    def __init__(self, engine: Engine) -> None:
        # Refuses a database other than SQLite or Postgres up front.
        dialects.insert_for(engine.dialect.name)
        dialects.configure_sqlite(engine)
        self._engine = engine
        self._turns: AbstractContextManager[object] = (
            threading.RLock() if dialects.shares_one_connection(engine) else nullcontext()
        )
        self._analyzed_at: float | None = None

    @classmethod
    def from_url(
        cls,
        url: str | sa.URL,
        *,
        synchronous: str = "NORMAL",
        echo: bool = False,
        create: bool = False,
        schema: str | None = None,
    ) -> SqlStore:
        """A store on the database at ``url`` (``sqlite:///path``, ``postgresql+psycopg://...``).

        :param synchronous: SQLite's ``PRAGMA synchronous``; NORMAL is durable
            across application crashes in WAL mode, FULL across power loss too.
        :param echo: log every statement (SQLAlchemy's ``echo``).
        :param create: bring the schema to the head revision first, instead of
            requiring it to be there already.
        :param schema: Postgres only: keep the library's tables in this
            schema, apart from the host's (see :func:`make_engine`).
        :raises StorageError: when the database is unreachable or its schema
            is not at the head revision (and ``create`` is false).
        """
        if not create:
            _require_sqlite_file(url)
        engine = dialects.make_engine(url, synchronous=synchronous, echo=echo, schema=schema)
        try:
            store = cls(engine)
            if create:
                upgrade(engine, schema=schema)
            else:
                require_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine the store runs on."""
        return self._engine

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises.

        :raises StorageError: when the database fails, the driver's error chained.
        """
        with self._turns, translated_errors(), self._engine.begin() as connection:
            yield SqlUnitOfWork(connection)

    def maintain(self) -> None:
        """SQLite: fold the write-ahead log in, and now and then refresh the planner's statistics.

        A passive checkpoint: it waits for no reader or writer and copies what
        no reader still needs, so requests stop paying for it at commit.  At
        most every :data:`~.dialects.SQLITE_ANALYZE_EVERY`, a sampled
        ``ANALYZE`` (a millisecond or so) lets the planner tell a customer's
        few tickets from a desk's many.  The :class:`~supportdesk.Worker`
        calls it after each pass.  Postgres does both itself: nothing is sent.
        """
        if self._engine.dialect.name != "sqlite":
            return
        now = time.monotonic()
        analyze = (
            self._analyzed_at is None or now - self._analyzed_at >= dialects.SQLITE_ANALYZE_EVERY
        )
        upkeep = ["PRAGMA wal_checkpoint(PASSIVE)"]
        if analyze:
            upkeep += [f"PRAGMA analysis_limit={dialects.SQLITE_ANALYSIS_LIMIT}", "ANALYZE"]
        # On the driver's connection: SQLAlchemy's would open a transaction
        # (BEGIN IMMEDIATE), inside which SQLite cannot checkpoint.
        with self._turns, translated_errors():
            connection = self._engine.raw_connection()
            try:
                for statement in upkeep:
                    connection.cursor().execute(statement).close()
            except sqlite3.Error as error:
                raise StorageError(f"the store's upkeep failed: {error}") from error
            finally:
                connection.close()
        if analyze:
            self._analyzed_at = now

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()


def _require_sqlite_file(url: str | sa.URL) -> None:
    """Refuse a SQLite path with no file: connecting would create an empty database there."""
    parsed = sa.make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return
    if not Path(path).exists():
        shown = parsed.render_as_string(hide_password=True)
        raise StorageError(
            f"no SQLite database at {path}: run `supportdesk db upgrade {shown}`, "
            "or open the store with create=True"
        )
