"""What the concurrency tests run in worker processes, and the seeding they share.

Everything a worker runs is a top-level function taking picklable arguments:
the tests start workers with the ``spawn`` context, so each is a fresh
interpreter with its own engine and connections, as separate hosts would be.
Workers report through files (one per worker) and pipes, never through
shared memory; time is fake and passed in explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, cast

import attrs
import sqlalchemy as sa

from supportdesk import (
    ALWAYS_OPEN,
    Activity,
    ActivityKind,
    Contact,
    DeliveryState,
    Desk,
    Event,
    FakeClock,
    Organization,
    RequestType,
    Role,
    Store,
    Submission,
    SupportDesk,
    Ticket,
    Timer,
    TimerState,
    UnitOfWork,
)
from supportdesk.storage.protocol import Timers
from supportdesk.storage.sql import SqlStore, rows
from supportdesk.storage.sql.schema import activities, desk_sequences, events, timers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When the seeded tickets started waiting for their customer."""

NOW = T0 + timedelta(days=1, minutes=1)
"""When the workers sweep: each seeded ticket's first reminder is due, nothing else."""

BARRIER_TIMEOUT = 60.0
"""Seconds a worker waits for the others to be ready: spawning is slow, hanging is worse."""


@attrs.frozen(kw_only=True)
class Seeded:
    """What :func:`seed_waiting_tickets` wrote, by id."""

    desk_id: str
    request_type_id: str
    customer_ids: tuple[str, ...]
    agent_id: str
    ticket_ids: frozenset[str]
    due_timer_ids: frozenset[str]
    """The timers due at :data:`NOW`: one reminder per ticket."""


def seed_directory(desk: SupportDesk, customers: int = 4) -> Seeded:
    """A desk ``HHA``, one request type, ``customers`` customers of one organisation, an agent."""
    acme = desk.add_organization(Organization(name="Acme Health"))
    help_desk = desk.add_desk(Desk(key="HHA", name="Customer Service Desk"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General Request"))
    people = [
        desk.add_contact(
            Contact(
                email=f"customer{n}@acme.test", full_name=f"Customer {n}", organization_id=acme.id
            )
        )
        for n in range(customers)
    ]
    agent = desk.add_contact(
        Contact(
            email="agent@desk.test",
            full_name="Agent Smith",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    return Seeded(
        desk_id=help_desk.id,
        request_type_id=general.id,
        customer_ids=tuple(p.id for p in people),
        agent_id=agent.id,
        ticket_ids=frozenset(),
        due_timer_ids=frozenset(),
    )


def seed_waiting_tickets(url: str, count: int) -> Seeded:
    """``count`` tickets waiting for their customer since :data:`T0`, the outbox empty.

    Each ticket holds its creation entry and the timers the workflow sets on
    entering ``waiting_for_customer``: its first reminder is due at
    :data:`NOW`, the rest later.  The rows are the store's own (its row
    mappings and ``add_timers``), written with one statement per table:
    thousands of use cases would take longer than the test itself.
    """
    store = SqlStore.from_url(url)
    try:
        desk = SupportDesk(store, clock=FakeClock(T0))
        seeded = seed_directory(desk)
        requester = desk.get_contact(seeded.customer_ids[0])
        tickets = [
            Ticket(
                reference=f"HHA-{number}",
                desk_id=seeded.desk_id,
                request_type_id=seeded.request_type_id,
                summary="Portal missing data",
                description="Claims from May are missing.",
                status="waiting_for_customer",
                requester_id=requester.id,
                organization_id=requester.organization_id,
                created_at=T0,
                updated_at=T0,
                status_epoch=2,
                version=2,
            )
            for number in range(1, count + 1)
        ]
        created = [
            Activity(
                ticket_id=ticket.id,
                seq=1,
                kind=ActivityKind.CREATED,
                actor_id=requester.id,
                at=T0,
                body=ticket.description,
            )
            for ticket in tickets
        ]
        planned = [
            timer
            for ticket in tickets
            for timer in desk.workflow.plan_timers(ticket, T0, ALWAYS_OPEN)
        ]
        with store.engine.begin() as connection:
            connection.execute(
                desk_sequences.insert(), {"desk_id": seeded.desk_id, "last_number": count}
            )
            connection.execute(rows.TICKETS.table.insert(), [rows.TICKETS.row(t) for t in tickets])
            connection.execute(
                rows.ACTIVITIES.table.insert(), [rows.ACTIVITIES.row(a) for a in created]
            )
        with store.unit_of_work() as work:
            work.timers.add(planned)
        due = {timer.id for timer in planned if timer.due_at <= NOW}
        assert len(due) == count, "one reminder per ticket is due at NOW"
        return attrs.evolve(
            seeded,
            ticket_ids=frozenset(t.id for t in tickets),
            due_timer_ids=frozenset(due),
        )
    finally:
        store.close()


class ObservedStore:
    """A store whose units of work report the timers they claimed, once committed.

    ``on_finish(batch, finished)`` runs after each timer is finished inside a
    sweep's batch (both counted from 1): a test uses it to stop a worker at an
    exact point of its sweep.
    """

    def __init__(self, inner: Store, on_finish: Callable[[int, int], None] | None = None) -> None:
        self.inner = inner
        self.on_finish = on_finish
        self.claimed: list[str] = []
        """Ids of the timers claimed by committed units of work, in claim order."""
        self.batches = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self.inner.unit_of_work() as work:
            observed = _ObservedWork(work, self)
            yield cast(UnitOfWork, observed)
        self.claimed.extend(observed.claimed)

    def close(self) -> None:
        self.inner.close()


class _ObservedWork:
    def __init__(self, work: UnitOfWork, store: ObservedStore) -> None:
        self._work = work
        self.timers = _ObservedTimers(work.timers, store)

    @property
    def claimed(self) -> list[str]:
        return self.timers.claimed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)


class _ObservedTimers:
    def __init__(self, timers: Timers, store: ObservedStore) -> None:
        self._timers = timers
        self._store = store
        self._finished = 0
        self.claimed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._timers, name)

    def claim_due(self, now: datetime, limit: int) -> Sequence[Timer]:
        due = self._timers.claim_due(now, limit)
        if due:
            self._store.batches += 1
        self.claimed.extend(timer.id for timer in due)
        return due

    def mark_finished(self, timer_id: str, state: TimerState, now: datetime) -> None:
        self._timers.mark_finished(timer_id, state, now)
        self._finished += 1
        if self._store.on_finish is not None:
            self._store.on_finish(self._store.batches, self._finished)


# Workers: each runs in a process of its own.


def sweep_and_dispatch(url: str, barrier: Barrier, out: str, batch_size: int) -> None:
    """Alternate a batch of due timers and a batch of outbox events until both run dry.

    Writes the delivered event ids to ``out + ".events"`` as they are
    delivered (the handler), and the claimed timer ids to ``out + ".json"``
    at the end.  A sweep or a dispatch may find nothing while another worker
    holds what is left (a claim skips the timers of a ticket another claim
    holds, and a ticket's later events wait for its earlier one), so a worker
    stops only once nothing due is pending at all.
    """
    store = ObservedStore(SqlStore.from_url(url))
    desk = SupportDesk(store, clock=FakeClock(NOW))
    fired = skipped = delivered = 0
    with open(out + ".events", "w", encoding="utf-8") as log:

        def handler(event: Event) -> None:
            log.write(event.id + "\n")
            log.flush()

        barrier.wait(BARRIER_TIMEOUT)
        while True:
            sweep = desk.run_due_timers(NOW, batch_size=batch_size, max_batches=1)
            sent = desk.dispatch_notifications(handler, limit=batch_size)
            fired += sweep.fired
            skipped += sweep.skipped
            delivered += len(sent.delivered)
            assert not sent.retrying and not sent.parked
            if sweep.batches == 0 and sent.attempted == 0 and _drained(store):
                break
    report = {
        "pid": os.getpid(),
        "claimed": store.claimed,
        "fired": fired,
        "skipped": skipped,
        "delivered": delivered,
    }
    Path(out + ".json").write_text(json.dumps(report), encoding="utf-8")
    store.close()


def _drained(store: Store) -> bool:
    """No timer due at NOW and no event left pending, whoever claimed them."""
    with store.unit_of_work() as work:
        due = work.timers.get_next_due()
        pending = work.outbox.find(state=DeliveryState.PENDING, limit=1)
    return (due is None or due > NOW) and not pending


def open_tickets(
    url: str,
    barrier: Barrier,
    out: str,
    seeded: Seeded,
    count: int,
    note_on: Sequence[str],
) -> None:
    """Open ``count`` tickets, then (all workers together) add a note to each of ``note_on``."""
    store = SqlStore.from_url(url)
    desk = SupportDesk(store, clock=FakeClock(T0))
    customers = [desk.get_contact(contact_id) for contact_id in seeded.customer_ids]
    agent = desk.get_contact(seeded.agent_id)
    barrier.wait(BARRIER_TIMEOUT)
    references = []
    for n in range(count):
        submission = Submission(summary=f"Request {n} of {os.getpid()}", description="Help.")
        ticket = desk.open_ticket(customers[n % len(customers)], seeded.request_type_id, submission)
        references.append(ticket.reference)
    barrier.wait(BARRIER_TIMEOUT)
    for reference in note_on:
        desk.add_note(agent, reference, f"note from {os.getpid()}")
    Path(out).write_text(json.dumps(references), encoding="utf-8")
    store.close()


def sweep_until_stopped(
    url: str, batch_size: int, stop_at: tuple[int, int], conn: Connection
) -> None:
    """Sweep every due timer, but at ``stop_at`` (batch, finished timer) tell ``conn`` and hang.

    The parent kills the process while it hangs: in the middle of a batch,
    its transaction open, some timers of the batch fired in it.
    """

    def stop(batch: int, finished: int) -> None:
        if (batch, finished) == stop_at:
            conn.send("stopped")
            conn.recv()  # never answered: the parent kills this process

    store = ObservedStore(SqlStore.from_url(url), on_finish=stop)
    desk = SupportDesk(store, clock=FakeClock(NOW))
    desk.run_due_timers(NOW, batch_size=batch_size)
    conn.send("finished")
    store.close()


# What the tests check, read straight from the tables.


def timer_states(engine: sa.Engine) -> dict[str, str]:
    """Every timer's state, by id."""
    with engine.connect() as connection:
        return {
            row.id: row.state for row in connection.execute(sa.select(timers.c.id, timers.c.state))
        }


def reminders_per_ticket(engine: sa.Engine) -> dict[str, int]:
    """How many ``reminder_sent`` entries each ticket's activity log holds (tickets with any)."""
    statement = (
        sa.select(activities.c.ticket_id, sa.func.count().label("reminders"))
        .where(activities.c.kind == ActivityKind.REMINDER_SENT.value)
        .group_by(activities.c.ticket_id)
    )
    with engine.connect() as connection:
        return {row.ticket_id: row.reminders for row in connection.execute(statement)}


def event_ids(engine: sa.Engine) -> set[str]:
    """The ids of every event in the outbox."""
    with engine.connect() as connection:
        return set(connection.execute(sa.select(events.c.id)).scalars())


def activity_seqs(engine: sa.Engine) -> dict[str, list[int]]:
    """Each ticket's activity ``seq`` numbers, in order."""
    logs: dict[str, list[int]] = {}
    statement = sa.select(activities.c.ticket_id, activities.c.seq).order_by(
        activities.c.ticket_id, activities.c.seq
    )
    with engine.connect() as connection:
        for ticket_id, seq in connection.execute(statement):
            logs.setdefault(ticket_id, []).append(seq)
    return logs


def wait_for_claims_released(engine: sa.Engine) -> None:
    """Block until no transaction holds a pending timer: a killed worker's has rolled back.

    Postgres notices a dead client when it next reads its socket, a moment
    after the kill; until then the dead transaction still locks its claim and
    a sweep skips those timers (correctly: another sweep takes them later).
    Waiting for the row locks, instead of sleeping, makes the rerun see all
    of them.  On SQLite the operating system drops a dead process's file
    locks at once and this is one empty write transaction.
    """
    pending = sa.select(timers.c.id).where(timers.c.state == TimerState.PENDING.value)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
        connection.execute(pending.with_for_update()).all()
