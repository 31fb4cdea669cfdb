"""The search area: site search over tickets, articles and announcements, scoped to one actor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ..._models import Audience, SearchHit, SearchKind
from ...access import TicketScope


@attrs.frozen(kw_only=True)
class SearchQuery:
    """A site search, already scoped to one actor.

    ``terms`` come from :func:`supportdesk.search.query_terms`, lower-cased;
    a hit must hold every one of them in any of its searchable fields: as a
    whole word, or as the beginning of one where
    :func:`supportdesk.search.is_prefix` says so (``sft`` finds ``sftp``).
    A compound term (``hha-13782``, ``e-mail``) matches as a whole (FTS:
    the phrase of its parts).  Which targets may be hit:

    - tickets in ``ticket_scope`` (the same scope lists use), matched on
      reference, summary, description and the bodies of public activity
      entries, and of internal ones (notes) only when ``include_internal``;
    - articles and FAQs, published ones only unless ``include_drafts``;
    - announcements for one of ``audiences`` that are active at ``now``
      (``active_from <= now < active_until``, a None bound being open).

    Only ``kinds`` are searched.  Results are ranked, best first: a term in
    a title, summary or reference weighs more than one in a body, so that
    of two otherwise equal hits the title match comes first.  Ties break by
    kind then id; the ranked list is sliced by ``offset`` and ``limit``.
    """

    terms: tuple[str, ...]
    kinds: frozenset[SearchKind] = frozenset(SearchKind)
    ticket_scope: TicketScope
    include_internal: bool = False
    include_drafts: bool = False
    audiences: frozenset[Audience] = frozenset({Audience.EVERYONE, Audience.CUSTOMERS})
    now: datetime
    limit: int = 20
    offset: int = 0


class Search(Protocol):
    """The search index is written by the other areas as they write; this area only reads it."""

    def find(self, query: SearchQuery) -> Sequence[SearchHit]:
        """The hits of ``query``, best first; see :class:`SearchQuery` for what may match.

        Each hit's ``title`` is the ticket's summary or the content's title,
        ``reference`` the ticket's reference, and ``snippet`` a short excerpt
        of a field that matched and that the query may see (never an
        internal note unless ``include_internal``).  The in-memory store
        keeps a tokenised inverted index; SQL adapters use SQLite FTS5 or
        Postgres full-text search (``tsvector`` with a GIN index), indexing
        the same fields with the same visibility, and rank by their own
        relevance function.
        """
        ...
