"""The memory store's search: one inverted index, written by the other areas, read here."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..._models import SearchHit, SearchKind
from ...search import Match, SearchIndex, snippet
from ..protocol import SearchQuery
from .content import ContentTables
from .participants import ParticipantTables
from .tickets import TicketTables


class SearchTables:
    """The search index over tickets, activity bodies and content."""

    def __init__(self) -> None:
        self.index = SearchIndex()


class MemorySearch:
    """The search area of a :class:`~.store.MemoryUnitOfWork`.

    Reads the tickets, collaborators and content that matches point at, to
    check what the query may see.
    """

    def __init__(
        self,
        tables: SearchTables,
        *,
        tickets: TicketTables,
        participants: ParticipantTables,
        content: ContentTables,
    ) -> None:
        self._tables = tables
        self._tickets = tickets
        self._participants = participants
        self._content = content

    def find(self, query: SearchQuery) -> Sequence[SearchHit]:
        matches = self._tables.index.match(query.terms, include_internal=query.include_internal)
        hits = [
            hit
            for match in matches
            if match.kind in query.kinds and (hit := self._hit(match, query)) is not None
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.kind, hit.id))
        return hits[query.offset : query.offset + query.limit]

    def _hit(self, match: Match, query: SearchQuery) -> SearchHit | None:
        """The hit for a match the query may see, or None."""
        found = snippet(match.best.text, query.terms)
        hit = SearchHit(
            kind=match.kind, id=match.target_id, title="", snippet=found, score=match.score
        )
        if match.kind is SearchKind.TICKET:
            ticket = self._tickets.tickets[match.target_id]
            collaborators = self._participants.collaborators.get(ticket.id, {})
            if query.ticket_scope.grant(ticket, collaborators) is None:
                return None
            return attrs.evolve(hit, title=ticket.summary, reference=ticket.reference)
        if match.kind is SearchKind.ARTICLE:
            article = self._content.articles[match.target_id]
            visible = article.published or query.include_drafts
            return attrs.evolve(hit, title=article.title) if visible else None
        announcement = self._content.announcements[match.target_id]
        shown = announcement.audience in query.audiences and announcement.is_active(query.now)
        return attrs.evolve(hit, title=announcement.title) if shown else None
