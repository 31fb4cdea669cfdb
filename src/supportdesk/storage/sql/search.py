"""The SQL site search: the ranked query over the full-text index, scoped to one actor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..._models import SearchHit, SearchKind
from ...search import is_prefix, snippet
from ..protocol import SearchQuery
from ._transaction import Repository
from .content import active_clause
from .dialects import HoldsToken, token_query
from .schema import announcements, articles, search_fields, tickets
from .ticket_lists import scope_clause


def search_statement(query: SearchQuery, dialect_name: str) -> sa.Select[Any]:
    """The hits of ``query`` the actor may see, ranked, with the text of each hit's best field.

    A field scores its weight for each term it holds; a target must hold
    every term between its fields and scores the sum.  Nothing about other
    targets counts (how rare a term is across the index would tell a reader
    how often it stands in text they may not see).
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
        query_text = token_query(dialect_name, term, prefix=is_prefix(term))
        holds = HoldsToken(fields.c.position, fields.c.tokens, query_text)
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
    return sa.select(
        hits.c.term,
        hits.c.kind,
        hits.c.target_id,
        hits.c.position,
        sa.cast(hits.c.weight, sa.Float).label("points"),
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
        active_clause(query.now),
    )


class SqlSearch(Repository):
    """Site search over the ``search_fields`` index, which the other areas write as they write."""

    def find(self, query: SearchQuery) -> Sequence[SearchHit]:
        if not query.terms or not query.kinds:
            return []
        statement = search_statement(query, self._tx.dialect_name)
        return [
            SearchHit(
                kind=SearchKind(row.kind),
                id=row.target_id,
                title=row.title,
                snippet=snippet(row.text, query.terms),
                reference=row.reference,
                score=float(row.score),
            )
            for row in self._tx.execute(statement)
        ]
