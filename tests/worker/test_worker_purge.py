"""The worker purges old history: at most every ``purge_every``, but a backlog pass after pass."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from supportdesk import Event, PurgeReport, Worker

from ..conftest import Portal

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def _finished_history(portal: Portal) -> None:
    """Tickets whose reminders fired, then were resolved by the system, ten days ago."""
    for number in range(2):
        ticket = portal.open(summary=f"Claim {number}")
        portal.desk.ask_customer(portal.agent, ticket.reference, "Which claims?")
    portal.clock.advance(10 * DAY)


def test_a_worker_purges_at_most_every_purge_every(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    _finished_history(portal)
    delivered: list[Event] = []
    worker = Worker(portal.desk, handler=delivered.append, retention=DAY)
    # Fired and delivered just now: nothing is a day old yet.
    first = worker.run_once()
    assert first.timers.fired and delivered and first.purged == PurgeReport()

    portal.clock.advance(2 * DAY)
    with caplog.at_level(logging.INFO, logger="supportdesk.worker"):
        second = worker.run_once()
    assert second.purged.timers and second.purged.events and second.busy
    assert any(r.getMessage().startswith("purge: ") for r in caplog.records)

    portal.desk.mark_read(portal.alice)
    portal.clock.advance(30 * MINUTE)
    assert worker.run_once().purged == PurgeReport()  # Purged within the hour.
    portal.clock.advance(31 * MINUTE)
    assert worker.run_once().purged.notifications > 0


def test_a_backlog_is_purged_a_batch_per_pass(portal: Portal) -> None:
    _finished_history(portal)
    portal.desk.run_due_timers()
    portal.clock.advance(100 * DAY)
    worker = Worker(portal.desk, batch_size=1, purge_every=timedelta(days=365))
    passes = [worker.run_once().purged]
    while not passes[-1].finished:
        passes.append(worker.run_once().purged)
    assert len(passes) > 2
    assert all(p.timers <= 1 and p.events <= 1 and p.notifications <= 1 for p in passes)
    assert worker.run_once().purged == PurgeReport()  # Caught up: the next purge is a year off.
    assert portal.desk.purge() == PurgeReport()


def test_a_worker_without_retention_never_purges(portal: Portal) -> None:
    _finished_history(portal)
    portal.desk.run_due_timers()
    portal.clock.advance(365 * DAY)
    worker = Worker(portal.desk, retention=None)
    assert worker.run_once().purged == PurgeReport()
    assert portal.desk.purge().removed > 0


def test_a_retention_of_nothing_is_refused(portal: Portal) -> None:
    with pytest.raises(ValueError, match="retention"):
        Worker(portal.desk, retention=timedelta(0))
