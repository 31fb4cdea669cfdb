"""The timers area's contract: timers claimed once, canceled, rolled back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ..._models import (
    TimerState,
)
from ...storage.protocol import Store
from .base import T0, ContractBase, World, _timer, make_ticket


class TimersContract(ContractBase):
    """What every adapter's ``work.timers`` must do; one test per promise."""

    def test_timers_are_claimed_oldest_first_and_finished_once(
        self, store: Store, world: World
    ) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        timers = [_timer(ticket, T0 + timedelta(days=d)) for d in (3, 1, 2, 10)]
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.timers.add(timers)
            assert work.timers.get_next_due() == T0 + timedelta(days=1)
        now = T0 + timedelta(days=5)
        with store.unit_of_work() as work:
            claimed = work.timers.claim_due(now, limit=2)
            assert [t.due_at for t in claimed] == [T0 + timedelta(days=1), T0 + timedelta(days=2)]
            for timer in claimed:
                work.timers.mark_finished(timer.id, TimerState.FIRED, now)
        with store.unit_of_work() as work:
            rest = work.timers.claim_due(now, limit=10)
            assert [t.due_at for t in rest] == [T0 + timedelta(days=3)]
            work.timers.mark_finished(rest[0].id, TimerState.SKIPPED, now)
        with store.unit_of_work() as work:
            assert list(work.timers.claim_due(now, limit=10)) == []
            assert [t.due_at for t in work.timers.list_pending(ticket.id)] == [
                T0 + timedelta(days=10)
            ]

    def test_rolled_back_claim_leaves_timer_pending(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        timer = _timer(ticket, T0)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.timers.add([timer])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            (claimed,) = work.timers.claim_due(T0, limit=5)
            work.timers.mark_finished(claimed.id, TimerState.FIRED, T0)
            raise RuntimeError("worker died")
        with store.unit_of_work() as work:
            assert [t.id for t in work.timers.claim_due(T0, limit=5)] == [timer.id]

    def test_cancel_timers_of_a_ticket(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        one, two = make_ticket(desk, 1, alice), make_ticket(desk, 2, alice)
        with store.unit_of_work() as work:
            work.tickets.add(one)
            work.tickets.add(two)
            work.timers.add([_timer(one, T0), _timer(one, T0), _timer(two, T0)])
            assert work.timers.mark_canceled(one.id, T0) == 2
        with store.unit_of_work() as work:
            assert list(work.timers.list_pending(one.id)) == []
            assert [t.ticket_id for t in work.timers.claim_due(T0, 10)] == [two.id]

    def test_rolled_back_cancel_leaves_timers_pending(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        timers = [_timer(ticket, T0), _timer(ticket, T0 + timedelta(days=1))]
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.timers.add(timers)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.timers.mark_canceled(ticket.id, T0) == 2
            work.timers.add([_timer(ticket, T0 - timedelta(days=1))])
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert [t.id for t in work.timers.list_pending(ticket.id)] == [t.id for t in timers]
            assert work.timers.get_next_due() == T0
            assert work.timers.mark_canceled(ticket.id, T0) == 2
            assert work.timers.get_next_due() is None
