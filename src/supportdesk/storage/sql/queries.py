"""Queries compiled into SQL: ticket lists (scope, filters, order, keyset) and site search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..._models import SearchKind
from ...access import TicketScope
from ..protocol import SearchQuery, TicketQuery, TicketSort
from .dialects import HoldsToken, InSubquery, token_query
from .schema import announcements, articles, collaborators, search_fields, tickets


def _collaborating(contact_id: str) -> ColumnElement[bool]:
    # An uncorrelated subquery rather than EXISTS: the planners look tickets up
    # by id from the collaborators' contact index, also as one arm of an OR.
    shared = sa.select(collaborators.c.ticket_id).where(collaborators.c.contact_id == contact_id)
    return InSubquery(tickets.c.id, shared.scalar_subquery())


def scope_clause(scope: TicketScope) -> ColumnElement[bool]:
    """The tickets ``scope`` admits: its clauses OR'ed, as :meth:`TicketScope.grant` reads them."""
    if scope.everything:
        return sa.true()
    admits: list[ColumnElement[bool]] = []
    if scope.desk_ids:
        admits.append(tickets.c.desk_id.in_(sorted(scope.desk_ids)))
    if scope.requester_id is not None:
        admits.append(tickets.c.requester_id == scope.requester_id)
    if scope.collaborator_id is not None:
        admits.append(_collaborating(scope.collaborator_id))
    if scope.organization_id is not None:
        admits.append(
            sa.and_(
                tickets.c.organization_id == scope.organization_id,
                tickets.c.shared_with_organization == sa.true(),
            )
        )
    return sa.or_(sa.false(), *admits)


def filter_clauses(query: TicketQuery) -> list[ColumnElement[bool]]:
    """The query's scope and every filter it sets, to be AND'ed."""
    clauses = [scope_clause(query.scope)]
    if query.requester_id is not None:
        clauses.append(tickets.c.requester_id == query.requester_id)
    if query.organization_id is not None:
        clauses.append(tickets.c.organization_id == query.organization_id)
    if query.collaborator_id is not None:
        clauses.append(_collaborating(query.collaborator_id))
    if query.statuses is not None:
        clauses.append(tickets.c.status.in_(sorted(query.statuses)))
    if query.desk_id is not None:
        clauses.append(tickets.c.desk_id == query.desk_id)
    if query.request_type_id is not None:
        clauses.append(tickets.c.request_type_id == query.request_type_id)
    return clauses


def find_statement(query: TicketQuery) -> sa.Select[Any]:
    """The page of tickets ``query`` asks for, in its order, after its keyset position."""
    sort_column = tickets.c.created_at
    if query.sort is TicketSort.RECENTLY_UPDATED:
        sort_column = tickets.c.updated_at
    key = sa.tuple_(sort_column, tickets.c.id)
    descending = query.sort is not TicketSort.OLDEST
    statement = sa.select(tickets).where(*filter_clauses(query))
    if query.after is not None:
        at, ticket_id = query.after
        # Typed binds: the cursor's time must be stored-form UTC, like the column.
        position = sa.tuple_(sa.literal(at, sort_column.type), sa.literal(ticket_id))
        statement = statement.where(key < position if descending else key > position)
    if descending:
        statement = statement.order_by(sort_column.desc(), tickets.c.id.desc())
    else:
        statement = statement.order_by(sort_column, tickets.c.id)
    return statement.limit(query.limit)


def count_statement(query: TicketQuery) -> sa.Select[int]:
    """How many tickets match ``query``, ignoring its order, position and limit."""
    return sa.select(sa.func.count()).select_from(tickets).where(*filter_clauses(query))


def search_statement(query: SearchQuery, dialect_name: str) -> sa.Select[Any]:
    """The hits of ``query`` the actor may see, ranked, with the text of each hit's best field.

    A field scores its weight for each term it holds, divided by how many
    fields hold that term (rare terms count more); a target must hold every
    term between its fields and scores the sum.
    """
    rated = _rated_fields(query, dialect_name)
    targets = (
        sa.select(rated.c.kind, rated.c.target_id, sa.func.sum(rated.c.points).label("score"))
        .group_by(rated.c.kind, rated.c.target_id)
        .having(sa.func.count(sa.distinct(rated.c.term)) == len(query.terms))
        .cte("targets")
    )
    best = (
        sa.select(
            rated.c.kind,
            rated.c.target_id,
            rated.c.position,
            sa.func.row_number()
            .over(
                partition_by=(rated.c.kind, rated.c.target_id),
                order_by=(sa.func.sum(rated.c.points).desc(), rated.c.position),
            )
            .label("rank"),
        )
        .group_by(rated.c.kind, rated.c.target_id, rated.c.position)
        .cte("best")
    )
    same_target = sa.and_(
        best.c.kind == targets.c.kind, best.c.target_id == targets.c.target_id, best.c.rank == 1
    )
    found = (
        targets.join(best, same_target)
        .join(search_fields, search_fields.c.position == best.c.position)
        .outerjoin(tickets, _visible_ticket(query, targets))
        .outerjoin(articles, _visible_article(query, targets))
        .outerjoin(announcements, _visible_announcement(query, targets))
    )
    return (
        sa.select(
            targets.c.kind,
            targets.c.target_id,
            targets.c.score,
            sa.func.coalesce(tickets.c.summary, articles.c.title, announcements.c.title).label(
                "title"
            ),
            tickets.c.reference,
            search_fields.c.text,
        )
        .select_from(found)
        .where(
            sa.or_(
                tickets.c.id.is_not(None),
                articles.c.id.is_not(None),
                announcements.c.id.is_not(None),
            )
        )
        .order_by(targets.c.score.desc(), targets.c.kind, targets.c.target_id)
        .offset(query.offset)
        .limit(query.limit)
    )


def _rated_fields(query: SearchQuery, dialect_name: str) -> sa.CTE:
    fields = search_fields
    per_term = []
    for number, term in enumerate(query.terms):
        holds = HoldsToken(fields.c.position, fields.c.tokens, token_query(dialect_name, term))
        conditions: list[ColumnElement[bool]] = [holds]
        if query.kinds != frozenset(SearchKind):
            # Only when it narrows: a filter on every kind would tempt the
            # planner to read the unique index instead of the full-text one.
            conditions.append(fields.c.kind.in_(sorted(kind.value for kind in query.kinds)))
        if not query.include_internal:
            conditions.append(fields.c.internal == sa.false())
        per_term.append(
            sa.select(
                sa.literal(number).label("term"),
                fields.c.kind,
                fields.c.target_id,
                fields.c.position,
                fields.c.weight,
            ).where(*conditions)
        )
    hits = (per_term[0] if len(per_term) == 1 else sa.union_all(*per_term)).cte("hits")
    fields_holding_term = sa.func.count().over(partition_by=hits.c.term)
    return sa.select(
        hits.c.term,
        hits.c.kind,
        hits.c.target_id,
        hits.c.position,
        (hits.c.weight / fields_holding_term).label("points"),
    ).cte("rated")


def _visible_ticket(query: SearchQuery, targets: sa.CTE) -> ColumnElement[bool]:
    return sa.and_(
        targets.c.kind == SearchKind.TICKET.value,
        tickets.c.id == targets.c.target_id,
        scope_clause(query.ticket_scope),
    )


def _visible_article(query: SearchQuery, targets: sa.CTE) -> ColumnElement[bool]:
    return sa.and_(
        targets.c.kind == SearchKind.ARTICLE.value,
        articles.c.id == targets.c.target_id,
        sa.true() if query.include_drafts else articles.c.published == sa.true(),
    )


def _visible_announcement(query: SearchQuery, targets: sa.CTE) -> ColumnElement[bool]:
    return sa.and_(
        targets.c.kind == SearchKind.ANNOUNCEMENT.value,
        announcements.c.id == targets.c.target_id,
        announcements.c.audience.in_(sorted(audience.value for audience in query.audiences)),
        active_at(query.now),
    )


def active_at(now: datetime) -> ColumnElement[bool]:
    """The announcements shown at ``now``: started (or open-ended) and not yet over."""
    return sa.and_(
        sa.or_(announcements.c.active_from.is_(None), announcements.c.active_from <= now),
        sa.or_(announcements.c.active_until.is_(None), announcements.c.active_until > now),
    )
