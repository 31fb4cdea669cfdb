"""The activity area's contract: each ticket's append-only log, told by who made each entry."""

from __future__ import annotations

import attrs

from ..._models import SYSTEM_NAME, Activity, ActivityEntry, Role
from ...storage.protocol import Store
from .base import ContractBase, World, _activity, make_ticket


def _logged(entries: list[ActivityEntry]) -> list[Activity]:
    """The entries as they were appended, without who made them."""
    return [
        Activity(**{field.name: getattr(e, field.name) for field in attrs.fields(Activity)})
        for e in entries
    ]


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
            everything = list(work.activity.list_entries(ticket.id, include_internal=True))
            public = list(work.activity.list_entries(ticket.id, include_internal=False))
        assert _logged(everything) == [first, note, third]
        assert _logged(public) == [first, third]

    def test_entries_name_their_actor_as_the_directory_does_now(
        self, store: Store, world: World
    ) -> None:
        desk, alice, agent = world.desk, world.alice, world.agent
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.activity.add(_activity(ticket))
            work.activity.add(_activity(ticket, actor_id=agent.id))
            work.activity.add(_activity(ticket, actor_id=None))
            work.activity.add(_activity(ticket, actor_id="gone"))
            work.directory.put_contact(attrs.evolve(alice, full_name="Alice Renamed"))
        with store.unit_of_work() as work:
            entries = work.activity.list_entries(ticket.id, include_internal=False)
        assert [(e.actor_name, e.actor_role) for e in entries] == [
            ("Alice Renamed", Role.CUSTOMER),
            ("Agent", Role.AGENT),
            (SYSTEM_NAME, None),
            ("", None),  # a contact the store lacks
        ]
