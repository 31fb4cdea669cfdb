"""SLA targets on a desk: warnings and breaches as timers, pauses that move them, met targets
that fire nothing, clocks on the ticket page; on every store."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk import (
    ActivityKind,
    BusinessCalendar,
    Contact,
    Desk,
    EventKind,
    FakeClock,
    InvalidTransition,
    Page,
    PermissionDenied,
    Priority,
    RequestType,
    Role,
    SlaMetric,
    SlaPolicy,
    SlaState,
    SlaTarget,
    Submission,
    SupportDesk,
    Ticket,
    TicketList,
    TicketSort,
    ValidationError,
)
from supportdesk.storage.memory import MemoryStore
from supportdesk.storage.protocol import Store

LONDON = ZoneInfo("Europe/London")
OFFICE = BusinessCalendar(
    timezone=LONDON, opens=time(9), closes=time(17), holidays=frozenset({date(2026, 3, 27)})
)
FIRST_RESPONSE = SlaTarget(metric=SlaMetric.FIRST_RESPONSE, within=timedelta(hours=2))
RESOLUTION = SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(days=1))
POLICIES = (
    SlaPolicy(desk="HHA", targets=(FIRST_RESPONSE, RESOLUTION)),
    SlaPolicy(
        desk="HHA",
        priority=Priority.HIGHEST,
        targets=(SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(hours=4)),),
    ),
)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A London wall time in March 2026 (summer time from Sunday the 29th), in UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@attrs.frozen
class World:
    desk: SupportDesk
    store: Store
    clock: FakeClock
    alice: Contact
    agent: Contact
    general: RequestType

    def open(self) -> Ticket:
        return self.desk.open_ticket(self.alice, self.general.id, Submission(summary="Help"))

    def at(self, when: datetime) -> int:
        """Move the clock to ``when`` and sweep; how many timers fired (reminders too)."""
        self.clock.set(when)
        return self.desk.run_due_timers().fired

    def sla_entries(self, ticket: Ticket) -> list[tuple[ActivityKind, str]]:
        entries = self.desk.view_ticket(self.agent, ticket.reference).activities
        kinds = (ActivityKind.SLA_WARNING, ActivityKind.SLA_BREACHED, ActivityKind.SLA_MET)
        return [(e.kind, e.data["metric"]) for e in entries if e.kind in kinds]

    def clocks(self, ticket: Ticket) -> dict[SlaMetric, object]:
        return {c.metric: c for c in self.desk.view_ticket(self.agent, ticket.reference).sla}


THURSDAY_4PM = local(26, 16)


def world_on(store: Store) -> World:
    clock = FakeClock(THURSDAY_4PM)
    desk = SupportDesk(store, clock=clock, calendars={"office": OFFICE}, sla_policies=POLICIES)
    help_desk = desk.add_desk(Desk(key="HHA", name="Help", calendar="office"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    agent = desk.add_contact(
        Contact(
            email="agent@desk.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    return World(desk, store, clock, alice, agent, general)


def test_a_warning_then_a_breach_each_fire_once_on_working_time(store: Store) -> None:
    world = world_on(store)
    ticket = world.open()  # Thursday 16:00; Friday is a holiday, then the weekend
    # Three quarters of two hours: 16:00-17:00, then Monday 09:00-09:30 (summer time).
    assert world.at(local(30, 9, 29)) == 0
    assert world.at(local(30, 9, 30)) == 1
    assert world.at(local(30, 10)) == 1
    assert world.sla_entries(ticket) == [
        (ActivityKind.SLA_WARNING, "first_response"),
        (ActivityKind.SLA_BREACHED, "first_response"),
    ]
    assert world.at(local(30, 13, 59)) == 0  # nothing is told twice; resolution warns at 14:00
    staff_feed = world.desk.notifications(world.agent).notifications
    assert [n.kind for n in staff_feed if n.kind.value.startswith("sla")] == [
        EventKind.SLA_BREACHED,
        EventKind.SLA_WARNING,
    ]
    customer_feed = world.desk.notifications(world.alice).notifications
    assert not [n for n in customer_feed if n.kind.value.startswith("sla")]
    assert world.desk.view_ticket(world.alice, ticket.reference).sla == ()


def test_a_met_target_fires_nothing_and_says_it_was_met(store: Store) -> None:
    world = world_on(store)
    ticket = world.open()
    world.clock.set(local(26, 16, 40))
    world.desk.share_update(world.agent, ticket.reference, "Looking into it")
    first = world.clocks(ticket)[SlaMetric.FIRST_RESPONSE]
    assert first.state is SlaState.MET and first.met_at == local(26, 16, 40)
    world.at(local(30, 14))  # the resolution's warning; the reply's timers fire nothing
    assert world.sla_entries(ticket) == [
        (ActivityKind.SLA_MET, "first_response"),
        (ActivityKind.SLA_WARNING, "resolution"),
    ]


def test_a_pause_moves_the_breach_and_recomputing_gives_the_running_clock(store: Store) -> None:
    world = world_on(store)
    ticket = world.open()
    world.clock.set(local(26, 16, 30))
    world.desk.ask_customer(world.agent, ticket.reference, "Which claims?")
    resolution = world.clocks(ticket)[SlaMetric.RESOLUTION]
    assert (resolution.state, resolution.elapsed) == (SlaState.PAUSED, timedelta(minutes=30))
    world.at(local(30, 16, 30))  # unpaused it would breach here
    assert world.sla_entries(ticket) == [(ActivityKind.SLA_MET, "first_response")]
    world.desk.share_update(world.alice, ticket.reference, "Claims of May")  # Monday 16:30
    resolution = world.clocks(ticket)[SlaMetric.RESOLUTION]
    assert resolution.paused == timedelta(hours=8)  # 16:30-17:00, then Monday 09:00-16:30
    # 7h30 left from Monday 16:30: 30 minutes, then Tuesday 09:00-16:00.
    assert resolution.due_at == local(31, 16)
    with world.store.unit_of_work() as work:
        pending = {t.name: t.due_at for t in work.timers.list_pending(ticket.id)}
    assert pending["sla:resolution:breach"] == resolution.due_at
    world.at(local(31, 15, 59))  # the warning (75% = 6h, Tuesday 14:00)
    world.at(local(31, 16))
    assert world.sla_entries(ticket)[1:] == [
        (ActivityKind.SLA_WARNING, "resolution"),
        (ActivityKind.SLA_BREACHED, "resolution"),
    ]
    assert world.clocks(ticket)[SlaMetric.RESOLUTION].breached_at == local(31, 16)


def test_resolving_straight_from_a_pause_keeps_the_pause_and_meets_the_target(
    store: Store,
) -> None:
    world = world_on(store)
    ticket = world.open()
    world.clock.set(local(26, 16, 30))
    world.desk.ask_customer(world.agent, ticket.reference, "Is it fixed for you?")
    world.clock.set(local(30, 11))
    world.desk.resolve(world.alice, ticket.reference)
    resolution = world.clocks(ticket)[SlaMetric.RESOLUTION]
    assert (resolution.state, resolution.elapsed, resolution.paused) == (
        SlaState.MET,
        timedelta(minutes=30),
        timedelta(hours=2, minutes=30),
    )
    world.at(local(31, 17))
    assert world.sla_entries(ticket) == [
        (ActivityKind.SLA_MET, "first_response"),
        (ActivityKind.SLA_MET, "resolution"),
    ]


def test_the_most_specific_policy_applies_and_follows_an_escalation(store: Store) -> None:
    world = world_on(store)
    ticket = world.open()
    assert world.clocks(ticket)[SlaMetric.RESOLUTION].target == timedelta(hours=8)
    world.desk.set_priority(world.agent, ticket.reference, Priority.HIGHEST)
    clocks = world.clocks(ticket)
    assert list(clocks) == [SlaMetric.RESOLUTION]
    assert clocks[SlaMetric.RESOLUTION].due_at == local(30, 12)
    world.at(local(30, 11))
    world.at(local(30, 12))
    # The first response's timers find no target of the new policy: they fire nothing.
    assert world.sla_entries(ticket) == [
        (ActivityKind.SLA_WARNING, "resolution"),
        (ActivityKind.SLA_BREACHED, "resolution"),
    ]


def test_a_desk_refuses_targets_its_calendar_cannot_count(store: Store) -> None:
    odd = SlaPolicy(
        desk="ODD",
        targets=(SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(hours=12)),),
    )
    desk = SupportDesk(store, calendars={"office": OFFICE}, sla_policies=(odd,))
    with pytest.raises(ValidationError) as refused:
        desk.add_desk(Desk(key="ODD", name="Odd", calendar="office"))
    assert "SLA target 'resolution'" in refused.value.errors["calendar"]


# --- random histories ------------------------------------------------------------------------


def _random_history(world: World, rnd: random.Random) -> Ticket:
    """A ticket pushed around at random, with sweeps in between."""
    ticket = world.open()
    desk, ref = world.desk, ticket.reference
    moves = [
        lambda: desk.share_update(world.agent, ref, "From support"),
        lambda: desk.ask_customer(world.agent, ref, "Question"),
        lambda: desk.share_update(world.alice, ref, "Answer"),
        lambda: desk.wait_for(world.agent, ref, "Supplier"),
        lambda: desk.resolve(world.agent, ref),
        lambda: desk.reopen(world.agent, ref),
        lambda: desk.set_priority(world.agent, ref, rnd.choice(list(Priority))),
    ]
    for _ in range(rnd.randint(1, 8)):
        world.at(world.clock.now() + timedelta(minutes=rnd.randint(1, 2 * 24 * 60)))
        with contextlib.suppress(InvalidTransition):  # a move the status does not allow
            rnd.choice(moves)()
    return ticket


@pytest.mark.parametrize("seed", range(12))
def test_random_histories_tell_each_warning_and_breach_at_most_once(
    store: Store, seed: int
) -> None:
    world = world_on(store)
    rnd = random.Random(seed)
    tickets = [_random_history(world, rnd) for _ in range(2)]
    world.at(world.clock.now() + timedelta(days=30))
    for ticket in tickets:
        told = Counter(world.sla_entries(ticket))
        for (kind, metric), times in told.items():
            if kind is not ActivityKind.SLA_MET:
                assert times == 1, (kind, metric, seed)
        for clock in world.clocks(ticket).values():
            breached = (ActivityKind.SLA_BREACHED, clock.metric.value) in told
            assert breached == (clock.state is SlaState.BREACHED), (clock, seed)
            assert clock.state is not SlaState.RUNNING or clock.due_at > world.clock.now()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_histories_on_memory_tell_each_warning_and_breach_at_most_once(seed: int) -> None:
    world = world_on(MemoryStore())
    ticket = _random_history(world, random.Random(seed))
    world.at(world.clock.now() + timedelta(days=30))
    told = Counter(world.sla_entries(ticket))
    assert all(n == 1 for (k, _), n in told.items() if k is not ActivityKind.SLA_MET)
    for clock in world.clocks(ticket).values():
        breached = (ActivityKind.SLA_BREACHED, clock.metric.value) in told
        assert breached == (clock.state is SlaState.BREACHED)
        assert clock.breached_at is None or clock.met_at is None


def test_the_queue_of_breaches_to_come_reads_nearest_first(store: Store) -> None:
    world = world_on(store)
    desk, agent = world.desk, world.agent
    first = world.open()  # first response due Monday 10:00
    world.clock.set(local(26, 16, 30))
    second = world.open()  # first response due Monday 10:30
    desk.share_update(agent, first.reference, "On it")  # now its resolution: Monday 16:00

    def queue(cursor: str | None = None) -> Page:
        return desk.list_tickets(
            agent, TicketList.VISIBLE, open=True, sort=TicketSort.SLA_DUE, limit=1, cursor=cursor
        )

    page = queue()
    assert [(r.reference, r.sla_due_at) for r in page.tickets] == [
        (second.reference, local(30, 10, 30))
    ]
    assert page.total == 2
    assert page.next_cursor is not None
    following = queue(page.next_cursor)
    assert [(r.reference, r.sla_due_at) for r in following.tickets] == [
        (first.reference, local(30, 16))
    ]
    # Waiting for the customer stops every clock of the second ticket: it leaves the queue.
    desk.ask_customer(agent, second.reference, "Which claims?")
    assert [r.reference for r in queue().tickets] == [first.reference]
    assert desk.get_ticket(agent, second.reference).sla_due_at is None


def test_a_request_type_change_is_no_status_change_to_the_clocks(store: Store) -> None:
    world = world_on(store)
    other = world.desk.add_request_type(RequestType(desk_id=world.general.desk_id, name="Other"))
    ticket = world.open()
    world.clock.set(local(26, 16, 30))
    world.desk.wait_for(world.agent, ticket.reference, "Supplier")
    world.desk.change_request_type(world.agent, ticket.reference, other.id)
    resolution = world.clocks(ticket)[SlaMetric.RESOLUTION]
    assert (resolution.state, resolution.elapsed) == (SlaState.PAUSED, timedelta(minutes=30))


def test_sla_times_are_the_staffs(store: Store) -> None:
    world = world_on(store)
    desk, alice, agent = world.desk, world.alice, world.agent
    opened = desk.open_ticket(alice, world.general.id, Submission(summary="Help"))
    assert opened.sla_due_at is None  # the customer's copy
    assert desk.get_ticket(agent, opened.reference).sla_due_at == local(30, 10)
    for ticket in (
        desk.get_ticket(alice, opened.reference),
        desk.view_ticket(alice, opened.reference).ticket,
        desk.share_update(alice, opened.reference, "More"),
        desk.escalate(alice, opened.reference, "Urgent"),
    ):
        assert ticket.sla_due_at is None
    (row,) = desk.list_tickets(alice).tickets
    assert row.sla_due_at is None
    with pytest.raises(PermissionDenied, match="sort by SLA due time"):
        desk.list_tickets(alice, sort=TicketSort.SLA_DUE)
    (row,) = desk.list_tickets(agent, TicketList.VISIBLE).tickets
    assert row.sla_due_at is not None
