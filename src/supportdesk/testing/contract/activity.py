"""The activity area's contract: each ticket's append-only log."""

from __future__ import annotations

from ...storage.protocol import Store
from .base import (
    ContractBase,
    World,
    _activity,
    make_ticket,
)


class ActivityContract(ContractBase):
    """What every adapter's ``work.activity`` must do; one test per promise."""

    def test_activity_log_is_ordered_and_filters_internal(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            first = work.activity.add(_activity(ticket))
            note = work.activity.add(_activity(ticket, internal=True))
        with store.unit_of_work() as work:
            third = work.activity.add(_activity(ticket, data={"from": "new", "to": "resolved"}))
        assert [first.seq, note.seq, third.seq] == [1, 2, 3]
        with store.unit_of_work() as work:
            assert list(work.activity.list_entries(ticket.id, include_internal=True)) == [
                first,
                note,
                third,
            ]
            assert list(work.activity.list_entries(ticket.id, include_internal=False)) == [
                first,
                third,
            ]
