"""The tickets area's contract: tickets, versions and scoped, keyset-paged lists."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._errors import Conflict, NotFound
from ..._models import (
    Collaborator,
    Desk,
    Event,
    EventKind,
)
from ...access import TicketScope
from ...storage.protocol import Store, TicketQuery, TicketSort
from .base import (
    T0,
    ContractBase,
    World,
    _activity,
    _timer,
    make_ticket,
)


class TicketsContract(ContractBase):
    """What every adapter's ``work.tickets`` must do; one test per promise."""

    def test_ticket_round_trip_and_lookup_by_reference(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 7, alice, fields={"state": "NY", "count": 3, "tags": ("a", "b")})
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
        with store.unit_of_work() as work:
            assert work.tickets.get(ticket.id) == ticket
            assert work.tickets.get_by_reference("HHA-7") == ticket
            assert work.tickets.get_by_reference("HHA-8") is None

    def test_duplicate_reference_conflicts(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        with store.unit_of_work() as work:
            work.tickets.add(make_ticket(desk, 1, alice))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.tickets.add(make_ticket(desk, 1, alice))

    def test_update_checks_the_version(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
        resolved = attrs.evolve(ticket, status="resolved", version=2)
        with store.unit_of_work() as work:
            work.tickets.update(resolved)
        stale = attrs.evolve(ticket, status="canceled", version=2)
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.tickets.update(stale)
        with store.unit_of_work() as work:
            assert work.tickets.get(ticket.id) == resolved
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.tickets.update(attrs.evolve(make_ticket(desk, 2, alice), version=2))

    def test_touch_only_moves_updated_at_forward(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.tickets.mark_updated(ticket.id, ticket.updated_at + timedelta(hours=1))
            work.tickets.mark_updated(ticket.id, ticket.updated_at - timedelta(hours=1))
        with store.unit_of_work() as work:
            stored = work.tickets.get(ticket.id)
        assert stored is not None
        assert stored.updated_at == ticket.updated_at + timedelta(hours=1)
        assert stored.version == ticket.version

    def test_rollback_leaves_nothing(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.activity.add(_activity(ticket))
            work.outbox.add([Event(kind=EventKind.TICKET_CREATED, at=T0, ticket_id=ticket.id)])
            work.timers.add([_timer(ticket, T0)])
            work.directory.put_contact(attrs.evolve(alice, full_name="Changed"))
            raise RuntimeError("fail after writing")
        with store.unit_of_work() as work:
            assert work.tickets.get(ticket.id) is None
            assert list(work.activity.list_entries(ticket.id, include_internal=True)) == []
            assert list(work.outbox.list_events()) == []
            assert work.timers.get_next_due() is None
            assert work.directory.get_contact(alice.id) == alice

    def test_scope_filters_lists_like_the_object_check(self, store: Store, world: World) -> None:
        desk, alice, bob, carol = world.desk, world.alice, world.bob, world.carol
        tickets = [
            make_ticket(desk, 1, alice),
            make_ticket(desk, 2, alice, shared_with_organization=False),
            make_ticket(desk, 3, bob),
            make_ticket(desk, 4, carol),
            make_ticket(Desk(id="other", key="OTH", name="Other"), 5, carol),
        ]
        with store.unit_of_work() as work:
            for ticket in tickets:
                work.tickets.add(ticket)
            work.participants.add_collaborator(
                Collaborator(
                    ticket_id=tickets[3].id, contact_id=bob.id, added_by=carol.id, added_at=T0
                )
            )
        scopes = {
            "alice": TicketScope(
                requester_id=alice.id,
                collaborator_id=alice.id,
                organization_id=alice.organization_id,
            ),
            "bob": TicketScope(
                requester_id=bob.id, collaborator_id=bob.id, organization_id=bob.organization_id
            ),
            "carol": TicketScope(
                requester_id=carol.id,
                collaborator_id=carol.id,
                organization_id=carol.organization_id,
            ),
            "agent": TicketScope(desk_ids=frozenset({desk.id})),
            "admin": TicketScope(everything=True),
            "nobody": TicketScope(),
        }
        expected = {
            "alice": {1, 2, 3},
            "bob": {1, 3, 4},
            "carol": {4, 5},
            "agent": {1, 2, 3, 4},
            "admin": {1, 2, 3, 4, 5},
            "nobody": set(),
        }
        with store.unit_of_work() as work:
            for name, scope in scopes.items():
                query = TicketQuery(scope=scope, limit=100)
                found = {int(t.reference.split("-")[1]) for t in work.tickets.find(query)}
                assert found == expected[name], name
                assert work.tickets.count(query) == len(expected[name]), name
                for ticket in tickets:
                    ids = {c.contact_id for c in work.participants.list_collaborators(ticket.id)}
                    visible = scope.grant(ticket, ids) is not None
                    assert visible == (int(ticket.reference.split("-")[1]) in found), name

    def test_filters_and_keyset_pagination(self, store: Store, world: World) -> None:
        desk, alice, bob = world.desk, world.alice, world.bob
        with store.unit_of_work() as work:
            for number in range(1, 31):
                requester = alice if number % 3 else bob
                status = "resolved" if number % 5 == 0 else "new"
                work.tickets.add(make_ticket(desk, number, requester, status=status))
        scope = TicketScope(everything=True)
        query = TicketQuery(
            scope=scope, requester_id=alice.id, statuses=frozenset({"new"}), limit=7
        )
        seen: list[int] = []
        with store.unit_of_work() as work:
            total = work.tickets.count(query)
            while True:
                page = list(work.tickets.find(query))
                seen.extend(int(t.reference.split("-")[1]) for t in page)
                if len(page) < query.limit:
                    break
                query = attrs.evolve(query, after=(page[-1].created_at, page[-1].id))
        wanted = [n for n in range(30, 0, -1) if n % 3 and n % 5]
        assert seen == wanted
        assert total == len(wanted)
        with store.unit_of_work() as work:
            oldest = work.tickets.find(TicketQuery(scope=scope, sort=TicketSort.OLDEST, limit=3))
            assert [t.reference for t in oldest] == ["HHA-1", "HHA-2", "HHA-3"]
            by_desk = TicketQuery(scope=scope, desk_id="nope")
            assert work.tickets.count(by_desk) == 0

    def test_recently_updated_sort(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        tickets = [make_ticket(desk, n, alice) for n in (1, 2, 3)]
        with store.unit_of_work() as work:
            for ticket in tickets:
                work.tickets.add(ticket)
            work.tickets.mark_updated(tickets[0].id, T0 + timedelta(days=1))
        query = TicketQuery(scope=TicketScope(everything=True), sort=TicketSort.RECENTLY_UPDATED)
        with store.unit_of_work() as work:
            assert [t.reference for t in work.tickets.find(query)] == ["HHA-1", "HHA-3", "HHA-2"]
