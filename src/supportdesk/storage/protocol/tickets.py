"""The tickets area: tickets, their optimistic versions, and scoped, keyset-paged lists."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ..._models import Contact, Desk, RequestType, Ticket, TicketRow
from ...access import TicketScope


class TicketSort(enum.StrEnum):
    """Orders of a ticket list; ties break on the ticket id in the same direction."""

    NEWEST = "newest"
    """Newest created first."""
    OLDEST = "oldest"
    """Oldest created first."""
    RECENTLY_UPDATED = "recently_updated"
    """Most recently updated first (``Ticket.updated_at``: internal notes do not count)."""
    SLA_DUE = "sla_due"
    """Nearest SLA breach first; only tickets with a running SLA clock (``sla_due_at`` set)."""


@attrs.frozen(kw_only=True)
class TicketQuery:
    """A filtered, sorted slice of the tickets in ``scope``.

    Every non-None filter must hold.  ``after`` is the keyset position: the
    sort value and id of the last ticket of the previous page; the slice
    starts strictly after it.
    """

    scope: TicketScope
    requester_id: str | None = None
    organization_id: str | None = None
    collaborator_id: str | None = None
    statuses: frozenset[str] | None = None
    desk_id: str | None = None
    request_type_id: str | None = None
    assignee_id: str | None = None
    unassigned: bool = False
    """Only tickets nobody is assigned to (an agent's "Unassigned" queue)."""
    sort: TicketSort = TicketSort.NEWEST
    limit: int = 25
    after: tuple[datetime, str] | None = None


@attrs.frozen(kw_only=True)
class TicketDetails:
    """A ticket with what its page shows beside it, read together.

    A desk, request type or contact the ticket names but the store lacks is None.
    """

    ticket: Ticket
    desk: Desk | None
    request_type: RequestType | None
    requester: Contact | None
    assignee: Contact | None
    muted: bool
    """Whether the contact the page is for switched this ticket's notifications off."""


class Tickets(Protocol):
    """Tickets.  Access is the caller's job: these methods answer whoever asks.

    Adding or updating a ticket keeps the search index in step with its
    reference, summary and description.
    """

    def add(self, ticket: Ticket) -> None:
        """Store a new ticket; ``Conflict`` if its id or reference is taken."""
        ...

    def update(self, ticket: Ticket) -> None:
        """Replace a ticket whose stored version is ``ticket.version - 1``.

        Raises ``Conflict`` when the stored version differs (a concurrent
        change) and ``NotFound`` when there is no such ticket.
        """
        ...

    def set_sla_due(self, ticket_id: str, due_at: datetime | None) -> None:
        """Record when the ticket's nearest SLA target breaches (None: none runs).

        :meth:`update` leaves the stored value as it is: only this changes
        it, without a version check, like :meth:`mark_updated`.
        """
        ...

    def mark_updated(self, ticket_id: str, at: datetime) -> None:
        """Move the ticket's ``updated_at`` forward to ``at`` without a version check.

        Appends (updates, notes) use this so that they never conflict with each
        other; a later ``updated_at`` is never moved back.
        """
        ...

    def get(self, ticket_id: str) -> Ticket | None:
        """The ticket with that id."""
        ...

    def get_by_reference(self, reference: str) -> Ticket | None:
        """The ticket with that reference (``HHA-13782``), compared case-insensitively."""
        ...

    def get_details(self, key: str, viewer_id: str) -> TicketDetails | None:
        """The ticket whose id is ``key``, or whose reference is (case-insensitively).

        With its desk, request type, requester and assignee, and whether
        ``viewer_id`` muted it (SQL: one statement, whichever ``key`` names).
        """
        ...

    def find(self, query: TicketQuery) -> Sequence[Ticket]:
        """Up to ``query.limit`` tickets matching ``query``, in its order."""
        ...

    def find_rows(
        self, query: TicketQuery, status_label: Callable[[str, str], str]
    ) -> Sequence[TicketRow]:
        """The tickets :meth:`find` gives, as list rows with their desk, type and requester names.

        A row's ``status_label`` is ``status_label(desk_id, status)``, asked
        once the rows are read (it may read the desk); a name the store lacks (a desk,
        request type or contact) reads ``""``.  SQL: one statement, however
        many rows.
        """
        ...

    def count(self, query: TicketQuery) -> int:
        """How many tickets match ``query``, ignoring its limit and position."""
        ...

    def count_each(self, queries: Sequence[TicketQuery]) -> Sequence[int]:
        """How many tickets match each of ``queries``, in their order: :meth:`count` of each.

        SQL: one statement for them all.
        """
        ...
