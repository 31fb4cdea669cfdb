"""The outbox area's contract: events in order, leased, retried, parked, requeued."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ..._errors import NotFound
from ..._models import (
    DeliveryState,
    Event,
    EventKind,
    OutboxEntry,
    Recipient,
)
from ...storage.protocol import Store
from .base import (
    T0,
    ContractBase,
    World,
    _event,
    make_ticket,
)


class OutboxContract(ContractBase):
    """What every adapter's ``work.outbox`` must do; one test per promise."""

    def test_events_round_trip_in_order(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        events = [
            Event(kind=EventKind.TICKET_CREATED, at=T0, ticket_id=ticket.id, payload={"a": "1"}),
            Event(kind=EventKind.PUBLIC_UPDATE, at=T0, ticket_id=ticket.id, actor_id=alice.id),
            Event(kind=EventKind.SIGNUP_REQUESTED, at=T0),
        ]
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.outbox.add(events[:2])
        with store.unit_of_work() as work:
            work.outbox.add(events[2:])
        with store.unit_of_work() as work:
            assert list(work.outbox.list_events()) == events
            assert list(work.outbox.list_events(ticket.id)) == events[:2]

    def test_events_enter_the_outbox_pending_and_due_at_their_time(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        recipient = Recipient.of(world.alice)
        event = _event(ticket, T0, recipients=(recipient,))
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.outbox.add([event])
        with store.unit_of_work() as work:
            assert list(work.outbox.list_events()) == [event]
            (entry,) = work.outbox.find()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)
        with store.unit_of_work() as work:
            assert list(work.outbox.claim(T0 - timedelta(seconds=1), 10, lease_until=T0)) == []

    def test_claim_keeps_order_per_ticket(self, store: Store, world: World) -> None:
        one, two = make_ticket(world.desk, 1, world.alice), make_ticket(world.desk, 2, world.bob)
        events = [
            _event(one, T0, payload={"n": "1"}),
            _event(two, T0, payload={"n": "2"}),
            _event(None, T0, payload={"n": "3"}),
            _event(one, T0, payload={"n": "4"}),
            _event(None, T0, payload={"n": "5"}),
        ]
        lease = T0 + timedelta(minutes=5)
        with store.unit_of_work() as work:
            work.tickets.add(one)
            work.tickets.add(two)
            work.outbox.add(events)
        with store.unit_of_work() as work:
            first = work.outbox.claim(T0, 10, lease_until=lease)
        assert [e.event.payload["n"] for e in first] == ["1", "2", "3", "5"]
        assert all(e.claimed_until == lease for e in first)
        with store.unit_of_work() as work:
            # Leased entries are neither claimed again nor passed by their ticket's next event.
            assert list(work.outbox.claim(T0, 10, lease_until=lease)) == []
            work.outbox.mark_delivered(events[0].id, T0)
        with store.unit_of_work() as work:
            (fourth,) = work.outbox.claim(T0, 10, lease_until=lease)
        assert fourth.event == events[3]
        with store.unit_of_work() as work:
            delivered = work.outbox.find(state=DeliveryState.DELIVERED)
            assert [e.event.id for e in delivered] == [events[0].id]
            assert delivered[0].finished_at == T0 and delivered[0].claimed_until is None
            assert [e.event.id for e in work.outbox.find(ticket_id=one.id)] == [
                events[0].id,
                events[3].id,
            ]
            assert len(work.outbox.find(limit=2)) == 2

    def test_ended_lease_is_claimed_again(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
        with store.unit_of_work() as work:
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(minutes=1))
        with store.unit_of_work() as work:
            assert list(work.outbox.claim(T0 + timedelta(seconds=59), 1, lease_until=T0)) == []
            later = T0 + timedelta(minutes=1)
            (again,) = work.outbox.claim(later, 1, lease_until=later + timedelta(minutes=1))
        assert again.event == event

    def test_rolled_back_claim_leaves_event_unleased(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(hours=1))
            raise RuntimeError("dispatcher died")
        with store.unit_of_work() as work:
            assert [e.event for e in work.outbox.claim(T0, 1, lease_until=T0)] == [event]

    def test_failed_event_waits_for_its_retry_and_holds_back_its_ticket(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        first, second = _event(ticket, T0), _event(ticket, T0)
        retry_at = T0 + timedelta(minutes=2)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.outbox.add([first, second])
            work.outbox.claim(T0, 10, lease_until=T0 + timedelta(minutes=5))
            failed = work.outbox.mark_failed(first.id, error="boom", now=T0, retry_at=retry_at)
        assert (failed.state, failed.attempts, failed.last_error) == (
            DeliveryState.PENDING,
            1,
            "boom",
        )
        assert failed.next_attempt_at == retry_at and failed.claimed_until is None
        with store.unit_of_work() as work:
            assert list(work.outbox.claim(T0 + timedelta(minutes=1), 10, lease_until=T0)) == []
            (retried,) = work.outbox.claim(retry_at, 10, lease_until=retry_at)
            assert retried.event == first and retried.attempts == 1

    def test_parked_event_stops_holding_back_and_can_be_requeued(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        poison, next_one = _event(ticket, T0), _event(ticket, T0)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.outbox.add([poison, next_one])
            parked = work.outbox.mark_failed(poison.id, error="bad", now=T0, retry_at=None)
        assert parked.state is DeliveryState.PARKED and parked.finished_at == T0
        later = T0 + timedelta(days=1)
        with store.unit_of_work() as work:
            assert [e.event for e in work.outbox.claim(later, 10, lease_until=later)] == [next_one]
            work.outbox.mark_delivered(next_one.id, later)
            assert [e.event for e in work.outbox.find(state=DeliveryState.PARKED)] == [poison]
            assert not work.outbox.mark_requeued(next_one.id, later)
            assert not work.outbox.mark_requeued("nope", later)
            assert work.outbox.mark_requeued(poison.id, later)
        with store.unit_of_work() as work:
            (again,) = work.outbox.claim(later, 10, lease_until=later)
        assert again.event == poison
        assert (again.attempts, again.last_error, again.finished_at) == (0, "bad", None)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.outbox.mark_delivered("nope", later)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.outbox.mark_failed("nope", error="x", now=later, retry_at=None)

    def test_rolled_back_delivery_bookkeeping_is_undone(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.outbox.mark_failed(event.id, error="x", now=T0, retry_at=None)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            (entry,) = work.outbox.find()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)
