"""The outbox area's contract: events in order, leased, retried, parked, requeued."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ..._errors import NotFound
from ..._models import DeliveryState, Event, EventKind, OutboxEntry, Recipient
from ...storage.protocol import Store
from ...storage.protocol.outbox import SECRET_KEYS
from .base import T0, ContractBase, World, _event, _queue, make_ticket

DAY = timedelta(days=1)

ME = "dispatcher-1"
"""The dispatcher claiming in these tests."""
OTHER = "dispatcher-2"
"""Another dispatcher, which takes over a lease that ended."""


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
        _queue(store, [event], ticket)
        with store.unit_of_work() as work:
            assert list(work.outbox.list_events()) == [event]
            (entry,) = work.outbox.find()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)
        with store.unit_of_work() as work:
            early = T0 - timedelta(seconds=1)
            assert list(work.outbox.claim(early, 10, lease_until=T0, owner=ME)) == []

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
        _queue(store, events, one, two)
        with store.unit_of_work() as work:
            first = work.outbox.claim(T0, 10, lease_until=lease, owner=ME)
        assert [e.event.payload["n"] for e in first] == ["1", "2", "3", "5"]
        assert all(e.claimed_until == lease and e.claimed_by == ME for e in first)
        with store.unit_of_work() as work:
            # Leased entries are neither claimed again nor passed by their ticket's next event.
            assert list(work.outbox.claim(T0, 10, lease_until=lease, owner=OTHER)) == []
            assert work.outbox.mark_delivered(events[0].id, T0, owner=ME)
        with store.unit_of_work() as work:
            (fourth,) = work.outbox.claim(T0, 10, lease_until=lease, owner=ME)
        assert fourth.event == events[3]
        with store.unit_of_work() as work:
            delivered = work.outbox.find(state=DeliveryState.DELIVERED)
            assert [e.event.id for e in delivered] == [events[0].id]
            assert delivered[0].finished_at == T0 and delivered[0].claimed_until is None
            assert delivered[0].claimed_by is None
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
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(minutes=1), owner=ME)
        with store.unit_of_work() as work:
            soon = T0 + timedelta(seconds=59)
            assert list(work.outbox.claim(soon, 1, lease_until=T0, owner=OTHER)) == []
            later = T0 + timedelta(minutes=1)
            (again,) = work.outbox.claim(
                later, 1, lease_until=later + timedelta(minutes=1), owner=OTHER
            )
        assert again.event == event and again.claimed_by == OTHER

    def test_rolled_back_claim_leaves_event_unleased(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(hours=1), owner=ME)
            raise RuntimeError("dispatcher died")
        with store.unit_of_work() as work:
            assert [e.event for e in work.outbox.claim(T0, 1, lease_until=T0, owner=OTHER)] == [
                event
            ]

    def test_failed_event_waits_for_its_retry_and_holds_back_its_ticket(
        self, store: Store, world: World
    ) -> None:
        retry_at = T0 + timedelta(minutes=2)
        first, _, failed = _fail_first(store, world, retry_at)
        assert (failed.state, failed.attempts, failed.last_error) == (
            DeliveryState.PENDING,
            1,
            "boom",
        )
        assert failed.next_attempt_at == retry_at and failed.claimed_until is None
        assert failed.claimed_by is None
        with store.unit_of_work() as work:
            waiting = T0 + timedelta(minutes=1)
            assert list(work.outbox.claim(waiting, 10, lease_until=T0, owner=ME)) == []
            (retried,) = work.outbox.claim(retry_at, 10, lease_until=retry_at, owner=ME)
            assert retried.event == first and retried.attempts == 1

    def test_parked_event_stops_holding_back_and_can_be_requeued(
        self, store: Store, world: World
    ) -> None:
        poison, next_one, parked = _fail_first(store, world, None)
        assert parked.state is DeliveryState.PARKED and parked.finished_at == T0
        later = T0 + timedelta(days=1)
        with store.unit_of_work() as work:
            claimed = work.outbox.claim(later, 10, lease_until=later, owner=ME)
            assert [e.event for e in claimed] == [next_one]
            assert work.outbox.mark_delivered(next_one.id, later, owner=ME)
            assert [e.event for e in work.outbox.find(state=DeliveryState.PARKED)] == [poison]
            assert not work.outbox.mark_requeued(next_one.id, later)
            assert not work.outbox.mark_requeued("nope", later)
            assert work.outbox.mark_requeued(poison.id, later)
        with store.unit_of_work() as work:
            (again,) = work.outbox.claim(later, 10, lease_until=later, owner=ME)
        assert again.event == poison
        assert (again.attempts, again.last_error, again.finished_at) == (0, "boom", None)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.outbox.mark_delivered("nope", later, owner=ME)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.outbox.mark_failed("nope", owner=ME, error="x", now=later, retry_at=None)

    def test_rolled_back_delivery_bookkeeping_is_undone(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(minutes=5), owner=ME)
            work.outbox.mark_failed(event.id, owner=ME, error="x", now=T0, retry_at=None)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            (entry,) = work.outbox.find()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)

    def test_only_the_owner_acknowledges_or_extends(self, store: Store, world: World) -> None:
        delivered, failed = _event(None, T0), _event(None, T0)
        lease = T0 + timedelta(minutes=5)
        with store.unit_of_work() as work:
            work.outbox.add([delivered, failed])
            work.outbox.claim(T0, 10, lease_until=lease, owner=ME)
        with store.unit_of_work() as work:
            # Another dispatcher's word changes nothing while ME holds the lease.
            assert not work.outbox.extend_lease(delivered.id, owner=OTHER, until=T0 + DAY)
            assert not work.outbox.mark_delivered(delivered.id, T0, owner=OTHER)
            later = T0 + timedelta(minutes=1)
            assert (
                work.outbox.mark_failed(
                    failed.id, owner=OTHER, error="x", now=later, retry_at=later
                )
                is None
            )
            assert not work.outbox.extend_lease("nope", owner=ME, until=T0 + DAY)
        with store.unit_of_work() as work:
            assert {(e.claimed_by, e.claimed_until, e.attempts) for e in work.outbox.find()} == {
                (ME, lease, 0)
            }
            assert work.outbox.extend_lease(delivered.id, owner=ME, until=T0 + timedelta(hours=1))
        with store.unit_of_work() as work:
            # An extended lease is not claimed when the old one would have ended.
            (taken,) = work.outbox.claim(lease, 10, lease_until=lease + DAY, owner=OTHER)
        assert taken.event == failed and taken.claimed_by == OTHER
        with store.unit_of_work() as work:
            assert work.outbox.mark_delivered(delivered.id, lease, owner=ME)
            assert not work.outbox.mark_delivered(delivered.id, lease, owner=ME)
            assert not work.outbox.extend_lease(delivered.id, owner=ME, until=lease + DAY)

    def test_a_former_owners_acknowledgement_is_stale(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        lease = T0 + timedelta(minutes=5)
        with store.unit_of_work() as work:
            work.outbox.add([event])
            work.outbox.claim(T0, 1, lease_until=lease, owner=ME)
        # ME's handler outlives its lease, and OTHER takes the event over.
        with store.unit_of_work() as work:
            (taken,) = work.outbox.claim(lease, 1, lease_until=lease + DAY, owner=OTHER)
        with store.unit_of_work() as work:
            assert not work.outbox.mark_delivered(event.id, lease, owner=ME)
            assert (
                work.outbox.mark_failed(event.id, owner=ME, error="late", now=lease, retry_at=None)
                is None
            )
            assert not work.outbox.extend_lease(event.id, owner=ME, until=lease + DAY)
        with store.unit_of_work() as work:
            (entry,) = work.outbox.find()
        assert entry == taken
        with store.unit_of_work() as work:
            assert work.outbox.mark_delivered(event.id, lease, owner=OTHER)
            (entry,) = work.outbox.find()
        assert (entry.state, entry.claimed_by, entry.attempts) == (DeliveryState.DELIVERED, None, 0)

    def test_an_ended_lease_not_taken_over_still_belongs_to_its_owner(
        self, store: Store, world: World
    ) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.outbox.add([event])
            work.outbox.claim(T0, 1, lease_until=T0 + timedelta(minutes=5), owner=ME)
        with store.unit_of_work() as work:
            assert work.outbox.mark_delivered(event.id, T0 + DAY, owner=ME)

    def test_delivery_forgets_the_secrets_of_an_event_written_with_them(
        self, store: Store, world: World
    ) -> None:
        payload = {"email": "dana@x.test", "token": "s3cret", "expires_at": "later"}
        secret, plain = _event(None, T0, payload=payload), _event(None, T0, payload=payload)
        with store.unit_of_work() as work:
            work.outbox.add([secret], secret_until=T0 + DAY)
            work.outbox.add([plain])
            work.outbox.claim(T0, 10, lease_until=T0 + timedelta(minutes=5), owner=ME)
        with store.unit_of_work() as work:
            assert work.outbox.mark_delivered(secret.id, T0, owner=ME)
            assert work.outbox.mark_delivered(plain.id, T0, owner=ME)
        with store.unit_of_work() as work:
            stored = {e.event.id: e.event.payload for e in work.outbox.find()}
            logged = {e.id: e.payload for e in work.outbox.list_events()}
        assert stored == logged
        assert stored[secret.id] == {**payload, "token": ""}
        assert stored[plain.id] == payload  # written without secret_until: left as it is
        assert "token" in SECRET_KEYS

    def test_expired_secrets_are_removed_once(self, store: Store, world: World) -> None:
        payload = {"email": "dana@x.test", "token": "s3cret"}
        pending, parked, fresh, plain = (_event(None, T0, payload=payload) for _ in range(4))
        until = T0 + timedelta(hours=24)
        with store.unit_of_work() as work:
            work.outbox.add([pending, parked], secret_until=until)
            work.outbox.add([fresh], secret_until=until + timedelta(seconds=1))
            work.outbox.add([plain])
            work.outbox.claim(T0, 10, lease_until=T0 + timedelta(minutes=5), owner=ME)
            work.outbox.mark_failed(parked.id, owner=ME, error="x", now=T0, retry_at=None)
        with store.unit_of_work() as work:
            assert work.outbox.remove_expired_secrets(until - timedelta(seconds=1)) == 0
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.outbox.remove_expired_secrets(until) == 2
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.outbox.remove_expired_secrets(until) == 2
            assert work.outbox.remove_expired_secrets(until + DAY) == 1
            assert work.outbox.remove_expired_secrets(until + DAY) == 0
        with store.unit_of_work() as work:
            stored = {e.event.id: e for e in work.outbox.find()}
            logged = {e.id: e.payload for e in work.outbox.list_events()}
        for event in (pending, parked, fresh):
            assert stored[event.id].event.payload == logged[event.id] == {**payload, "token": ""}
        assert logged[plain.id] == payload
        # Forgetting a secret changes nothing else of the delivery.
        assert stored[parked.id].state is DeliveryState.PARKED
        assert (stored[pending.id].state, stored[pending.id].claimed_by) == (
            DeliveryState.PENDING,
            ME,
        )


def _fail_first(
    store: Store, world: World, retry_at: datetime | None
) -> tuple[Event, Event, OutboxEntry]:
    """Two events of one ticket, both claimed, the first failed at T0 (parked without a retry)."""
    ticket = make_ticket(world.desk, 1, world.alice)
    first, second = _event(ticket, T0), _event(ticket, T0)
    _queue(store, [first, second], ticket)
    with store.unit_of_work() as work:
        work.outbox.claim(T0, 10, lease_until=T0 + timedelta(minutes=5), owner=ME)
        failed = work.outbox.mark_failed(
            first.id, owner=ME, error="boom", now=T0, retry_at=retry_at
        )
    assert failed is not None
    return first, second, failed
