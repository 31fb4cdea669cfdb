"""The SQL tickets: versioned ticket rows, and ticket lists (scope, filters, order, keyset)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from ..._errors import Conflict, NotFound
from ..._models import SearchKind, Ticket, TicketRow
from ..._serialization import from_data
from ...access import TicketScope
from ..protocol import TicketDetails, TicketQuery, TicketSort
from . import rows
from ._transaction import Repository, by_id
from .dialects import InSubquery
from .schema import collaborators, contacts, desks, muted, request_types, tickets

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

# Outer joins throughout: a ticket is listed and shown whatever its names'
# rows hold, as count_statement counts it, and the planners keep reading
# tickets first, in the order of the list's index.
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
_ROW_COLUMNS = (
    tickets.c.id,
    tickets.c.reference,
    tickets.c.summary,
    tickets.c.desk_id,
    sa.func.coalesce(desks.c.key, "").label("desk_key"),
    sa.func.coalesce(desks.c.name, "").label("desk_name"),
    tickets.c.request_type_id,
    sa.func.coalesce(request_types.c.name, "").label("request_type_name"),
    tickets.c.requester_id,
    sa.func.coalesce(contacts.c.full_name, "").label("requester_name"),
    tickets.c.status,
    tickets.c.sub_status,
    tickets.c.priority,
    tickets.c.created_at,
    tickets.c.updated_at,
    tickets.c.sla_due_at,
)
_ROW_SOURCE = (
    tickets.outerjoin(desks, desks.c.id == tickets.c.desk_id)
    .outerjoin(request_types, request_types.c.id == tickets.c.request_type_id)
    .outerjoin(contacts, contacts.c.id == tickets.c.requester_id)
)


def _collaborating(contact_id: Any) -> ColumnElement[bool]:
    # An uncorrelated subquery rather than EXISTS: the planners look tickets up
    # by id from the collaborators' contact index, also as one arm of an OR.
    shared = sa.select(collaborators.c.ticket_id).where(collaborators.c.contact_id == contact_id)
    return InSubquery(tickets.c.id, shared.scalar_subquery())


def _shared_with(organization_id: Any) -> ColumnElement[bool]:
    return sa.and_(
        tickets.c.organization_id == organization_id,
        tickets.c.shared_with_organization == sa.true(),
    )


@attrs.frozen
class _Filter:
    """One condition a ticket list may set: its name, its value in a query, its clause."""

    name: str
    value: Callable[[Any], Any]
    """The value set in a :class:`TicketScope` or :class:`TicketQuery`, or None when unset."""
    clause: Callable[[Any], ColumnElement[bool]]
    """The condition on the value (or on a bind standing for it)."""
    many: bool = False
    """The value is a list: bound as an expanding IN."""


_ADMITS = (
    _Filter("scope_desks", lambda s: sorted(s.desk_ids) or None, tickets.c.desk_id.in_, True),
    _Filter("scope_requester", lambda s: s.requester_id, tickets.c.requester_id.__eq__),
    _Filter("scope_collaborator", lambda s: s.collaborator_id, _collaborating),
    _Filter("scope_organization", lambda s: s.organization_id, _shared_with),
)
"""What a :class:`TicketScope` admits, in the order :meth:`TicketScope.grant` reads them: OR'ed."""

_FILTERS = (
    _Filter("requester", lambda q: q.requester_id, tickets.c.requester_id.__eq__),
    _Filter("organization", lambda q: q.organization_id, tickets.c.organization_id.__eq__),
    _Filter("collaborator", lambda q: q.collaborator_id, _collaborating),
    _Filter(
        "statuses",
        lambda q: None if q.statuses is None else sorted(q.statuses),
        tickets.c.status.in_,
        True,
    ),
    _Filter("desk", lambda q: q.desk_id, tickets.c.desk_id.__eq__),
    _Filter("request_type", lambda q: q.request_type_id, tickets.c.request_type_id.__eq__),
    _Filter("assignee", lambda q: q.assignee_id, tickets.c.assignee_id.__eq__),
)
"""The filters a :class:`TicketQuery` sets beside its scope: AND'ed."""


def scope_clause(scope: TicketScope) -> ColumnElement[bool]:
    """The tickets ``scope`` admits: its clauses OR'ed, as :meth:`TicketScope.grant` reads them."""
    if scope.everything:
        return sa.true()
    admits = [f.clause(value) for f in _ADMITS if (value := f.value(scope)) is not None]
    return sa.or_(sa.false(), *admits)


@attrs.frozen
class _Shape:
    """What a list statement's form depends on: which filters are set, not their values.

    Queries of one shape share one statement, built once, its values bound.
    """

    everything: bool
    admits: tuple[str, ...]
    filters: tuple[str, ...]
    unassigned: bool
    sort: TicketSort
    limit: int
    after: bool


def _bound(query: TicketQuery, prefix: str = "") -> tuple[_Shape, dict[str, Any]]:
    """The shape of ``query`` and the values of its scope and filters by bind name.

    Each name begins with ``prefix``; the keyset position is bound apart
    (:func:`_page`), as counts ignore it.
    """
    values: dict[str, Any] = {}
    everything = query.scope.everything or _within_scope(query)
    set_in_scope = [] if everything else _set(_ADMITS, query.scope, prefix, values)
    filters = _set(_FILTERS, query, prefix, values)
    shape = _Shape(
        everything=everything,
        admits=tuple(set_in_scope),
        filters=tuple(filters),
        unassigned=query.unassigned,
        sort=query.sort,
        limit=query.limit,
        after=query.after is not None,
    )
    return shape, values


def _within_scope(query: TicketQuery) -> bool:
    """Whether the query's own filter keeps only tickets its scope admits.

    "Created by me" and "Where I collaborate" ask for one arm of a customer's
    scope: the OR of the others only costs the database work per row.
    """
    scope = query.scope
    return (query.requester_id is not None and query.requester_id == scope.requester_id) or (
        query.collaborator_id is not None and query.collaborator_id == scope.collaborator_id
    )


def _set(filters: Sequence[_Filter], source: Any, prefix: str, values: dict[str, Any]) -> list[str]:
    """The names of ``filters`` set in ``source``; their values go to ``values``, prefixed."""
    names = []
    for f in filters:
        value = f.value(source)
        if value is not None:
            names.append(f.name)
            values[prefix + f.name] = value
    return names


def _clauses(shape: _Shape, prefix: str = "") -> list[ColumnElement[bool]]:
    """The scope and filters of queries of ``shape``, to be AND'ed, their values bound."""
    arms = _scope_arms(shape, prefix)
    scope = sa.true() if arms is None else sa.or_(sa.false(), *arms)
    return [scope, *_filter_clauses(shape, prefix)]


def _scope_arms(shape: _Shape, prefix: str) -> list[ColumnElement[bool]] | None:
    """Each condition the scope admits a ticket by (to be OR'ed), or None: every ticket."""
    return None if shape.everything else _bound_filters(_ADMITS, shape.admits, prefix)


def _filter_clauses(shape: _Shape, prefix: str) -> list[ColumnElement[bool]]:
    """The filters of queries of ``shape`` beside their scope, to be AND'ed."""
    clauses = _bound_filters(_FILTERS, shape.filters, prefix)
    if shape.unassigned:
        clauses.append(tickets.c.assignee_id.is_(None))
    if shape.sort is TicketSort.SLA_DUE:
        clauses.append(tickets.c.sla_due_at.is_not(None))
    return clauses


def _bound_filters(
    filters: Sequence[_Filter], names: Sequence[str], prefix: str
) -> list[ColumnElement[bool]]:
    return [
        f.clause(sa.bindparam(prefix + f.name, expanding=f.many))
        for f in filters
        if f.name in names
    ]


_SORT_COLUMNS = {
    TicketSort.RECENTLY_UPDATED: tickets.c.updated_at,
    TicketSort.SLA_DUE: tickets.c.sla_due_at,
}
_ASCENDING = frozenset({TicketSort.OLDEST, TicketSort.SLA_DUE})


def find_statement(query: TicketQuery) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The page of tickets ``query`` asks for, in its order, after its keyset position."""
    return _page(query, rows=False)


def rows_statement(query: TicketQuery) -> tuple[sa.Select[Any], dict[str, Any]]:
    """The page :func:`find_statement` reads, as list rows: names joined, wide text left out."""
    return _page(query, rows=True)


def _page(query: TicketQuery, *, rows: bool) -> tuple[sa.Select[Any], dict[str, Any]]:
    shape, values = _bound(query)
    if query.after is not None:
        values["after_at"], values["after_id"] = query.after
    return _paged(shape, rows=rows), values


@functools.lru_cache(maxsize=512)
def _paged(shape: _Shape, *, rows: bool) -> sa.Select[Any]:
    """Tickets of ``shape``, filtered, ordered, after the position and limited as asked."""
    statement = sa.select(*_ROW_COLUMNS).select_from(_ROW_SOURCE) if rows else sa.select(tickets)
    sort_column = _SORT_COLUMNS.get(shape.sort, tickets.c.created_at)
    key = sa.tuple_(sort_column, tickets.c.id)
    descending = shape.sort not in _ASCENDING
    statement = statement.where(*_clauses(shape))
    if shape.after:
        # Typed binds: the cursor's time must be stored-form UTC, like the column.
        position = sa.tuple_(
            sa.bindparam("after_at", type_=sort_column.type),
            sa.bindparam("after_id", type_=tickets.c.id.type),
        )
        statement = statement.where(key < position if descending else key > position)
    if descending:
        statement = statement.order_by(sort_column.desc(), tickets.c.id.desc())
    else:
        statement = statement.order_by(sort_column, tickets.c.id)
    return statement.limit(shape.limit)


def count_statement(query: TicketQuery, dialect_name: str) -> tuple[sa.Select[Any], dict[str, Any]]:
    """How many tickets match ``query``, ignoring its order, position and limit."""
    return count_each_statement([query], dialect_name)


def count_each_statement(
    queries: Sequence[TicketQuery], dialect_name: str
) -> tuple[sa.Select[Any], dict[str, Any]]:
    """One row: the count of each query, each a subquery planned on its own."""
    shapes: list[_Shape] = []
    values: dict[str, Any] = {}
    for n, query in enumerate(queries):
        shape, bound = _bound(query, f"q{n}_")
        # Position and limit change no count, nor does the order, but for the
        # SLA queue's (running clocks only): one statement for the rest.
        sort = TicketSort.SLA_DUE if shape.sort is TicketSort.SLA_DUE else TicketSort.NEWEST
        shapes.append(attrs.evolve(shape, sort=sort, limit=0, after=False))
        values.update(bound)
    return _counts(tuple(shapes), dialect_name == "postgresql"), values


@functools.lru_cache(maxsize=512)
def _counts(shapes: tuple[_Shape, ...], by_union: bool) -> sa.Select[Any]:
    counts = (_count(shape, f"q{n}_", by_union).label(f"n{n}") for n, shape in enumerate(shapes))
    return sa.select(*counts)


def _count(shape: _Shape, prefix: str, by_union: bool) -> ScalarSelect[Any]:
    """How many tickets queries of ``shape`` match, as a subquery planned on its own.

    ``by_union`` (Postgres) counts a scope of several arms (a customer's own
    tickets, those they collaborate on, their organisation's shared ones) as
    the union of its arms, each read by its own index: given the OR, Postgres
    may scan the whole table, testing each row against the array of the
    collaborations (a minute at a million tickets and ten thousand of
    them).  SQLite reads an OR by its arms' indexes already, faster than a union.
    """
    arms = _scope_arms(shape, prefix)
    rest = _filter_clauses(shape, prefix)
    if not by_union or arms is None or len(arms) < 2:
        counted = sa.select(sa.func.count()).select_from(tickets).where(*_clauses(shape, prefix))
        return counted.scalar_subquery()
    each = [sa.select(tickets.c.id).where(arm, *rest) for arm in arms]
    return sa.select(sa.func.count()).select_from(sa.union(*each).subquery()).scalar_subquery()


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
