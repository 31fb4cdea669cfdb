"""The SQL of ticket lists: scope, filters, order and keyset pages of tickets, and their counts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from ...access import TicketScope
from ..protocol import TicketQuery, TicketSort
from .dialects import InSubquery
from .schema import collaborators, contacts, desks, request_types, tickets

# Outer joins, as on the ticket page: a ticket is listed whatever its names'
# rows hold, as count_statement counts it, and the planners keep reading
# tickets first, in the order of the list's index.
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
