"""The storage contract: a store hands out units of work, each a handful of small repositories.

One repository per area of the data, each a :class:`~typing.Protocol` in its
own module here, so that a feature lands in one column of files: the area's
protocol, its memory module (``storage/memory/``), its SQL module
(``storage/sql/``) and its contract tests (``supportdesk.testing.contract``).

Every repository uses the same verbs in the same sense:

``get``
    One value: a row by its key (``get``, ``get_by_email``), or one figure
    (``get_next_due``).  None when there is none.
``list``
    Every row of one kind, or of one owner (``list_desks``,
    ``list_collaborators(ticket_id)``), in the order its docstring names.
``find``
    The rows that match a query or filters, in the order its docstring
    names.
``count``
    How many rows match, or how much they use.
``add``
    Store new rows; ``Conflict`` where a key is taken, unless the docstring
    says adding twice keeps the first.
``put``
    Insert or replace the row with that key.
``update``
    Replace a stored row under a check (a version), raising when it fails.
``remove``
    Delete; returns whether there was anything to delete.
``claim``
    Take rows for this transaction (or a lease) so that no concurrent
    transaction takes the same ones.
``extend``
    Push back the end of a lease its owner still holds (``extend_lease``);
    returns whether it did.
``mark``
    Record a change of state on stored rows (``mark_delivered``,
    ``mark_read``) and say what changed.

Every method that compares with time takes ``now`` (or ``at``) as an
argument: adapters never read a clock.  Models go in and come out unchanged
(equal by value).  Reads see the unit of work's own writes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from .accounts import Accounts
from .activity import ActivityLog
from .attachments import Attachments, AttachmentUsage
from .content import Content
from .desks import Desks
from .directory import ContactQuery, Directory
from .feed import FeedQuery, NotificationFeed
from .mail import ReceivedMailLog
from .outbox import Outbox
from .participants import Participants
from .privacy import PersonalData, Privacy, Redacted
from .search import Search, SearchQuery
from .tickets import TicketDetails, TicketQuery, Tickets, TicketSort
from .timers import Timers


class UnitOfWork(Protocol):
    """One transaction.  Nothing it writes is seen by others before it commits.

    Its repositories all work in that one transaction: what one writes,
    the others read.
    """

    @property
    def directory(self) -> Directory:
        """Organisations and contacts."""
        ...

    @property
    def accounts(self) -> Accounts:
        """Link tokens, password hashes and the answers of sign-ups waiting for review."""
        ...

    @property
    def desks(self) -> Desks:
        """Desks, their request types and reference sequences."""
        ...

    @property
    def tickets(self) -> Tickets:
        """Tickets and ticket lists."""
        ...

    @property
    def activity(self) -> ActivityLog:
        """Each ticket's append-only activity log."""
        ...

    @property
    def participants(self) -> Participants:
        """Who shares a ticket, and who switched its notifications off."""
        ...

    @property
    def attachments(self) -> Attachments:
        """Attachment metadata (the bytes are in a blob store)."""
        ...

    @property
    def timers(self) -> Timers:
        """Timers due at a moment: reminders, auto-resolve, auto-close."""
        ...

    @property
    def content(self) -> Content:
        """Announcements and knowledge-base articles."""
        ...

    @property
    def search(self) -> Search:
        """Site search over tickets and content."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events waiting for delivery."""
        ...

    @property
    def feed(self) -> NotificationFeed:
        """Each contact's in-app notifications (the bell)."""
        ...

    @property
    def mail(self) -> ReceivedMailLog:
        """Inbound e-mails taken in, by Message-ID."""
        ...

    @property
    def privacy(self) -> Privacy:
        """A person's data found across the areas, its redaction, and the retention purge."""
        ...


class Store(Protocol):
    """A storage back end: hands out units of work."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class Maintained(Protocol):
    """A store with upkeep best done between requests, which a worker calls for.

    SQLite's write-ahead log is folded into the database file by the commit
    that fills it, which makes that request wait, and its query planner
    needs statistics to choose between the lists' indexes: a store with such
    upkeep implements :meth:`maintain`, and the :class:`~supportdesk.Worker`
    calls it after each pass.  A store without it needs none.
    """

    def maintain(self) -> None:
        """Do the upkeep now, briefly, without blocking the store's readers or writers."""
        ...


__all__ = [
    "Accounts",
    "ActivityLog",
    "AttachmentUsage",
    "Attachments",
    "ContactQuery",
    "Content",
    "Desks",
    "Directory",
    "FeedQuery",
    "Maintained",
    "NotificationFeed",
    "Outbox",
    "Participants",
    "PersonalData",
    "Privacy",
    "ReceivedMailLog",
    "Redacted",
    "Search",
    "SearchQuery",
    "Store",
    "TicketDetails",
    "TicketQuery",
    "TicketSort",
    "Tickets",
    "Timers",
    "UnitOfWork",
]
