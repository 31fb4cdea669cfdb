"""Site search through the facade: scoped to the actor, ranked, paginated; and its tokeniser."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk import (
    Announcement,
    Article,
    Audience,
    Contact,
    Desk,
    FakeClock,
    MemoryStore,
    NotFound,
    Organization,
    PermissionDenied,
    RequestType,
    Role,
    SearchKind,
    Submission,
    SupportDesk,
    Ticket,
    ValidationError,
)
from supportdesk.search import MAX_WORD_LENGTH, query_terms, snippet, tokenize

from .conftest import Portal


def refs(portal: Portal, actor: Contact, text: str) -> list[str]:
    page = portal.desk.search(actor, text, kinds=[SearchKind.TICKET], limit=100)
    return sorted(hit.reference or "" for hit in page.hits)


@pytest.fixture
def tickets(portal: Portal) -> tuple[Ticket, Ticket]:
    """Alice's claims ticket with a note, and Carol's private invoice ticket."""
    claims = portal.open(summary="Claims missing from May")
    portal.desk.share_update(portal.agent, claims.reference, "The SFTP feed stalled")
    portal.desk.add_note(portal.agent, claims.reference, "Customer is on the legacy plan")
    invoice = portal.desk.open_ticket(
        portal.carol, portal.general.id, Submission(summary="Invoice", description="Claims fee")
    )
    return claims, invoice


def test_customers_find_their_tickets_only(portal: Portal, tickets: tuple[Ticket, Ticket]) -> None:
    assert refs(portal, portal.alice, "claims") == ["HHA-1"]
    assert refs(portal, portal.bob, "claims") == ["HHA-1"]  # shared with Acme
    assert refs(portal, portal.carol, "claims") == ["HHA-2"]
    assert refs(portal, portal.loner, "claims") == []
    assert refs(portal, portal.agent, "claims") == ["HHA-1", "HHA-2"]
    assert refs(portal, portal.outsider_agent, "claims") == []
    assert refs(portal, portal.admin, "claims") == ["HHA-1", "HHA-2"]


def test_public_updates_match_and_notes_only_for_staff(
    portal: Portal, tickets: tuple[Ticket, Ticket]
) -> None:
    assert refs(portal, portal.alice, "sftp stalled") == ["HHA-1"]
    assert refs(portal, portal.alice, "legacy") == []
    assert refs(portal, portal.alice, "claims legacy") == []
    assert refs(portal, portal.agent, "legacy plan") == ["HHA-1"]


def test_reference_search_is_exact(portal: Portal) -> None:
    for _ in range(12):
        portal.open()
    assert refs(portal, portal.admin, "hha-1") == ["HHA-1"]
    assert refs(portal, portal.admin, "HHA-12") == ["HHA-12"]


def test_hits_carry_title_reference_and_snippet(
    portal: Portal, tickets: tuple[Ticket, Ticket]
) -> None:
    (hit,) = portal.desk.search(portal.alice, "stalled").hits
    assert (hit.kind, hit.title, hit.reference) == (
        SearchKind.TICKET,
        "Claims missing from May",
        "HHA-1",
    )
    assert "SFTP feed stalled" in hit.snippet


def test_search_across_kinds_ranked_and_paginated(portal: Portal) -> None:
    desk, agent = portal.desk, portal.agent
    desk.save_article(agent, Article(title="Password reset", body="Use the link.", published=True))
    desk.save_article(
        agent, Article(title="Logging in", body="Forgot the password? Reset it.", published=True)
    )
    desk.save_announcement(agent, Announcement(title="Password rules change", body="Soon."))
    portal.open(summary="Password expired")
    found = desk.search(portal.alice, "password", limit=2)
    assert len(found.hits) == 2
    assert found.next_cursor is not None
    rest = desk.search(portal.alice, "password", limit=2, cursor=found.next_cursor)
    assert rest.next_cursor is None
    hits = found.hits + rest.hits
    assert {hit.kind for hit in hits} == set(SearchKind)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    titles = [hit.title for hit in hits]
    assert titles.index("Password reset") < titles.index("Logging in")
    only = desk.search(portal.alice, "password", kinds=[SearchKind.ARTICLE])
    assert {hit.kind for hit in only.hits} == {SearchKind.ARTICLE}


def test_drafts_and_staff_announcements_only_for_staff(portal: Portal) -> None:
    desk = portal.desk
    desk.save_article(portal.agent, Article(title="Draft on refunds", body="Not yet."))
    desk.save_announcement(
        portal.agent,
        Announcement(title="Refunds rota", body="Staff only.", audience=Audience.STAFF),
    )
    desk.save_announcement(
        portal.agent,
        Announcement(
            title="Refunds paused",
            body="Until Friday.",
            active_from=portal.clock.now() + timedelta(days=1),
        ),
    )
    assert desk.search(portal.alice, "refunds").hits == ()
    staff = {hit.title for hit in desk.search(portal.agent, "refunds").hits}
    assert staff == {"Draft on refunds", "Refunds rota"}
    portal.clock.advance(timedelta(days=1))
    assert [hit.title for hit in desk.search(portal.alice, "refunds").hits] == ["Refunds paused"]


def test_a_score_tells_nothing_of_text_the_reader_may_not_see(portal: Portal) -> None:
    desk, alice, carol = portal.desk, portal.alice, portal.carol
    mine = desk.open_ticket(
        alice, portal.general.id, Submission(summary="Help zorpcorp", description="x")
    )

    def score() -> float:
        (hit,) = desk.search(alice, "zorpcorp").hits
        assert hit.reference == mine.reference
        return hit.score

    before = score()
    for n in range(3):  # another organisation's tickets, and a note alice never sees
        desk.open_ticket(
            carol, portal.general.id, Submission(summary=f"zorpcorp {n}", description="x")
        )
    desk.add_note(portal.agent, mine.reference, "zorpcorp fraud suspected")
    assert score() == before


def test_bad_searches(portal: Portal) -> None:
    with pytest.raises(ValidationError, match="Enter a word"):
        portal.desk.search(portal.alice, "  ?! ")
    with pytest.raises(ValidationError, match="limit"):
        portal.desk.search(portal.alice, "x", limit=0)
    for bad in ("!!", "bm90LWEtbnVtYmVy"):
        with pytest.raises(ValidationError, match="cursor"):
            portal.desk.search(portal.alice, "x", cursor=bad)
    disabled = attrs.evolve(portal.alice, id="gone")
    with pytest.raises(PermissionDenied):
        portal.desk.search(disabled, "claims")


# The tokeniser.


def test_tokenize_keeps_compounds_and_their_parts() -> None:
    assert tokenize("HHA-13782: E-mail alice@acme.test!") == [
        "hha-13782",
        "hha",
        "13782",
        "e-mail",
        "e",
        "mail",
        "alice@acme.test",
        "alice",
        "acme",
        "test",
    ]
    assert tokenize("Straße ÉTÉ") == ["strasse", "été"]
    assert query_terms("claims Claims HHA-1 ") == ("claims", "hha-1")
    assert query_terms(" ".join(f"w{n}" for n in range(30)))[-1] == "w15"


def test_long_words_are_indexed_and_searched_by_their_first_100_characters() -> None:
    """Issue 10, defect 4: Postgres refuses words over 2,047 bytes; every store cuts them alike."""
    word = "𐀀" * 70_000
    assert tokenize(f"a {word}-b") == ["a", "𐀀" * MAX_WORD_LENGTH, "𐀀" * MAX_WORD_LENGTH, "b"]
    assert query_terms("x" * 300) == ("x" * MAX_WORD_LENGTH,)
    assert all(len(token) <= MAX_WORD_LENGTH for token in tokenize("-".join(["y" * 500] * 3)))


def test_snippet_centres_on_the_first_term() -> None:
    text = "word " * 100 + "needle " + "word " * 100
    cut = snippet(text, ["needle"], width=60)
    assert "needle" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert snippet("short text", ["absent"]) == "short text"


# The property: search never shows what get_ticket would refuse.

WORDS = ("claims", "portal", "invoice", "login", "sftp")


Person = tuple[Role, int | None, frozenset[int]]
"""Role, organisation number (or None) and the numbers of the desks an agent works on."""
TicketSpec = tuple[int, int, bool, str, str]
"""Requester number, desk number, shared with the organisation, summary and description words."""


@attrs.frozen(kw_only=True)
class WorldSpec:
    organizations: int
    people: list[Person]
    tickets: list[TicketSpec]
    collaborators: list[tuple[int, int]]
    """(ticket number, person number)"""
    notes: list[tuple[int, str]]
    updates: list[tuple[int, str]]


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    organizations = draw(st.integers(1, 3))
    person = st.tuples(
        st.sampled_from([Role.CUSTOMER, Role.CUSTOMER, Role.AGENT]),
        st.one_of(st.none(), st.integers(0, organizations - 1)),
        st.frozensets(st.integers(0, 1)),
    )
    people = draw(st.lists(person, min_size=2, max_size=6))
    people[0] = (Role.CUSTOMER, people[0][1], frozenset())
    customers = [n for n, (role, _, _) in enumerate(people) if role is Role.CUSTOMER]
    ticket = st.tuples(
        st.sampled_from(customers),
        st.integers(0, 1),
        st.booleans(),
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
    )
    tickets = draw(st.lists(ticket, min_size=1, max_size=6))
    ticket_numbers = st.integers(0, len(tickets) - 1)
    on_ticket = st.lists(st.tuples(ticket_numbers, st.sampled_from(WORDS)), max_size=4)
    return WorldSpec(
        organizations=organizations,
        people=people,
        tickets=tickets,
        collaborators=draw(
            st.lists(st.tuples(ticket_numbers, st.integers(0, len(people) - 1)), max_size=4)
        ),
        notes=draw(on_ticket),
        updates=draw(on_ticket),
    )


def build_world(spec: WorldSpec) -> tuple[SupportDesk, list[Contact], list[str]]:
    desk = SupportDesk(MemoryStore(), clock=FakeClock())
    organizations = [
        desk.add_organization(Organization(name=f"Org {n}")).id for n in range(spec.organizations)
    ]
    desks = [desk.add_desk(Desk(key=key, name=key)) for key in ("HHA", "EDI")]
    types = [desk.add_request_type(RequestType(desk_id=d.id, name="General")) for d in desks]
    admin = desk.add_contact(Contact(email="admin@x.test", full_name="Admin", role=Role.ADMIN))
    contacts = [
        desk.add_contact(
            Contact(
                email=f"p{n}@x.test",
                full_name=f"Person {n}",
                role=role,
                organization_id=None if organization is None else organizations[organization],
                desk_ids=frozenset(desks[d].id for d in desk_numbers if role is Role.AGENT),
            )
        )
        for n, (role, organization, desk_numbers) in enumerate(spec.people)
    ]
    references = []
    for requester, desk_number, shared, summary, description in spec.tickets:
        ticket = desk.open_ticket(
            contacts[requester],
            types[desk_number].id,
            Submission(summary=f"{summary} trouble", description=f"the {description} part"),
        )
        desk.set_organization_sharing(contacts[requester], ticket.reference, shared)
        references.append(ticket.reference)
    for ticket_number, person_number in spec.collaborators:
        with contextlib.suppress(ValidationError):  # already takes part
            desk.add_collaborator(admin, references[ticket_number], contacts[person_number].email)
    for n, (ticket_number, word) in enumerate(spec.notes):
        desk.add_note(admin, references[ticket_number], f"{word} secret{n}")
    for ticket_number, word in spec.updates:
        desk.share_update(admin, references[ticket_number], f"about {word}")
    return desk, [admin, *contacts], references


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_search_never_shows_what_get_ticket_refuses(spec: WorldSpec) -> None:
    desk, actors, references = build_world(spec)
    secrets = [f"secret{n}" for n in range(len(spec.notes))]
    for actor in actors:
        staff = actor.role is not Role.CUSTOMER
        visible = set()
        for reference in references:
            try:
                desk.get_ticket(actor, reference)
            except NotFound:
                continue
            visible.add(reference)
        for word in (*WORDS, "trouble", *secrets):
            hits = desk.search(actor, word, kinds=[SearchKind.TICKET], limit=100).hits
            found = {hit.reference for hit in hits}
            assert found <= visible, (actor.email, word)
            for hit in hits:
                assert staff or "secret" not in hit.snippet
            if word.startswith("secret") and not staff:
                assert found == set()
            if word == "trouble":
                assert found == visible
