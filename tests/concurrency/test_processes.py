"""Several processes on one database: timers fire once, events go out once, references stay whole.

Each worker is a real process (``spawn``): its own interpreter, engine and
connections, as separate hosts running ``run_due_timers`` from cron would be.
Workers start together behind a barrier, so their transactions overlap; time
is fake and passed in; results come back in files and are checked by id.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess
from pathlib import Path
from typing import Any

import pytest

from supportdesk import FakeClock, SupportDesk
from supportdesk.storage.sql import SqlStore, make_engine

from .workers import (
    NOW,
    T0,
    activity_seqs,
    event_ids,
    open_tickets,
    reminders_per_ticket,
    seed_directory,
    seed_waiting_tickets,
    sweep_and_dispatch,
    sweep_until_stopped,
    timer_states,
    wait_for_claims_released,
)

JOIN_TIMEOUT = 120.0
"""Seconds a test waits for its workers: far above their run time, but not forever."""


@pytest.fixture
def spawn() -> SpawnContext:
    return multiprocessing.get_context("spawn")


@contextmanager
def started(
    spawn: SpawnContext, target: Callable[..., None], arguments: Sequence[tuple[Any, ...]]
) -> Iterator[list[SpawnProcess]]:
    """Start one process per argument tuple; whatever happens, none outlives the block."""
    processes = [spawn.Process(target=target, args=args, daemon=True) for args in arguments]
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(JOIN_TIMEOUT)


def run_all(
    spawn: SpawnContext, target: Callable[..., None], arguments: Sequence[tuple[Any, ...]]
) -> None:
    """Run the workers to their end; each must exit cleanly."""
    with started(spawn, target, arguments) as processes:
        for process in processes:
            process.join(JOIN_TIMEOUT)
        codes = [process.exitcode for process in processes]
    assert codes == [0] * len(processes), f"worker exit codes: {codes}"


def duplicates(ids: Sequence[str]) -> dict[str, int]:
    return {key: n for key, n in Counter(ids).items() if n > 1}


def check_sweeps_and_dispatch(
    spawn: SpawnContext, url: str, folder: Path, *, workers: int, tickets: int
) -> None:
    """``workers`` processes sweep ``tickets`` due reminders and dispatch the outbox at once."""
    seeded = seed_waiting_tickets(url, tickets)
    barrier = spawn.Barrier(workers)
    outs = [str(folder / f"worker{n}") for n in range(workers)]
    run_all(spawn, sweep_and_dispatch, [(url, barrier, out, 50) for out in outs])

    reports = [json.loads(Path(out + ".json").read_text(encoding="utf-8")) for out in outs]
    claimed = [timer_id for report in reports for timer_id in report["claimed"]]
    assert duplicates(claimed) == {}, "a timer was claimed by two committed sweeps"
    assert set(claimed) == seeded.due_timer_ids
    assert sum(report["fired"] for report in reports) == tickets
    assert sum(report["skipped"] for report in reports) == 0

    engine = make_engine(url)
    try:
        states = timer_states(engine)
        fired = {timer_id for timer_id, state in states.items() if state == "fired"}
        assert fired == seeded.due_timer_ids
        assert reminders_per_ticket(engine) == dict.fromkeys(seeded.ticket_ids, 1)
        outbox = event_ids(engine)
    finally:
        engine.dispose()
    # One reminder event per ticket, written by the sweeps, dispatched as they came.
    assert len(outbox) == tickets
    delivered = [
        line
        for out in outs
        for line in Path(out + ".events").read_text(encoding="utf-8").splitlines()
    ]
    assert duplicates(delivered) == {}, "an event reached the handlers twice"
    assert set(delivered) == outbox
    assert sum(report["delivered"] for report in reports) == len(outbox)


@pytest.mark.postgres
def test_four_postgres_workers_fire_each_timer_once_and_deliver_each_event_once(
    spawn: SpawnContext, postgres_url: str, tmp_path: Path
) -> None:
    check_sweeps_and_dispatch(spawn, postgres_url, tmp_path, workers=4, tickets=2000)


def test_two_sqlite_workers_fire_each_timer_once_and_deliver_each_event_once(
    spawn: SpawnContext, sqlite_url: str, tmp_path: Path
) -> None:
    check_sweeps_and_dispatch(spawn, sqlite_url, tmp_path, workers=2, tickets=2000)


@pytest.mark.postgres
def test_four_postgres_creators_share_one_gapless_reference_sequence(
    spawn: SpawnContext, postgres_url: str, tmp_path: Path
) -> None:
    workers, per_worker, noted = 4, 125, 20
    store = SqlStore.from_url(postgres_url)
    try:
        seeded = seed_directory(SupportDesk(store, clock=FakeClock(T0)))
    finally:
        store.close()
    barrier = spawn.Barrier(workers)
    note_on = [f"HHA-{n}" for n in range(1, noted + 1)]
    outs = [str(tmp_path / f"worker{n}.json") for n in range(workers)]
    run_all(
        spawn,
        open_tickets,
        [(postgres_url, barrier, out, seeded, per_worker, note_on) for out in outs],
    )

    opened = [ref for out in outs for ref in json.loads(Path(out).read_text(encoding="utf-8"))]
    total = workers * per_worker
    assert duplicates(opened) == {}
    assert sorted(opened, key=lambda ref: int(ref.removeprefix("HHA-"))) == [
        f"HHA-{n}" for n in range(1, total + 1)
    ]
    engine = make_engine(postgres_url)
    try:
        logs = activity_seqs(engine)
    finally:
        engine.dispose()
    assert len(logs) == total
    for seqs in logs.values():
        assert seqs == list(range(1, len(seqs) + 1))
    # The noted tickets got one note from each worker, appended concurrently.
    assert Counter(len(seqs) for seqs in logs.values()) == {1: total - noted, 1 + workers: noted}


def test_a_sweep_killed_mid_batch_loses_and_repeats_nothing(
    spawn: SpawnContext, database_url: str
) -> None:
    tickets, batch_size, committed_batches = 300, 20, 3
    seeded = seed_waiting_tickets(database_url, tickets)
    parent, child = spawn.Pipe()
    # Stop in the next batch after the committed ones, with 7 of its timers
    # fired inside its open transaction.
    stop_at = (committed_batches + 1, 7)
    arguments = [(database_url, batch_size, stop_at, child)]
    with started(spawn, sweep_until_stopped, arguments) as (worker,):
        child.close()  # the worker's end: a worker that dies early is then seen as EOF
        assert parent.poll(JOIN_TIMEOUT), "the worker never reached the stop"
        assert parent.recv() == "stopped"
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(JOIN_TIMEOUT)
    assert worker.exitcode == -signal.SIGKILL

    store = SqlStore.from_url(database_url)
    try:
        wait_for_claims_released(store.engine)
        # Exactly the committed batches took effect: timers are claimed
        # oldest first, by id among equals.
        done = committed_batches * batch_size
        fired = {t for t, state in timer_states(store.engine).items() if state == "fired"}
        assert fired == set(sorted(seeded.due_timer_ids)[:done])
        assert sum(reminders_per_ticket(store.engine).values()) == done

        report = SupportDesk(store, clock=FakeClock(NOW)).run_due_timers(NOW, batch_size=batch_size)
        assert (report.fired, report.skipped) == (tickets - done, 0)
        states = timer_states(store.engine)
        assert {t for t, state in states.items() if state == "fired"} == seeded.due_timer_ids
        assert reminders_per_ticket(store.engine) == dict.fromkeys(seeded.ticket_ids, 1)
    finally:
        store.close()
