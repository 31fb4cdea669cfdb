"""One soak worker: a process that runs a seeded mix of use cases until told to stop.

The parent starts each worker with the ``spawn`` context and
:func:`run_worker`.  A worker owns a fake clock (:func:`~.scenario.op_time`),
an engine on the soak's Postgres schema and an ``S3BlobStore`` on the shared
moto server.  It logs every write it got an acknowledgement for, every
refusal and every retry to its own file (:func:`~.scenario.log_path`); a
restarted worker reads that file back to carry on from where its previous
incarnation died: the same tickets, later operations, a later clock.

A ``StorageError`` (PostgreSQL restarting, say) is retried after a bounded
backoff, in real time since it waits for a real server; anything else that
is not one of the library's refusals ends the worker with a traceback in its
log, which fails the soak.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import random
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventFlag
from pathlib import Path
from typing import Any, BinaryIO, cast

import attrs

from supportdesk import (
    AttachmentRejected,
    Conflict,
    Contact,
    Event,
    FakeClock,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    S3BlobStore,
    ScanVerdict,
    StorageError,
    Submission,
    SupportDesk,
    TicketList,
    TicketSort,
    TimerState,
    UnitOfWork,
    ValidationError,
)
from supportdesk.storage.sql import SqlStore

from .scenario import (
    INFECTED,
    LEASE,
    CrashPlan,
    Seeded,
    log_path,
    markers_folder,
    op_time,
    read_log,
    records_path,
)

RETRY_BUDGET = 90.0
"""Seconds one operation keeps retrying a ``StorageError`` before the worker gives up."""

FIRST_BACKOFF, MAX_BACKOFF = 0.05, 1.0
"""The retry backoff in seconds: doubling from the first to the cap."""

REFUSALS = (
    InvalidTransition,
    Conflict,
    PermissionDenied,
    ValidationError,
    AttachmentRejected,
    NotFound,
)
"""What a use case may answer instead of doing the write: logged, counted, never retried."""

WEIGHTS = {
    "open": 10,
    "update": 9,
    "reply": 4,
    "note": 8,
    "ask_customer": 8,
    "resolve": 6,
    "reopen": 3,
    "close": 3,
    "cancel": 1,
    "assign": 3,
    "wait_for": 2,
    "escalate": 2,
    "collaborator": 4,
    "attach": 7,
    "sweep": 8,
    "dispatch": 8,
    "scan": 3,
    "read": 4,
}
"""How often each operation is chosen."""

OPEN = frozenset(
    {"new", "assigned", "waiting_for_customer", "waiting_for_third_party", "pending_support"}
)
FROM = {
    "ask_customer": frozenset({"new", "assigned", "pending_support", "waiting_for_third_party"}),
    "resolve": OPEN,
    "reopen": frozenset({"resolved"}),
    "close": OPEN | {"resolved"},
    "cancel": OPEN,
    "assign": frozenset({"new", "pending_support", "waiting_for_third_party"}),
    "wait_for": frozenset({"new", "assigned", "pending_support"}),
    "escalate": OPEN,
}
"""The statuses of the default workflow each transition leaves: targets are chosen among them."""

TRANSITIONS = ("ask_customer", "resolve", "reopen", "close", "cancel", "wait_for")
"""Operations that move the ticket: the checker finds their ``status_changed`` entry."""


@attrs.frozen(kw_only=True)
class S3Config:
    endpoint_url: str
    bucket: str


@attrs.frozen(kw_only=True)
class WorkerConfig:
    """Everything a worker process needs, picklable."""

    index: int
    incarnation: int
    url: str
    s3: S3Config
    seeded: Seeded
    folder: str
    seed: int
    crash: CrashPlan | None
    """Where this process is to die once the parent arms it; None for all but the victim."""


def s3_client(endpoint_url: str) -> Any:
    """A boto3 client for moto on loopback: path-style, fixed test credentials, no ~/.aws."""
    import boto3.session
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return boto3.session.Session(botocore_session=core).client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


PART_SIZE = 256 * 1024
"""Multipart parts against moto (told to accept them): a few files take that path."""


def blob_store(config: S3Config) -> S3BlobStore:
    return S3BlobStore(
        config.bucket,
        client=s3_client(config.endpoint_url),
        multipart_threshold=PART_SIZE,
        part_size=PART_SIZE,
    )


class MarkerScanner:
    """A scanner that refuses files holding the EICAR test string."""

    def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
        body = stream.read()
        if INFECTED in body:
            return ScanVerdict(clean=False, reason="EICAR test signature")
        return ScanVerdict(clean=True)


def desk_options(clock: FakeClock, blobs: Any) -> dict[str, Any]:
    """The desk configuration every worker and the checker share."""
    return {
        "clock": clock,
        "blob_store": blobs,
        "scanner": MarkerScanner(),
        "scan_later": True,
        "retry_policy": RetryPolicy(lease=LEASE),
    }


# Crash sites: hooks in the store, the blob store and the handler.


class Crash:
    """The victim's fate: at its planned site, once armed, it tells the parent and waits to die."""

    def __init__(
        self, plan: CrashPlan | None, armed: EventFlag, conn: Connection, log: OpLog
    ) -> None:
        self.plan = plan
        self.armed = armed
        self.conn = conn
        self.log = log
        self.op = 0
        self.kind = ""

    def at(self, site: str, detail: str = "") -> None:
        plan = self.plan
        if plan is None or plan.site != site or not self.armed.is_set():
            return
        if plan.kind and plan.kind != self.kind:
            return
        self.log.write(
            {"t": "crash", "op": self.op, "kind": self.kind, "site": site, "detail": detail}
        )
        self.conn.send(("crash", site, self.op, detail))
        self.conn.recv()  # never answered: the parent SIGKILLs this process now


class HookedStore:
    """The SQL store, with the ``before_commit`` and ``mid_sweep`` crash sites."""

    def __init__(self, inner: SqlStore, crash: Crash) -> None:
        self.inner = inner
        self.crash = crash

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self.inner.unit_of_work() as work:
            yield cast(UnitOfWork, _HookedWork(work, self.crash))
            self.crash.at("before_commit")

    def close(self) -> None:
        self.inner.close()


class _HookedWork:
    def __init__(self, work: UnitOfWork, crash: Crash) -> None:
        self._work = work
        self.timers = _HookedTimers(work.timers, crash)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)


class _HookedTimers:
    def __init__(self, timers: Any, crash: Crash) -> None:
        self._timers = timers
        self._crash = crash

    def __getattr__(self, name: str) -> Any:
        return getattr(self._timers, name)

    def mark_finished(self, timer_id: str, state: TimerState, now: datetime) -> None:
        self._timers.mark_finished(timer_id, state, now)
        self._crash.at("mid_sweep", timer_id)


class HookedBlobs:
    """The S3 blob store, with the ``after_blob_put`` crash site."""

    def __init__(self, inner: S3BlobStore, crash: Crash) -> None:
        self.inner = inner
        self.crash = crash

    def put(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> Any:
        info = self.inner.put(key, stream, content_type=content_type)
        self.crash.at("after_blob_put", key)
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Recorder:
    """The idempotent notification handler: records each event id once, across all processes.

    Its idempotency store is a folder shared by every worker and the
    checker, one file per event id created with ``O_EXCL``: the first
    delivery records the id in this process's file, a later delivery of the
    same event (after a crash or an outage between delivery and bookkeeping)
    finds the file and is logged as ``again``.
    """

    def __init__(self, folder: Path, records: Path, crash: Crash | None) -> None:
        self.markers = markers_folder(folder)
        self.markers.mkdir(exist_ok=True)
        self.file = records.open("a", encoding="utf-8")
        self.crash = crash

    def __call__(self, event: Event) -> None:
        try:
            os.close(os.open(self.markers / event.id, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            self._write(f"again {event.id}\n")
            return
        self._write(f"{event.id}\n")
        if self.crash is not None:
            self.crash.at("in_handler", event.id)

    def _write(self, line: str) -> None:
        self.file.write(line)
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class OpLog:
    """A worker's log: one JSON object per line, written whole and flushed."""

    def __init__(self, path: Path) -> None:
        _drop_torn_tail(path)
        self.file = path.open("a", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        self.file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _drop_torn_tail(path: Path) -> None:
    """Cut a line the previous incarnation's SIGKILL left unfinished, so new lines start clean."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as file:
            file.truncate(data.rfind(b"\n") + 1)


# What a worker knows of tickets: rebuilt from its log after a restart.


@attrs.define
class Known:
    ref: str
    id: str
    desk: str
    requester: str
    status: str


@attrs.define
class State:
    """The tickets a worker knows, in the order it learnt them, and its next operation."""

    tickets: dict[str, Known] = attrs.field(factory=dict)
    order: list[str] = attrs.field(factory=list)
    next_op: int = 0

    def learn(self, ref: str, id: str, desk: str, requester: str, status: str) -> None:
        if ref not in self.tickets:
            self.order.append(ref)
            self.tickets[ref] = Known(ref, id, desk, requester, status)
        else:
            self.tickets[ref].status = status

    def apply(self, entry: dict[str, Any]) -> None:
        """Take in one log line: an acknowledged write tells a ticket's status."""
        if "op" in entry:
            self.next_op = max(self.next_op, entry["op"] + 1)
        if entry.get("t") != "ack":
            return
        for known in entry.get("learned", ()):
            self.learn(*known)
        if "status" in entry and "landed_ref" in entry:
            self.learn(
                entry["landed_ref"],
                entry["landed_id"],
                entry["desk"],
                entry["landed_requester"],
                entry["status"],
            )
        elif "status" in entry:
            self.learn(
                entry["ref"], entry["id"], entry["desk"], entry["requester"], entry["status"]
            )


class Worker:
    """The loop of one worker process."""

    def __init__(self, config: WorkerConfig, conn: Connection, armed: EventFlag) -> None:
        self.config = config
        self.index = config.index
        self.folder = Path(config.folder)
        self.rng = random.Random(f"{config.seed}/{config.index}/{config.incarnation}")
        self.log = OpLog(log_path(self.folder, config.index))
        self.state = State()
        for entry in read_log(log_path(self.folder, config.index)):
            self.state.apply(entry)
        self.crash = Crash(config.crash, armed, conn, self.log)
        self.clock = FakeClock(op_time(self.index, self.state.next_op))
        self.recorder = Recorder(
            self.folder, records_path(self.folder, config.index, config.incarnation), self.crash
        )
        self.kinds = list(WEIGHTS)
        self.weights = list(WEIGHTS.values())
        self.op = self.state.next_op
        self.kind = "start"
        store = self.retrying(lambda: SqlStore.from_url(config.url))
        self.desk = SupportDesk(
            HookedStore(store, self.crash),
            **desk_options(self.clock, HookedBlobs(blob_store(config.s3), self.crash)),
        )
        seeded = config.seeded
        people = [*seeded.customers, *(a for staff in seeded.agents.values() for a in staff)]
        self.contacts: dict[str, Contact] = {
            p.id: self.retrying(functools.partial(self.desk.get_contact, p.id)) for p in people
        }
        self.customers = [self.contacts[p.id] for p in seeded.customers]
        self.agents = {
            key: [self.contacts[p.id] for p in staff] for key, staff in seeded.agents.items()
        }
        self.desk_keys = sorted(seeded.desks)
        self.ops: dict[str, Callable[[], dict[str, Any] | None]] = {
            kind: getattr(self, f"op_{kind}") for kind in WEIGHTS
        }

    # The loop.

    def run(self, stop: EventFlag) -> None:
        self.log.write(
            {
                "t": "start",
                "incarnation": self.config.incarnation,
                "pid": os.getpid(),
                "first": self.op,
            }
        )
        while not stop.is_set():
            self.op = self.state.next_op
            self.state.next_op += 1
            self.clock.set(op_time(self.index, self.op))
            kind = self.rng.choices(self.kinds, self.weights)[0]
            self.kind = self.crash.kind = kind
            self.crash.op = self.op
            try:
                detail = self.retrying(self.ops[kind])
            except REFUSALS as refusal:
                self.log.write(
                    {"t": "no", "op": self.op, "kind": kind, "error": type(refusal).__name__}
                )
            else:
                if detail is not None:
                    entry = {"t": "ack", "op": self.op, "kind": kind, **detail}
                    self.log.write(entry)
                    self.state.apply(entry)
            self.crash.kind = ""
            self.crash.at("between_ops")
        self.log.write({"t": "end", "op": self.op})

    def retrying(self, call: Callable[[], Any]) -> Any:
        """``call()``; a ``StorageError`` is logged and retried after a bounded backoff."""
        delay, started = FIRST_BACKOFF, time.monotonic()
        while True:
            try:
                return call()
            except StorageError as error:
                self.log.write(
                    {"t": "retry", "op": self.op, "kind": self.kind, "error": str(error)[:300]}
                )
                if time.monotonic() - started > RETRY_BUDGET:
                    raise
                # Real time on purpose: this waits for a real server to come back.
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def close(self) -> None:
        self.desk.dispose()
        self.recorder.close()
        self.log.close()

    # Choosing what to act on.

    def pick(self, statuses: frozenset[str] | None = None) -> Known | None:
        """A known ticket, recent ones far likelier, in one of ``statuses`` if any is.

        Older tickets are left alone: there the timers come due.
        """
        recent = self.state.order[-40:]
        sample = recent + self.rng.sample(self.state.order, min(5, len(self.state.order)))
        tickets = [self.state.tickets[ref] for ref in sample]
        if statuses is not None:
            fitting = [t for t in tickets if t.status in statuses]
            tickets = fitting or tickets
        return self.rng.choice(tickets) if tickets else None

    def agent_for(self, ticket: Known) -> Contact:
        return self.rng.choice(self.agents[ticket.desk])

    def body(self, what: str) -> str:
        return f"{what} by worker {self.index} at op {self.op}"

    def upload(self) -> tuple[str, bytes, bool]:
        """A file to attach: mostly small text, some infected, some large enough for multipart."""
        roll = self.rng.random()
        line = f"soak file of worker {self.index}, op {self.op}\n".encode()
        if roll < 0.1:
            return "eicar.txt", INFECTED + b"\n" + line, True
        if roll < 0.15:
            return "trace.log", line * (PART_SIZE // len(line) + 200), False
        return f"notes-{self.op}.txt", line * self.rng.randint(1, 40), False

    def ticket_detail(self, ticket: Known) -> dict[str, Any]:
        return {
            "ref": ticket.ref,
            "id": ticket.id,
            "desk": ticket.desk,
            "requester": ticket.requester,
        }

    def seen_lost(self, ticket: Known) -> None:
        """An acknowledged ticket its requester or its desk's agent cannot find: lost."""
        self.log.write({"t": "violation", "op": self.op, "what": f"{ticket.ref} not found"})

    # The operations.  Each returns what its acknowledgement proves, or None for reads.

    def op_open(self) -> dict[str, Any] | None:
        key = self.rng.choice(self.desk_keys)
        requester = self.rng.choice(self.customers)
        actor = requester
        if self.rng.random() < 0.1:
            actor = self.rng.choice(self.agents[key])
        files = []
        if self.rng.random() < 0.15:
            files.append(self.upload())
            self.crash.kind = "open+files"  # its first transaction only reads
        ticket = self.desk.open_ticket(
            actor,
            self.config.seeded.request_types[key],
            Submission(
                summary=f"Soak request {self.index}/{self.op}", description=self.body("opened")
            ),
            requester_id=None if actor is requester else requester.id,
            attachments=[(name, io.BytesIO(data)) for name, data, _ in files],
        )
        return {
            "kind": "open",  # also when another operation found no ticket to act on
            "ref": ticket.reference,
            "id": ticket.id,
            "desk": key,
            "requester": requester.id,
            "status": ticket.status,
            "files": [hashlib.sha256(data).hexdigest() for _, data, _ in files],
        }

    def _update(self, ticket: Known, actor: Contact) -> dict[str, Any]:
        body = self.body("update")
        landed = self.desk.share_update(actor, ticket.ref, body)
        return {
            **self.ticket_detail(ticket),
            "body": body,
            "landed_ref": landed.reference,
            "landed_id": landed.id,
            "landed_requester": landed.requester_id,
            "status": landed.status,
        }

    def op_update(self) -> dict[str, Any] | None:
        ticket = self.pick()
        if ticket is None:
            return self.op_open()
        return self.guarded(ticket, lambda: self._update(ticket, self.contacts[ticket.requester]))

    def op_reply(self) -> dict[str, Any] | None:
        ticket = self.pick()
        if ticket is None:
            return self.op_open()
        return self.guarded(ticket, lambda: self._update(ticket, self.agent_for(ticket)))

    def op_note(self) -> dict[str, Any] | None:
        ticket = self.pick()
        if ticket is None:
            return self.op_open()
        body = self.body("note")

        def note() -> dict[str, Any]:
            entry = self.desk.add_note(self.agent_for(ticket), ticket.ref, body)
            return {"ref": ticket.ref, "id": ticket.id, "activity_id": entry.id, "body": body}

        return self.guarded(ticket, note)

    def _transition(self, trigger: str) -> dict[str, Any] | None:
        ticket = self.pick(FROM[trigger])
        if ticket is None:
            return self.op_open()
        by_requester = trigger in ("cancel", "escalate") or (
            trigger in ("resolve", "close") and self.rng.random() < 0.4
        )
        actor = self.contacts[ticket.requester] if by_requester else self.agent_for(ticket)
        comment = ""
        if trigger == "ask_customer" or self.rng.random() < 0.3:
            comment = self.body(trigger)

        def move() -> dict[str, Any]:
            if trigger == "wait_for":
                moved = self.desk.wait_for(actor, ticket.ref, "the SFTP vendor", comment)
            elif trigger == "escalate":
                moved = self.desk.escalate(actor, ticket.ref, comment)
            else:
                moved = self.desk.transition(actor, ticket.ref, trigger, comment=comment)
            return {
                **self.ticket_detail(ticket),
                "trigger": trigger,
                "status": moved.status,
                "comment": comment,
            }

        return self.guarded(ticket, move)

    def op_ask_customer(self) -> dict[str, Any] | None:
        return self._transition("ask_customer")

    def op_resolve(self) -> dict[str, Any] | None:
        return self._transition("resolve")

    def op_reopen(self) -> dict[str, Any] | None:
        return self._transition("reopen")

    def op_close(self) -> dict[str, Any] | None:
        return self._transition("close")

    def op_cancel(self) -> dict[str, Any] | None:
        return self._transition("cancel")

    def op_wait_for(self) -> dict[str, Any] | None:
        return self._transition("wait_for")

    def op_escalate(self) -> dict[str, Any] | None:
        return self._transition("escalate")

    def op_assign(self) -> dict[str, Any] | None:
        ticket = self.pick(FROM["assign"])
        if ticket is None:
            return self.op_open()
        assignee = self.agent_for(ticket)

        def assign() -> dict[str, Any]:
            moved = self.desk.assign(self.agent_for(ticket), ticket.ref, assignee.id)
            return {
                **self.ticket_detail(ticket),
                "trigger": "assign",
                "assignee": assignee.id,
                "status": moved.status,
            }

        return self.guarded(ticket, assign)

    def op_collaborator(self) -> dict[str, Any] | None:
        ticket = self.pick()
        if ticket is None:
            return self.op_open()
        others = [c for c in self.customers if c.id != ticket.requester]
        contact = self.rng.choice(others)
        actor = (
            self.contacts[ticket.requester] if self.rng.random() < 0.5 else self.agent_for(ticket)
        )

        def share() -> dict[str, Any]:
            added = self.desk.add_collaborator(actor, ticket.ref, contact.email)
            return {"ref": ticket.ref, "id": ticket.id, "contact_id": added.contact_id}

        return self.guarded(ticket, share)

    def op_attach(self) -> dict[str, Any] | None:
        ticket = self.pick()
        if ticket is None:
            return self.op_open()
        name, data, infected = self.upload()
        by_agent = self.rng.random() < 0.4
        actor = self.agent_for(ticket) if by_agent else self.contacts[ticket.requester]
        internal = by_agent and self.rng.random() < 0.5

        def attach() -> dict[str, Any]:
            attachment = self.desk.attach(
                actor, ticket.ref, name, io.BytesIO(data), note=self.body("file"), internal=internal
            )
            return {
                "ref": ticket.ref,
                "id": ticket.id,
                "attachment_id": attachment.id,
                "activity_id": attachment.activity_id,
                "blob_key": attachment.blob_key,
                "sha256": attachment.sha256,
                "infected": infected,
            }

        return self.guarded(ticket, attach)

    def op_sweep(self) -> dict[str, Any] | None:
        report = self.desk.run_due_timers(self.clock.now(), batch_size=20, max_batches=3)
        return {"fired": report.fired, "skipped": report.skipped, "batches": report.batches}

    def op_dispatch(self) -> dict[str, Any] | None:
        report = self.desk.dispatch_notifications(self.recorder, limit=40)
        assert not report.retrying and not report.parked, report
        return {"delivered": len(report.delivered)}

    def op_scan(self) -> dict[str, Any] | None:
        report = self.desk.scan_pending_attachments(limit=10)
        return {"clean": report.clean, "rejected": report.rejected, "failed": report.failed}

    def op_read(self) -> dict[str, Any] | None:
        key = self.rng.choice(self.desk_keys)
        agent = self.rng.choice(self.agents[key])
        sort = self.rng.choice(list(TicketSort))
        page = self.desk.list_tickets(
            agent, TicketList.VISIBLE, desk_id=self.config.seeded.desks[key], sort=sort, limit=10
        )
        learned = [[t.reference, t.id, key, t.requester_id, t.status] for t in page.tickets]
        return {"learned": learned, "total": page.total}

    def guarded(self, ticket: Known, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``call()``; a NotFound on a ticket this worker saw acknowledged is a lost write."""
        try:
            return call()
        except NotFound as error:
            if error.kind == "ticket" and error.key == ticket.ref:
                self.seen_lost(ticket)
            raise


def run_worker(config: WorkerConfig, conn: Connection, stop: EventFlag, armed: EventFlag) -> None:
    """A worker process: tell the parent it is ready, run until ``stop``, log any failure."""
    worker = None
    try:
        worker = Worker(config, conn, armed)
        conn.send(("ready", config.index, config.incarnation))
        worker.run(stop)
    except BaseException:
        with log_path(Path(config.folder), config.index).open("a", encoding="utf-8") as log:
            entry = {
                "t": "error",
                "incarnation": config.incarnation,
                "error": traceback.format_exc(),
            }
            log.write(json.dumps(entry) + "\n")
        raise
    finally:
        if worker is not None:
            worker.close()


__all__: Sequence[str] = ["S3Config", "WorkerConfig", "run_worker"]
