"""The memory store itself: its tables, one lock, and units of work of one repository per area."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._changes import Changes
from .accounts import MemoryAccounts
from .activity import MemoryActivityLog
from .attachments import MemoryAttachments
from .content import MemoryContent
from .desks import MemoryDesks
from .directory import MemoryDirectory
from .feed import MemoryNotificationFeed
from .mail import MemoryMail
from .outbox import MemoryOutbox
from .participants import MemoryParticipants
from .privacy import MemoryPrivacy
from .search import MemorySearch
from .tables import Tables
from .tickets import MemoryTickets
from .timers import MemoryTimers


class MemoryUnitOfWork:
    """A transaction over :class:`MemoryStore`: writes are undone if it rolls back.

    Each repository writes its own area's tables, through the one undo log,
    and is handed the other areas' tables it reads or indexes into.
    """

    def __init__(self, tables: Tables) -> None:
        self._changes = changes = Changes()
        index = tables.search.index
        self.directory = MemoryDirectory(tables.directory, changes)
        self.accounts = MemoryAccounts(tables.accounts, changes)
        self.desks = MemoryDesks(tables.desks, changes)
        self.tickets = MemoryTickets(
            tables.tickets,
            changes,
            participants=tables.participants,
            desks=tables.desks,
            directory=tables.directory,
            index=index,
        )
        self.activity = MemoryActivityLog(
            tables.activity,
            changes,
            tickets=tables.tickets,
            directory=tables.directory,
            index=index,
        )
        self.participants = MemoryParticipants(
            tables.participants, changes, directory=tables.directory
        )
        self.attachments = MemoryAttachments(tables.attachments, changes)
        self.timers = MemoryTimers(tables.timers, changes)
        self.content = MemoryContent(tables.content, changes, index=index)
        self.search = MemorySearch(
            tables.search,
            tickets=tables.tickets,
            participants=tables.participants,
            content=tables.content,
        )
        self.outbox = MemoryOutbox(tables.outbox, changes)
        self.feed = MemoryNotificationFeed(tables.feed, changes)
        self.mail = MemoryMail(tables.mail, changes)
        self.privacy = MemoryPrivacy(tables, changes)

    def rollback(self) -> None:
        """Undo every write of this unit of work, newest first."""
        self._changes.rollback()


class MemoryStore:
    """A store in this process's memory: one unit of work at a time, fully isolated."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._lock = threading.RLock()

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        with self._lock:
            work = MemoryUnitOfWork(self._tables)
            try:
                yield work
            except BaseException:
                work.rollback()
                raise

    def close(self) -> None:
        """Nothing to release."""
