"""The soak's parent: start the workers, inject the faults on schedule, stop them, report.

Faults, all drawn from the seed (:class:`~.scenario.FaultPlan`):

- One worker is armed at a seeded moment and dies at its next crash site
  (:class:`~.scenario.CrashPlan`): it tells the parent where it stands and
  waits; the parent SIGKILLs it there and starts a new incarnation of it,
  which carries on from its log.  A victim that does not reach its site
  within :data:`ARM_GRACE` seconds is SIGKILLed wherever it is ("forced").
- PostgreSQL is restarted once (or, with ``terminate``, the soak's
  connections are ended) while the workers keep going.

The parent waits on the workers' pipes and process sentinels, never on a
sleep: every wait has a timeout that is the next scheduled action.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event as EventFlag
from pathlib import Path

import attrs
import sqlalchemy as sa

from supportdesk.storage.sql import make_engine

from .scenario import APPLICATION_NAME, FaultPlan, Settings, log_path, read_log
from .worker import WorkerConfig, run_worker

READY_TIMEOUT = 120.0
"""Seconds the workers get to start (spawning and importing is slow on a busy machine)."""

JOIN_TIMEOUT = 150.0
"""Seconds a stopped worker gets to finish its operation (its retries are bounded at 90)."""

ARM_GRACE = 8.0, 0.25
"""An armed victim gets this many seconds, or this share of the run if longer, to reach its
crash site before it is killed wherever it is."""


@attrs.frozen(kw_only=True)
class Kill:
    worker: int
    incarnation: int
    site: str
    op: int | None
    detail: str
    at: float
    """Seconds into the run."""


@attrs.frozen(kw_only=True)
class Outage:
    method: str
    at: float
    seconds: float
    note: str = ""


@attrs.define
class RunReport:
    settings: Settings
    plan: FaultPlan
    startup: float = 0.0
    ran: float = 0.0
    kill: Kill | None = None
    outage: Outage | None = None
    incarnations: dict[int, int] = attrs.field(factory=dict)


class WorkerFailed(AssertionError):
    """A worker ended other than by the planned kill or a clean stop."""


class PgFault:
    """How the soak takes PostgreSQL away: a real restart, or ending the soak's connections."""

    def __init__(
        self, method: str, admin_url: str, command: list[str] | None, note: str = ""
    ) -> None:
        self.method = method
        self.admin_url = admin_url
        self.command = command
        self.note = note

    def __call__(self, at: float) -> Outage:
        started = time.monotonic()
        if self.method == "restart":
            assert self.command is not None
            done = subprocess.run(
                self.command, capture_output=True, text=True, timeout=120, check=False
            )
            if done.returncode != 0:
                raise AssertionError(
                    f"restarting PostgreSQL failed ({shlex.join(self.command)}): "
                    f"{done.stdout}{done.stderr}"
                )
        else:
            engine = make_engine(self.admin_url)
            try:
                with engine.begin() as connection:
                    connection.execute(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": APPLICATION_NAME},
                    )
            finally:
                engine.dispose()
        return Outage(method=self.method, at=at, seconds=time.monotonic() - started, note=self.note)


@attrs.define
class _Running:
    process: SpawnProcess
    conn: Connection
    incarnation: int
    ready: bool = False


class _Fleet:
    """The worker processes of one run."""

    def __init__(
        self, spawn: SpawnContext, base: WorkerConfig, stop: EventFlag, armed: EventFlag
    ) -> None:
        self.spawn = spawn
        self.base = base
        self.stop = stop
        self.armed = armed
        self.running: dict[int, _Running] = {}

    def start(self, index: int, incarnation: int, plan: FaultPlan) -> None:
        crash = plan.crash if index == plan.victim and incarnation == 0 else None
        config = attrs.evolve(self.base, index=index, incarnation=incarnation, crash=crash)
        parent, child = self.spawn.Pipe()
        process = self.spawn.Process(
            target=run_worker,
            args=(config, child, self.stop, self.armed),
            daemon=True,
            name=f"soak-worker{index}.{incarnation}",
        )
        process.start()
        child.close()
        self.running[index] = _Running(process, parent, incarnation)

    def kill(self, index: int) -> None:
        running = self.running.pop(index)
        assert running.process.pid is not None
        os.kill(running.process.pid, signal.SIGKILL)
        running.process.join(JOIN_TIMEOUT)
        running.conn.close()

    def waitables(self) -> list[Connection | int]:
        return [r.conn for r in self.running.values()] + [
            r.process.sentinel for r in self.running.values()
        ]

    def owner(self, ready: object) -> int:
        for index, running in self.running.items():
            if ready is running.conn or ready == running.process.sentinel:
                return index
        raise LookupError(ready)

    def failed(self, index: int, folder: Path) -> WorkerFailed:
        running = self.running[index]
        running.process.join(5)
        errors = [e["error"] for e in read_log(log_path(folder, index)) if e.get("t") == "error"]
        return WorkerFailed(
            f"worker {index} (incarnation {running.incarnation}) ended with exit code "
            f"{running.process.exitcode}:\n" + ("\n".join(errors) or "(no error logged)")
        )

    def end_all(self) -> None:
        for running in self.running.values():
            if running.process.is_alive():
                running.process.kill()
            running.process.join(JOIN_TIMEOUT)
            running.conn.close()


@contextmanager
def _fleet(base: WorkerConfig) -> Iterator[_Fleet]:
    spawn = multiprocessing.get_context("spawn")
    fleet = _Fleet(spawn, base, spawn.Event(), spawn.Event())
    try:
        yield fleet
    finally:
        fleet.end_all()


def run_soak(
    base: WorkerConfig, settings: Settings, plan: FaultPlan, pg_fault: PgFault
) -> RunReport:
    """Run ``settings.workers`` workers for ``settings.seconds``, with the faults of ``plan``."""
    folder = Path(base.folder)
    report = RunReport(settings=settings, plan=plan)
    began = time.monotonic()
    with _fleet(base) as fleet:
        for index in range(settings.workers):
            fleet.start(index, 0, plan)
        _await_ready(fleet, folder, time.monotonic() + READY_TIMEOUT)
        report.startup = time.monotonic() - began
        t0 = time.monotonic()
        actions: list[tuple[float, str]] = sorted(
            [(plan.kill_after, "arm"), (plan.restart_after, "postgres"), (settings.seconds, "stop")]
        )
        force_at = math.inf  # when the armed victim is killed wherever it is
        grace = max(ARM_GRACE[0], ARM_GRACE[1] * settings.seconds)

        def kill(site: str, op: int | None, detail: str) -> None:
            incarnation = fleet.running[plan.victim].incarnation
            fleet.kill(plan.victim)
            report.kill = Kill(
                worker=plan.victim,
                incarnation=incarnation,
                site=site,
                op=op,
                detail=detail,
                at=time.monotonic() - t0,
            )
            fleet.start(plan.victim, incarnation + 1, plan)

        stopping = False
        while not stopping:
            now = time.monotonic() - t0
            while actions and actions[0][0] <= now:
                _, action = actions.pop(0)
                if action == "arm":
                    fleet.armed.set()
                    force_at = now + grace
                elif action == "postgres":
                    report.outage = pg_fault(now)
                else:
                    stopping = True
            victim_waits = force_at < math.inf and report.kill is None
            if victim_waits and (stopping or time.monotonic() - t0 >= force_at):
                last = max(
                    (e["op"] for e in read_log(log_path(folder, plan.victim)) if "op" in e),
                    default=None,
                )
                kill(
                    "forced",
                    last,
                    f"not at {plan.crash.site} within {grace:.0f} s; op is the last logged",
                )
            if stopping:
                break
            deadline = min(actions[0][0], force_at if victim_waits else math.inf)
            timeout = max(0.0, deadline - (time.monotonic() - t0))
            for ready in wait(fleet.waitables(), timeout=timeout):
                _handle(fleet, folder, ready, kill)
        fleet.stop.set()
        for index, running in list(fleet.running.items()):
            running.process.join(JOIN_TIMEOUT)
            if running.process.exitcode != 0:
                raise fleet.failed(index, folder)
        report.ran = time.monotonic() - t0
        report.incarnations = {i: r.incarnation for i, r in fleet.running.items()}
    return report


def _handle(
    fleet: _Fleet, folder: Path, ready: object, kill: Callable[[str, int | None, str], None]
) -> None:
    try:
        index = fleet.owner(ready)
    except LookupError:
        return  # the process was killed in this very round
    running = fleet.running[index]
    if ready is not running.conn:
        raise fleet.failed(index, folder)
    try:
        message = running.conn.recv()
    except EOFError:
        raise fleet.failed(index, folder) from None
    if message[0] == "ready":
        running.ready = True
    elif message[0] == "crash":
        _, site, op, detail = message
        kill(site, op, detail)


def _await_ready(fleet: _Fleet, folder: Path, deadline: float) -> None:
    while not all(r.ready for r in fleet.running.values()):
        left = deadline - time.monotonic()
        if left <= 0:
            raise WorkerFailed(f"workers not ready after {READY_TIMEOUT} s")
        for ready in wait(fleet.waitables(), timeout=left):
            index = fleet.owner(ready)
            running = fleet.running[index]
            if ready is not running.conn:
                raise fleet.failed(index, folder)
            try:
                message = running.conn.recv()
            except EOFError:
                raise fleet.failed(index, folder) from None
            assert message[0] == "ready", message
            running.ready = True
