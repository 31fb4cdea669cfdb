"""The SQL tickets: versioned ticket rows, the ticket page's read, and the lists' queries run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa

from ..._errors import Conflict, NotFound
from ..._models import SearchKind, Ticket, TicketRow
from ..._serialization import from_data
from ..protocol import TicketDetails, TicketQuery
from . import rows
from ._transaction import Repository, by_id
from .schema import contacts, desks, muted, request_types, tickets
from .ticket_lists import count_each_statement, count_statement, find_statement, rows_statement

GET_TICKET = by_id(tickets)
GET_TICKET_BY_REFERENCE = sa.select(tickets).where(tickets.c.reference == sa.bindparam("reference"))
TICKET_VERSION = sa.select(tickets.c.version).where(tickets.c.id == sa.bindparam("id"))
# In UPDATEs, binds named like a column would clash with the SET values.
UPDATE_TICKET = tickets.update().where(
    tickets.c.id == sa.bindparam("match_id"), tickets.c.version == sa.bindparam("match_version")
)
SET_SLA_DUE = (
    tickets.update()
    .where(tickets.c.id == sa.bindparam("match_id"))
    .values(sla_due_at=sa.bindparam("due_at"))
)
TOUCH_TICKET = (
    tickets.update()
    .where(tickets.c.id == sa.bindparam("match_id"), tickets.c.updated_at < sa.bindparam("at"))
    .values(updated_at=sa.bindparam("at"))
)

# Outer joins throughout: a ticket is shown whatever its names' rows hold,
# as its lists show it (ticket_lists).
_REQUESTER = contacts.alias("requester")
_ASSIGNEE = contacts.alias("assignee")
GET_TICKET_DETAILS = (
    sa.select(
        tickets,
        *rows.DESKS.labelled(desks, "desk__"),
        *rows.REQUEST_TYPES.labelled(request_types, "type__"),
        *rows.CONTACTS.labelled(_REQUESTER, "requester__"),
        *rows.CONTACTS.labelled(_ASSIGNEE, "assignee__"),
        muted.c.contact_id.label("muted_by"),
    )
    .select_from(
        tickets.outerjoin(desks, desks.c.id == tickets.c.desk_id)
        .outerjoin(request_types, request_types.c.id == tickets.c.request_type_id)
        .outerjoin(_REQUESTER, _REQUESTER.c.id == tickets.c.requester_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.c.id == tickets.c.assignee_id)
        .outerjoin(
            muted,
            sa.and_(
                muted.c.ticket_id == tickets.c.id,
                muted.c.contact_id == sa.bindparam("viewer_id"),
            ),
        )
    )
    .where(
        sa.or_(
            tickets.c.id == sa.bindparam("key"),
            tickets.c.reference == sa.bindparam("reference"),
        )
    )
)


class SqlTickets(Repository):
    """Tickets in SQL, each indexed for search with its reference, summary and description."""

    def add(self, ticket: Ticket) -> None:
        if not self._tx.add_new(tickets, "id", rows.TICKETS.row(ticket)):
            raise Conflict("ticket", ticket.reference, "a ticket with this id or reference exists")
        self._tx.held.add(ticket.id)
        self._tx.index(SearchKind.TICKET, ticket.id, *rows.ticket_fields(ticket))
        self._seen(ticket)

    def update(self, ticket: Ticket) -> None:
        row = rows.TICKETS.row(ticket)
        del row["sla_due_at"]  # set_sla_due's alone
        row.update(match_id=row.pop("id"), match_version=ticket.version - 1)
        if self._tx.execute(UPDATE_TICKET, row).rowcount == 1:
            self._tx.held.add(ticket.id)
            # Every update moves the version on: the stored text is the one read at it.
            fields = rows.ticket_fields(ticket)
            if self._tx.searched.get(ticket.id) != (ticket.version - 1, fields):
                self._tx.index(SearchKind.TICKET, ticket.id, *fields)
            self._tx.searched[ticket.id] = (ticket.version, fields)
            return
        stored = self._tx.execute(TICKET_VERSION, {"id": ticket.id}).scalar_one_or_none()
        if stored is None:
            raise NotFound("ticket", ticket.id)
        raise Conflict(
            "ticket",
            ticket.reference,
            f"stored version is {stored}, the change was based on {ticket.version - 1}",
        )

    def set_sla_due(self, ticket_id: str, due_at: datetime | None) -> None:
        self._tx.execute(SET_SLA_DUE, {"match_id": ticket_id, "due_at": due_at})

    def mark_updated(self, ticket_id: str, at: datetime) -> None:
        self._tx.execute(TOUCH_TICKET, {"match_id": ticket_id, "at": at})

    def _seen(self, ticket: Ticket | None) -> Ticket | None:
        if ticket is not None:
            self._tx.searched[ticket.id] = (ticket.version, rows.ticket_fields(ticket))
            if self._tx.one_writer:
                self._tx.held.add(ticket.id)
        return ticket

    def get(self, ticket_id: str) -> Ticket | None:
        return self._seen(self._tx.one(rows.TICKETS, GET_TICKET, id=ticket_id))

    def get_by_reference(self, reference: str) -> Ticket | None:
        return self._seen(
            self._tx.one(rows.TICKETS, GET_TICKET_BY_REFERENCE, reference=reference.upper())
        )

    def get_details(self, key: str, viewer_id: str) -> TicketDetails | None:
        found = {"key": key, "reference": key.upper(), "viewer_id": viewer_id}
        row = self._tx.execute(GET_TICKET_DETAILS, found).mappings().first()
        if row is None:
            return None
        return TicketDetails(
            ticket=rows.TICKETS.model(row),
            desk=rows.DESKS.joined(row, "desk__"),
            request_type=rows.REQUEST_TYPES.joined(row, "type__"),
            requester=rows.CONTACTS.joined(row, "requester__"),
            assignee=rows.CONTACTS.joined(row, "assignee__"),
            muted=row["muted_by"] is not None,
        )

    def find(self, query: TicketQuery) -> Sequence[Ticket]:
        if query.scope.is_empty:
            return []
        statement, values = find_statement(query)
        return self._tx.all(rows.TICKETS, statement, **values)

    def find_rows(
        self, query: TicketQuery, status_label: Callable[[str, str], str]
    ) -> Sequence[TicketRow]:
        if query.scope.is_empty:
            return []
        return [
            from_data(
                {**row, "status_label": status_label(row["desk_id"], row["status"])},
                TicketRow,
            )
            for row in self._tx.execute(*rows_statement(query)).mappings()
        ]

    def count(self, query: TicketQuery) -> int:
        if query.scope.is_empty:
            return 0
        counted = count_statement(query, self._tx.dialect_name)
        return int(self._tx.execute(*counted).scalar_one())

    def count_each(self, queries: Sequence[TicketQuery]) -> Sequence[int]:
        # An empty scope holds nothing: it is counted without asking the database.
        asked = [query for query in queries if not query.scope.is_empty]
        statement = count_each_statement(asked, self._tx.dialect_name) if asked else None
        counted = iter(self._tx.execute(*statement).one() if statement else ())
        return [0 if query.scope.is_empty else int(next(counted)) for query in queries]
