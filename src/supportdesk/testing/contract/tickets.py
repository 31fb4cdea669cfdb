"""The tickets area's contract: tickets, versions and scoped, keyset-paged lists."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._errors import Conflict, NotFound
from ..._models import Collaborator, Desk, Event, EventKind, Priority, RequestType, TicketRow
from ...access import TicketScope
from ...storage.protocol import Store, TicketQuery, TicketSort
from .base import T0, ContractBase, World, _activity, _timer, make_ticket


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
        alice = world.alice
        _add_thirty(store, world)
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

    def test_queues_by_assignee(self, store: Store, world: World) -> None:
        desk, alice, agent = world.desk, world.alice, world.agent
        with store.unit_of_work() as work:
            for number in range(1, 6):
                assignee = agent.id if number % 2 else None
                work.tickets.add(make_ticket(desk, number, alice, assignee_id=assignee))
        scope = TicketScope(everything=True)
        mine = TicketQuery(scope=scope, assignee_id=agent.id)
        nobody = TicketQuery(scope=scope, unassigned=True)
        with store.unit_of_work() as work:
            assert [t.reference for t in work.tickets.find(mine)] == ["HHA-5", "HHA-3", "HHA-1"]
            assert [t.reference for t in work.tickets.find(nobody)] == ["HHA-4", "HHA-2"]
            assert work.tickets.count_each([mine, nobody]) == [3, 2]
            rows = work.tickets.find_rows(nobody, _as_stored)
            assert [row.reference for row in rows] == ["HHA-4", "HHA-2"]

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

    def test_sla_due_sort_lists_running_clocks_nearest_first(
        self, store: Store, world: World
    ) -> None:
        desk, alice = world.desk, world.alice
        made = [make_ticket(desk, n, alice) for n in range(1, 5)]
        due = {1: T0 + timedelta(hours=3), 2: T0 + timedelta(hours=1), 4: T0 + timedelta(hours=2)}
        with store.unit_of_work() as work:
            for ticket in made:
                work.tickets.add(ticket)
            for number, at in due.items():
                work.tickets.set_sla_due(made[number - 1].id, at)
        # An update leaves the clock's due time to set_sla_due.
        with store.unit_of_work() as work:
            work.tickets.update(attrs.evolve(made[0], status="assigned", version=2))
            work.tickets.set_sla_due(made[3].id, None)
        query = TicketQuery(scope=TicketScope(everything=True), sort=TicketSort.SLA_DUE)
        with store.unit_of_work() as work:
            assert [t.reference for t in work.tickets.find(query)] == ["HHA-2", "HHA-1"]
            first = work.tickets.get(made[0].id)
            assert first is not None and (first.status, first.sla_due_at) == ("assigned", due[1])
            rows = work.tickets.find_rows(query, _as_stored)
            assert [row.sla_due_at for row in rows] == [due[2], due[1]]
            assert work.tickets.count(query) == 2
            after = TicketQuery(
                scope=query.scope, sort=TicketSort.SLA_DUE, after=(due[2], made[1].id)
            )
            assert [t.reference for t in work.tickets.find(after)] == ["HHA-1"]

    def test_list_rows_carry_the_names_a_list_shows(self, store: Store, world: World) -> None:
        desk, alice, bob, agent = world.desk, world.alice, world.bob, world.agent
        general = RequestType(desk_id=desk.id, name="General Request")
        waiting = make_ticket(
            desk,
            1,
            alice,
            request_type_id=general.id,
            status="waiting_for_third_party",
            sub_status="the bank",
            priority=Priority.HIGH,
            assignee_id=agent.id,
        )
        # What the store lacks reads "": the ticket is listed all the same.
        orphan = make_ticket(Desk(id="gone", key="GON", name="Gone"), 2, bob, requester_id="x")
        with store.unit_of_work() as work:
            work.desks.put_request_type(general)
            work.tickets.add(waiting)
            work.tickets.add(orphan)
        everything = TicketQuery(scope=TicketScope(everything=True), sort=TicketSort.OLDEST)
        # Labels are the desk's: the store asks for each row's desk and status.
        labels = {(desk.id, "waiting_for_third_party"): "Waiting for third party"}
        with store.unit_of_work() as work:
            rows = list(work.tickets.find_rows(everything, lambda d, s: labels.get((d, s), s)))
        assert rows == [
            TicketRow(
                id=waiting.id,
                reference="HHA-1",
                summary="ticket 1",
                desk_id=desk.id,
                desk_key="HHA",
                desk_name="Help",
                request_type_id=general.id,
                request_type_name="General Request",
                requester_id=alice.id,
                requester_name="Alice",
                status="waiting_for_third_party",
                status_label="Waiting for third party",
                sub_status="the bank",
                priority=Priority.HIGH,
                created_at=waiting.created_at,
                updated_at=waiting.updated_at,
            ),
            TicketRow(
                id=orphan.id,
                reference="GON-2",
                summary="ticket 2",
                desk_id="gone",
                desk_key="",
                desk_name="",
                request_type_id="rt",
                request_type_name="",
                requester_id="x",
                requester_name="",
                status="new",
                status_label="new",  # no label given: the status itself
                priority=Priority.MEDIUM,
                created_at=orphan.created_at,
                updated_at=orphan.updated_at,
            ),
        ]

    def test_list_rows_are_the_tickets_find_gives(self, store: Store, world: World) -> None:
        desk, alice, bob, carol = world.desk, world.alice, world.bob, world.carol
        with store.unit_of_work() as work:
            for number in range(1, 13):
                requester = (alice, bob, carol)[number % 3]
                status = "resolved" if number % 4 == 0 else "new"
                work.tickets.add(make_ticket(desk, number, requester, status=status))
        alices = TicketScope(
            requester_id=alice.id, collaborator_id=alice.id, organization_id=alice.organization_id
        )
        queries = [
            TicketQuery(scope=TicketScope(everything=True), limit=5),
            TicketQuery(scope=alices, statuses=frozenset({"new"})),
            TicketQuery(scope=alices, requester_id=alice.id, sort=TicketSort.OLDEST, limit=2),
            TicketQuery(scope=TicketScope(desk_ids=frozenset({desk.id})), after=(T0, "z")),
            TicketQuery(scope=TicketScope(), limit=5),
        ]
        with store.unit_of_work() as work:
            for query in queries:
                found = [t.id for t in work.tickets.find(query)]
                assert [r.id for r in work.tickets.find_rows(query, _as_stored)] == found, query

    def test_count_each_counts_every_query_at_once(self, store: Store, world: World) -> None:
        alice = world.alice
        _add_thirty(store, world)
        everything = TicketScope(everything=True)
        resolved = frozenset({"resolved"})
        queries = [
            TicketQuery(scope=everything),
            TicketQuery(scope=everything, requester_id=alice.id),
            TicketQuery(scope=everything, requester_id=alice.id, statuses=resolved),
            TicketQuery(scope=TicketScope()),
            TicketQuery(scope=everything, desk_id="nope", limit=1),
        ]
        with store.unit_of_work() as work:
            # Alice's are those not divisible by 3; of them 5, 10, 20 and 25 are resolved.
            assert list(work.tickets.count_each(queries)) == [30, 20, 4, 0, 0]
            assert [work.tickets.count(q) for q in queries] == [30, 20, 4, 0, 0]
            assert list(work.tickets.count_each([])) == []

    def test_details_read_a_ticket_with_what_its_page_shows(
        self, store: Store, world: World
    ) -> None:
        desk, alice, bob, agent = world.desk, world.alice, world.bob, world.agent
        general = RequestType(desk_id=desk.id, name="General Request")
        ticket = make_ticket(desk, 7, alice, request_type_id=general.id, assignee_id=agent.id)
        orphan = make_ticket(Desk(key="GON", name="Gone"), 8, bob, requester_id="x")
        with store.unit_of_work() as work:
            work.desks.put_request_type(general)
            work.tickets.add(ticket)
            work.tickets.add(orphan)
            work.participants.add_mute(ticket.id, bob.id)
        with store.unit_of_work() as work:
            for key in (ticket.id, "HHA-7", "hha-7"):
                details = work.tickets.get_details(key, alice.id)
                assert details is not None, key
                assert (details.ticket, details.desk, details.request_type) == (
                    ticket,
                    desk,
                    general,
                )
                assert (details.requester, details.assignee, details.muted) == (
                    alice,
                    agent,
                    False,
                )
            muted = work.tickets.get_details("HHA-7", bob.id)
            assert muted is not None and muted.muted
            lacking = work.tickets.get_details(orphan.id, alice.id)
            assert lacking is not None and lacking.ticket == orphan
            assert (lacking.desk, lacking.request_type, lacking.requester, lacking.assignee) == (
                None,
                None,
                None,
                None,
            )
            assert work.tickets.get_details("HHA-9", alice.id) is None
            assert work.tickets.get_details("0" * 32, alice.id) is None


def _as_stored(desk_id: str, status: str) -> str:
    """Labels every status with its own name."""
    return status


def _add_thirty(store: Store, world: World) -> None:
    """Tickets 1 to 30 of the world's desk: every third Bob's, the rest Alice's; every fifth
    resolved, the rest new."""
    with store.unit_of_work() as work:
        for number in range(1, 31):
            requester = world.alice if number % 3 else world.bob
            status = "resolved" if number % 5 == 0 else "new"
            work.tickets.add(make_ticket(world.desk, number, requester, status=status))
