"""Events, recipients, the outbox dispatcher, the feed and previews, through the facade."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import attrs
import pytest

from supportdesk import (
    Collaborator,
    Contact,
    DeliveryState,
    Event,
    EventKind,
    MemoryStore,
    NotFound,
    Notification,
    NotificationSettings,
    OutboxEntry,
    PermissionDenied,
    Recipient,
    RetryPolicy,
    Role,
    Submission,
    SupportDesk,
    Ticket,
    UnitOfWork,
    ValidationError,
    from_data,
    to_data,
)
from supportdesk.notifications import EMAIL_OPTIONAL, email_options

from .conftest import Portal, build_portal

DAY = timedelta(days=1)


def events(portal: Portal, ticket: Ticket | None = None) -> list[Event]:
    with portal.desk._store.unit_of_work() as work:
        return list(work.outbox.list_events(None if ticket is None else ticket.id))


def last_event(portal: Portal, ticket: Ticket) -> Event:
    return events(portal, ticket)[-1]


def names(event: Event) -> set[str]:
    return {recipient.full_name for recipient in event.recipients}


@pytest.fixture
def second_agent(portal: Portal) -> Contact:
    return portal.desk.add_contact(
        Contact(
            email="jones@desk.test",
            full_name="Agent Jones",
            role=Role.AGENT,
            desk_ids=frozenset({portal.help_desk.id}),
        )
    )


@pytest.fixture
def shared(portal: Portal, second_agent: Contact) -> Ticket:
    """Alice's ticket, shared with Carol, assigned to Agent Smith."""
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    return portal.desk.assign(second_agent, ticket.reference, portal.agent.id)


# Recipients.


def lone_event(portal: Portal) -> Event:
    """The one event waiting in the outbox: a reply on a ticket whose opening was delivered."""
    ticket = portal.open()
    portal.desk.dispatch_notifications(Recorder())
    portal.desk.share_update(portal.agent, ticket.reference, "A reply")
    (event,) = portal.desk.list_undelivered(portal.admin, state=DeliveryState.PENDING)
    return event.event


def test_opening_tells_the_desk_agents_and_confirms_to_the_requester(
    portal: Portal, second_agent: Contact
) -> None:
    ticket = portal.open()
    created, received = events(portal, ticket)
    assert created.kind is EventKind.TICKET_CREATED
    assert names(created) == {"Agent Smith", "Agent Jones"}
    assert created.payload["reference"] == ticket.reference
    assert created.payload["actor"] == "Alice Payer"
    # The confirmation reaches the requester, who opened it, and nobody else.
    assert received.kind is EventKind.TICKET_RECEIVED
    assert names(received) == {"Alice Payer"}
    assert received.payload["reference"] == ticket.reference
    assert received.payload["status_label"] == "New"
    (entry,) = portal.desk.notifications(portal.alice).notifications
    assert (entry.kind, entry.event_id) == (EventKind.TICKET_RECEIVED, received.id)


def test_a_request_raised_on_someones_behalf_confirms_to_them(
    portal: Portal, second_agent: Contact
) -> None:
    ticket = portal.desk.open_ticket(
        portal.agent,
        portal.general.id,
        Submission(summary="Called in", description="Phoned about missing claims"),
        requester_id=portal.bob.id,
    )
    created, received = events(portal, ticket)
    assert names(created) == {"Agent Jones"}  # staff only: not the customer, not the actor
    assert names(received) == {"Bob Payer"}
    assert received.actor_id == portal.agent.id
    assert received.payload["actor"] == "Agent Smith"
    assert [n.kind for n in portal.desk.notifications(portal.bob).notifications] == [
        EventKind.TICKET_RECEIVED
    ]


def test_a_follow_up_confirms_its_new_reference_to_its_requester(
    portal: Portal, shared: Ticket
) -> None:
    portal.desk.close(portal.alice, shared.reference)
    follow_up = portal.desk.share_update(portal.agent, shared.reference, "Reopening for you")
    received = [e for e in events(portal, follow_up) if e.kind is EventKind.TICKET_RECEIVED]
    assert [(names(e), e.payload["reference"]) for e in received] == [
        ({"Alice Payer"}, follow_up.reference)
    ]


def test_assignment_reaches_everyone_but_the_actor(portal: Portal, shared: Ticket) -> None:
    assigned = last_event(portal, shared)
    assert assigned.kind is EventKind.ASSIGNED
    assert names(assigned) == {"Alice Payer", "Carol Provider", "Agent Smith"}
    assert assigned.payload["assignee"] == "Agent Smith"


def test_agent_update_reaches_requester_collaborators_and_other_agents(
    portal: Portal, shared: Ticket
) -> None:
    portal.desk.share_update(portal.agent, shared.reference, "We are on it")
    update = last_event(portal, shared)
    assert update.kind is EventKind.PUBLIC_UPDATE
    assert update.payload["body"] == "We are on it"
    assert names(update) == {"Alice Payer", "Carol Provider", "Agent Jones"}


def test_customer_update_says_it_moved_the_ticket(portal: Portal, shared: Ticket) -> None:
    portal.desk.ask_customer(portal.agent, shared.reference, "Which claims?")
    asked = last_event(portal, shared)
    assert asked.kind is EventKind.STATUS_CHANGED
    assert (asked.payload["to"], asked.payload["comment"]) == (
        "waiting_for_customer",
        "Which claims?",
    )
    portal.desk.share_update(portal.carol, shared.reference, "Claims 1 to 4")
    update = last_event(portal, shared)
    assert update.kind is EventKind.PUBLIC_UPDATE
    assert (update.payload["from"], update.payload["status"]) == (
        "waiting_for_customer",
        "pending_support",
    )
    assert names(update) == {"Alice Payer", "Agent Smith", "Agent Jones"}


def test_internal_notes_reach_agents_only(portal: Portal, shared: Ticket) -> None:
    portal.desk.add_note(portal.agent, shared.reference, "Old plan")
    note = last_event(portal, shared)
    assert note.kind is EventKind.INTERNAL_NOTE
    assert names(note) == {"Agent Jones"}
    feed = portal.desk.notifications(portal.alice)
    assert EventKind.INTERNAL_NOTE not in {entry.kind for entry in feed.notifications}


def test_internal_notes_reach_an_admin_collaborator(portal: Portal, shared: Ticket) -> None:
    portal.desk.add_collaborator(portal.alice, shared.reference, portal.admin.email)
    portal.desk.add_note(portal.agent, shared.reference, "Old plan")
    assert names(last_event(portal, shared)) == {"Agent Jones", "Admin"}


def feed_kinds(portal: Portal, contact: Contact) -> list[EventKind]:
    return [entry.kind for entry in portal.desk.notifications(contact, limit=500).notifications]


def test_a_collaborator_who_cannot_see_the_ticket_hears_nothing_of_it(
    portal: Portal, shared: Ticket, second_agent: Contact
) -> None:
    """Recipients go through the access scope, whatever list of people names them.

    Agent Jones collaborates, then moves to the other desk; the EDI agent was
    stored as a collaborator before agents of other desks were refused.
    """
    portal.desk.add_collaborator(portal.alice, shared.reference, second_agent.email)
    with portal.desk._store.unit_of_work() as work:
        work.participants.add_collaborator(
            Collaborator(
                ticket_id=shared.id,
                contact_id=portal.outsider_agent.id,
                added_by=portal.alice.id,
                added_at=portal.clock.now(),
            )
        )
    moved = portal.desk.add_contact(
        attrs.evolve(second_agent, desk_ids=frozenset({portal.other_desk.id}))
    )
    before = {contact.id: feed_kinds(portal, contact) for contact in (moved, portal.outsider_agent)}
    portal.desk.add_note(portal.agent, shared.reference, "Customer is on the old plan")
    assert names(last_event(portal, shared)) == set()
    portal.desk.attach(
        portal.agent, shared.reference, "plan.txt", io.BytesIO(b"old plan"), internal=True
    )
    assert names(last_event(portal, shared)) == set()
    portal.desk.share_update(portal.agent, shared.reference, "We are on it")
    assert names(last_event(portal, shared)) == {"Alice Payer", "Carol Provider"}
    portal.desk.share_update(portal.alice, shared.reference, "Thanks")
    assert names(last_event(portal, shared)) == {"Carol Provider", "Agent Smith"}
    for contact in (moved, portal.outsider_agent):
        with pytest.raises(NotFound):
            portal.desk.get_ticket(contact, shared.reference)
        assert feed_kinds(portal, contact) == before[contact.id]
    # Back on the ticket's desk, the agent sees it as staff again, and hears of notes.
    portal.desk.add_contact(attrs.evolve(moved, desk_ids=frozenset({portal.help_desk.id})))
    portal.desk.add_note(portal.agent, shared.reference, "Renewal due")
    assert names(last_event(portal, shared)) == {"Agent Jones"}
    assert sorted(feed_kinds(portal, moved)) == sorted([*before[moved.id], EventKind.INTERNAL_NOTE])


def test_a_collaborator_who_became_a_customer_gets_no_notes(
    portal: Portal, shared: Ticket, second_agent: Contact
) -> None:
    portal.desk.add_collaborator(portal.alice, shared.reference, second_agent.email)
    portal.desk.add_contact(attrs.evolve(second_agent, role=Role.CUSTOMER, desk_ids=frozenset()))
    portal.desk.add_note(portal.agent, shared.reference, "Old plan")
    assert names(last_event(portal, shared)) == set()
    portal.desk.share_update(portal.agent, shared.reference, "We are on it")
    assert names(last_event(portal, shared)) == {"Alice Payer", "Carol Provider", "Agent Jones"}


def test_collaborator_added_reaches_the_new_collaborator(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    added = last_event(portal, ticket)
    assert added.kind is EventKind.COLLABORATOR_ADDED
    assert names(added) == {"Carol Provider", "Agent Smith"}


def test_escalation_and_resolution(portal: Portal, shared: Ticket) -> None:
    portal.desk.escalate(portal.carol, shared.reference, "Urgent")
    escalated = last_event(portal, shared)
    assert escalated.kind is EventKind.ESCALATED
    assert escalated.payload["reason"] == "Urgent"
    assert names(escalated) == {"Alice Payer", "Agent Smith", "Agent Jones"}
    portal.desk.resolve(portal.alice, shared.reference)
    resolved = last_event(portal, shared)
    assert resolved.kind is EventKind.STATUS_CHANGED
    assert names(resolved) == {"Carol Provider", "Agent Smith", "Agent Jones"}


def test_reminders_reach_customers_and_timers_reach_everyone(
    portal: Portal, shared: Ticket
) -> None:
    portal.desk.ask_customer(portal.agent, shared.reference, "Which claims?")
    start = portal.clock.now()
    portal.clock.set(start + DAY)
    portal.desk.run_due_timers()
    reminder = last_event(portal, shared)
    assert reminder.kind is EventKind.REMINDER_DUE
    assert reminder.actor_id is None
    assert names(reminder) == {"Alice Payer", "Carol Provider"}
    portal.clock.set(start + 4 * DAY)
    portal.desk.run_due_timers()
    resolved = last_event(portal, shared)
    assert resolved.kind is EventKind.AUTO_RESOLVED
    assert resolved.payload["actor"] == "System"
    assert names(resolved) == {"Alice Payer", "Carol Provider", "Agent Smith", "Agent Jones"}
    portal.clock.set(start + 6 * DAY)
    portal.desk.run_due_timers()
    assert last_event(portal, shared).kind is EventKind.CLOSING_SOON
    assert names(last_event(portal, shared)) == {"Alice Payer", "Carol Provider"}


def test_follow_up_reaches_the_original_participants(portal: Portal, shared: Ticket) -> None:
    portal.desk.close(portal.alice, shared.reference)
    follow_up = portal.desk.share_update(portal.carol, shared.reference, "Again")
    created = last_event(portal, follow_up)
    assert created.kind is EventKind.FOLLOW_UP_CREATED
    assert created.payload["follow_up_of"] == shared.reference
    assert names(created) == {"Alice Payer", "Agent Jones", "Agent Smith"}


def test_muted_participants_hear_nothing(portal: Portal, shared: Ticket) -> None:
    portal.desk.set_notifications(portal.carol, shared.reference, False)
    portal.desk.set_notifications(portal.agent, shared.reference, False)
    portal.desk.share_update(portal.alice, shared.reference, "Any news?")
    assert names(last_event(portal, shared)) == {"Agent Jones"}
    portal.desk.set_notifications(portal.carol, shared.reference, True)
    portal.desk.share_update(portal.alice, shared.reference, "Hello?")
    assert names(last_event(portal, shared)) == {"Carol Provider", "Agent Jones"}


def test_recipients_are_fixed_when_the_event_is_written(portal: Portal, shared: Ticket) -> None:
    portal.desk.share_update(portal.agent, shared.reference, "Done soon")
    before = last_event(portal, shared)
    portal.desk.remove_collaborator(portal.alice, shared.reference, portal.carol.id)
    portal.desk.resolve(portal.agent, shared.reference, "Fixed")
    assert "Carol Provider" in names(before)
    assert "Carol Provider" not in names(last_event(portal, shared))
    seen: list[Event] = []
    portal.desk.dispatch_notifications(seen.append)
    assert {e.id: e for e in seen}[before.id] == before


def test_the_actor_is_never_notified_and_customers_never_get_notes(
    portal: Portal, shared: Ticket
) -> None:
    desk = portal.desk
    desk.share_update(portal.alice, shared.reference, "More")
    desk.add_note(portal.agent, shared.reference, "secret")
    desk.ask_customer(portal.agent, shared.reference, "Which?")
    desk.share_update(portal.carol, shared.reference, "These")
    desk.escalate(portal.alice, shared.reference)
    desk.resolve(portal.agent, shared.reference, "Done")
    desk.reopen(portal.agent, shared.reference)
    desk.close(portal.alice, shared.reference)
    customers = {portal.alice.id, portal.carol.id}
    for event in events(portal, shared):
        ids = {recipient.contact_id for recipient in event.recipients}
        # But for the confirmation of their own request.
        assert (event.actor_id in ids) == (event.kind is EventKind.TICKET_RECEIVED)
        if event.kind is EventKind.INTERNAL_NOTE:
            assert not ids & customers


def test_events_round_trip_as_data(portal: Portal, shared: Ticket) -> None:
    for event in events(portal, shared):
        assert from_data(to_data(event), Event) == event
    entry = OutboxEntry(event=events(portal, shared)[0], next_attempt_at=portal.clock.now())
    assert from_data(to_data(entry), OutboxEntry) == entry
    recipient = Recipient.of(portal.agent)
    assert from_data(to_data(recipient), Recipient) == recipient
    (note,) = portal.desk.notifications(portal.agent, limit=1).notifications
    assert from_data(to_data(note), Notification) == note


# Payloads follow the transition that caused them.


def test_reopen_says_reopened_and_close_carries_the_latest_resolution(
    portal: Portal, shared: Ticket
) -> None:
    desk = portal.desk
    desk.resolve(portal.agent, shared.reference, "Reloaded the claims")
    first = last_event(portal, shared)
    assert (first.payload["to"], first.payload["resolution"]) == ("resolved", "Reloaded the claims")
    desk.reopen(portal.agent, shared.reference)
    reopened = last_event(portal, shared)
    assert (reopened.payload["trigger"], reopened.payload["to"]) == ("reopen", "pending_support")
    assert "resolution" not in reopened.payload
    portal.clock.advance(timedelta(hours=1))
    desk.resolve(portal.agent, shared.reference, "Fixed the feed")
    desk.close(portal.alice, shared.reference)
    closed = last_event(portal, shared)
    assert (closed.payload["to"], closed.payload["resolution"]) == ("closed", "Fixed the feed")
    assert closed.payload["resolved_at"] == portal.clock.now().isoformat()
    assert first.payload["resolution"] == "Reloaded the claims"


def test_auto_close_after_reopen_carries_the_latest_resolution(
    portal: Portal, shared: Ticket
) -> None:
    portal.desk.resolve(portal.agent, shared.reference, "First fix")
    portal.desk.reopen(portal.agent, shared.reference)
    portal.desk.resolve(portal.agent, shared.reference, "Second fix")
    portal.clock.advance(4 * DAY)
    portal.desk.run_due_timers()
    closed = last_event(portal, shared)
    assert closed.kind is EventKind.AUTO_CLOSED
    assert closed.payload["resolution"] == "Second fix"


def test_closing_an_open_ticket_resolves_it_with_the_comment(
    portal: Portal, shared: Ticket
) -> None:
    portal.desk.resolve(portal.agent, shared.reference, "Old fix")
    portal.desk.reopen(portal.agent, shared.reference)
    portal.desk.close(portal.alice, shared.reference, "No longer needed")
    closed = last_event(portal, shared)
    assert closed.payload["resolution"] == "No longer needed"


# The outbox is transactional.


class FailingStore:
    """A memory store whose units of work fail when a chosen method is called."""

    def __init__(self, failing: str) -> None:
        self.inner = MemoryStore()
        self.failing: str | None = None
        self._name = failing

    def arm(self) -> None:
        self.failing = self._name

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self.inner.unit_of_work() as work:
            yield cast(UnitOfWork, _Failing(work, self.failing))

    def close(self) -> None:
        self.inner.close()


class _Failing:
    """A unit of work, or one of its areas, whose ``failing`` method (``"outbox.add"``) raises."""

    def __init__(self, wrapped: Any, failing: str | None) -> None:
        self._wrapped = wrapped
        self._failing = failing

    def __getattr__(self, name: str) -> Any:
        area, _, method = (self._failing or "").partition(".")
        if method and name == area:
            return _Failing(getattr(self._wrapped, name), method)
        if name == self._failing:
            raise RuntimeError(f"{name} failed")
        return getattr(self._wrapped, name)


@pytest.mark.parametrize("failing", ["outbox.add", "feed.add"])
def test_a_failing_use_case_leaves_neither_change_nor_events(portal: Portal, failing: str) -> None:
    store = FailingStore(failing)
    failing_portal = build_portal(store, portal.clock)
    ticket = failing_portal.open()
    before_events = events(failing_portal, ticket)
    unread = failing_portal.desk.unread_count(failing_portal.agent)
    store.arm()
    with pytest.raises(RuntimeError):
        failing_portal.desk.resolve(failing_portal.alice, ticket.reference, "Fixed")
    store.failing = None
    assert failing_portal.desk.get_ticket(failing_portal.alice, ticket.reference) == ticket
    assert events(failing_portal, ticket) == before_events
    assert failing_portal.desk.unread_count(failing_portal.agent) == unread


# Dispatch.


class Recorder:
    """A handler that records what it got and fails while told to."""

    def __init__(self) -> None:
        self.got: list[Event] = []
        self.failing: set[str] = set()
        self.calls = 0

    def __call__(self, event: Event) -> None:
        self.calls += 1
        if event.id in self.failing:
            raise ConnectionError("SMTP down")
        self.got.append(event)


def test_dispatch_delivers_each_event_once(portal: Portal, shared: Ticket) -> None:
    written = events(portal)
    handler = Recorder()
    report = portal.desk.dispatch_notifications(handler)
    assert [e.id for e in handler.got] == [e.id for e in written]
    assert report.delivered == tuple(e.id for e in written)
    assert portal.desk.dispatch_notifications(handler).attempted == 0
    assert handler.calls == len(written)


def test_dispatch_limit_and_order_per_ticket(portal: Portal) -> None:
    one, two = portal.open(), portal.open(portal.bob)
    for n in range(3):
        portal.desk.share_update(portal.agent, one.reference, f"one {n}")
        portal.desk.share_update(portal.agent, two.reference, f"two {n}")
    handler = Recorder()
    assert len(portal.desk.dispatch_notifications(handler, limit=3).delivered) == 3
    portal.desk.dispatch_notifications(handler)
    for ticket in (one, two):
        got = [e.id for e in handler.got if e.ticket_id == ticket.id]
        assert got == [e.id for e in events(portal, ticket)]
    with pytest.raises(ValidationError):
        portal.desk.dispatch_notifications(handler, limit=0)


def test_failure_is_retried_after_backoff_and_holds_back_the_ticket(
    portal: Portal, shared: Ticket
) -> None:
    handler = Recorder()
    portal.desk.dispatch_notifications(handler)
    portal.desk.share_update(portal.agent, shared.reference, "first")
    portal.desk.share_update(portal.agent, shared.reference, "second")
    other = portal.open(portal.bob)
    first, second = events(portal, shared)[-2:]
    handler.failing = {first.id}
    report = portal.desk.dispatch_notifications(handler)
    (retrying,) = report.retrying
    assert retrying.event.id == first.id
    assert (retrying.attempts, retrying.last_error) == (1, "ConnectionError: SMTP down")
    assert retrying.next_attempt_at == portal.clock.now() + timedelta(minutes=1)
    assert report.delivered == tuple(e.id for e in events(portal, other))
    handler.failing.clear()
    portal.clock.advance(timedelta(seconds=59))
    assert portal.desk.dispatch_notifications(handler).attempted == 0
    portal.clock.advance(timedelta(seconds=1))
    assert portal.desk.dispatch_notifications(handler).delivered == (first.id, second.id)


def test_poison_event_is_parked_after_max_attempts(portal: Portal) -> None:
    portal.desk.retry_policy = RetryPolicy(max_attempts=3, first_delay=timedelta(minutes=1))
    ticket = portal.open()
    poison, received = events(portal, ticket)
    portal.desk.share_update(portal.agent, ticket.reference, "after the poison")
    handler = Recorder()
    handler.failing = {poison.id}
    delays = []
    for _ in range(2):
        (entry,) = portal.desk.dispatch_notifications(handler).retrying
        delays.append(entry.next_attempt_at - portal.clock.now())
        portal.clock.advance(timedelta(hours=1))
    assert delays == [timedelta(minutes=1), timedelta(minutes=2)]
    report = portal.desk.dispatch_notifications(handler)
    (parked,) = report.parked
    assert (parked.event.id, parked.state, parked.attempts) == (poison.id, DeliveryState.PARKED, 3)
    assert [e.id for e in handler.got] == [received.id, last_event(portal, ticket).id]
    assert [e.event.id for e in portal.desk.list_undelivered(portal.admin)] == [poison.id]
    portal.clock.advance(DAY)
    assert portal.desk.dispatch_notifications(handler).attempted == 0
    handler.failing.clear()
    portal.desk.retry_notification(portal.admin, poison.id)
    assert portal.desk.dispatch_notifications(handler).delivered == (poison.id,)
    assert portal.desk.list_undelivered(portal.admin) == []
    with pytest.raises(NotFound):
        portal.desk.retry_notification(portal.admin, poison.id)


def test_outbox_is_for_admins(portal: Portal) -> None:
    with pytest.raises(PermissionDenied):
        portal.desk.list_undelivered(portal.agent)
    with pytest.raises(PermissionDenied):
        portal.desk.retry_notification(portal.alice, "x")
    portal.open()
    pending = portal.desk.list_undelivered(portal.admin, state=DeliveryState.PENDING)
    assert [e.event.kind for e in pending] == [EventKind.TICKET_CREATED, EventKind.TICKET_RECEIVED]


def test_a_crashed_dispatcher_lease_ends_and_the_event_goes_again(portal: Portal) -> None:
    ticket = portal.open()

    def crash(event: Event) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        portal.desk.dispatch_notifications(crash)
    handler = Recorder()
    assert portal.desk.dispatch_notifications(handler).attempted == 0
    portal.clock.advance(portal.desk.retry_policy.lease)
    portal.desk.dispatch_notifications(handler)
    assert [e.ticket_id for e in handler.got] == [ticket.id, ticket.id]


def test_retry_policy_backoff_is_capped() -> None:
    policy = RetryPolicy(
        max_attempts=10, first_delay=timedelta(minutes=1), max_delay=timedelta(minutes=5)
    )
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=5),
    ]
    assert policy.delay(10) is None


# Leases have an owner: only the dispatcher holding an event records its outcome.


def outbox_entry(portal: Portal, event_id: str) -> OutboxEntry:
    with portal.desk._store.unit_of_work() as work:
        (entry,) = [e for e in work.outbox.find(limit=1000) if e.event.id == event_id]
    return entry


def test_a_handler_slower_than_its_lease_is_not_acknowledged(portal: Portal) -> None:
    """Its event goes to another dispatcher, whose word alone counts."""
    event = lone_event(portal)
    lease = portal.desk.retry_policy.lease
    other = Recorder()
    inner: list[Any] = []

    def slow(got: Event) -> None:
        portal.clock.advance(lease + timedelta(seconds=1))
        # Meanwhile another worker takes the event over and delivers it.
        inner.append(portal.desk.dispatch_notifications(other, dispatcher="worker-2"))

    report = portal.desk.dispatch_notifications(slow, dispatcher="worker-1")
    assert (report.dispatcher, report.delivered, report.stale) == ("worker-1", (), (event.id,))
    assert report.attempted == 1
    assert inner[0].delivered == (event.id,) and [e.id for e in other.got] == [event.id]
    delivered = outbox_entry(portal, event.id)
    assert (delivered.state, delivered.attempts, delivered.claimed_by) == (
        DeliveryState.DELIVERED,
        0,
        None,
    )


def test_a_stale_failure_changes_nothing(portal: Portal) -> None:
    event = lone_event(portal)
    lease = portal.desk.retry_policy.lease

    def slow_then_failing(got: Event) -> None:
        portal.clock.advance(lease)
        assert portal.desk.dispatch_notifications(lambda e: None).delivered == (event.id,)
        raise ConnectionError("SMTP down, too late")

    report = portal.desk.dispatch_notifications(slow_then_failing)
    assert (report.retrying, report.parked, report.stale) == ((), (), (event.id,))
    entry = outbox_entry(portal, event.id)
    assert (entry.state, entry.attempts, entry.last_error) == (DeliveryState.DELIVERED, 0, None)


def test_a_handler_extends_its_lease_to_keep_its_event(portal: Portal) -> None:
    event = lone_event(portal)
    lease = portal.desk.retry_policy.lease
    taken_over: list[int] = []
    extended: list[bool] = []

    def long_mailing(got: Event) -> None:
        for _ in range(3):  # three chunks, each most of a lease long
            portal.clock.advance(lease - timedelta(seconds=1))
            extended.append(portal.desk.extend_notification_lease(got.id))
            taken_over.append(portal.desk.dispatch_notifications(Recorder()).attempted)

    report = portal.desk.dispatch_notifications(long_mailing)
    assert report.delivered == (event.id,) and report.stale == ()
    assert extended == [True, True, True] and taken_over == [0, 0, 0]


def test_a_lease_is_extended_by_its_dispatcher_only(portal: Portal) -> None:
    event = lone_event(portal)
    desk, lease = portal.desk, portal.desk.retry_policy.lease
    with pytest.raises(ValidationError) as caught:
        desk.extend_notification_lease(event.id)  # no handler runs here
    assert set(caught.value.errors) == {"dispatcher"}
    seen: list[tuple[bool, ...]] = []

    def handler(got: Event) -> None:
        now = portal.clock.now()
        seen.append(
            (
                desk.extend_notification_lease(got.id, "someone-else"),
                desk.extend_notification_lease("no-such-event"),
                desk.extend_notification_lease(got.id, "mine"),
            )
        )
        assert outbox_entry(portal, got.id).claimed_until == now + lease

    assert desk.dispatch_notifications(handler, dispatcher="mine").delivered == (event.id,)
    assert seen == [(False, False, True)]
    assert not desk.extend_notification_lease(event.id, "mine")  # delivered: held by nobody
    for bad in ("", "a\nb", "x" * 65):
        with pytest.raises(ValidationError):
            desk.dispatch_notifications(handler, dispatcher=bad)


def test_each_dispatch_is_a_dispatcher_of_its_own(portal: Portal) -> None:
    portal.open()
    owners: list[str | None] = []

    def handler(got: Event) -> None:
        owners.append(outbox_entry(portal, got.id).claimed_by)

    first = portal.desk.dispatch_notifications(handler)
    portal.open(portal.bob)
    second = portal.desk.dispatch_notifications(handler)
    assert owners == [first.dispatcher] * 2 + [second.dispatcher] * 2
    assert first.dispatcher != second.dispatcher


def _three_replies_waiting(portal: Portal) -> list[str]:
    """Three tickets' replies waiting in the outbox, one batch's worth: their event ids."""
    tickets = portal.open(), portal.open(portal.bob), portal.open(portal.carol)
    portal.desk.dispatch_notifications(Recorder())
    for ticket in tickets:
        portal.desk.share_update(portal.agent, ticket.reference, "A reply")
    return [last_event(portal, ticket).id for ticket in tickets]


def test_an_event_late_in_a_batch_is_renewed_or_left_to_its_new_owner(portal: Portal) -> None:
    """Events wait for those before them in the batch; their lease must not run out unseen."""
    ids = _three_replies_waiting(portal)
    lease = portal.desk.retry_policy.lease
    handled: list[str] = []
    other = Recorder()

    def handler(got: Event) -> None:
        handled.append(got.id)
        if got.id == ids[0]:
            # Most of the lease: the next event's lease is renewed before it goes.
            portal.clock.advance(lease - timedelta(seconds=30))
        elif got.id == ids[1]:
            # Past the third's first lease: another worker takes it meanwhile.
            portal.clock.advance(timedelta(minutes=1))
            portal.desk.dispatch_notifications(other)

    report = portal.desk.dispatch_notifications(handler)
    assert report.delivered == (ids[0], ids[1]) and report.stale == (ids[2],)
    assert handled == ids[:2]  # the third was never handed over twice at once
    assert [e.id for e in other.got] == [ids[2]]


def test_a_handler_past_the_lease_never_costs_the_events_before_it(portal: Portal) -> None:
    """Each delivery is recorded before the next handler runs, however long that one takes."""
    ids = _three_replies_waiting(portal)
    other = Recorder()

    def handler(got: Event) -> None:
        if got.id == ids[1]:
            # Began with its whole lease; a slow SMTP server keeps it past the end.
            portal.clock.advance(portal.desk.retry_policy.lease + timedelta(seconds=1))
            portal.desk.dispatch_notifications(other)  # another worker meanwhile

    report = portal.desk.dispatch_notifications(handler)
    assert ids[0] in report.delivered and ids[0] not in [e.id for e in other.got]
    assert [e.id for e in other.got] == ids[1:] and report.stale == (ids[1], ids[2])


def test_an_event_delivered_by_another_and_purged_meanwhile_is_stale(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.dispatch_notifications(Recorder())
    portal.desk.share_update(portal.agent, ticket.reference, "A reply")
    event = last_event(portal, ticket)
    lease = portal.desk.retry_policy.lease

    def handler(got: Event) -> None:
        portal.clock.advance(lease + timedelta(seconds=1))
        portal.desk.dispatch_notifications(Recorder())  # another worker delivers it
        portal.clock.advance(timedelta(days=1))
        portal.desk.purge(timedelta(hours=1))  # and the purge removes it

    report = portal.desk.dispatch_notifications(handler)
    assert report.stale == (event.id,) and report.delivered == ()


def test_an_interrupted_dispatch_keeps_what_it_delivered(portal: Portal) -> None:
    """Outcomes are recorded per batch; an interrupt records those already in hand."""
    portal.open()
    portal.open(portal.bob)
    delivered: list[str] = []

    def handler(got: Event) -> None:
        if len(delivered) == 2:
            raise KeyboardInterrupt
        delivered.append(got.id)

    with pytest.raises(KeyboardInterrupt):
        portal.desk.dispatch_notifications(handler)
    assert [outbox_entry(portal, n).state for n in delivered] == [DeliveryState.DELIVERED] * 2
    rest = Recorder()
    portal.clock.advance(portal.desk.retry_policy.lease)  # the interrupted batch's lease ends
    portal.desk.dispatch_notifications(rest)
    assert not {e.id for e in rest.got} & set(delivered) and len(rest.got) == 2


# The feed.


def test_feed_unread_counts_and_mark_read(portal: Portal, shared: Ticket) -> None:
    desk = portal.desk
    assert desk.unread_count(portal.alice) == 2  # received, assigned
    for body in ("one", "two"):
        portal.clock.advance(timedelta(minutes=1))
        desk.share_update(portal.agent, shared.reference, body)
    feed = desk.notifications(portal.alice)
    assert feed.unread == 4
    assert [n.payload.get("body") for n in feed.notifications] == ["two", "one", None, None]
    assert feed.notifications[0].ticket_id == shared.id
    assert desk.mark_read(portal.alice, feed.notifications[0].id) == 1
    assert desk.unread_count(portal.alice) == 3
    assert desk.mark_read(portal.alice, feed.notifications[0].id) == 0
    unread = desk.notifications(portal.alice, unread_only=True).notifications
    assert [n.payload.get("body") for n in unread] == ["one", None, None]
    with pytest.raises(NotFound):
        desk.mark_read(portal.carol, feed.notifications[1].id)
    assert desk.mark_read(portal.alice) == 3
    assert desk.unread_count(portal.alice) == 0
    assert desk.unread_count(portal.agent) > 0


def test_feed_pages(portal: Portal) -> None:
    ticket = portal.open()
    for n in range(5):
        portal.clock.advance(timedelta(minutes=1))
        portal.desk.share_update(portal.agent, ticket.reference, f"update {n}")
    first = portal.desk.notifications(portal.alice, limit=2)
    assert first.next_cursor is not None
    second = portal.desk.notifications(portal.alice, limit=2, cursor=first.next_cursor)
    third = portal.desk.notifications(portal.alice, limit=2, cursor=second.next_cursor)
    bodies = [n.payload.get("body") for page in (first, second, third) for n in page.notifications]
    assert bodies == [*(f"update {n}" for n in (4, 3, 2, 1, 0)), None]  # then the confirmation
    assert third.next_cursor is None
    with pytest.raises(ValidationError):
        portal.desk.notifications(portal.alice, cursor="garbage!")


# Notification settings: e-mail per kind, the feed always.


def test_every_kind_is_mailed_until_switched_off(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    assert desk.get_notification_settings(alice) == NotificationSettings(contact_id=alice.id)
    quiet = desk.set_notification_settings(
        alice,
        {EventKind.PUBLIC_UPDATE: False, "status_changed": False},  # type: ignore[dict-item]
    )
    assert quiet.email_off == {EventKind.PUBLIC_UPDATE, EventKind.STATUS_CHANGED}
    # Kinds not named keep their setting.
    again = desk.set_notification_settings(alice, {EventKind.PUBLIC_UPDATE: True})
    assert again.email_off == {EventKind.STATUS_CHANGED}
    assert desk.get_notification_settings(alice) == again
    assert not again.emails(EventKind.STATUS_CHANGED) and again.emails(EventKind.PUBLIC_UPDATE)
    assert desk.get_notification_settings(portal.bob).email_off == frozenset()


def test_a_kind_switched_off_reaches_the_feed_but_not_the_mail(
    portal: Portal, shared: Ticket
) -> None:
    desk = portal.desk
    desk.set_notification_settings(portal.alice, {EventKind.PUBLIC_UPDATE: False})
    would_send = desk.preview_notifications(
        lambda d: d.share_update(portal.agent, shared.reference, "Preview")
    )
    assert [names(event) for event in would_send] == [{"Carol Provider", "Agent Jones"}]
    desk.share_update(portal.agent, shared.reference, "We are on it")
    update = last_event(portal, shared)
    assert names(update) == {"Carol Provider", "Agent Jones"}
    (entry,) = [
        n for n in desk.notifications(portal.alice).notifications if n.event_id == update.id
    ]
    assert entry.payload["body"] == "We are on it"
    handler = Recorder()
    desk.dispatch_notifications(handler)
    (sent,) = [event for event in handler.got if event.id == update.id]
    assert portal.alice.id not in {r.contact_id for r in sent.recipients}
    # Other kinds still reach her by e-mail.
    desk.ask_customer(portal.agent, shared.reference, "Which claims?")
    assert "Alice Payer" in names(last_event(portal, shared))


def test_account_emails_are_always_sent(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    for kind in (EventKind.SIGNUP_REQUESTED, EventKind.APPROVED, EventKind.APPROVAL_NEEDED):
        with pytest.raises(ValidationError) as refused:
            desk.set_notification_settings(alice, {EventKind.PUBLIC_UPDATE: False, kind: False})
        assert "account e-mails are always sent" in refused.value.errors["email"]
    with pytest.raises(ValidationError):
        desk.set_notification_settings(alice, {"no_such_kind": False})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        desk.set_notification_settings(alice, {EventKind.PUBLIC_UPDATE: "off"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        desk.set_notification_settings(alice, [EventKind.PUBLIC_UPDATE])  # type: ignore[arg-type]
    assert desk.get_notification_settings(alice).email_off == frozenset()  # nothing stored


def test_a_settings_page_lists_the_e_mails_the_person_can_get(portal: Portal) -> None:
    customer, agent = email_options(portal.alice), email_options(portal.agent)
    assert EventKind.INTERNAL_NOTE not in customer and EventKind.TICKET_CREATED not in customer
    assert {EventKind.REMINDER_DUE, EventKind.TICKET_RECEIVED} <= customer
    assert agent == EMAIL_OPTIONAL  # staff raise tickets too, and are reminded of them
    with pytest.raises(TypeError, match="contact"):
        email_options("alice@acme.test")  # type: ignore[arg-type]
    # Each is one the person may switch off.
    portal.desk.set_notification_settings(portal.agent, dict.fromkeys(agent, False))
    assert portal.desk.get_notification_settings(portal.agent).email_off == agent


def test_only_admins_see_or_change_someone_elses_settings(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    off = {EventKind.ASSIGNED: False}
    for other in (portal.bob, portal.agent):
        with pytest.raises(PermissionDenied):
            desk.set_notification_settings(other, off, contact_id=alice.id)
        with pytest.raises(PermissionDenied):
            desk.get_notification_settings(other, contact_id=alice.id)
    desk.set_notification_settings(alice, off, contact_id=alice.id)  # one's own id is fine
    bouncing = desk.set_notification_settings(
        portal.admin, {EventKind.PUBLIC_UPDATE: False}, contact_id=alice.id
    )
    assert bouncing.email_off == {EventKind.ASSIGNED, EventKind.PUBLIC_UPDATE}
    assert desk.get_notification_settings(portal.admin, contact_id=alice.id) == bouncing
    with pytest.raises(NotFound):
        desk.set_notification_settings(portal.admin, off, contact_id="no-such-contact")


# Previews.


def test_preview_shows_what_would_be_sent_and_keeps_nothing(portal: Portal, shared: Ticket) -> None:
    before = events(portal)
    unread = portal.desk.unread_count(portal.alice)
    preview = portal.desk.preview_notifications(
        lambda desk: desk.resolve(portal.agent, shared.reference, "Fixed")
    )
    (resolved,) = preview
    assert resolved.kind is EventKind.STATUS_CHANGED
    assert names(resolved) == {"Alice Payer", "Carol Provider", "Agent Jones"}
    assert events(portal) == before
    assert portal.desk.get_ticket(portal.alice, shared.reference) == shared
    assert portal.desk.unread_count(portal.alice) == unread


def test_preview_does_not_burn_reference_numbers(portal: Portal) -> None:
    created, received = portal.desk.preview_notifications(
        lambda desk: build_on(desk, portal).open()
    )
    assert created.payload["reference"] == received.payload["reference"] == "HHA-1"
    assert portal.open().reference == "HHA-1"


def test_preview_propagates_errors(portal: Portal, shared: Ticket) -> None:
    with pytest.raises(PermissionDenied):
        portal.desk.preview_notifications(
            lambda desk: desk.add_note(portal.alice, shared.reference, "x")
        )
    assert portal.desk.dispatch_notifications(Recorder()).attempted == len(events(portal))


def build_on(desk: SupportDesk, portal: Portal) -> Portal:
    return attrs.evolve(portal, desk=desk)
