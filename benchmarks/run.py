"""Benchmarks of the desk's use cases per store: prints a table, each target's verdict, JSON.

``python benchmarks/run.py [--stores memory,sqlite,postgres] [--scale 1.0]
[--tickets N] [--due N] [--sweep-workers 4] [--out DIR]``

Each store gets a portal of 200 organisations and 2,000 customers holding
100,000 tickets (bulk-loaded; ``--tickets`` sets another number, 1000000 for
the list targets), 10,000 of them waiting for their customer with a reminder
due.  Measured, in this order: the first page of each customer list (with
every tab's count), one sweep over the 10,000 due timers, then opening
tickets, public updates and status changes, with a worker's upkeep
(``maintain_storage``) every 100 writes, untimed.  ``--scale`` multiplies
every size (0.05 for a quick run).

SQLite is a file in a temporary folder (WAL, ``synchronous=NORMAL``); its
write phases are recorded and their very statements replayed by raw
``sqlite3`` on a copy of the database taken before them: what the writes
cost without the library.  Postgres runs at ``SUPPORTDESK_POSTGRES_URL``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) in a fresh
schema dropped afterwards; unreachable, it is skipped with a note.  On
Postgres, ten times the due timers are then swept by one worker process
and by ``--sweep-workers`` of them.

Per operation: ops/s (timed without memory tracing), p50 and p99 latency,
the p99 of each write's commit (from the COMMIT sent to the call's return),
SQL statements sent (counted by a ``before_cursor_execute`` listener; the
``BEGIN`` SQLite sends for each transaction is left out, as psycopg's
implicit one is invisible), and the peak of traced Python memory over a
tenth of the operations run again with tracemalloc on.  Then each target of
issue 14 this run measures, with its verdict.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from supportdesk import (
    ALWAYS_OPEN,
    Collaborator,
    Contact,
    Desk,
    FakeClock,
    MemoryStore,
    Organization,
    RequestType,
    Role,
    StorageError,
    Store,
    Submission,
    SupportDesk,
    Ticket,
    TicketList,
    Timer,
)
from supportdesk.storage.sql import SqlStore, make_engine, rows
from supportdesk.storage.sql.dialects import SQLITE_AUTOCHECKPOINT_PAGES
from supportdesk.storage.sql.schema import desk_sequences

POSTGRES_URL_VARIABLE = "SUPPORTDESK_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

OPERATIONS = 2_000
"""Use cases per write phase at scale 1."""
STORED_TICKETS = 100_000
"""Tickets in the store when the lists are read, at scale 1."""
DUE_TIMERS = 10_000
"""Due reminders the sweep fires, at scale 1."""
LIST_CALLS = 200
ORGANIZATIONS = 200
CUSTOMERS = 2_000
SWEEP_BATCH = 100
UPKEEP_EVERY = 100
SWEEP_TIMERS_PER_DUE = 10
"""The Postgres sweep by several processes fires ten times the due timers of the others."""
"""Write operations between two upkeeps (a worker's pass: SQLite's checkpoint)."""

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the bulk-loaded waiting tickets started waiting; the portal's clock starts here."""
SWEEP_AT = START + timedelta(days=1, minutes=1)
"""The sweep's ``now``: each waiting ticket's first reminder is due, nothing else."""


@attrs.frozen
class Result:
    """One measured operation."""

    store: str
    operation: str
    count: int
    seconds: float
    statements: int | None
    """SQL statements the timed operations sent; None for the memory store."""
    peak_memory_bytes: int
    latencies: tuple[float, ...] = ()
    """Seconds each timed step took (a sweep step is one batch)."""
    commits: tuple[float, ...] = ()
    """Seconds from each timed step's last COMMIT sent to the step's end (SQL stores)."""
    rss_above_bytes: int = 0
    """The process's resident memory at its highest after a timed step, above where it began."""

    @property
    def ops_per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")

    @property
    def statements_per_op(self) -> float | None:
        return None if self.statements is None else self.statements / self.count

    def p50(self) -> float:
        return percentile(self.latencies, 50)

    def p99(self) -> float:
        return percentile(self.latencies, 99)

    def commit_p99(self) -> float | None:
        return percentile(self.commits, 99) if self.commits else None

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "store": self.store,
            "count": self.count,
            "seconds": self.seconds,
            "ops_per_second": self.ops_per_second,
            "statements_per_op": self.statements_per_op,
            "peak_memory_bytes": self.peak_memory_bytes,
            "p50_seconds": self.p50(),
            "p99_seconds": self.p99(),
            "commit_p99_seconds": self.commit_p99(),
            "rss_above_bytes": self.rss_above_bytes,
        }


def percentile(values: Sequence[float], rank: int) -> float:
    """The ``rank``-th percentile of ``values`` (nearest rank), 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-rank * len(ordered) // 100) - 1))]


class StatementCounter:
    """Counts the statements an engine sends and notes when it last sent a COMMIT."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.committed_at: float | None = None
        sa.event.listen(engine, "before_cursor_execute", self.sent)
        sa.event.listen(engine, "commit", self.committing)

    def sent(self, *args: Any) -> None:
        statement: str = args[2]
        if not statement.startswith("BEGIN"):
            self.count += 1

    def committing(self, _connection: Any) -> None:
        self.committed_at = time.perf_counter()


class Recorder:
    """Records the transactions an engine runs, each as its statements with their parameters.

    What the driver got, after SQLAlchemy's processing: a raw ``sqlite3``
    connection can send the very same again.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.transactions: list[list[tuple[str, Any, bool]]] = []
        self._current: list[tuple[str, Any, bool]] = []

    def __enter__(self) -> Recorder:
        sa.event.listen(self.engine, "before_cursor_execute", self.sent)
        sa.event.listen(self.engine, "commit", self.committing)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self.sent)
        sa.event.remove(self.engine, "commit", self.committing)

    def sent(self, *args: Any) -> None:
        _connection, _cursor, statement, parameters, _context, many = args
        self._current.append((statement, parameters, many))

    def committing(self, _connection: Any) -> None:
        self.transactions.append(self._current)
        self._current = []


@attrs.frozen
class Sizes:
    operations: int
    stored: int
    due: int
    list_calls: int

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        def size(n: int) -> int:
            return max(10, round(n * scale))

        return cls(size(OPERATIONS), size(STORED_TICKETS), size(DUE_TIMERS), size(LIST_CALLS))


@attrs.frozen
class Portal:
    """A desk with its directory, ready to be measured."""

    desk: SupportDesk
    clock: FakeClock
    help_desk: Desk
    request_type: RequestType
    customer: Contact
    """The customer whose lists are read; requester of every 50th stored ticket."""
    agent: Contact
    organizations: tuple[Organization, ...]
    customers: tuple[Contact, ...]
    """Every customer, ``customer`` first; customer ``n`` is in organisation ``n % 200``."""


def build_portal(store: Store) -> Portal:
    """Organisations, customers, an agent, a desk and a request type, in one unit of work."""
    clock = FakeClock(START)
    desk = SupportDesk(store, clock=clock)
    help_desk = desk.add_desk(Desk(key="HHA", name="Customer Service Desk"))
    request_type = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    organizations = tuple(Organization(name=f"Agency {n}") for n in range(ORGANIZATIONS))
    customers = tuple(
        Contact(
            email=f"customer{n}@agency{n % ORGANIZATIONS}.test",
            full_name=f"Customer {n}",
            organization_id=organizations[n % ORGANIZATIONS].id,
        )
        for n in range(CUSTOMERS)
    )
    agent = Contact(
        email="agent@desk.test",
        full_name="Agent",
        role=Role.AGENT,
        desk_ids=frozenset({help_desk.id}),
    )
    with store.unit_of_work() as work:
        for organization in organizations:
            work.directory.put_organization(organization)
        for contact in (*customers, agent):
            work.directory.put_contact(contact)
    return Portal(
        desk, clock, help_desk, request_type, customers[0], agent, organizations, customers
    )


def stored_tickets(portal: Portal, count: int, waiting: int) -> Iterator[Ticket]:
    """``count`` tickets, newest last; every ``count // waiting``-th waits for its customer."""
    every_waiting = max(1, count // waiting)
    statuses = ("closed", "closed", "closed", "resolved", "new", "pending_support", "assigned")
    for n in range(count):
        requester = portal.customer if n % 50 == 0 else portal.customers[1 + n % (CUSTOMERS - 1)]
        created = START - timedelta(minutes=count - n)
        is_waiting = n % every_waiting == 0 and n // every_waiting < waiting
        yield Ticket(
            reference=f"HHA-{n + 1}",
            desk_id=portal.help_desk.id,
            request_type_id=portal.request_type.id,
            summary=f"Stored ticket {n}",
            description="Claims from May are missing.",
            status="waiting_for_customer" if is_waiting else statuses[n % len(statuses)],
            requester_id=requester.id,
            organization_id=requester.organization_id,
            created_at=created,
            updated_at=START if is_waiting else created,
            status_epoch=2 if is_waiting else 1,
        )


def bulk_load(store: Store, portal: Portal, count: int, waiting: int) -> None:
    """Store ``count`` tickets, ``waiting`` of them with their timers, and collaborations.

    The portal's customer collaborates on every 100th ticket; SQL stores get
    the rows of the store's own mappings by ``executemany`` in big
    transactions, the memory store through one unit of work.
    """
    tickets = list(stored_tickets(portal, count, waiting))
    planned: list[Timer] = [
        timer
        for ticket in tickets
        if ticket.status == "waiting_for_customer"
        for timer in portal.desk.workflow.plan_timers(ticket, START, ALWAYS_OPEN)
    ]
    shared = [
        Collaborator(
            ticket_id=ticket.id,
            contact_id=portal.customer.id,
            added_by=ticket.requester_id,
            added_at=ticket.created_at,
        )
        for n, ticket in enumerate(tickets)
        if n % 100 == 1
    ]
    if isinstance(store, SqlStore):
        chunk = 10_000
        tables: list[tuple[rows.Rows[Any], Sequence[Any]]] = [
            (rows.TICKETS, tickets),
            (rows.TIMERS, planned),
            (rows.COLLABORATORS, shared),
        ]
        for mapping, models in tables:
            for start in range(0, len(models), chunk):
                with store.engine.begin() as connection:
                    connection.execute(
                        mapping.table.insert(),
                        [mapping.row(model) for model in models[start : start + chunk]],
                    )
        with store.engine.begin() as connection:
            # The desk's counter continues after the loaded references.
            counter = {"desk_id": portal.help_desk.id, "last_number": count}
            connection.execute(desk_sequences.insert(), counter)
        if store.engine.dialect.name == "postgresql":
            # What autovacuum would have done by then: statistics, and the
            # visibility map that lets the counts read the indexes alone.
            with store.engine.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.exec_driver_sql("VACUUM ANALYZE tickets, timers, collaborators")
    else:
        with store.unit_of_work() as work:
            for ticket in tickets:
                work.tickets.add(ticket)
            work.timers.add(planned)
            for collaborator in shared:
                work.participants.add_collaborator(collaborator)
            while work.desks.claim_reference(portal.help_desk.id) < count:
                pass


def measure(
    store_name: str,
    operation: str,
    steps: int,
    step: Callable[[int], int],
    counter: StatementCounter | None,
    upkeep: Callable[[], None] | None = None,
) -> Result:
    """Run ``step(i)`` for ``i`` in ``range(steps)``: nine tenths timed, the rest traced.

    ``step`` returns how many operations it did (a sweep batch does many).
    Only the timed part counts towards ops/s and statements per operation.
    ``upkeep`` runs untimed after every ``UPKEEP_EVERY`` steps, as a worker's
    pass would run between requests (SQLite's checkpoint).
    """
    traced = max(1, steps // 10) if steps > 1 else 0
    timed = steps - traced
    before = counter.count if counter else 0
    done = 0
    latencies: list[float] = []
    commits: list[float] = []
    baseline = highest = resident_bytes()
    started = time.perf_counter()
    for index in range(timed):
        began = time.perf_counter()
        if counter:
            counter.committed_at = None
        done += step(index)
        ended = time.perf_counter()
        latencies.append(ended - began)
        if counter and counter.committed_at is not None:
            commits.append(ended - counter.committed_at)
        highest = max(highest, resident_bytes())
        if upkeep and index % UPKEEP_EVERY == UPKEEP_EVERY - 1:
            upkeep()
    seconds = time.perf_counter() - started
    statements = counter.count - before if counter else None
    tracemalloc.start()
    for index in range(timed, steps):
        step(index)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Result(
        store_name,
        operation,
        done,
        seconds,
        statements,
        peak,
        tuple(latencies),
        tuple(commits),
        highest - baseline,
    )


def resident_bytes() -> int:
    """The process's resident memory now (Linux ``/proc``; 0 where there is none)."""
    try:
        pages = Path("/proc/self/statm").read_text().split()[1]
    except OSError:
        return 0
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


def run_store(name: str, store: Store, sizes: Sizes) -> list[Result]:
    counter = StatementCounter(store.engine) if isinstance(store, SqlStore) else None
    started = time.perf_counter()
    portal = build_portal(store)
    bulk_load(store, portal, sizes.stored, sizes.due)
    print(
        f"[{name}] loaded {sizes.stored:,} tickets and {sizes.due:,} waiting "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    desk, customer, agent = portal.desk, portal.customer, portal.agent
    desk.maintain_storage()  # the bulk load's log, as a worker would have
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        print(f"[{name}] {result.operation}: {result.ops_per_second:,.0f}/s", flush=True)

    for which in (TicketList.CREATED_BY_ME, TicketList.ORGANIZATION, TicketList.COLLABORATING):

        def first_page(_index: int, which: TicketList = which) -> int:
            page = desk.list_tickets(customer, which)
            assert page.tickets, "the list is empty"
            return 1

        record(
            measure(
                name,
                f"first page: {which.value} ({sizes.stored:,} stored)",
                sizes.list_calls,
                first_page,
                counter,
            )
        )

    portal.clock.set(SWEEP_AT)

    def sweep(_index: int) -> int:
        report = desk.run_due_timers(SWEEP_AT, batch_size=SWEEP_BATCH, max_batches=1)
        return report.fired + report.skipped

    batches = -(-sizes.due // SWEEP_BATCH)
    record(measure(name, f"run_due_timers ({sizes.due:,} due), per timer", batches, sweep, counter))
    due = desk.next_timer_due()
    assert due is None or due > SWEEP_AT, "the sweep left due timers behind"

    references: list[str] = []
    submission = Submission(summary="Portal missing data", description="Claims are missing")

    def open_ticket(_index: int) -> int:
        ticket = desk.open_ticket(customer, portal.request_type.id, submission)
        references.append(ticket.reference)
        return 1

    def public_update(index: int) -> int:
        desk.share_update(customer, references[index], "more details")
        return 1

    def status_change(index: int) -> int:
        desk.ask_customer(agent, references[index], "which claims?")
        return 1

    upkeep = desk.maintain_storage
    upkeep()
    replayed = _copy_for_replay(store) if name == "sqlite" else None
    recorded: dict[str, list[list[tuple[str, Any, bool]]]] = {}
    for phase, step in zip(WRITE_PHASES, (open_ticket, public_update, status_change), strict=True):
        with Recorder(store.engine) if isinstance(store, SqlStore) else nullcontext() as recorder:
            record(measure(name, phase, sizes.operations, step, counter, upkeep))
        if recorder is not None:
            recorded[phase] = recorder.transactions
    if replayed is not None:
        results.extend(replay_raw(replayed, recorded))
    return results


def _copy_for_replay(store: SqlStore) -> Path:
    """A copy of the SQLite store's database as it is now, for :func:`replay_raw`."""
    path = Path(store.engine.url.database or "")
    copy = path.with_name(f"replay-{path.name}")
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def replay_raw(path: Path, recorded: dict[str, list[list[tuple[str, Any, bool]]]]) -> list[Result]:
    """The library's own statements of each write phase sent again by raw ``sqlite3``.

    On a copy of the database taken before the phases, with the same
    settings and the same untimed checkpoint every ``UPKEEP_EVERY``
    operations: what the library's writes would cost without the library.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}",
    ):
        connection.execute(pragma)
    results = []
    for phase, transactions in recorded.items():
        latencies = []
        for index, transaction in enumerate(transactions):
            started = time.perf_counter()
            for statement, parameters, many in transaction:
                if many:
                    connection.executemany(statement, parameters)
                else:
                    connection.execute(statement, parameters)
            connection.execute("COMMIT")
            latencies.append(time.perf_counter() - started)
            if index % UPKEEP_EVERY == UPKEEP_EVERY - 1:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        operation = f"{phase} (replayed)"
        count, seconds = len(latencies), sum(latencies)
        results.append(Result("raw", operation, count, seconds, None, 0, tuple(latencies)))
    connection.close()
    return results


def sweep_scaling(timers: int, workers: int) -> list[Result]:
    """Postgres: ``timers`` due reminders swept by one worker process, then by ``workers``.

    Each run gets a fresh schema loaded in bulk with one due reminder per
    waiting ticket; the processes connect and read once before the clock
    starts, and it stops when the last of them finds nothing left.
    """
    results = []
    for processes in (1, workers):
        with postgres_schema() as url:
            if url is None:
                return []
            store = SqlStore.from_url(url, create=True)
            bulk_load(store, build_portal(store), timers, timers)
            store.close()
            seconds = _swept_by(url, processes)
            check = SupportDesk(SqlStore.from_url(url), clock=FakeClock(SWEEP_AT))
            due = check.next_timer_due()
            check.dispose()
            assert due is None or due > SWEEP_AT, "the sweepers left due timers behind"
        operation = f"run_due_timers ({timers:,} due), {processes} worker process(es)"
        results.append(Result("postgres", operation, timers, seconds, None, 0))
        print(f"[postgres] {operation}: {timers / seconds:,.0f}/s", flush=True)
    return results


def _swept_by(url: str, processes: int) -> float:
    """Seconds ``processes`` sweepers take to fire every due timer at ``url``."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    sweepers = [context.Process(target=_sweeper, args=(url, ready)) for _ in range(processes)]
    for sweeper in sweepers:
        sweeper.start()
    ready.wait()
    started = time.perf_counter()
    for sweeper in sweepers:
        sweeper.join()
        assert sweeper.exitcode == 0, "a sweeper failed"
    return time.perf_counter() - started


def _sweeper(url: str, ready: Any) -> None:
    """One worker process's sweep: batches of due timers until none is left."""
    desk = SupportDesk(SqlStore.from_url(url), clock=FakeClock(SWEEP_AT))
    desk.next_timer_due()  # connected and warm before the clock starts
    ready.wait()
    while True:
        swept = desk.run_due_timers(SWEEP_AT, batch_size=SWEEP_BATCH, max_batches=1)
        if swept.fired + swept.skipped == 0:
            break
    desk.dispose()


@contextmanager
def open_store(name: str, folder: Path) -> Iterator[Store | None]:
    """A fresh, empty store of the named kind, or None (with a note) when it is unreachable."""
    if name == "memory":
        memory = MemoryStore()
        try:
            yield memory
        finally:
            memory.close()
    elif name == "sqlite":
        sqlite = SqlStore.from_url(f"sqlite:///{folder / 'bench.db'}", create=True)
        try:
            yield sqlite
        finally:
            sqlite.close()
    elif name == "postgres":
        with postgres_schema() as url:
            if url is None:
                yield None
                return
            postgres = SqlStore.from_url(url, create=True)
            try:
                yield postgres
            finally:
                postgres.close()
    else:
        raise SystemExit(f"unknown store {name!r}; known: memory, sqlite, postgres")


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """The URL of a fresh schema at ``SUPPORTDESK_POSTGRES_URL``, dropped afterwards."""
    base = os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)
    admin = make_engine(base)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as error:
        admin.dispose()
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        print(f"note: postgres skipped, unreachable at {POSTGRES_URL_VARIABLE} ({reason})")
        yield None
        return
    try:
        yield (
            sa.make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'store':<9} {'operation':<46} {'count':>7} {'ops/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'commit p99':>10} {'stmts/op':>8} {'peak KiB':>8} {'RSS +MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        per_op = "-" if r.statements_per_op is None else f"{r.statements_per_op:.1f}"
        commit = r.commit_p99()
        print(
            f"{r.store:<9} {r.operation:<46} {r.count:>7} {r.ops_per_second:>9,.0f} "
            f"{r.p50() * 1e3:>7.2f} {r.p99() * 1e3:>7.2f} "
            f"{'-' if commit is None else f'{commit * 1e3:.2f}':>10} {per_op:>8} "
            f"{r.peak_memory_bytes / 2**10:>8,.0f} {r.rss_above_bytes / 2**20:>8.1f}"
        )


LIST_P50 = 0.002
LIST_P99 = 0.010
COMMIT_P99 = 0.002
RAW_SHARE = 0.5
WORKERS_GAIN = 1.8
MEMORY_ABOVE_BASELINE = 50 * 2**20
TARGET_TICKETS = 1_000_000
WRITE_PHASES = ("open ticket", "public update", "status change (ask customer)")


def verdicts(results: Sequence[Result], stored: int) -> list[str]:
    """Each of issue 14's targets this run measures, with its verdict."""
    lines = []
    replays = {r.operation.removesuffix(" (replayed)"): r for r in results if r.store == "raw"}
    scale = "" if stored >= TARGET_TICKETS else f" (at {stored:,} tickets; the target is at 1M)"
    for r in results:
        if r.operation.startswith("first page"):
            met = r.p50() < LIST_P50 and r.p99() < LIST_P99
            lines.append(
                f"[{r.store}] {r.operation}: p50 {r.p50() * 1e3:.2f} ms < 2, "
                f"p99 {r.p99() * 1e3:.2f} ms < 10: {_verdict(met)}{scale}"
            )
        commit = r.commit_p99()
        if r.store == "sqlite" and commit is not None and r.operation in WRITE_PHASES:
            lines.append(
                f"[{r.store}] {r.operation}: commit p99 {commit * 1e3:.2f} ms < 2: "
                f"{_verdict(commit < COMMIT_P99)}"
            )
        raw = replays.get(r.operation)
        if r.store == "sqlite" and raw is not None:
            share = r.ops_per_second / raw.ops_per_second
            lines.append(
                f"[{r.store}] {r.operation}: {share:.0%} of raw sqlite3 replaying its statements "
                f"({raw.ops_per_second:,.0f}/s) >= 50%: {_verdict(share >= RAW_SHARE)}"
            )
        traced = r.operation.startswith(("first page", "run_due_timers"))
        if traced and "worker process" not in r.operation:
            lines.append(
                f"[{r.store}] {r.operation}: peak RSS {r.rss_above_bytes / 2**20:.1f} MiB "
                f"above the phase's start <= 50: "
                f"{_verdict(r.rss_above_bytes <= MEMORY_ABOVE_BASELINE)}"
            )
    swept = [r for r in results if "worker process(es)" in r.operation]
    if len(swept) == 2:
        one, many = swept
        gain = many.ops_per_second / one.ops_per_second
        lines.append(
            f"[postgres] {many.operation}: {gain:.2f}x one worker >= {WORKERS_GAIN}: "
            f"{_verdict(gain >= WORKERS_GAIN)}"
        )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stores", default=os.environ.get("SUPPORTDESK_BENCH_STORES", "memory,sqlite,postgres")
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies every size (0.05: a quick run)"
    )
    parser.add_argument(
        "--tickets", type=int, help="tickets stored for the lists (default 100,000 x scale)"
    )
    parser.add_argument(
        "--due", type=int, help="waiting tickets with a due reminder (default 10,000 x scale)"
    )
    parser.add_argument(
        "--sweep-workers",
        type=int,
        default=4,
        help="Postgres: worker processes sweeping due timers beside one (0: not measured)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    sizes = Sizes.scaled(args.scale)
    if args.tickets:
        sizes = attrs.evolve(sizes, stored=args.tickets)
    if args.due:
        sizes = attrs.evolve(sizes, due=args.due)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.stores.split(","):
            try:
                with open_store(name.strip(), Path(folder)) as store:
                    if store is not None:
                        results.extend(run_store(name.strip(), store, sizes))
            except StorageError as error:
                print(f"note: {name} skipped: {error}")
    if "postgres" in args.stores and args.sweep_workers > 1:
        results.extend(sweep_scaling(SWEEP_TIMERS_PER_DUE * sizes.due, args.sweep_workers))
    print()
    print_table(results)
    print()
    print("\n".join(verdicts(results, sizes.stored)))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps([r.as_json() for r in results], indent=2))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
