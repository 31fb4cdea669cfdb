"""The worker: passes over due timers, notifications and blobs; stops cleanly; shares work."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportdesk import (
    ActivityKind,
    Event,
    FakeClock,
    MemoryStore,
    StorageError,
    Submission,
    Worker,
)
from supportdesk.cli import main
from supportdesk.storage.sql import SqlStore
from supportdesk.storage.sql.dialects import SQLITE_ANALYZE_EVERY, SQLITE_AUTOCHECKPOINT_PAGES
from supportdesk.storage.sql.schema import activities, events

from ..conftest import Portal, build_portal
from . import host


def _waiting(portal: Portal, count: int) -> list[str]:
    """``count`` tickets an agent asked the customer about: each sets reminders and auto-resolve."""
    references = []
    for number in range(count):
        ticket = portal.desk.open_ticket(
            portal.alice, portal.incident.id, Submission(summary=f"Claim {number}")
        )
        portal.desk.ask_customer(portal.agent, ticket.reference, "Which claims?")
        references.append(ticket.reference)
    return references


def test_a_pass_fires_timers_dispatches_and_sweeps_orphan_blobs(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    desk, clock = portal.desk, portal.clock
    (reference,) = _waiting(portal, 1)
    desk.blob_store.put("tickets/crashed/old", io.BytesIO(b"left by a crash"))
    clock.advance(timedelta(days=10))
    delivered: list[Event] = []
    worker = Worker(desk, handler=delivered.append)

    with caplog.at_level(logging.INFO, logger="supportdesk.worker"):
        report = worker.run_once()

    assert desk.get_ticket(portal.alice, reference).status == "resolved"
    assert (report.timers.fired, report.timers.skipped) == (1, 3)
    assert len(delivered) == len(report.notifications.delivered) > 0
    assert {e.kind for e in delivered} >= {"auto_resolved"}
    assert report.orphan_blobs == 1
    assert report.busy and not report.stopped
    logged = [r.getMessage() for r in caplog.records]
    assert "timers: 1 fired, 3 skipped" in logged
    assert any(line.startswith("notifications: ") for line in logged)
    assert "orphan blobs: 1 deleted" in logged
    assert not worker.run_once().busy


def test_a_full_batch_keeps_the_pass_going(portal: Portal) -> None:
    _waiting(portal, 3)
    portal.clock.advance(timedelta(days=10))
    report = Worker(portal.desk, batch_size=2).run_once()
    assert report.timers.fired == 3
    assert report.timers.batches >= 6  # Twelve due timers, two per batch.
    assert report.notifications.attempted == 0  # No handler: events stay in the outbox.


def test_stop_ends_the_pass_after_the_current_batch(portal: Portal) -> None:
    _waiting(portal, 3)
    stop = threading.Event()

    def deliver_then_stop(event: Event) -> None:
        stop.set()

    report = Worker(portal.desk, handler=deliver_then_stop, batch_size=1).run_once(stop)
    assert report.stopped
    assert len(report.notifications.delivered) == 1
    assert report.orphan_blobs == 0
    Worker(portal.desk).run(stop)  # Already stopped: returns without waiting.


def test_an_idle_worker_waits_until_the_next_timer_at_most_idle_wait(portal: Portal) -> None:
    worker = Worker(portal.desk, idle_wait=timedelta(seconds=30))
    assert worker.seconds_to_wait() == 30.0
    _waiting(portal, 1)
    assert worker.seconds_to_wait() == 30.0  # The first reminder is a day away.
    portal.clock.advance(timedelta(days=1) - timedelta(seconds=2))
    assert worker.seconds_to_wait() == 2.0
    portal.clock.advance(timedelta(days=3))
    assert worker.seconds_to_wait() == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [({"batch_size": 0}, "batch_size"), ({"idle_wait": timedelta(0)}, "idle")],
)
def test_bad_settings_are_refused(portal: Portal, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Worker(portal.desk, **options)  # type: ignore[arg-type]


# The command line.


def test_worker_command_refuses_what_it_cannot_load(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--desk", "no_such_module:make", "--once"]) == 1
    assert "cannot import 'no_such_module'" in capsys.readouterr().err
    assert main(["worker", "--desk", "tests.worker.host:nothing", "--once"]) == 1
    assert "has no 'nothing'" in capsys.readouterr().err
    assert main(["worker", "--desk", "tests.worker.host:LATER", "--once"]) == 1
    assert "not a SupportDesk" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["worker", "--desk", "tests.worker.host:make_desk", "--batch-size", "0"])
    assert refused.value.code == 2
    assert "at least 1" in capsys.readouterr().err


def test_timers_run_with_the_hosts_desk(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from supportdesk import SqlStore

    from ..conftest import build_portal

    portal = build_portal(SqlStore.from_url(sqlite_url), FakeClock())
    (reference,) = _waiting(portal, 1)
    monkeypatch.setenv(host.URL, sqlite_url)
    assert main(["timers", "run", "--desk", "tests.worker.host:make_desk"]) == 0
    assert capsys.readouterr().out.startswith(
        "fired 1, skipped 3; next due: 2030-01-09"
    )  # The closing reminder.
    assert portal.desk.get_ticket(portal.alice, reference).status == "resolved"
    portal.desk.dispose()


def test_timers_run_refuses_a_missing_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert main(["timers", "run", f"sqlite:///{missing}"]) == 1
    assert "no SQLite database" in capsys.readouterr().err
    assert not missing.exists()


# Worker processes on Postgres.


def _portal_on(url: str) -> Portal:
    from supportdesk import SqlStore

    from ..conftest import build_portal

    return build_portal(SqlStore.from_url(url), FakeClock())


def _recorded(paths: list[Path]) -> list[str]:
    return [line for path in paths if path.exists() for line in path.read_text().split()]


@pytest.mark.postgres
def test_two_workers_handle_every_timer_and_event_once(postgres_url: str, tmp_path: Path) -> None:
    portal = _portal_on(postgres_url)
    references = _waiting(portal, 30)
    portal.desk.dispose()
    spawn = multiprocessing.get_context("spawn")
    argv = ["worker", "--desk", "tests.worker.host:make_desk", "--handler",
            "tests.worker.host:record", "--once", "--batch-size", "4"]  # fmt: skip
    outs = [tmp_path / f"worker-{n}.events" for n in range(3)]
    workers = [
        spawn.Process(target=host.run_worker, args=(postgres_url, str(out), argv), daemon=True)
        for out in outs[:2]
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    # A later pass, as cron would run it, delivers what one worker left to the other.
    straggler = spawn.Process(target=host.run_worker, args=(postgres_url, str(outs[2]), argv))
    straggler.start()
    straggler.join(timeout=120)
    assert straggler.exitcode == 0

    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        resolved = Counter(
            connection.execute(
                sa.select(activities.c.ticket_id).where(
                    activities.c.kind == ActivityKind.AUTO_RESOLVED.value
                )
            ).scalars()
        )
        stored = {row.id: row.state for row in connection.execute(sa.select(events))}
    engine.dispose()
    assert len(resolved) == len(references) and set(resolved.values()) == {1}
    recorded = _recorded(outs)
    assert Counter(recorded).most_common(1)[0][1] == 1  # No event delivered twice.
    assert set(recorded) == set(stored)
    assert set(stored.values()) == {"delivered"}
    assert all(_recorded([out]) for out in outs[:2])  # Both workers did real work.


@pytest.mark.postgres
def test_sigterm_stops_after_the_current_batch_and_loses_no_claimed_event(
    postgres_url: str, tmp_path: Path
) -> None:
    portal = _portal_on(postgres_url)
    for number in range(3):
        portal.desk.open_ticket(
            portal.alice, portal.incident.id, Submission(summary=f"Claim {number}")
        )
    portal.desk.dispose()
    spawn = multiprocessing.get_context("spawn")
    started, release = spawn.Event(), spawn.Event()
    out = tmp_path / "worker.events"
    argv = ["worker", "--desk", "tests.worker.host:make_desk", "--handler",
            "tests.worker.host:record", "--batch-size", "1"]  # fmt: skip
    worker = spawn.Process(
        target=host.run_worker, args=(postgres_url, str(out), argv, (started, release))
    )
    worker.start()
    try:
        assert started.wait(timeout=120), "the worker never reached its handler"
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGTERM)
    finally:
        release.set()
    worker.join(timeout=120)
    assert worker.exitcode == 0

    (delivered,) = _recorded([out])
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.id, events.c.state, events.c.claimed_until)
        ).all()
    engine.dispose()
    states = {row.id: row.state for row in rows}
    assert states.pop(delivered) == "delivered"
    assert states and set(states.values()) == {"pending"}
    assert all(row.claimed_until is None for row in rows if row.id != delivered)


def test_a_pass_folds_sqlite_s_write_ahead_log_in_so_requests_need_not(
    sqlite_store: SqlStore, sqlite_url: str, clock: FakeClock
) -> None:
    """Commits leave their pages in the log; the worker's pass copies them to the database."""
    with sqlite_store.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert pages == SQLITE_AUTOCHECKPOINT_PAGES
    database = Path(sa.make_url(sqlite_url).database or "")
    portal = build_portal(sqlite_store, clock)
    portal.desk.maintain_storage()
    before = database.stat().st_size
    _waiting(portal, 20)
    assert database.stat().st_size == before  # every change is in the log alone
    Worker(portal.desk).run_once()
    assert database.stat().st_size > before


def test_upkeep_gives_sqlite_s_planner_statistics_hourly(
    sqlite_store: SqlStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without them, the planner may count an agent's own tickets through the whole desk."""
    portal = build_portal(sqlite_store, clock)

    def ticket_statistics() -> list[str]:
        with sqlite_store.engine.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'tickets'"
            )
            return sorted(found.scalars())

    _waiting(portal, 3)
    portal.desk.maintain_storage()
    first = ticket_statistics()
    assert first  # one line per index of the tickets
    _waiting(portal, 3)
    portal.desk.maintain_storage()
    assert ticket_statistics() == first  # not again within the hour
    later = time.monotonic() + SQLITE_ANALYZE_EVERY
    monkeypatch.setattr(time, "monotonic", lambda: later)
    portal.desk.maintain_storage()
    assert ticket_statistics() != first


def test_upkeep_is_harmless_on_every_store(portal: Portal) -> None:
    _waiting(portal, 1)
    portal.desk.maintain_storage()
    assert len(portal.desk.list_tickets(portal.alice).tickets) == 1


def test_failed_upkeep_is_logged_and_the_pass_goes_on(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class BusyStore(MemoryStore):
        def maintain(self) -> None:
            raise StorageError("the database failed: OperationalError: database is locked")

    portal = build_portal(BusyStore(), clock)
    (reference,) = _waiting(portal, 1)
    clock.advance(timedelta(days=10))
    with caplog.at_level(logging.WARNING, logger="supportdesk.worker"):
        report = Worker(portal.desk).run_once()
    assert report.timers.fired == 1
    assert portal.desk.get_ticket(portal.alice, reference).status == "resolved"
    assert any("store upkeep failed" in r.getMessage() for r in caplog.records)
