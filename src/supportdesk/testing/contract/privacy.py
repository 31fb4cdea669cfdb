"""The privacy area's contract: a person's rows found and redacted, history purged by age."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._models import (
    AccountToken,
    ActivityKind,
    Collaborator,
    DeliveryState,
    EventKind,
    Recipient,
    TimerState,
    TokenPurpose,
)
from ...access import TicketScope
from ...storage.protocol import (
    FeedQuery,
    PersonalData,
    Redacted,
    SearchQuery,
    Store,
    UnitOfWork,
)
from .base import (
    T0,
    ContractBase,
    World,
    _activity,
    _attachment,
    _event,
    _notification,
    _queue,
    _timer,
    make_ticket,
)

MINUTE = timedelta(minutes=1)
ME = "dispatcher-1"


def _search(work: UnitOfWork, term: str) -> list[str]:
    """The references of every ticket whose text holds ``term``, notes included."""
    query = SearchQuery(
        terms=(term,), ticket_scope=TicketScope(everything=True), include_internal=True, now=T0
    )
    return sorted(hit.reference or "" for hit in work.search.find(query))


class PrivacyContract(ContractBase):
    """What every adapter's ``work.privacy`` must do; one test per promise."""

    def test_personal_data_holds_a_persons_rows_and_their_copies(
        self, store: Store, world: World
    ) -> None:
        desk, alice, bob, carol, agent = (
            world.desk,
            world.alice,
            world.bob,
            world.carol,
            world.agent,
        )
        requested = make_ticket(desk, 1, alice, description="My claims")
        shared = make_ticket(desk, 2, bob)
        written_on = make_ticket(desk, 3, carol)
        elsewhere = make_ticket(desk, 4, carol)
        sharing = Collaborator(
            ticket_id=shared.id, contact_id=alice.id, added_by=bob.id, added_at=T0
        )
        with store.unit_of_work() as work:
            for ticket in (requested, shared, written_on, elsewhere):
                work.tickets.add(ticket)
            work.participants.add_collaborator(sharing)
            work.participants.add_mute(shared.id, alice.id)
            work.participants.add_mute(elsewhere.id, bob.id)
            log = [
                work.activity.add(
                    _activity(requested, kind=ActivityKind.CREATED, body="My claims")
                ),
                # Entries of others: copies (a collaborator's name, a status change) or not.
                work.activity.add(_activity(requested, actor_id=agent.id)),
                work.activity.add(
                    _activity(
                        shared,
                        kind=ActivityKind.COLLABORATOR_ADDED,
                        actor_id=bob.id,
                        at=T0 + MINUTE,
                        body="",
                        data={"contact": "Alice"},
                    )
                ),
                work.activity.add(
                    _activity(written_on, actor_id=alice.id, at=T0 + 2 * MINUTE, body="me too")
                ),
                work.activity.add(
                    _activity(
                        written_on,
                        kind=ActivityKind.STATUS_CHANGED,
                        actor_id=None,
                        at=T0 + 3 * MINUTE,
                        body="",
                    )
                ),
                work.activity.add(
                    _activity(elsewhere, kind=ActivityKind.COLLABORATOR_ADDED, body="")
                ),
            ]
            files = [_attachment(requested, "mine.png"), _attachment(requested, "theirs.png")]
            files[1] = attrs.evolve(files[1], uploader_id=agent.id)
            for attachment in files:
                work.attachments.add(attachment)
            feed = [
                attrs.evolve(_notification(alice, T0), ticket_id=elsewhere.id),
                attrs.evolve(_notification(agent, T0 + MINUTE), ticket_id=written_on.id),
                attrs.evolve(_notification(agent, T0), ticket_id=elsewhere.id),
                attrs.evolve(
                    _notification(agent, T0 + MINUTE / 2),
                    ticket_id=None,
                    kind=EventKind.APPROVAL_NEEDED,
                    payload={"contact_id": alice.id},
                ),
                attrs.evolve(_notification(agent, T0), ticket_id=None, kind=EventKind.APPROVED),
            ]
            work.feed.add(feed)
            events = [
                _event(requested, T0, actor_id=agent.id),
                _event(elsewhere, T0, recipients=(Recipient.of(alice), Recipient.of(bob))),
                _event(elsewhere, T0, recipients=(Recipient.of(bob),)),
                _event(None, T0, kind=EventKind.APPROVAL_NEEDED, payload={"contact_id": alice.id}),
                _event(None, T0, payload={"body": f"not {alice.id}"}),
                _event(elsewhere, T0, actor_id=alice.id),
            ]
            work.outbox.add(events)
        with store.unit_of_work() as work:
            found = work.privacy.find_personal_data(alice.id)
            assert found.tickets == (requested, shared)
            assert found.collaborations == (sharing,)
            assert found.muted == {shared.id}
            assert found.activities == (log[0], log[2], log[3], log[4])
            assert found.attachments == (files[0],)
            assert found.notifications == (feed[0], feed[3], feed[1])
            assert [entry.event for entry in found.events] == [events[n] for n in (0, 1, 3, 5)]
            assert {entry.state for entry in found.events} == {DeliveryState.PENDING}
            assert work.privacy.find_personal_data("nobody") == PersonalData()

    def test_mark_redacted_replaces_content_in_place(self, store: Store, world: World) -> None:
        alice, bob = world.alice, world.bob
        ticket = make_ticket(world.desk, 1, alice)
        attachment = _attachment(ticket, "scan.png")
        event = _event(
            ticket,
            T0,
            payload={"body": "zebra"},
            recipients=(Recipient.of(alice), Recipient.of(bob)),
        )
        entry = attrs.evolve(_notification(bob, T0), payload={"body": "zebra"})
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            note = work.activity.add(_activity(ticket, body="zebra crossing", internal=True))
            work.attachments.add(attachment)
            work.outbox.add([event])
            work.feed.add([entry])
            work.feed.mark_read(bob.id, None, T0)
            assert _search(work, "zebra") == ["HHA-1"]
        gone = attrs.evolve(note, body="gone", data={"filename": "x"})
        renamed = attrs.evolve(attachment, filename="x", blob_key="erased/1")
        told = attrs.evolve(event, payload={"body": "x"}, recipients=(Recipient.of(bob),))
        quiet = attrs.evolve(entry, payload={"body": "x"})
        with store.unit_of_work() as work:
            redacted = Redacted(
                activities=[gone], attachments=[renamed], events=[told], notifications=[quiet]
            )
            changed = work.privacy.mark_redacted(redacted)
            assert changed == 4
        with store.unit_of_work() as work:
            (logged,) = work.activity.list_entries(ticket.id, include_internal=True)
            assert (logged.id, logged.seq, logged.body, logged.data) == (
                note.id,
                1,
                "gone",
                gone.data,
            )
            assert _search(work, "zebra") == []
            assert _search(work, "gone") == ["HHA-1"]
            assert work.attachments.get(attachment.id) == renamed
            kept = work.attachments.find_kept_blob_keys([attachment.blob_key, "erased/1"])
            assert kept == {"erased/1"}
            (stored,) = work.outbox.find()
            assert stored.event == told
            assert stored.state is DeliveryState.PENDING
            assert list(work.outbox.list_events()) == [told]
            assert work.feed.get(entry.id) == attrs.evolve(quiet, read_at=T0)
            unknown = attrs.evolve(entry, id="nope")
            assert work.privacy.mark_redacted(Redacted(notifications=[unknown])) == 0

    def test_remove_personal_rows_leaves_others(self, store: Store, world: World) -> None:
        alice, bob = world.alice, world.bob
        ticket = make_ticket(world.desk, 1, bob)
        tokens = [
            AccountToken(
                token_hash=f"{n}" * 64,
                contact_id=contact.id,
                purpose=TokenPurpose.SIGNUP,
                created_at=T0,
                expires_at=T0 + MINUTE,
            )
            for n, contact in enumerate((alice, bob))
        ]
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            for contact in (alice, bob):
                work.participants.add_collaborator(
                    Collaborator(
                        ticket_id=ticket.id, contact_id=contact.id, added_by=bob.id, added_at=T0
                    )
                )
                work.participants.add_mute(ticket.id, contact.id)
                work.feed.add([_notification(contact, T0)])
            for token in tokens:
                work.accounts.add_token(token)
        with store.unit_of_work() as work:
            assert work.privacy.remove_personal_rows(alice.id)
        with store.unit_of_work() as work:
            assert not work.privacy.remove_personal_rows(alice.id)
            assert [c.contact_id for c in work.participants.list_collaborators(ticket.id)] == [
                bob.id
            ]
            assert work.participants.list_muted(ticket.id) == {bob.id}
            assert work.feed.count_unread(alice.id) == 0
            assert work.feed.count_unread(bob.id) == 1
            assert work.accounts.get_token(tokens[0].token_hash, TokenPurpose.SIGNUP) is None
            assert work.accounts.get_token(tokens[1].token_hash, TokenPurpose.SIGNUP) == tokens[1]

    def test_finished_timers_are_removed_by_age_in_batches(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        timers = [_timer(ticket, T0 + n * MINUTE) for n in range(4)]
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.timers.add(timers)
        with store.unit_of_work() as work:
            fired, skipped = work.timers.claim_due(T0 + 10 * MINUTE, limit=2)
            work.timers.mark_finished(fired.id, TimerState.FIRED, T0)
            work.timers.mark_finished(skipped.id, TimerState.SKIPPED, T0 + MINUTE)
        with store.unit_of_work() as work:
            assert work.timers.mark_canceled(ticket.id, T0 + 2 * MINUTE) == 2
            work.timers.add([attrs.evolve(timers[0], id="later", due_at=T0)])
        cutoff = T0 + 3 * MINUTE
        with store.unit_of_work() as work:
            assert work.privacy.remove_finished_timers(T0 + MINUTE, 10) == 1
            assert work.privacy.remove_finished_timers(cutoff, 2) == 2
            assert work.privacy.remove_finished_timers(cutoff, 10) == 1
            assert work.privacy.remove_finished_timers(cutoff, 10) == 0
            (left,) = work.timers.list_pending(ticket.id)
            assert left.id == "later"

    def test_delivered_events_are_removed_by_age_in_batches(
        self, store: Store, world: World
    ) -> None:
        one, two = make_ticket(world.desk, 1, world.alice), make_ticket(world.desk, 2, world.bob)
        events = [_event(one, T0), _event(two, T0), _event(None, T0), _event(one, T0)]
        lease = T0 + timedelta(hours=1)
        _queue(store, events, one, two)
        with store.unit_of_work() as work:
            claimed = work.outbox.claim(T0, 3, lease_until=lease, owner=ME)
            assert [e.event for e in claimed] == events[:3]
            assert work.outbox.mark_delivered(events[0].id, T0, owner=ME)
            assert work.outbox.mark_delivered(events[1].id, T0 + MINUTE, owner=ME)
            work.outbox.mark_failed(events[2].id, owner=ME, error="no", now=T0, retry_at=None)
        with store.unit_of_work() as work:
            assert work.privacy.remove_delivered_events(T0 + MINUTE, 10) == 1
            assert work.privacy.remove_delivered_events(T0 + 2 * MINUTE, 10) == 1
            assert work.privacy.remove_delivered_events(T0 + timedelta(days=999), 10) == 0
        with store.unit_of_work() as work:
            assert list(work.outbox.list_events()) == events[2:]
            assert [e.event for e in work.outbox.find(state=DeliveryState.PARKED)] == [events[2]]
            # The pending event is still claimed, in its turn.
            (last,) = work.outbox.claim(T0, 10, lease_until=lease, owner=ME)
            assert last.event == events[3]

    def test_read_notifications_are_removed_by_age_in_batches(
        self, store: Store, world: World
    ) -> None:
        alice, bob = world.alice, world.bob
        old = [_notification(alice, T0 + n * MINUTE) for n in range(3)]
        unread = _notification(bob, T0)
        with store.unit_of_work() as work:
            work.feed.add([*old, unread])
            work.feed.mark_read(alice.id, None, T0 + timedelta(days=1))
        cutoff = T0 + 2 * MINUTE
        with store.unit_of_work() as work:
            assert work.privacy.remove_read_notifications(cutoff, 1) == 1
            assert work.feed.get(old[0].id) is None
            assert work.privacy.remove_read_notifications(cutoff, 5) == 1
            assert work.privacy.remove_read_notifications(T0 + timedelta(days=999), 5) == 1
            assert work.feed.find(FeedQuery(contact_id=alice.id)) == []
            assert work.feed.find(FeedQuery(contact_id=bob.id)) == [unread]

    def test_rolled_back_privacy_writes_leave_nothing(self, store: Store, world: World) -> None:
        alice = world.alice
        ticket = make_ticket(world.desk, 1, alice)
        event = _event(ticket, T0, actor_id=alice.id)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            note = work.activity.add(_activity(ticket, body="zebra"))
            work.outbox.add([event])
            work.participants.add_mute(ticket.id, alice.id)
            work.feed.add([_notification(alice, T0)])
            work.feed.mark_read(alice.id, None, T0)
            (claimed,) = work.outbox.claim(T0, 1, lease_until=T0 + MINUTE, owner=ME)
            work.outbox.mark_delivered(claimed.event.id, T0, owner=ME)
        with store.unit_of_work() as work:
            before = work.privacy.find_personal_data(alice.id)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.privacy.mark_redacted(Redacted(activities=[attrs.evolve(note, body="gone")]))
            work.privacy.remove_personal_rows(alice.id)
            work.privacy.remove_delivered_events(T0 + MINUTE, 10)
            work.privacy.remove_read_notifications(T0 + MINUTE, 10)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.privacy.find_personal_data(alice.id) == before
            assert _search(work, "zebra") == ["HHA-1"]
            assert _search(work, "gone") == []
