"""The participants area's contract: collaborators and mutes."""

from __future__ import annotations

from datetime import timedelta

import attrs

from ..._models import (
    Collaborator,
)
from ...storage.protocol import Store
from .base import (
    T0,
    ContractBase,
    World,
    make_ticket,
)


class ParticipantsContract(ContractBase):
    """What every adapter's ``work.participants`` must do; one test per promise."""

    def test_collaborators_and_notification_switch(self, store: Store, world: World) -> None:
        desk, alice, carol = world.desk, world.alice, world.carol
        ticket = make_ticket(desk, 1, alice)
        shared = Collaborator(
            ticket_id=ticket.id, contact_id=carol.id, added_by=alice.id, added_at=T0
        )
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.participants.add_collaborator(shared)
            work.participants.add_collaborator(
                attrs.evolve(shared, added_at=T0 + timedelta(hours=1))
            )
            work.participants.add_mute(ticket.id, carol.id)
            work.participants.add_mute(ticket.id, carol.id)
        with store.unit_of_work() as work:
            assert list(work.participants.list_collaborators(ticket.id)) == [shared]
            assert work.participants.list_muted(ticket.id) == {carol.id}
            assert work.participants.remove_mute(ticket.id, carol.id)
            assert not work.participants.remove_mute(ticket.id, carol.id)
            assert work.participants.remove_collaborator(ticket.id, carol.id)
            assert not work.participants.remove_collaborator(ticket.id, carol.id)
        with store.unit_of_work() as work:
            assert work.participants.list_muted(ticket.id) == frozenset()
            assert list(work.participants.list_collaborators(ticket.id)) == []
