"""The retention purge, on every store: old finished history goes, whatever is still live stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from supportdesk import (
    DEFAULT_RETENTION,
    DeliveryState,
    Event,
    PurgeReport,
    RetryPolicy,
    Store,
    SupportDesk,
    TicketList,
    ValidationError,
)

from .conftest import Portal

DAY = timedelta(days=1)
VISIBLE = TicketList.VISIBLE


def _fail(event: Event) -> None:
    raise RuntimeError("mail server down")


def _history(store: Store, portal: Portal) -> None:
    """A resolved ticket: timers fired and canceled, events delivered, a feed read.

    And what must stay: pending timers (the auto-close), an event parked, an
    event pending, unread feed entries.
    """
    desk, clock = portal.desk, portal.clock
    ticket = portal.open()
    desk.ask_customer(portal.agent, ticket.reference, "Which claims?")
    clock.advance(10 * DAY)
    desk.run_due_timers()
    desk.dispatch_notifications(lambda event: None)
    desk.mark_read(portal.alice)
    impatient = SupportDesk(store, clock=clock, retry_policy=RetryPolicy(max_attempts=1))
    desk.share_update(portal.alice, ticket.reference, "Still missing")
    impatient.dispatch_notifications(_fail)
    desk.share_update(portal.alice, ticket.reference, "Hello?")
    desk.ask_customer(portal.agent, ticket.reference, "Which batch?")


def _live(portal: Portal) -> dict[str, Any]:
    """What the purge must never touch, as the desk shows it."""
    desk, admin = portal.desk, portal.admin
    return {
        "next timer": desk.next_timer_due(),
        "parked": desk.list_undelivered(admin),
        "pending": desk.list_undelivered(admin, state=DeliveryState.PENDING),
        "unread": desk.unread_count(portal.alice) + desk.unread_count(portal.agent),
        "tickets": [
            desk.view_ticket(admin, t.reference) for t in desk.list_tickets(admin, VISIBLE).tickets
        ],
    }


def test_purge_removes_finished_history_past_the_retention_only(
    store: Store, portal: Portal
) -> None:
    _history(store, portal)
    live = _live(portal)
    assert live["next timer"] and live["parked"] and live["pending"] and live["unread"]

    # The history began ten days ago and finished now: 79 days on, none of it is 90 days old.
    portal.clock.advance(DEFAULT_RETENTION - 11 * DAY)
    assert portal.desk.purge() == PurgeReport()
    portal.clock.advance(12 * DAY)
    report = portal.desk.purge()

    assert report.finished
    assert report.timers >= 4 and report.events >= 4 and report.notifications >= 1
    assert report.removed == report.timers + report.events + report.notifications
    assert _live(portal) == live
    assert portal.desk.purge() == PurgeReport()


def test_purge_goes_a_batch_at_a_time(store: Store, portal: Portal) -> None:
    _history(store, portal)
    portal.clock.advance(DEFAULT_RETENTION + DAY)
    reports = [portal.desk.purge(batch_size=2)]
    while not reports[-1].finished:
        reports.append(portal.desk.purge(batch_size=2))
    assert len(reports) > 2
    assert all(max(r.timers, r.events, r.notifications) <= 2 for r in reports)
    everything = sum(r.removed for r in reports)
    assert everything >= 9
    assert portal.desk.purge() == PurgeReport()


def test_a_shorter_retention_purges_sooner(store: Store, portal: Portal) -> None:
    _history(store, portal)
    portal.clock.advance(2 * DAY)
    assert portal.desk.purge(DAY).removed > 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"older_than": timedelta(0)}, "older_than"),
        ({"older_than": timedelta(days=40_000)}, "older_than"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_001}, "batch_size"),
    ],
)
def test_purge_refuses_what_it_cannot_do(
    portal: Portal, arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        portal.desk.purge(**arguments)  # type: ignore[arg-type]
    assert set(refused.value.errors) == {field}
    with pytest.raises(TypeError, match="older_than"):
        portal.desk.purge(90)  # type: ignore[arg-type]
