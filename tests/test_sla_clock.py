"""SLA clocks from a ticket's log on a business calendar, and against a count by the minute.

Nights, weekends, a holiday, a daylight-saving change and pauses; then random histories.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk import (
    ALWAYS_OPEN,
    DEFAULT_WORKFLOW,
    ActivityEntry,
    ActivityKind,
    BusinessCalendar,
    Role,
    SlaMetric,
    SlaState,
    SlaTarget,
    Ticket,
    Workflow,
    measure,
)

LONDON = ZoneInfo("Europe/London")
GOOD_FRIDAY = date(2026, 3, 27)
# Summer time starts on Sunday 29 March 2026: Monday's 09:00 is 08:00 UTC.
OFFICE = BusinessCalendar(
    timezone=LONDON, opens=time(9), closes=time(17), holidays=frozenset({GOOD_FRIDAY})
)
WORKFLOW = Workflow(DEFAULT_WORKFLOW)
RESOLUTION = SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(days=1))
FIRST_RESPONSE = SlaTarget(metric=SlaMetric.FIRST_RESPONSE, within=timedelta(hours=2))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in London in March 2026, in UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


THURSDAY_4PM = local(26, 16)


def opened(at: datetime = THURSDAY_4PM, status: str = "new") -> Ticket:
    return Ticket(
        reference="HHA-1",
        desk_id="d1",
        request_type_id="rt1",
        summary="Claims missing",
        status=status,
        requester_id="c1",
        created_at=at,
        updated_at=at,
    )


def moved(at: datetime, was: str, to: str) -> ActivityEntry:
    return ActivityEntry(
        ticket_id="t1",
        kind=ActivityKind.STATUS_CHANGED,
        actor_id="a1",
        at=at,
        data={"from": was, "to": to},
        actor_name="Agent",
        actor_role=Role.AGENT,
    )


def replied(at: datetime, role: Role = Role.AGENT) -> ActivityEntry:
    return ActivityEntry(
        ticket_id="t1",
        kind=ActivityKind.PUBLIC_UPDATE,
        actor_id="a1",
        at=at,
        body="On it",
        actor_name="Someone",
        actor_role=role,
    )


def test_a_working_day_skips_the_night_the_holiday_the_weekend_and_the_clock_change() -> None:
    clock = measure(RESOLUTION, opened(), [], WORKFLOW, OFFICE, local(26, 16, 30))
    assert (clock.state, clock.target, clock.elapsed) == (
        SlaState.RUNNING,
        timedelta(hours=8),
        timedelta(minutes=30),
    )
    # Thursday 16:00-17:00, then Monday (after Good Friday and the weekend) 09:00-16:00 BST.
    assert clock.due_at == local(30, 16) == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
    assert clock.remaining == timedelta(hours=7, minutes=30)
    at_breach = measure(RESOLUTION, opened(), [], WORKFLOW, OFFICE, local(30, 16))
    assert (at_breach.state, at_breach.breached_at) == (SlaState.BREACHED, local(30, 16))
    assert at_breach.due_at is None and at_breach.remaining == timedelta(0)


def test_paused_time_is_kept_apart_and_moves_the_due_time() -> None:
    entries = [
        moved(local(30, 10), "new", "waiting_for_customer"),
        moved(local(30, 14), "waiting_for_customer", "pending_support"),
    ]
    waiting = measure(RESOLUTION, opened(), entries[:1], WORKFLOW, OFFICE, local(30, 12))
    assert (waiting.state, waiting.elapsed, waiting.paused) == (
        SlaState.PAUSED,
        timedelta(hours=2),
        timedelta(hours=2),
    )
    assert waiting.due_at is None
    back = measure(RESOLUTION, opened(), entries, WORKFLOW, OFFICE, local(30, 14))
    assert (back.state, back.elapsed, back.paused) == (
        SlaState.RUNNING,
        timedelta(hours=2),
        timedelta(hours=4),
    )
    # Six hours left from Monday 14:00: 17:00 that day, then Tuesday 12:00.
    assert back.due_at == local(31, 12)


def test_a_direct_change_from_paused_to_resolved_keeps_the_paused_time() -> None:
    entries = [
        moved(local(30, 10), "new", "waiting_for_customer"),
        moved(local(30, 15), "waiting_for_customer", "resolved"),
    ]
    clock = measure(RESOLUTION, opened(status="resolved"), entries, WORKFLOW, OFFICE, local(31, 9))
    assert (clock.state, clock.met_at, clock.elapsed, clock.paused) == (
        SlaState.MET,
        local(30, 15),
        timedelta(hours=2),
        timedelta(hours=5),
    )
    assert clock.breached_at is None and clock.due_at is None


def test_first_response_is_met_by_an_agents_public_update_only() -> None:
    customer = replied(local(26, 16, 20), Role.CUSTOMER)
    agent = replied(local(30, 9, 30))
    running = measure(FIRST_RESPONSE, opened(), [customer], WORKFLOW, OFFICE, local(30, 9))
    assert (running.state, running.elapsed) == (SlaState.RUNNING, timedelta(hours=1))
    assert running.due_at == local(30, 10)
    met = measure(FIRST_RESPONSE, opened(), [customer, agent], WORKFLOW, OFFICE, local(31, 9))
    assert (met.state, met.met_at, met.elapsed) == (
        SlaState.MET,
        local(30, 9, 30),
        timedelta(hours=1, minutes=30),
    )


def test_a_late_reply_leaves_the_target_breached() -> None:
    late = replied(local(30, 11))
    clock = measure(FIRST_RESPONSE, opened(), [late], WORKFLOW, OFFICE, local(31, 9))
    assert (clock.state, clock.breached_at, clock.met_at) == (
        SlaState.BREACHED,
        local(30, 10),
        None,
    )


def test_a_reopened_ticket_runs_on_from_where_it_stood() -> None:
    entries = [
        moved(local(30, 10), "new", "resolved"),
        moved(local(31, 10), "resolved", "pending_support"),
    ]
    clock = measure(RESOLUTION, opened(), entries, WORKFLOW, OFFICE, local(31, 11))
    # Thursday's hour, Monday 9-10, Tuesday 10-11; resolved time counts as neither.
    assert (clock.state, clock.elapsed, clock.paused) == (
        SlaState.RUNNING,
        timedelta(hours=3),
        timedelta(0),
    )


def test_a_target_runs_around_the_clock_on_a_24x7_calendar() -> None:
    clock = measure(RESOLUTION, opened(), [], WORKFLOW, ALWAYS_OPEN, THURSDAY_4PM)
    assert clock.due_at == THURSDAY_4PM + timedelta(days=1)


def test_a_warning_fraction_must_lie_between_zero_and_one() -> None:
    with pytest.raises(ValueError, match="warn_at"):
        SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(hours=4), warn_at=1.5)


# --- against a minute-by-minute count ----------------------------------------------------

STATUSES = ("new", "assigned", "waiting_for_customer", "pending_support", "resolved")
PAUSES = {"waiting_for_customer"}
STOPS = {"resolved"}
START = local(26, 15)  # Thursday before Good Friday, three days before the clock change


def _history(draw: st.DrawFn) -> tuple[list[ActivityEntry], datetime, datetime | None]:
    """Status changes at whole minutes over five days, maybe an agent's reply, and a now."""
    offsets = sorted(draw(st.lists(st.integers(1, 5 * 24 * 60), max_size=6, unique=True)))
    entries, status = [], "new"
    for offset in offsets:
        to = draw(st.sampled_from([s for s in STATUSES if s != status]))
        entries.append(moved(START + timedelta(minutes=offset), status, to))
        status = to
    reply = draw(st.none() | st.integers(1, 5 * 24 * 60))
    reply_at = None if reply is None else START + timedelta(minutes=reply)
    now = START + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
    return entries, now, reply_at


histories = st.composite(_history)


def _by_the_minute(
    entries: list[ActivityEntry], now: datetime, reply_at: datetime | None, metric: SlaMetric
) -> tuple[timedelta, timedelta]:
    """Running and paused working minutes, one minute at a time: the slow, obvious count."""
    running = paused = 0
    changes = {e.at: e.data["to"] for e in entries}
    status, moment = "new", START
    while moment < now:
        status = changes.get(moment, status)
        if metric is SlaMetric.FIRST_RESPONSE and reply_at is not None and moment >= reply_at:
            break
        if OFFICE.is_working_time(moment) and status not in STOPS:
            if status in PAUSES:
                paused += 1
            else:
                running += 1
        moment += timedelta(minutes=1)
    return timedelta(minutes=running), timedelta(minutes=paused)


@settings(max_examples=60, deadline=None)
@given(history=histories(), metric=st.sampled_from(SlaMetric))
def test_clocks_agree_with_a_count_by_the_minute(
    history: tuple[list[ActivityEntry], datetime, datetime | None], metric: SlaMetric
) -> None:
    entries, now, reply_at = history
    log = sorted([*entries, *([] if reply_at is None else [replied(reply_at)])], key=lambda e: e.at)
    target = SlaTarget(metric=metric, within=timedelta(days=1, hours=2))
    clock = measure(target, opened(START), log, WORKFLOW, OFFICE, now)
    running, paused = _by_the_minute(entries, now, reply_at, metric)
    assert (clock.elapsed, clock.paused) == (running, paused)
    assert (clock.state is SlaState.MET) + (clock.state is SlaState.BREACHED) <= 1
    assert (clock.breached_at is not None) == (clock.elapsed >= clock.target)
    if clock.state is SlaState.RUNNING:
        assert clock.due_at is not None
        assert OFFICE.working_time(now, clock.due_at) == clock.remaining
