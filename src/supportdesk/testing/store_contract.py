"""The storage contract as tests: subclass :class:`StoreContract` once per adapter.

Give the subclass a ``store`` fixture that yields an empty store::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Iterator[Store]:
            ...
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from .. import access
from .._errors import Conflict, NotFound
from .._models import (
    Activity,
    ActivityKind,
    Announcement,
    Article,
    ArticleKind,
    Attachment,
    Audience,
    Collaborator,
    Contact,
    ContactState,
    DeliveryState,
    Desk,
    Event,
    EventKind,
    FieldKind,
    FieldSpec,
    Notification,
    Organization,
    OutboxEntry,
    Recipient,
    RequestType,
    Role,
    ScanStatus,
    SearchKind,
    SignupToken,
    Ticket,
    Timer,
    TimerState,
)
from ..access import TicketScope
from ..search import query_terms
from ..storage.protocol import AttachmentUsage, SearchQuery, Store, TicketQuery, TicketSort

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_ticket(desk: Desk, number: int, requester: Contact, **changes: Any) -> Ticket:
    """A ticket on ``desk`` numbered ``number``, created ``number`` minutes after T0."""
    at = T0 + timedelta(minutes=number)
    ticket = Ticket(
        reference=f"{desk.key}-{number}",
        desk_id=desk.id,
        request_type_id="rt",
        summary=f"ticket {number}",
        status="new",
        requester_id=requester.id,
        organization_id=requester.organization_id,
        created_at=at,
        updated_at=at,
    )
    return attrs.evolve(ticket, **changes)


@attrs.frozen(kw_only=True)
class World:
    """The directory the contract tests share."""

    desk: Desk
    alice: Contact
    bob: Contact
    carol: Contact
    agent: Contact


class StoreContract:
    """What every :class:`~supportdesk.Store` adapter must do; one test per promise."""

    @pytest.fixture
    def store(self) -> Store:
        """An empty store of the adapter under test."""
        raise NotImplementedError

    @pytest.fixture
    def world(self, store: Store) -> World:
        """Two organisations, three customers, an agent, a desk."""
        acme = Organization(name="Acme")
        globex = Organization(name="Globex")
        desk = Desk(key="HHA", name="Help")
        alice = Contact(email="alice@acme.test", full_name="Alice", organization_id=acme.id)
        bob = Contact(email="bob@acme.test", full_name="Bob", organization_id=acme.id)
        carol = Contact(email="carol@globex.test", full_name="Carol", organization_id=globex.id)
        agent = Contact(
            email="agent@desk.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({desk.id}),
        )
        with store.unit_of_work() as work:
            for organization in (acme, globex):
                work.put_organization(organization)
            work.put_desk(desk)
            for contact in (alice, bob, carol, agent):
                work.put_contact(contact)
        return World(desk=desk, alice=alice, bob=bob, carol=carol, agent=agent)

    # Directory.

    def test_directory_round_trip(self, store: Store) -> None:
        organization = Organization(name="Acme")
        desk = Desk(key="EDI", name="EDI Support", follow_up_window=timedelta(days=7))
        contact = Contact(
            email="Dana@Acme.test",
            full_name="Dana",
            role=Role.AGENT,
            organization_id=organization.id,
            desk_ids=frozenset({desk.id}),
        )
        request_type = RequestType(
            desk_id=desk.id,
            name="SFTP Issue",
            group="I am a Payer",
            fields=(
                FieldSpec(key="state", label="State", kind=FieldKind.CHOICE, options=("NY", "CA")),
            ),
        )
        with store.unit_of_work() as work:
            work.put_organization(organization)
            work.put_desk(desk)
            work.put_contact(contact)
            work.put_request_type(request_type)
        with store.unit_of_work() as work:
            assert work.get_organization(organization.id) == organization
            assert work.get_desk(desk.id) == desk
            assert work.get_contact(contact.id) == contact
            assert work.get_contact_by_email("DANA@acme.TEST") == contact
            assert work.get_request_type(request_type.id) == request_type
            assert list(work.list_request_types(desk.id)) == [request_type]
            assert list(work.list_desks()) == [desk]
            assert work.get_contact("nobody") is None

    def test_email_is_unique_case_insensitively(self, store: Store) -> None:
        with store.unit_of_work() as work:
            work.put_contact(Contact(email="a@x.test", full_name="A"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.put_contact(Contact(email="A@X.test", full_name="Another A"))
        with store.unit_of_work() as work:
            found = work.get_contact_by_email("a@x.test")
            assert found is not None and found.full_name == "A"

    def test_contact_can_change_email(self, store: Store) -> None:
        contact = Contact(email="old@x.test", full_name="A")
        with store.unit_of_work() as work:
            work.put_contact(contact)
        with store.unit_of_work() as work:
            work.put_contact(attrs.evolve(contact, email="new@x.test"))
        with store.unit_of_work() as work:
            assert work.get_contact_by_email("old@x.test") is None
            assert work.get_contact_by_email("new@x.test") is not None
            work.put_contact(Contact(email="old@x.test", full_name="B"))

    def test_desk_key_is_unique(self, store: Store) -> None:
        with store.unit_of_work() as work:
            work.put_desk(Desk(key="HHA", name="One"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.put_desk(Desk(key="HHA", name="Two"))

    # Tickets.

    def test_references_are_sequential_per_desk_and_never_reused(self, store: Store) -> None:
        with store.unit_of_work() as work:
            assert [work.allocate_reference("a") for _ in range(3)] == [1, 2, 3]
            assert work.allocate_reference("b") == 1
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.allocate_reference("a")
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.allocate_reference("a") >= 4

    def test_ticket_round_trip_and_lookup_by_reference(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 7, alice, fields={"state": "NY", "count": 3, "tags": ("a", "b")})
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
        with store.unit_of_work() as work:
            assert work.get_ticket(ticket.id) == ticket
            assert work.get_ticket_by_reference("HHA-7") == ticket
            assert work.get_ticket_by_reference("HHA-8") is None

    def test_duplicate_reference_conflicts(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        with store.unit_of_work() as work:
            work.insert_ticket(make_ticket(desk, 1, alice))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.insert_ticket(make_ticket(desk, 1, alice))

    def test_update_checks_the_version(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
        resolved = attrs.evolve(ticket, status="resolved", version=2)
        with store.unit_of_work() as work:
            work.update_ticket(resolved)
        stale = attrs.evolve(ticket, status="canceled", version=2)
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.update_ticket(stale)
        with store.unit_of_work() as work:
            assert work.get_ticket(ticket.id) == resolved
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.update_ticket(attrs.evolve(make_ticket(desk, 2, alice), version=2))

    def test_touch_only_moves_updated_at_forward(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.touch_ticket(ticket.id, ticket.updated_at + timedelta(hours=1))
            work.touch_ticket(ticket.id, ticket.updated_at - timedelta(hours=1))
        with store.unit_of_work() as work:
            stored = work.get_ticket(ticket.id)
        assert stored is not None
        assert stored.updated_at == ticket.updated_at + timedelta(hours=1)
        assert stored.version == ticket.version

    def test_rollback_leaves_nothing(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.append_activity(_activity(ticket))
            work.add_events([Event(kind=EventKind.TICKET_CREATED, at=T0, ticket_id=ticket.id)])
            work.add_timers([_timer(ticket, T0)])
            work.put_contact(attrs.evolve(alice, full_name="Changed"))
            raise RuntimeError("fail after writing")
        with store.unit_of_work() as work:
            assert work.get_ticket(ticket.id) is None
            assert list(work.list_activities(ticket.id, include_internal=True)) == []
            assert list(work.list_events()) == []
            assert work.next_timer_due() is None
            assert work.get_contact(alice.id) == alice

    # Lists.

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
                work.insert_ticket(ticket)
            work.add_collaborator(
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
                found = {int(t.reference.split("-")[1]) for t in work.find_tickets(query)}
                assert found == expected[name], name
                assert work.count_tickets(query) == len(expected[name]), name
                for ticket in tickets:
                    ids = {c.contact_id for c in work.list_collaborators(ticket.id)}
                    visible = scope.grant(ticket, ids) is not None
                    assert visible == (int(ticket.reference.split("-")[1]) in found), name

    def test_filters_and_keyset_pagination(self, store: Store, world: World) -> None:
        desk, alice, bob = world.desk, world.alice, world.bob
        with store.unit_of_work() as work:
            for number in range(1, 31):
                requester = alice if number % 3 else bob
                status = "resolved" if number % 5 == 0 else "new"
                work.insert_ticket(make_ticket(desk, number, requester, status=status))
        scope = TicketScope(everything=True)
        query = TicketQuery(
            scope=scope, requester_id=alice.id, statuses=frozenset({"new"}), limit=7
        )
        seen: list[int] = []
        with store.unit_of_work() as work:
            total = work.count_tickets(query)
            while True:
                page = list(work.find_tickets(query))
                seen.extend(int(t.reference.split("-")[1]) for t in page)
                if len(page) < query.limit:
                    break
                query = attrs.evolve(query, after=(page[-1].created_at, page[-1].id))
        wanted = [n for n in range(30, 0, -1) if n % 3 and n % 5]
        assert seen == wanted
        assert total == len(wanted)
        with store.unit_of_work() as work:
            oldest = work.find_tickets(TicketQuery(scope=scope, sort=TicketSort.OLDEST, limit=3))
            assert [t.reference for t in oldest] == ["HHA-1", "HHA-2", "HHA-3"]
            by_desk = TicketQuery(scope=scope, desk_id="nope")
            assert work.count_tickets(by_desk) == 0

    def test_recently_updated_sort(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        tickets = [make_ticket(desk, n, alice) for n in (1, 2, 3)]
        with store.unit_of_work() as work:
            for ticket in tickets:
                work.insert_ticket(ticket)
            work.touch_ticket(tickets[0].id, T0 + timedelta(days=1))
        query = TicketQuery(scope=TicketScope(everything=True), sort=TicketSort.RECENTLY_UPDATED)
        with store.unit_of_work() as work:
            assert [t.reference for t in work.find_tickets(query)] == ["HHA-1", "HHA-3", "HHA-2"]

    # Activity and participants.

    def test_activity_log_is_ordered_and_filters_internal(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            first = work.append_activity(_activity(ticket))
            note = work.append_activity(_activity(ticket, internal=True))
        with store.unit_of_work() as work:
            third = work.append_activity(_activity(ticket, data={"from": "new", "to": "resolved"}))
        assert [first.seq, note.seq, third.seq] == [1, 2, 3]
        with store.unit_of_work() as work:
            assert list(work.list_activities(ticket.id, include_internal=True)) == [
                first,
                note,
                third,
            ]
            assert list(work.list_activities(ticket.id, include_internal=False)) == [first, third]

    def test_collaborators_and_notification_switch(self, store: Store, world: World) -> None:
        desk, alice, carol = world.desk, world.alice, world.carol
        ticket = make_ticket(desk, 1, alice)
        shared = Collaborator(
            ticket_id=ticket.id, contact_id=carol.id, added_by=alice.id, added_at=T0
        )
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_collaborator(shared)
            work.add_collaborator(attrs.evolve(shared, added_at=T0 + timedelta(hours=1)))
            work.set_notifications(ticket.id, carol.id, False)
        with store.unit_of_work() as work:
            assert list(work.list_collaborators(ticket.id)) == [shared]
            assert work.muted_contacts(ticket.id) == {carol.id}
            work.set_notifications(ticket.id, carol.id, True)
            assert work.remove_collaborator(ticket.id, carol.id)
            assert not work.remove_collaborator(ticket.id, carol.id)
        with store.unit_of_work() as work:
            assert work.muted_contacts(ticket.id) == frozenset()
            assert list(work.list_collaborators(ticket.id)) == []

    # Attachments.

    def test_attachment_round_trip_and_unique_blob(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        attachment = _attachment(ticket, "a", internal=True, scan_status=ScanStatus.SCANNING)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_attachment(attachment)
        with store.unit_of_work() as work:
            assert work.get_attachment(attachment.id) == attachment
            assert work.get_attachment("nope") is None
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.add_attachment(attrs.evolve(attachment, blob_key="tickets/other"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.add_attachment(_attachment(ticket, "b", blob_key=attachment.blob_key))
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.add_attachment(_attachment(ticket, "c"))
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            listed = work.list_attachments(ticket.id, include_internal=True, include_rejected=True)
            assert list(listed) == [attachment]

    def test_attachments_listed_in_order_added_by_visibility(
        self, store: Store, world: World
    ) -> None:
        one, two = make_ticket(world.desk, 1, world.alice), make_ticket(world.desk, 2, world.bob)
        # Same upload time and ids out of order: only the order added may decide.
        public = _attachment(one, "p", id="z")
        note = _attachment(one, "n", id="y", internal=True)
        refused = _attachment(one, "r", id="x", scan_status=ScanStatus.REJECTED)
        waiting = _attachment(one, "w", id="w", scan_status=ScanStatus.SCANNING)
        elsewhere = _attachment(two, "e")
        with store.unit_of_work() as work:
            work.insert_ticket(one)
            work.insert_ticket(two)
            for attachment in (public, note, refused, waiting, elsewhere):
                work.add_attachment(attachment)
        with store.unit_of_work() as work:

            def listed(internal: bool, rejected: bool) -> list[str]:
                found = work.list_attachments(
                    one.id, include_internal=internal, include_rejected=rejected
                )
                return [attachment.filename for attachment in found]

            assert listed(True, True) == ["p", "n", "r", "w"]
            assert listed(False, True) == ["p", "r", "w"]
            assert listed(True, False) == ["p", "n", "w"]
            assert listed(False, False) == ["p", "w"]
            assert work.attachment_usage(one.id) == AttachmentUsage(files=3, bytes=3 * 100)
            assert work.attachment_usage("nope") == AttachmentUsage(files=0, bytes=0)

    def test_a_scan_is_finished_once(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        later = _attachment(ticket, "later", scan_status=ScanStatus.SCANNING)
        earlier = attrs.evolve(
            _attachment(ticket, "earlier", scan_status=ScanStatus.SCANNING),
            uploaded_at=T0 - timedelta(minutes=1),
        )
        clean = _attachment(ticket, "clean")
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            for attachment in (later, earlier, clean):
                work.add_attachment(attachment)
        with store.unit_of_work() as work:
            assert list(work.attachments_to_scan(10)) == [earlier, later]
            assert list(work.attachments_to_scan(1)) == [earlier]
            with pytest.raises(ValueError, match="scanning"):
                work.finish_scan(earlier.id, ScanStatus.SCANNING)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.finish_scan(earlier.id, ScanStatus.CLEAN)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            refused = work.finish_scan(earlier.id, ScanStatus.REJECTED, reason="EICAR")
            passed = work.finish_scan(later.id, ScanStatus.CLEAN, reason="ignored")
            assert work.finish_scan(earlier.id, ScanStatus.CLEAN) is None
            assert work.finish_scan(clean.id, ScanStatus.REJECTED, reason="late") is None
            assert work.finish_scan("nope", ScanStatus.CLEAN) is None
        assert refused == attrs.evolve(
            earlier, scan_status=ScanStatus.REJECTED, rejection_reason="EICAR"
        )
        assert passed == attrs.evolve(later, scan_status=ScanStatus.CLEAN)
        with store.unit_of_work() as work:
            assert work.get_attachment(earlier.id) == refused
            assert work.get_attachment(later.id) == passed
            assert work.get_attachment(clean.id) == clean
            assert list(work.attachments_to_scan(10)) == []
            assert work.attachment_usage(ticket.id) == AttachmentUsage(files=2, bytes=200)

    def test_known_blob_keys_are_those_still_needed(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        kept = _attachment(ticket, "kept", internal=True)
        waiting = _attachment(ticket, "waiting", scan_status=ScanStatus.SCANNING)
        refused = _attachment(ticket, "refused", scan_status=ScanStatus.REJECTED)
        keys = [kept.blob_key, waiting.blob_key, refused.blob_key, "tickets/nobody/x"]
        with store.unit_of_work() as work:
            assert work.known_blob_keys(keys) == set()
            work.insert_ticket(ticket)
            for attachment in (kept, waiting, refused):
                work.add_attachment(attachment)
            assert work.known_blob_keys(keys) == {kept.blob_key, waiting.blob_key}
        with store.unit_of_work() as work:
            assert work.known_blob_keys(keys) == {kept.blob_key, waiting.blob_key}
            assert work.known_blob_keys([]) == set()
            many = [f"tickets/{n}/x" for n in range(1500)] + [kept.blob_key]
            assert work.known_blob_keys(many) == {kept.blob_key}

    # Timers.

    def test_timers_are_claimed_oldest_first_and_finished_once(
        self, store: Store, world: World
    ) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        timers = [_timer(ticket, T0 + timedelta(days=d)) for d in (3, 1, 2, 10)]
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_timers(timers)
            assert work.next_timer_due() == T0 + timedelta(days=1)
        now = T0 + timedelta(days=5)
        with store.unit_of_work() as work:
            claimed = work.claim_due_timers(now, limit=2)
            assert [t.due_at for t in claimed] == [T0 + timedelta(days=1), T0 + timedelta(days=2)]
            for timer in claimed:
                work.finish_timer(timer.id, TimerState.FIRED, now)
        with store.unit_of_work() as work:
            rest = work.claim_due_timers(now, limit=10)
            assert [t.due_at for t in rest] == [T0 + timedelta(days=3)]
            work.finish_timer(rest[0].id, TimerState.SKIPPED, now)
        with store.unit_of_work() as work:
            assert list(work.claim_due_timers(now, limit=10)) == []
            assert [t.due_at for t in work.pending_timers(ticket.id)] == [T0 + timedelta(days=10)]

    def test_rolled_back_claim_leaves_timer_pending(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        timer = _timer(ticket, T0)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_timers([timer])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            (claimed,) = work.claim_due_timers(T0, limit=5)
            work.finish_timer(claimed.id, TimerState.FIRED, T0)
            raise RuntimeError("worker died")
        with store.unit_of_work() as work:
            assert [t.id for t in work.claim_due_timers(T0, limit=5)] == [timer.id]

    def test_cancel_timers_of_a_ticket(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        one, two = make_ticket(desk, 1, alice), make_ticket(desk, 2, alice)
        with store.unit_of_work() as work:
            work.insert_ticket(one)
            work.insert_ticket(two)
            work.add_timers([_timer(one, T0), _timer(one, T0), _timer(two, T0)])
            assert work.cancel_timers(one.id, T0) == 2
        with store.unit_of_work() as work:
            assert list(work.pending_timers(one.id)) == []
            assert [t.ticket_id for t in work.claim_due_timers(T0, 10)] == [two.id]

    def test_rolled_back_cancel_leaves_timers_pending(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        timers = [_timer(ticket, T0), _timer(ticket, T0 + timedelta(days=1))]
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_timers(timers)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.cancel_timers(ticket.id, T0) == 2
            work.add_timers([_timer(ticket, T0 - timedelta(days=1))])
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert [t.id for t in work.pending_timers(ticket.id)] == [t.id for t in timers]
            assert work.next_timer_due() == T0
            assert work.cancel_timers(ticket.id, T0) == 2
            assert work.next_timer_due() is None

    # Outbox.

    def test_events_round_trip_in_order(self, store: Store, world: World) -> None:
        desk, alice = world.desk, world.alice
        ticket = make_ticket(desk, 1, alice)
        events = [
            Event(kind=EventKind.TICKET_CREATED, at=T0, ticket_id=ticket.id, payload={"a": "1"}),
            Event(kind=EventKind.PUBLIC_UPDATE, at=T0, ticket_id=ticket.id, actor_id=alice.id),
            Event(kind=EventKind.SIGNUP_REQUESTED, at=T0),
        ]
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_events(events[:2])
        with store.unit_of_work() as work:
            work.add_events(events[2:])
        with store.unit_of_work() as work:
            assert list(work.list_events()) == events
            assert list(work.list_events(ticket.id)) == events[:2]

    def test_events_enter_the_outbox_pending_and_due_at_their_time(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        recipient = Recipient.of(world.alice)
        event = _event(ticket, T0, recipients=(recipient,))
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_events([event])
        with store.unit_of_work() as work:
            assert list(work.list_events()) == [event]
            (entry,) = work.list_outbox()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)
        with store.unit_of_work() as work:
            assert list(work.claim_events(T0 - timedelta(seconds=1), 10, lease_until=T0)) == []

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
            work.insert_ticket(one)
            work.insert_ticket(two)
            work.add_events(events)
        with store.unit_of_work() as work:
            first = work.claim_events(T0, 10, lease_until=lease)
        assert [e.event.payload["n"] for e in first] == ["1", "2", "3", "5"]
        assert all(e.claimed_until == lease for e in first)
        with store.unit_of_work() as work:
            # Leased entries are neither claimed again nor passed by their ticket's next event.
            assert list(work.claim_events(T0, 10, lease_until=lease)) == []
            work.mark_event_delivered(events[0].id, T0)
        with store.unit_of_work() as work:
            (fourth,) = work.claim_events(T0, 10, lease_until=lease)
        assert fourth.event == events[3]
        with store.unit_of_work() as work:
            delivered = work.list_outbox(state=DeliveryState.DELIVERED)
            assert [e.event.id for e in delivered] == [events[0].id]
            assert delivered[0].finished_at == T0 and delivered[0].claimed_until is None
            assert [e.event.id for e in work.list_outbox(ticket_id=one.id)] == [
                events[0].id,
                events[3].id,
            ]
            assert len(work.list_outbox(limit=2)) == 2

    def test_ended_lease_is_claimed_again(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.add_events([event])
        with store.unit_of_work() as work:
            work.claim_events(T0, 1, lease_until=T0 + timedelta(minutes=1))
        with store.unit_of_work() as work:
            assert list(work.claim_events(T0 + timedelta(seconds=59), 1, lease_until=T0)) == []
            later = T0 + timedelta(minutes=1)
            (again,) = work.claim_events(later, 1, lease_until=later + timedelta(minutes=1))
        assert again.event == event

    def test_rolled_back_claim_leaves_event_unleased(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.add_events([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.claim_events(T0, 1, lease_until=T0 + timedelta(hours=1))
            raise RuntimeError("dispatcher died")
        with store.unit_of_work() as work:
            assert [e.event for e in work.claim_events(T0, 1, lease_until=T0)] == [event]

    def test_failed_event_waits_for_its_retry_and_holds_back_its_ticket(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        first, second = _event(ticket, T0), _event(ticket, T0)
        retry_at = T0 + timedelta(minutes=2)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_events([first, second])
            work.claim_events(T0, 10, lease_until=T0 + timedelta(minutes=5))
            failed = work.mark_event_failed(first.id, error="boom", now=T0, retry_at=retry_at)
        assert (failed.state, failed.attempts, failed.last_error) == (
            DeliveryState.PENDING,
            1,
            "boom",
        )
        assert failed.next_attempt_at == retry_at and failed.claimed_until is None
        with store.unit_of_work() as work:
            assert list(work.claim_events(T0 + timedelta(minutes=1), 10, lease_until=T0)) == []
            (retried,) = work.claim_events(retry_at, 10, lease_until=retry_at)
            assert retried.event == first and retried.attempts == 1

    def test_parked_event_stops_holding_back_and_can_be_requeued(
        self, store: Store, world: World
    ) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        poison, next_one = _event(ticket, T0), _event(ticket, T0)
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.add_events([poison, next_one])
            parked = work.mark_event_failed(poison.id, error="bad", now=T0, retry_at=None)
        assert parked.state is DeliveryState.PARKED and parked.finished_at == T0
        later = T0 + timedelta(days=1)
        with store.unit_of_work() as work:
            assert [e.event for e in work.claim_events(later, 10, lease_until=later)] == [next_one]
            work.mark_event_delivered(next_one.id, later)
            assert [e.event for e in work.list_outbox(state=DeliveryState.PARKED)] == [poison]
            assert not work.requeue_event(next_one.id, later)
            assert not work.requeue_event("nope", later)
            assert work.requeue_event(poison.id, later)
        with store.unit_of_work() as work:
            (again,) = work.claim_events(later, 10, lease_until=later)
        assert again.event == poison
        assert (again.attempts, again.last_error, again.finished_at) == (0, "bad", None)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.mark_event_delivered("nope", later)
        with pytest.raises(NotFound), store.unit_of_work() as work:
            work.mark_event_failed("nope", error="x", now=later, retry_at=None)

    def test_rolled_back_delivery_bookkeeping_is_undone(self, store: Store, world: World) -> None:
        event = _event(None, T0)
        with store.unit_of_work() as work:
            work.add_events([event])
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.mark_event_failed(event.id, error="x", now=T0, retry_at=None)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            (entry,) = work.list_outbox()
        assert entry == OutboxEntry(event=event, next_attempt_at=T0)

    # Feed.

    def test_feed_newest_first_with_unread_count(self, store: Store, world: World) -> None:
        alice, bob = world.alice, world.bob
        entries = [_notification(alice, T0 + timedelta(minutes=n)) for n in range(5)]
        with store.unit_of_work() as work:
            work.add_notifications([*entries, _notification(bob, T0)])
        with store.unit_of_work() as work:
            newest = work.list_notifications(alice.id, limit=2)
            assert newest == [entries[4], entries[3]]
            last = newest[-1]
            rest = work.list_notifications(alice.id, limit=10, before=(last.at, last.id))
            assert rest == [entries[2], entries[1], entries[0]]
            assert work.count_unread_notifications(alice.id) == 5
            assert work.get_notification(entries[0].id) == entries[0]
            assert work.get_notification("nope") is None
        read_at = T0 + timedelta(hours=1)
        with store.unit_of_work() as work:
            assert work.mark_notifications_read(alice.id, [entries[1].id, "nope"], read_at) == 1
            assert work.mark_notifications_read(bob.id, [entries[2].id], read_at) == 0
        with store.unit_of_work() as work:
            assert work.count_unread_notifications(alice.id) == 4
            unread = work.list_notifications(alice.id, unread_only=True)
            assert entries[1].id not in {n.id for n in unread}
            stored = work.get_notification(entries[1].id)
            assert stored is not None and stored.read_at == read_at
            assert work.mark_notifications_read(alice.id, None, read_at) == 4
            assert work.count_unread_notifications(alice.id) == 0
            assert work.count_unread_notifications(bob.id) == 1

    def test_rolled_back_feed_writes_leave_nothing(self, store: Store, world: World) -> None:
        entry = _notification(world.alice, T0)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.add_notifications([entry])
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.count_unread_notifications(world.alice.id) == 0
            assert work.get_notification(entry.id) is None

    # Whom to notify, and previews.

    def test_list_contacts_filters(self, store: Store, world: World) -> None:
        admin = Contact(email="admin@desk.test", full_name="Admin", role=Role.ADMIN)
        pending = Contact(email="new@x.test", full_name="New", state=ContactState.PENDING_APPROVAL)
        with store.unit_of_work() as work:
            work.put_contact(admin)
            work.put_contact(pending)
            assert work.list_contacts(roles={Role.AGENT, Role.ADMIN}) == [admin, world.agent]
            assert work.list_contacts(desk_id=world.desk.id) == [world.agent]
            assert work.list_contacts(roles={Role.AGENT}, desk_id="other") == []
            assert work.list_contacts(state=ContactState.PENDING_APPROVAL) == [pending]
            assert len(work.list_contacts()) == 6

    def test_list_contacts_by_desk_follows_put_contact(self, store: Store, world: World) -> None:
        moved = attrs.evolve(world.agent, desk_ids=frozenset({"other", "third"}))
        with store.unit_of_work() as work:
            work.put_contact(moved)
            # This transaction's own writes are seen.
            assert work.list_contacts(desk_id=world.desk.id) == []
            assert work.list_contacts(desk_id="other") == [moved]
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.put_contact(attrs.evolve(moved, desk_ids=frozenset()))
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.list_contacts(desk_id="third") == [moved]
            work.put_contact(attrs.evolve(moved, desk_ids=frozenset({world.desk.id})))
        with store.unit_of_work() as work:
            assert work.list_contacts(desk_id="other") == []
            assert work.list_contacts(roles={Role.AGENT}, desk_id=world.desk.id) == [
                attrs.evolve(moved, desk_ids=frozenset({world.desk.id}))
            ]

    # Sign-up tokens and passwords.

    def test_signup_token_is_used_once(self, store: Store, world: World) -> None:
        token = SignupToken(
            token_hash="ab" * 32,
            contact_id=world.alice.id,
            created_at=T0,
            expires_at=T0 + timedelta(days=1),
        )
        with store.unit_of_work() as work:
            work.add_signup_token(token)
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.add_signup_token(token)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.use_signup_token(token.token_hash, T0)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.get_signup_token(token.token_hash) == token
            assert work.use_signup_token(token.token_hash, T0)
            assert not work.use_signup_token(token.token_hash, T0)
            assert not work.use_signup_token("cd" * 32, T0)
            assert work.get_signup_token("cd" * 32) is None
        with store.unit_of_work() as work:
            assert work.get_signup_token(token.token_hash) == attrs.evolve(token, used_at=T0)

    def test_password_hash_is_kept_apart_from_the_contact(self, store: Store, world: World) -> None:
        with store.unit_of_work() as work:
            assert work.get_password_hash(world.alice.id) is None
            work.set_password_hash(world.alice.id, "scrypt$1")
        with store.unit_of_work() as work:
            assert work.get_password_hash(world.alice.id) == "scrypt$1"
            assert work.get_contact(world.alice.id) == world.alice
            work.set_password_hash(world.alice.id, "scrypt$2")
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.set_password_hash(world.alice.id, None)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.get_password_hash(world.alice.id) == "scrypt$2"
            work.set_password_hash(world.alice.id, None)
        with store.unit_of_work() as work:
            assert work.get_password_hash(world.alice.id) is None

    # Announcements and the knowledge base.

    def test_announcements_by_window_and_audience(self, store: Store) -> None:
        day = timedelta(days=1)
        past = _announcement("Old", T0 - 2 * day, until=T0 - day)
        current = _announcement("Now", T0 - day)
        staff = _announcement("Staff", T0, audience=Audience.STAFF)
        future = _announcement("Later", T0 + day, until=T0 + 2 * day)
        with store.unit_of_work() as work:
            for announcement in (past, current, staff, future):
                work.put_announcement(announcement)
        with store.unit_of_work() as work:
            assert work.get_announcement(current.id) == current
            assert work.list_announcements() == [future, staff, current, past]
            assert work.list_announcements(active_at=T0) == [staff, current]
            customers = {Audience.EVERYONE, Audience.CUSTOMERS}
            assert work.list_announcements(active_at=T0, audiences=customers) == [current]
            assert work.list_announcements(active_at=T0 + day) == [future, staff, current]
            assert work.list_announcements(active_at=T0 + 2 * day) == [staff, current]
            assert work.delete_announcement(past.id)
            assert not work.delete_announcement(past.id)
            assert work.get_announcement(past.id) is None

    def test_articles_by_title_kind_and_tag(self, store: Store) -> None:
        draft = _article("billing cycles", tags=("Billing",), published=False)
        faq = _article("How do I reset my password?", kind=ArticleKind.FAQ, tags=("login",))
        guide = _article("Claims upload guide", tags=("claims", "sftp"))
        with store.unit_of_work() as work:
            for article in (draft, faq, guide):
                work.put_article(article)
        with store.unit_of_work() as work:
            assert work.get_article(draft.id) == draft
            assert work.list_articles(published_only=False) == [draft, guide, faq]
            assert work.list_articles(published_only=True) == [guide, faq]
            assert work.list_articles(published_only=True, kind=ArticleKind.FAQ) == [faq]
            assert work.list_articles(published_only=False, tag="billing") == [draft]
            assert work.list_articles(published_only=True, tag="billing") == []
            work.put_article(attrs.evolve(draft, published=True))
            assert work.list_articles(published_only=True, tag="BILLING") != []
            assert work.delete_article(faq.id)
            assert not work.delete_article(faq.id)
            assert work.get_article(faq.id) is None

    # Search.

    def test_search_tickets_in_scope(self, store: Store, world: World) -> None:
        desk, alice, carol = world.desk, world.alice, world.carol
        claims = make_ticket(desk, 1, alice, summary="Claims missing", description="May feed")
        private = make_ticket(desk, 2, alice, summary="Invoice", shared_with_organization=False)
        other = make_ticket(desk, 12, carol, summary="Claims rejected")
        with store.unit_of_work() as work:
            for ticket in (claims, private, other):
                work.insert_ticket(ticket)
            work.append_activity(_activity(private, body="the claims portal is slow"))
            work.append_activity(_activity(claims, body="zebra secret", internal=True))
        alice_scope = access.ticket_scope(alice)
        bob_scope = access.ticket_scope(world.bob)
        everything = TicketScope(everything=True)

        def found(scope: TicketScope, text: str, **changes: Any) -> list[str]:
            query = SearchQuery(
                terms=query_terms(text), ticket_scope=scope, now=T0, limit=50, **changes
            )
            with store.unit_of_work() as work:
                hits = work.search(query)
            for hit in hits:
                assert hit.kind is SearchKind.TICKET and hit.title
            return sorted(hit.reference or "" for hit in hits)

        assert found(alice_scope, "claims") == ["HHA-1", "HHA-2"]
        assert found(bob_scope, "claims") == ["HHA-1"]
        assert found(everything, "claims") == ["HHA-1", "HHA-12", "HHA-2"]
        assert found(everything, "claims may") == ["HHA-1"]
        assert found(everything, "HHA-1") == ["HHA-1"]
        assert found(everything, "hha-12 claims") == ["HHA-12"]
        assert found(everything, "portal slow") == ["HHA-2"]
        assert found(everything, "zebra") == []
        assert found(everything, "zebra", include_internal=True) == ["HHA-1"]
        assert found(alice_scope, "zebra claims") == []
        assert found(TicketScope(), "claims") == []
        assert found(everything, "claims", kinds=frozenset({SearchKind.ARTICLE})) == []

    def test_search_snippets_never_show_internal_text(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice, summary="Portal login")
        with store.unit_of_work() as work:
            work.insert_ticket(ticket)
            work.append_activity(_activity(ticket, body="login login login secret", internal=True))
            query = SearchQuery(terms=("login",), ticket_scope=TicketScope(everything=True), now=T0)
            (hit,) = work.search(query)
            assert "secret" not in hit.snippet
            assert "login" in hit.snippet.casefold()
            (staff_hit,) = work.search(attrs.evolve(query, include_internal=True))
            assert staff_hit.reference == "HHA-1"

    def test_search_content_by_visibility_and_rank(self, store: Store) -> None:
        titled = _article("Password reset", body="How to get back in.")
        mentioned = _article("Logging in", body="If you forgot your password, reset it.")
        draft = _article("Password policy", body="Internal draft.", published=False)
        shown = _announcement("Password change on Monday", T0)
        staff_only = _announcement("Password audit", T0, audience=Audience.STAFF)
        expired = _announcement("Password outage", T0 - timedelta(days=2), until=T0)
        with store.unit_of_work() as work:
            for article in (titled, mentioned, draft):
                work.put_article(article)
            for announcement in (shown, staff_only, expired):
                work.put_announcement(announcement)
        query = SearchQuery(terms=("password",), ticket_scope=TicketScope(), now=T0, limit=50)
        with store.unit_of_work() as work:
            hits = work.search(query)
            assert {hit.id for hit in hits} == {titled.id, mentioned.id, shown.id}
            ranked = [hit.id for hit in hits if hit.id in (titled.id, mentioned.id)]
            assert ranked == [titled.id, mentioned.id]
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            staff = attrs.evolve(query, include_drafts=True, audiences=frozenset(Audience))
            assert {hit.id for hit in work.search(staff)} == {
                titled.id,
                mentioned.id,
                draft.id,
                shown.id,
                staff_only.id,
            }
            only = attrs.evolve(query, kinds=frozenset({SearchKind.ANNOUNCEMENT}))
            (notice,) = work.search(only)
            assert (notice.id, notice.title, notice.reference) == (shown.id, shown.title, None)
            first, second = (work.search(attrs.evolve(query, limit=1, offset=n)) for n in (0, 1))
            assert [first[0].id, second[0].id] == [hit.id for hit in hits[:2]]

    def test_search_follows_changes_and_rollbacks(self, store: Store, world: World) -> None:
        article = _article("Printer setup", body="Plug it in.")
        query = SearchQuery(terms=("printer",), ticket_scope=TicketScope(everything=True), now=T0)
        with store.unit_of_work() as work:
            work.put_article(article)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.put_article(attrs.evolve(article, title="Scanner setup"))
            work.insert_ticket(make_ticket(world.desk, 1, world.alice, summary="Printer jam"))
            assert len(work.search(query)) == 1
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert [hit.id for hit in work.search(query)] == [article.id]
            work.put_article(attrs.evolve(article, title="Scanner setup"))
            assert list(work.search(query)) == []
            work.delete_article(article.id)
            assert list(work.search(attrs.evolve(query, terms=("scanner",)))) == []

    def test_next_reference_peeks_without_taking(self, store: Store) -> None:
        with store.unit_of_work() as work:
            assert work.next_reference("a") == 1
            assert work.next_reference("a") == 1
            assert work.allocate_reference("a") == 1
            assert work.next_reference("a") == 2


def _event(ticket: Ticket | None, at: datetime, **changes: Any) -> Event:
    event = Event(
        kind=EventKind.PUBLIC_UPDATE, at=at, ticket_id=None if ticket is None else ticket.id
    )
    return attrs.evolve(event, **changes)


def _announcement(
    title: str,
    active_from: datetime,
    *,
    until: datetime | None = None,
    audience: Audience = Audience.EVERYONE,
) -> Announcement:
    return Announcement(
        title=title,
        body=f"{title}: details.",
        audience=audience,
        active_from=active_from,
        active_until=until,
        created_at=active_from,
        updated_at=active_from,
    )


def _article(title: str, **changes: Any) -> Article:
    article = Article(title=title, body="Body.", published=True, created_at=T0, updated_at=T0)
    return attrs.evolve(article, **changes)


def _notification(contact: Contact, at: datetime) -> Notification:
    return Notification(
        contact_id=contact.id,
        event_id="e",
        kind=EventKind.PUBLIC_UPDATE,
        at=at,
        ticket_id="t",
        payload={"reference": "HHA-1"},
    )


def _activity(ticket: Ticket, **changes: Any) -> Activity:
    activity = Activity(
        ticket_id=ticket.id,
        kind=ActivityKind.PUBLIC_UPDATE,
        actor_id=ticket.requester_id,
        at=T0,
        body="hi",
    )
    return attrs.evolve(activity, **changes)


def _attachment(ticket: Ticket, filename: str, **changes: Any) -> Attachment:
    attachment = Attachment(
        ticket_id=ticket.id,
        activity_id="activity",
        filename=filename,
        content_type="image/png",
        size=100,
        sha256="ab" * 32,
        blob_key="",
        uploader_id=ticket.requester_id,
        uploaded_at=T0,
    )
    blob_key = changes.pop("blob_key", f"tickets/{ticket.id}/{attachment.id}")
    return attrs.evolve(attachment, blob_key=blob_key, **changes)


def _timer(ticket: Ticket, due_at: datetime) -> Timer:
    return Timer(
        ticket_id=ticket.id, name="reminder_1", status="new", status_epoch=1, due_at=due_at
    )
