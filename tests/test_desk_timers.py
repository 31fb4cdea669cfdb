"""Timer policies end to end: reminders, auto-resolve, auto-close, epochs, sweeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from supportdesk import (
    DEFAULT_WORKFLOW,
    ActivityKind,
    BusinessCalendar,
    EventKind,
    SupportDesk,
    Ticket,
    TimerSpec,
    Workflow,
    WorkflowDefinitionError,
)

from .conftest import Portal

DAY = timedelta(days=1)


def waiting_ticket(portal: Portal) -> Ticket:
    ticket = portal.open()
    return portal.desk.ask_customer(portal.agent, ticket.reference, "Which claims are missing?")


def log(portal: Portal, ticket: Ticket) -> list[tuple[ActivityKind, str]]:
    view = portal.desk.view_ticket(portal.agent, ticket.reference)
    return [(e.kind, e.data.get("timer", e.data.get("to", ""))) for e in view.activities[1:]]


def sweep_at(portal: Portal, offset: timedelta, since: datetime) -> None:
    portal.clock.set(since + offset)
    portal.desk.run_due_timers()


def test_reminders_then_auto_resolve_then_auto_close(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    start = portal.clock.now()
    for days in (1, 2, 3):
        sweep_at(portal, days * DAY, start)
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "waiting_for_customer"
    sweep_at(portal, 4 * DAY, start)
    resolved = portal.desk.get_ticket(portal.alice, ticket.reference)
    assert resolved.status == "resolved"
    assert resolved.resolved_at == start + 4 * DAY
    sweep_at(portal, 6 * DAY, start)
    sweep_at(portal, 7 * DAY, start)
    closed = portal.desk.get_ticket(portal.alice, ticket.reference)
    assert closed.status == "closed"
    assert closed.closed_at == start + 7 * DAY
    assert log(portal, ticket) == [
        (ActivityKind.STATUS_CHANGED, "waiting_for_customer"),
        (ActivityKind.PUBLIC_UPDATE, ""),
        (ActivityKind.REMINDER_SENT, "reminder_1"),
        (ActivityKind.REMINDER_SENT, "reminder_2"),
        (ActivityKind.REMINDER_SENT, "reminder_3"),
        (ActivityKind.AUTO_RESOLVED, "resolved"),
        (ActivityKind.REMINDER_SENT, "closing_reminder"),
        (ActivityKind.AUTO_CLOSED, "closed"),
    ]
    assert portal.desk.next_timer_due() is None


def test_nothing_fires_before_it_is_due(portal: Portal) -> None:
    waiting_ticket(portal)
    start = portal.clock.now()
    sweep_at(portal, DAY - timedelta(seconds=1), start)
    assert portal.desk.run_due_timers().fired == 0
    assert portal.desk.next_timer_due() == start + DAY


def test_leaving_the_status_cancels_its_timers(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    start = portal.clock.now()
    sweep_at(portal, DAY, start)
    portal.desk.share_update(portal.alice, ticket.reference, "Here you go")
    sweep_at(portal, 10 * DAY, start)
    after = portal.desk.get_ticket(portal.alice, ticket.reference)
    assert after.status == "pending_support"
    reminders = [k for k, _ in log(portal, ticket) if k is ActivityKind.REMINDER_SENT]
    assert len(reminders) == 1


def test_update_while_resolved_cancels_auto_close(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.resolve(portal.agent, ticket.reference)
    start = portal.clock.now()
    sweep_at(portal, 2 * DAY, start)
    portal.desk.share_update(portal.alice, ticket.reference, "Still broken")
    sweep_at(portal, 30 * DAY, start)
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "pending_support"


def test_re_entering_schedules_fresh_timers(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    start = portal.clock.now()
    sweep_at(portal, 3 * DAY + timedelta(hours=1), start)
    portal.desk.share_update(portal.alice, ticket.reference, "answer")
    portal.desk.ask_customer(portal.agent, ticket.reference, "one more question")
    again = portal.clock.now()
    # The first epoch would have auto-resolved at start + 4 days; the fresh one waits 4 days again.
    sweep_at(portal, 4 * DAY - timedelta(minutes=1), again)
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "waiting_for_customer"
    sweep_at(portal, 4 * DAY, again)
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "resolved"


def test_each_timer_fires_at_most_once_on_repeated_sweeps(portal: Portal) -> None:
    tickets = [waiting_ticket(portal) for _ in range(5)]
    start = portal.clock.now()
    portal.clock.set(start + DAY)
    first = portal.desk.run_due_timers(batch_size=2)
    second = portal.desk.run_due_timers(batch_size=2)
    assert (first.fired, first.batches) == (5, 3)
    assert (second.fired, second.skipped, second.batches) == (0, 0, 0)
    for ticket in tickets:
        reminders = [k for k, _ in log(portal, ticket) if k is ActivityKind.REMINDER_SENT]
        assert len(reminders) == 1


def test_max_batches_bounds_one_sweep(portal: Portal) -> None:
    for _ in range(5):
        waiting_ticket(portal)
    portal.clock.advance(DAY)
    assert portal.desk.run_due_timers(batch_size=2, max_batches=1).fired == 2
    assert portal.desk.run_due_timers(batch_size=2).fired == 3


def test_no_reminder_burst_after_downtime(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    portal.clock.advance(10 * DAY)
    report = portal.desk.run_due_timers()
    assert (report.fired, report.skipped) == (1, 3)
    assert log(portal, ticket)[2:] == [(ActivityKind.AUTO_RESOLVED, "resolved")]
    # The resolved status counts from when the ticket entered it: after the gap.
    portal.clock.advance(3 * DAY)
    portal.desk.run_due_timers()
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "closed"


def test_timer_of_an_old_epoch_is_dropped(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    # Leave and re-enter in the same instant: the old timers are void even
    # though the status is the same again.
    portal.desk.share_update(portal.alice, ticket.reference, "answer")
    portal.desk.ask_customer(portal.agent, ticket.reference, "again")
    portal.clock.advance(DAY)
    report = portal.desk.run_due_timers()
    assert report.fired == 1


def test_reminder_events_go_to_the_outbox(portal: Portal) -> None:
    ticket = waiting_ticket(portal)
    start = portal.clock.now()
    for days in (1, 4, 6, 7):
        sweep_at(portal, days * DAY, start)
    with portal.desk._store.unit_of_work() as work:
        events = [e.kind for e in work.outbox.list_events(ticket.id)]
    assert events[-4:] == [
        EventKind.REMINDER_DUE,
        EventKind.AUTO_RESOLVED,
        EventKind.CLOSING_SOON,
        EventKind.AUTO_CLOSED,
    ]


@pytest.mark.parametrize(
    ("entered", "due"),
    [
        # Friday 10:00 + 1 business day -> Monday 10:00 (weekend skipped).
        (datetime(2026, 1, 9, 10, 0), datetime(2026, 1, 12, 10, 0)),
        # Thursday 31 Dec + 1 business day -> Monday 4 Jan (holiday 1 Jan and weekend skipped).
        (datetime(2026, 12, 31, 10, 0), datetime(2027, 1, 4, 10, 0)),
    ],
)
def test_business_day_timers(portal: Portal, entered: datetime, due: datetime) -> None:
    calendar = BusinessCalendar(
        timezone=ZoneInfo("UTC"),
        opens=time(9),
        closes=time(17),
        holidays=frozenset({date(2027, 1, 1)}),
    )
    desk = SupportDesk(portal.desk._store, clock=portal.clock, calendar=calendar)
    portal.clock.set(entered.replace(tzinfo=UTC))
    ticket = portal.open()
    desk.ask_customer(portal.agent, ticket.reference, "question")
    assert desk.next_timer_due() == due.replace(tzinfo=UTC)


def test_timers_a_calendar_cannot_count_are_refused_up_front(portal: Portal) -> None:
    short_days = BusinessCalendar(timezone="UTC", opens=time(9), closes=time(10))
    definition = attrs.evolve(
        DEFAULT_WORKFLOW,
        timers=(
            TimerSpec(
                status="resolved", name="auto_close", after=timedelta(hours=2), trigger="close"
            ),
        ),
    )
    with pytest.raises(WorkflowDefinitionError, match="auto_close"):
        SupportDesk(portal.desk._store, workflow=Workflow(definition), calendar=short_days)
