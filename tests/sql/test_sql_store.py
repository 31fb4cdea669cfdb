"""What the SQL store promises beyond the shared contract: errors, concurrency, time, settings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from supportdesk import (
    Activity,
    ActivityKind,
    Attachment,
    AttachmentLimits,
    Collaborator,
    Conflict,
    Contact,
    Desk,
    Event,
    EventKind,
    NotFound,
    NotificationSettings,
    Organization,
    ScanStatus,
    StorageError,
    Store,
    Ticket,
    Timer,
    TimerState,
    UnitOfWork,
)
from supportdesk.access import TicketScope
from supportdesk.storage.protocol import TicketQuery
from supportdesk.storage.sql import SqlStore, SqlUnitOfWork, make_engine
from supportdesk.testing.contract.base import T0, make_ticket

THREADS = 6


@attrs.frozen(kw_only=True)
class Seeded:
    desk: Desk
    alice: Contact
    ticket: Ticket


def seed(store: SqlStore) -> Seeded:
    desk = Desk(key="HHA", name="Help")
    alice = Contact(email="alice@acme.test", full_name="Alice")
    ticket = make_ticket(desk, 1, alice)
    with store.unit_of_work() as work:
        work.desks.put_desk(desk)
        work.directory.put_contact(alice)
        work.tickets.add(ticket)
    return Seeded(desk=desk, alice=alice, ticket=ticket)


def note(ticket: Ticket, body: str = "hi") -> Activity:
    return Activity(
        ticket_id=ticket.id,
        kind=ActivityKind.PUBLIC_UPDATE,
        actor_id=ticket.requester_id,
        at=T0,
        body=body,
    )


def attachment(ticket: Ticket, name: str, **changes: Any) -> Attachment:
    made = Attachment(
        ticket_id=ticket.id,
        activity_id="entry",
        filename=f"{name}.png",
        content_type="image/png",
        size=100,
        sha256="ab" * 32,
        blob_key=f"tickets/{ticket.id}/{name}",
        uploader_id=ticket.requester_id,
        uploaded_at=T0,
    )
    return attrs.evolve(made, **changes)


def timer(ticket: Ticket, minutes: int) -> Timer:
    return Timer(
        ticket_id=ticket.id,
        name=f"reminder_{minutes}",
        status="new",
        status_epoch=1,
        due_at=T0 + timedelta(minutes=minutes),
    )


def in_threads(count: int, job: Callable[[int], Any]) -> list[Any]:
    """Run ``job(0..count-1)`` at once in threads; re-raise the first failure."""
    start = threading.Barrier(count)

    def run(number: int) -> Any:
        start.wait()
        return job(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """The SQL statements the store sends while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)


# The protocol.


def test_is_a_store(sqlite_store: SqlStore) -> None:
    store: Store = sqlite_store
    with store.unit_of_work() as work:
        assert work.desks.list_desks() == []


# Errors.


def test_unreachable_database_is_a_storage_error_with_the_driver_cause() -> None:
    store = SqlStore(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"))
    with pytest.raises(StorageError) as raised, store.unit_of_work() as work:
        work.desks.list_desks()
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
    assert "OperationalError" in str(raised.value)
    store.close()


def test_broken_schema_is_a_storage_error_inside_the_unit_of_work(sqlite_store: SqlStore) -> None:
    with sqlite_store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE desks")
    with pytest.raises(StorageError) as raised, sqlite_store.unit_of_work() as work:
        with pytest.raises(StorageError):
            work.desks.list_desks()
        work.desks.list_desks()
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


def test_failure_halfway_leaves_nothing(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    second = make_ticket(seeded.desk, 2, seeded.alice)
    orphan = attrs.evolve(timer(seeded.ticket, 1), ticket_id="no-such-ticket")
    with pytest.raises(StorageError) as raised, sql_store.unit_of_work() as work:
        work.tickets.add(second)
        work.activity.add(note(second))
        work.outbox.add([Event(kind=EventKind.TICKET_CREATED, at=T0, ticket_id=second.id)])
        work.timers.add([timer(second, 1), orphan])
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)
    with sql_store.unit_of_work() as work:
        assert work.tickets.get(second.id) is None
        assert work.activity.list_entries(second.id, include_internal=True) == []
        assert work.outbox.list_events() == []
        assert work.timers.list_pending(second.id) == []


def test_conflict_leaves_the_unit_of_work_usable(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    bob = Contact(email="bob@acme.test", full_name="Bob")
    with sql_store.unit_of_work() as work:
        with pytest.raises(Conflict) as raised:
            work.directory.put_contact(Contact(email="ALICE@acme.test", full_name="Not Alice"))
        assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)
        with pytest.raises(Conflict):
            work.desks.put_desk(Desk(key="HHA", name="Another"))
        with pytest.raises(Conflict):
            work.tickets.add(attrs.evolve(seeded.ticket, id="another"))
        kept = attachment(seeded.ticket, "kept")
        work.attachments.add(kept)
        with pytest.raises(Conflict):
            work.attachments.add(attrs.evolve(kept, blob_key="tickets/elsewhere"))
        with pytest.raises(Conflict):
            work.attachments.add(attrs.evolve(kept, id="another"))
        work.directory.put_contact(bob)
    with sql_store.unit_of_work() as work:
        assert work.directory.get_contact(bob.id) == bob
        assert work.attachments.get(kept.id) == kept
        assert work.directory.get_contact_by_email("alice@acme.test") == seeded.alice


def test_an_attachment_of_an_unknown_ticket_is_a_storage_error(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    orphan = attachment(attrs.evolve(seeded.ticket, id="no-such-ticket"), "orphan")
    with pytest.raises(StorageError) as raised, sql_store.unit_of_work() as work:
        work.attachments.add(orphan)
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)


@pytest.mark.postgres
def test_postgres_errors_name_the_constraint_never_the_row(postgres_store: SqlStore) -> None:
    """Issue 10, defect 10: no "Failing row contains (...)", no "Key (...)=(...)"."""
    seeded = seed(postgres_store)
    secret = "row-data-7f3a9c"
    with pytest.raises(StorageError) as not_null, postgres_store.unit_of_work() as work:
        work.directory.put_organization(Organization(id=secret, name=None))  # type: ignore[arg-type]
    orphan = attachment(attrs.evolve(seeded.ticket, id=secret), "orphan")
    with pytest.raises(StorageError) as foreign, postgres_store.unit_of_work() as work:
        work.attachments.add(orphan)
    for raised, sqlstate, named in ((not_null, "23502", "name"), (foreign, "23503", "fk_")):
        message = str(raised.value)
        assert f"SQLSTATE {sqlstate}" in message
        assert named in message
        assert secret not in message
        assert "Failing row" not in message and "Key (" not in message
        assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)


def test_desk_attachment_limits_round_trip(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    limits = AttachmentLimits(
        max_file_bytes=1024,
        max_ticket_bytes=4096,
        max_ticket_files=3,
        allowed_types=["application/pdf", "image/png"],
    )
    changed = attrs.evolve(seeded.desk, attachment_limits=limits)
    with sql_store.unit_of_work() as work:
        assert work.desks.get_desk(seeded.desk.id) == seeded.desk
        work.desks.put_desk(changed)
    with sql_store.unit_of_work() as work:
        assert work.desks.get_desk(seeded.desk.id) == changed
        assert work.desks.list_desks() == [changed]


def test_append_to_an_unknown_ticket_is_not_found(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    with pytest.raises(NotFound), sql_store.unit_of_work() as work:
        work.activity.add(attrs.evolve(note(seeded.ticket), ticket_id="nope"))


# Time.


def test_times_in_any_zone_come_back_as_the_same_instant_in_utc(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    east = timezone(timedelta(hours=5, minutes=30))
    at = (T0 + timedelta(days=1)).astimezone(east)
    later = attrs.evolve(seeded.ticket, updated_at=at, resolved_at=at, version=2)
    with sql_store.unit_of_work() as work:
        work.tickets.update(later)
        stored = work.tickets.get(later.id)
        assert stored == later
        assert stored is not None and stored.updated_at.utcoffset() == timedelta(0)
        # A keyset position in another zone compares by instant too.
        query = TicketQuery(scope=TicketScope(everything=True), after=(at, "~"))
        assert [t.id for t in work.tickets.find(query)] == [later.id]


# Concurrency.


def test_concurrent_creators_never_share_a_reference(sql_store: SqlStore) -> None:
    def allocate(_: int) -> list[int]:
        numbers = []
        for _ in range(5):
            with sql_store.unit_of_work() as work:
                numbers.append(work.desks.claim_reference("desk"))
        return numbers

    taken = [n for numbers in in_threads(THREADS, allocate) for n in numbers]
    assert sorted(taken) == list(range(1, THREADS * 5 + 1))


def test_concurrent_appends_to_one_ticket_never_conflict(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)

    def append(number: int) -> list[int]:
        seqs = []
        for step in range(5):
            with sql_store.unit_of_work() as work:
                work.tickets.mark_updated(
                    seeded.ticket.id, T0 + timedelta(minutes=number * 10 + step)
                )
                seqs.append(work.activity.add(note(seeded.ticket, f"{number}.{step}")).seq)
        return seqs

    seqs = [seq for found in in_threads(THREADS, append) for seq in found]
    assert sorted(seqs) == list(range(1, THREADS * 5 + 1))
    with sql_store.unit_of_work() as work:
        log = work.activity.list_entries(seeded.ticket.id, include_internal=True)
        assert [entry.seq for entry in log] == list(range(1, THREADS * 5 + 1))


def test_concurrent_sweeps_fire_each_timer_once(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    with sql_store.unit_of_work() as work:
        work.timers.add([timer(seeded.ticket, minutes) for minutes in range(40)])
    now = T0 + timedelta(days=1)

    def sweep(_: int) -> list[str]:
        fired: list[str] = []
        while True:
            with sql_store.unit_of_work() as work:
                claimed = work.timers.claim_due(now, limit=3)
                for due in claimed:
                    work.timers.mark_finished(due.id, TimerState.FIRED, now)
                # A claim skips a ticket another claim holds: done only when none is due.
                next_due = work.timers.get_next_due()
                done = not claimed and (next_due is None or next_due > now)
            if done:
                return fired
            fired.extend(due.id for due in claimed)

    fired = [timer_id for found in in_threads(THREADS, sweep) for timer_id in found]
    assert len(fired) == len(set(fired)) == 40


@pytest.mark.postgres
def test_postgres_claims_skip_rows_claimed_in_flight(postgres_store: SqlStore) -> None:
    seeded = seed(postgres_store)
    other = make_ticket(seeded.desk, 2, seeded.alice)
    with postgres_store.unit_of_work() as work:
        work.tickets.add(other)
        # The first claim takes the first two, and their ticket with them.
        work.timers.add([timer(seeded.ticket, minutes) for minutes in range(2)])
        work.timers.add([timer(other, minutes) for minutes in range(2, 4)])
        work.outbox.add(
            [
                Event(kind=EventKind.PUBLIC_UPDATE, at=T0, ticket_id=seeded.ticket.id),
                Event(kind=EventKind.PUBLIC_UPDATE, at=T0, ticket_id=seeded.ticket.id),
                Event(kind=EventKind.SIGNUP_REQUESTED, at=T0),
            ]
        )
    now, lease = T0 + timedelta(days=1), T0 + timedelta(days=1, minutes=5)
    with postgres_store.unit_of_work() as first:
        timers_one = first.timers.claim_due(now, limit=2)
        events_one = first.outbox.claim(now, 1, lease_until=lease, owner="first")
        with postgres_store.unit_of_work() as second:
            timers_two = second.timers.claim_due(now, limit=10)
            # The first claim holds the ticket's first event: its second waits.
            events_two = second.outbox.claim(now, 10, lease_until=lease, owner="second")
    assert [t.due_at for t in timers_one] == [T0, T0 + timedelta(minutes=1)]
    assert [t.due_at for t in timers_two] == [T0 + timedelta(minutes=2), T0 + timedelta(minutes=3)]
    assert [e.event.kind for e in events_one] == [EventKind.PUBLIC_UPDATE]
    assert [e.event.kind for e in events_two] == [EventKind.SIGNUP_REQUESTED]


@pytest.mark.postgres
def test_postgres_sweeps_skip_the_timers_of_a_ticket_a_use_case_holds(
    postgres_store: SqlStore,
) -> None:
    # A use case locks its ticket, then cancels the ticket's timers; a sweep
    # that claimed one of those timers and then waited for the ticket was a
    # deadlock (found by the soak).  Now the sweep passes the ticket by.
    seeded = seed(postgres_store)
    with postgres_store.unit_of_work() as work:
        work.timers.add([timer(seeded.ticket, 0)])
    now = T0 + timedelta(days=1)
    with postgres_store.unit_of_work() as use_case:
        use_case.tickets.update(attrs.evolve(seeded.ticket, status="resolved", version=2))
        with postgres_store.unit_of_work() as sweep:
            assert sweep.timers.claim_due(now, limit=10) == []
        assert use_case.timers.mark_canceled(seeded.ticket.id, now) == 1
    with postgres_store.unit_of_work() as sweep:
        assert sweep.timers.claim_due(now, limit=10) == []


def test_concurrent_scanners_record_one_verdict_each(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    waiting = [
        attachment(seeded.ticket, f"f{n}", scan_status=ScanStatus.SCANNING) for n in range(10)
    ]
    with sql_store.unit_of_work() as work:
        for made in waiting:
            work.attachments.add(made)

    def scan(number: int) -> list[str]:
        verdict = ScanStatus.CLEAN if number % 2 else ScanStatus.REJECTED
        recorded = []
        for made in waiting:
            with sql_store.unit_of_work() as work:
                if (
                    work.attachments.mark_scanned(made.id, verdict, reason=f"worker {number}")
                    is not None
                ):
                    recorded.append(made.id)
        return recorded

    recorded = [found for ids in in_threads(THREADS, scan) for found in ids]
    assert sorted(recorded) == sorted(made.id for made in waiting)
    with sql_store.unit_of_work() as work:
        assert work.attachments.list_scanning(100) == []


# Statements per call.


def test_each_call_sends_few_statements(sql_store: SqlStore) -> None:
    seeded = seed(sql_store)
    everything = TicketQuery(scope=TicketScope(everything=True))
    collaborator = Collaborator(
        ticket_id=seeded.ticket.id, contact_id="c", added_by=seeded.alice.id, added_at=T0
    )
    second = make_ticket(seeded.desk, 2, seeded.alice)
    moved = attrs.evolve(seeded.ticket, status="assigned", version=seeded.ticket.version + 1)
    renamed = attrs.evolve(moved, summary="Renamed", version=moved.version + 1)
    scanned = attachment(seeded.ticket, "scanned", scan_status=ScanStatus.SCANNING)
    keys = [f"tickets/{n}/x" for n in range(500)] + [scanned.blob_key]
    with sql_store.unit_of_work() as work:
        work.participants.add_collaborator(collaborator)
        work.participants.add_collaborator(attrs.evolve(collaborator, contact_id="d"))
        calls: dict[str, tuple[int, Callable[[], object]]] = {
            "list_collaborators": (
                1,
                lambda: work.participants.list_collaborators(seeded.ticket.id),
            ),
            "list_collaborator_contacts": (
                1,
                lambda: work.participants.list_collaborator_contacts(seeded.ticket.id),
            ),
            "find_tickets": (1, lambda: work.tickets.find(everything)),
            "find_ticket_rows": (
                1,
                lambda: work.tickets.find_rows(everything, lambda desk_id, status: status),
            ),
            "count_tickets": (1, lambda: work.tickets.count(everything)),
            "count_each": (1, lambda: work.tickets.count_each([everything] * 9)),
            "get_ticket_details": (
                1,
                lambda: work.tickets.get_details(seeded.ticket.reference, seeded.alice.id),
            ),
            "list_entries": (
                1,
                lambda: work.activity.list_entries(seeded.ticket.id, include_internal=True),
            ),
            "find_settings": (1, lambda: work.participants.find_settings(["a", "b", "c"])),
            # The kinds switched off replace the stored ones: a delete, an insert.
            "put_settings": (
                2,
                lambda: work.participants.put_settings(
                    NotificationSettings(contact_id=seeded.alice.id, email_off=frozenset(EventKind))
                ),
            ),
            "allocate_reference": (1, lambda: work.desks.claim_reference(seeded.desk.id)),
            "add_timers": (1, lambda: work.timers.add([timer(seeded.ticket, n) for n in range(5)])),
            # The row, then its search fields.
            "insert_ticket": (2, lambda: work.tickets.add(second)),
            # The ticket's lock, the entry, its search field.
            "append_activity": (3, lambda: work.activity.add(note(seeded.ticket))),
            # A ticket this transaction wrote is locked already: the entry, its search field.
            "append_activity after insert_ticket": (2, lambda: work.activity.add(note(second))),
            # The timers and their ticket in one locking read.
            "claim_due_timers": (1, lambda: work.timers.claim_due(T0 + timedelta(days=1), 10)),
            "get_ticket": (1, lambda: work.tickets.get(seeded.ticket.id)),
            # Its searchable text as read: the index is left alone.
            "update_ticket, same text": (1, lambda: work.tickets.update(moved)),
            # The row, then its changed search fields.
            "update_ticket, new summary": (2, lambda: work.tickets.update(renamed)),
            "add_attachment": (1, lambda: work.attachments.add(scanned)),
            "get_attachment": (1, lambda: work.attachments.get(scanned.id)),
            "list_attachments": (
                1,
                lambda: work.attachments.list_for_ticket(
                    seeded.ticket.id, include_internal=False, include_rejected=False
                ),
            ),
            "attachment_usage": (1, lambda: work.attachments.count_usage(seeded.ticket.id)),
            "attachments_to_scan": (1, lambda: work.attachments.list_scanning(10)),
            "finish_scan": (1, lambda: work.attachments.mark_scanned(scanned.id, ScanStatus.CLEAN)),
            "known_blob_keys": (1, lambda: work.attachments.find_kept_blob_keys(keys)),
        }
        for name, (expected, call) in calls.items():
            with statements(sql_store) as sent:
                call()
            assert len(sent) == expected, (name, sent)


# Engines.


def test_in_memory_sqlite_works_across_threads() -> None:
    # One shared connection: units of work take turns instead of colliding.
    store = SqlStore.from_url("sqlite://", create=True)

    def allocate(_: int) -> list[int]:
        numbers = []
        for _ in range(5):
            with store.unit_of_work() as work:
                numbers.append(work.desks.claim_reference("desk"))
        return numbers

    taken = [n for numbers in in_threads(THREADS, allocate) for n in numbers]
    assert sorted(taken) == list(range(1, THREADS * 5 + 1))
    store.close()


def test_sqlite_connections_get_the_store_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'settings.db'}", synchronous="full")
    with engine.connect() as connection:

        def pragma(name: str) -> object:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000
        assert pragma("synchronous") == 2
    engine.dispose()
    with pytest.raises(ValueError, match="synchronous"):
        make_engine("sqlite://", synchronous="sometimes")


def test_sqlite_writers_queue_instead_of_failing(sqlite_store: SqlStore) -> None:
    # BEGIN IMMEDIATE: the second unit of work waits for the first to commit.
    seeded = seed(sqlite_store)
    first_has_written = threading.Event()

    def first() -> None:
        with sqlite_store.unit_of_work() as work:
            work.activity.add(note(seeded.ticket, "first"))
            first_has_written.set()
            threading.Event().wait(0.2)

    def second() -> int:
        first_has_written.wait()
        with sqlite_store.unit_of_work() as work:
            return work.activity.add(note(seeded.ticket, "second")).seq

    with ThreadPoolExecutor(2) as pool:
        pool.submit(first)
        assert pool.submit(second).result() == 2


def test_store_takes_a_host_engine_and_configures_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    store = SqlStore(engine)
    SqlStore(engine)  # configuring twice changes nothing
    with store.unit_of_work() as work:
        work.desks.put_desk(Desk(key="OWN", name="Own engine"))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_other_databases_are_refused() -> None:
    engine = sa.create_engine("sqlite://")
    engine.dialect.name = "mysql"
    with pytest.raises(StorageError, match="SQLite or PostgreSQL"):
        SqlStore(engine)


def _unused(work: UnitOfWork) -> None:
    """Keeps the protocol import honest for mypy: a SqlUnitOfWork is a UnitOfWork."""


def _typed(work: SqlUnitOfWork) -> None:
    _unused(work)
