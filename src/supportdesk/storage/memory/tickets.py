"""The memory store's tickets: by id, reference and requester, scoped and keyset-paged lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

import attrs

from ..._errors import Conflict, NotFound
from ..._models import SearchKind, Ticket, TicketRow
from ...search import TITLE_WEIGHT, IndexedText, SearchIndex
from ..protocol import TicketDetails, TicketQuery, TicketSort
from ._changes import Area, Changes
from .desks import DeskTables
from .directory import DirectoryTables
from .participants import ParticipantTables


class TicketTables:
    """Tickets by id, with the indexes that find them by reference and by requester."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.ids_by_reference: dict[str, str] = {}
        self.ids_by_requester: dict[str, dict[str, None]] = {}
        """Requester id -> ids of their tickets, as an ordered set."""


class MemoryTickets(Area[TicketTables]):
    """The tickets area of a :class:`~.store.MemoryUnitOfWork`.

    Reads the collaborators and mutes (for scopes and pages), the desks and
    the directory (for the names lists and pages show), and writes the
    search index.
    """

    def __init__(
        self,
        tables: TicketTables,
        changes: Changes,
        *,
        participants: ParticipantTables,
        desks: DeskTables,
        directory: DirectoryTables,
        index: SearchIndex,
    ) -> None:
        super().__init__(tables, changes)
        self._participants = participants
        self._desks = desks
        self._directory = directory
        self._search_index = index

    def add(self, ticket: Ticket) -> None:
        if ticket.id in self._tables.tickets:
            raise Conflict("ticket", ticket.id, "a ticket with this id exists")
        if ticket.reference in self._tables.ids_by_reference:
            raise Conflict("ticket", ticket.reference, "a ticket with this reference exists")
        self._changes.set(self._tables.tickets, ticket.id, ticket)
        self._changes.set(self._tables.ids_by_reference, ticket.reference, ticket.id)
        self._changes.file(self._tables.ids_by_requester, ticket.requester_id, ticket.id, None)
        self._index(ticket)

    def _index(self, ticket: Ticket) -> None:
        title = f"{ticket.reference} {ticket.summary}"
        kind = SearchKind.TICKET
        self._changes.index(
            self._search_index,
            ("ticket", ticket.id, "title"),
            IndexedText.of(kind, ticket.id, title, weight=TITLE_WEIGHT),
        )
        self._changes.index(
            self._search_index,
            ("ticket", ticket.id, "description"),
            IndexedText.of(kind, ticket.id, ticket.description),
        )

    def update(self, ticket: Ticket) -> None:
        stored = self._tables.tickets.get(ticket.id)
        if stored is None:
            raise NotFound("ticket", ticket.id)
        if stored.version != ticket.version - 1:
            raise Conflict(
                "ticket",
                ticket.reference,
                f"stored version is {stored.version}, the change was based on {ticket.version - 1}",
            )
        kept = attrs.evolve(ticket, sla_due_at=stored.sla_due_at)  # set_sla_due's alone
        self._changes.set(self._tables.tickets, ticket.id, kept)
        if stored.requester_id != ticket.requester_id:
            by_requester = self._tables.ids_by_requester
            self._changes.unfile(by_requester, stored.requester_id, ticket.id)
            self._changes.file(by_requester, ticket.requester_id, ticket.id, None)
        if (stored.summary, stored.description) != (ticket.summary, ticket.description):
            self._index(ticket)

    def set_sla_due(self, ticket_id: str, due_at: datetime | None) -> None:
        ticket = self._tables.tickets[ticket_id]
        self._changes.set(self._tables.tickets, ticket_id, attrs.evolve(ticket, sla_due_at=due_at))

    def mark_updated(self, ticket_id: str, at: datetime) -> None:
        ticket = self._tables.tickets[ticket_id]
        if at > ticket.updated_at:
            self._changes.set(self._tables.tickets, ticket_id, attrs.evolve(ticket, updated_at=at))

    def get(self, ticket_id: str) -> Ticket | None:
        return self._tables.tickets.get(ticket_id)

    def get_by_reference(self, reference: str) -> Ticket | None:
        ticket_id = self._tables.ids_by_reference.get(reference.upper())
        return None if ticket_id is None else self._tables.tickets[ticket_id]

    def get_details(self, key: str, viewer_id: str) -> TicketDetails | None:
        ticket = self.get_by_reference(key) or self.get(key)
        if ticket is None:
            return None
        contacts = self._directory.contacts
        return TicketDetails(
            ticket=ticket,
            desk=self._desks.desks.get(ticket.desk_id),
            request_type=self._desks.request_types.get(ticket.request_type_id),
            requester=contacts.get(ticket.requester_id),
            assignee=None if ticket.assignee_id is None else contacts.get(ticket.assignee_id),
            muted=(ticket.id, viewer_id) in self._participants.muted,
        )

    def _matching(self, query: TicketQuery) -> Iterator[Ticket]:
        tickets: Iterable[Ticket] = self._tables.tickets.values()
        if query.requester_id is not None:
            mine = self._tables.ids_by_requester.get(query.requester_id, {})
            tickets = [self._tables.tickets[ticket_id] for ticket_id in mine]
        shared = self._participants.collaborators
        for ticket in tickets:
            collaborators = shared.get(ticket.id, {})
            if query.scope.grant(ticket, collaborators) is None:
                continue
            if query.collaborator_id is not None and query.collaborator_id not in collaborators:
                continue
            if _filters_admit(query, ticket):
                yield ticket

    def find(self, query: TicketQuery) -> Sequence[Ticket]:
        key = _sort_key(query)
        descending = query.sort not in (TicketSort.OLDEST, TicketSort.SLA_DUE)
        found = sorted(self._matching(query), key=key, reverse=descending)
        if query.after is not None:
            after = query.after
            found = [t for t in found if (key(t) < after if descending else key(t) > after)]
        return found[: query.limit]

    def find_rows(
        self, query: TicketQuery, status_label: Callable[[str, str], str]
    ) -> Sequence[TicketRow]:
        return [self._row(ticket, status_label) for ticket in self.find(query)]

    def _row(self, ticket: Ticket, status_label: Callable[[str, str], str]) -> TicketRow:
        desk = self._desks.desks.get(ticket.desk_id)
        request_type = self._desks.request_types.get(ticket.request_type_id)
        requester = self._directory.contacts.get(ticket.requester_id)
        return TicketRow(
            id=ticket.id,
            reference=ticket.reference,
            summary=ticket.summary,
            desk_id=ticket.desk_id,
            desk_key="" if desk is None else desk.key,
            desk_name="" if desk is None else desk.name,
            request_type_id=ticket.request_type_id,
            request_type_name="" if request_type is None else request_type.name,
            requester_id=ticket.requester_id,
            requester_name="" if requester is None else requester.full_name,
            status=ticket.status,
            status_label=status_label(ticket.desk_id, ticket.status),
            sub_status=ticket.sub_status,
            priority=ticket.priority,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            sla_due_at=ticket.sla_due_at,
        )

    def count(self, query: TicketQuery) -> int:
        return sum(1 for _ in self._matching(query))

    def count_each(self, queries: Sequence[TicketQuery]) -> Sequence[int]:
        return [self.count(query) for query in queries]


def _sort_key(query: TicketQuery) -> Callable[[Ticket], tuple[datetime, str]]:
    if query.sort is TicketSort.RECENTLY_UPDATED:
        return lambda ticket: (ticket.updated_at, ticket.id)
    if query.sort is TicketSort.SLA_DUE:
        # _filters_admit leaves out tickets without a running clock.
        return lambda ticket: (ticket.sla_due_at or ticket.created_at, ticket.id)
    return lambda ticket: (ticket.created_at, ticket.id)


def _filters_admit(query: TicketQuery, ticket: Ticket) -> bool:
    return (
        (query.requester_id is None or ticket.requester_id == query.requester_id)
        and (query.organization_id is None or ticket.organization_id == query.organization_id)
        and (query.statuses is None or ticket.status in query.statuses)
        and (query.desk_id is None or ticket.desk_id == query.desk_id)
        and (query.request_type_id is None or ticket.request_type_id == query.request_type_id)
        and (query.assignee_id is None or ticket.assignee_id == query.assignee_id)
        and (not query.unassigned or ticket.assignee_id is None)
        and (query.sort is not TicketSort.SLA_DUE or ticket.sla_due_at is not None)
    )
