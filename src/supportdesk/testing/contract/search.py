"""The search area's contract: site search scoped like lists, following every change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest

from ... import access
from ..._models import Audience, SearchKind
from ...access import TicketScope
from ...search import query_terms
from ...storage.protocol import SearchQuery, Store
from .base import T0, ContractBase, World, _activity, _announcement, _article, make_ticket


class SearchContract(ContractBase):
    """What every adapter's ``work.search`` must do; one test per promise."""

    def test_search_tickets_in_scope(self, store: Store, world: World) -> None:
        desk, alice, carol = world.desk, world.alice, world.carol
        claims = make_ticket(desk, 1, alice, summary="Claims missing", description="May feed")
        private = make_ticket(desk, 2, alice, summary="Invoice", shared_with_organization=False)
        other = make_ticket(desk, 12, carol, summary="Claims rejected")
        with store.unit_of_work() as work:
            for ticket in (claims, private, other):
                work.tickets.add(ticket)
            work.activity.add(_activity(private, body="the claims portal is slow"))
            work.activity.add(_activity(claims, body="zebra secret", internal=True))
        alice_scope = access.ticket_scope(alice)
        bob_scope = access.ticket_scope(world.bob)
        everything = TicketScope(everything=True)

        def found(scope: TicketScope, text: str, **changes: Any) -> list[str]:
            query = SearchQuery(
                terms=query_terms(text), ticket_scope=scope, now=T0, limit=50, **changes
            )
            with store.unit_of_work() as work:
                hits = work.search.find(query)
            for hit in hits:
                assert hit.kind is SearchKind.TICKET and hit.title
            return sorted(hit.reference or "" for hit in hits)

        assert found(alice_scope, "claims") == ["HHA-1", "HHA-2"]
        assert found(bob_scope, "claims") == ["HHA-1"]
        assert found(everything, "claims") == ["HHA-1", "HHA-12", "HHA-2"]
        assert found(everything, "claims may") == ["HHA-1"]
        assert found(everything, "HHA-1") == ["HHA-1"]
        assert found(everything, "hha-12 claims") == ["HHA-12"]
        assert found(everything, "portal slow") == ["HHA-2"]
        assert found(everything, "zebra") == []
        assert found(everything, "zebra", include_internal=True) == ["HHA-1"]
        assert found(alice_scope, "zebra claims") == []
        assert found(TicketScope(), "claims") == []
        assert found(everything, "claims", kinds=frozenset({SearchKind.ARTICLE})) == []

    def test_search_terms_find_the_words_they_begin(self, store: Store, world: World) -> None:
        sftp = make_ticket(world.desk, 1, world.alice, summary="SFTP upload fails")
        soft = make_ticket(world.desk, 2, world.alice, summary="Soft limit", description="sftp")
        with store.unit_of_work() as work:
            work.tickets.add(sftp)
            work.tickets.add(soft)
            work.activity.add(_activity(soft, body="sft-7 in the sftpd log", internal=True))

        def found(text: str, *, include_internal: bool = False) -> list[str]:
            query = SearchQuery(
                terms=query_terms(text),
                ticket_scope=TicketScope(everything=True),
                include_internal=include_internal,
                now=T0,
            )
            with store.unit_of_work() as work:
                return [hit.reference or "" for hit in work.search.find(query)]

        # While typing: each term of three characters or more finds the words it begins,
        # and the summary's match ranks first.
        assert found("sft") == ["HHA-1", "HHA-2"]
        assert found("sftp uplo") == ["HHA-1"]
        assert found("uploads") == []
        # Shorter terms and compounds match whole words only; internal text stays internal.
        assert found("sf") == []
        assert found("sft-7") == []
        assert found("sft-7", include_internal=True) == ["HHA-2"]
        assert found("sftpd") == []
        assert found("sftpd", include_internal=True) == ["HHA-2"]

    def test_search_snippets_never_show_internal_text(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice, summary="Portal login")
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.activity.add(_activity(ticket, body="login login login secret", internal=True))
            query = SearchQuery(terms=("login",), ticket_scope=TicketScope(everything=True), now=T0)
            (hit,) = work.search.find(query)
            assert "secret" not in hit.snippet
            assert "login" in hit.snippet.casefold()
            (staff_hit,) = work.search.find(attrs.evolve(query, include_internal=True))
            assert staff_hit.reference == "HHA-1"

    def test_search_content_by_visibility_and_rank(self, store: Store) -> None:
        titled = _article("Password reset", body="How to get back in.")
        mentioned = _article("Logging in", body="If you forgot your password, reset it.")
        draft = _article("Password policy", body="Internal draft.", published=False)
        shown = _announcement("Password change on Monday", T0)
        staff_only = _announcement("Password audit", T0, audience=Audience.STAFF)
        expired = _announcement("Password outage", T0 - timedelta(days=2), until=T0)
        with store.unit_of_work() as work:
            for article in (titled, mentioned, draft):
                work.content.put_article(article)
            for announcement in (shown, staff_only, expired):
                work.content.put_announcement(announcement)
        query = SearchQuery(terms=("password",), ticket_scope=TicketScope(), now=T0, limit=50)
        with store.unit_of_work() as work:
            hits = work.search.find(query)
            assert {hit.id for hit in hits} == {titled.id, mentioned.id, shown.id}
            ranked = [hit.id for hit in hits if hit.id in (titled.id, mentioned.id)]
            assert ranked == [titled.id, mentioned.id]
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            staff = attrs.evolve(query, include_drafts=True, audiences=frozenset(Audience))
            assert {hit.id for hit in work.search.find(staff)} == {
                titled.id,
                mentioned.id,
                draft.id,
                shown.id,
                staff_only.id,
            }
            only = attrs.evolve(query, kinds=frozenset({SearchKind.ANNOUNCEMENT}))
            (notice,) = work.search.find(only)
            assert (notice.id, notice.title, notice.reference) == (shown.id, shown.title, None)
            first, second = (
                work.search.find(attrs.evolve(query, limit=1, offset=n)) for n in (0, 1)
            )
            assert [first[0].id, second[0].id] == [hit.id for hit in hits[:2]]

    def test_search_follows_changes_and_rollbacks(self, store: Store, world: World) -> None:
        article = _article("Printer setup", body="Plug it in.")
        query = SearchQuery(terms=("printer",), ticket_scope=TicketScope(everything=True), now=T0)
        with store.unit_of_work() as work:
            work.content.put_article(article)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.content.put_article(attrs.evolve(article, title="Scanner setup"))
            work.tickets.add(make_ticket(world.desk, 1, world.alice, summary="Printer jam"))
            assert len(work.search.find(query)) == 1
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert [hit.id for hit in work.search.find(query)] == [article.id]
            work.content.put_article(attrs.evolve(article, title="Scanner setup"))
            assert list(work.search.find(query)) == []
            work.content.remove_article(article.id)
            assert list(work.search.find(attrs.evolve(query, terms=("scanner",)))) == []
