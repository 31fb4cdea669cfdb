"""The participants area's contract: collaborators, mutes and notification settings."""

from __future__ import annotations

from datetime import timedelta

import attrs

from ..._models import Collaborator, EventKind, NotificationSettings
from ...storage.protocol import Store
from .base import T0, ContractBase, World, make_ticket


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

    def test_collaborators_as_contacts_in_the_order_added(self, store: Store, world: World) -> None:
        alice, bob, carol = world.alice, world.bob, world.carol
        ticket = make_ticket(world.desk, 1, alice)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            for n, contact_id in enumerate((carol.id, "gone", bob.id)):
                work.participants.add_collaborator(
                    Collaborator(
                        ticket_id=ticket.id,
                        contact_id=contact_id,
                        added_by=alice.id,
                        added_at=T0 + timedelta(minutes=n),
                    )
                )
        with store.unit_of_work() as work:
            assert list(work.participants.list_collaborator_contacts(ticket.id)) == [carol, bob]
            assert list(work.participants.list_collaborator_contacts("none")) == []

    def test_notification_settings_are_put_whole_and_found_by_contact(
        self, store: Store, world: World
    ) -> None:
        alice, bob, carol = world.alice, world.bob, world.carol
        quiet = NotificationSettings(
            contact_id=alice.id,
            email_off=frozenset({EventKind.PUBLIC_UPDATE, EventKind.TICKET_RECEIVED}),
        )
        with store.unit_of_work() as work:
            work.participants.put_settings(quiet)
            work.participants.put_settings(
                NotificationSettings(contact_id=bob.id, email_off=frozenset({EventKind.ASSIGNED}))
            )
        with store.unit_of_work() as work:
            found = work.participants.find_settings([alice.id, carol.id, alice.id])
            assert list(found) == [quiet]
            assert list(work.participants.find_settings([])) == []
            # Put whole: what is not named is on again; nothing off, nothing listed.
            work.participants.put_settings(
                NotificationSettings(contact_id=bob.id, email_off=frozenset({EventKind.ESCALATED}))
            )
            work.participants.put_settings(NotificationSettings(contact_id=alice.id))
        with store.unit_of_work() as work:
            assert list(work.participants.find_settings([alice.id, bob.id])) == [
                NotificationSettings(contact_id=bob.id, email_off=frozenset({EventKind.ESCALATED}))
            ]
