"""What the soak's parent, workers and checker share: settings, the seeded portal, time, logs.

Time is fake.  Worker ``w`` runs its ``n``-th operation at :func:`op_time`
``(w, n)``: every worker's clock moves forward by :data:`STEP` per operation,
so the timers (reminders after days, auto-resolve, auto-close) fire within a
run of seconds, and no two workers ever act at the same instant, which lets
the checker find an operation's activity entries by their time.

Every worker writes one JSON object per line to its own log: each operation
it got an answer for, each retry, the crash it is about to suffer.  A line is
written with one ``write`` call and flushed before the next operation, so a
SIGKILL leaves at most the line being written incomplete; :func:`read_log`
drops such a tail.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from supportdesk import (
    AttachmentRule,
    Contact,
    Desk,
    Organization,
    RequestType,
    Role,
    SupportDesk,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When the soak's fake time starts."""

STEP = timedelta(hours=1)
"""How far a worker's clock moves per operation: a hundred operations span four days.

A worker of the short run gets through a few hundred operations: enough for
tickets left waiting to be reminded, auto-resolved and auto-closed.
"""

LEASE = timedelta(days=365)
"""How long a dispatcher holds the events it claimed.

Each worker has its own fake clock, and the clocks drift apart as workers run
at different speeds (a restarted worker lags behind).  With the default
five-minute lease a worker whose clock runs ahead would take events that a
slower one is still delivering.  A lease longer than any drift keeps a
claimed event with its dispatcher; one whose dispatcher died is delivered
again by the checker's final drain, which runs past the lease.
"""

APPLICATION_NAME = "supportdesk-soak"
"""The ``application_name`` of every soak connection: ``terminate`` faults end only these."""

INFECTED = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
"""What :class:`~tests.soak.worker.MarkerScanner` refuses: the EICAR test string."""

SITES = ("between_ops", "before_commit", "mid_sweep", "after_blob_put", "in_handler")
"""Where the victim worker dies (see :class:`CrashPlan`)."""

COMMIT_KINDS = ("open", "update", "note", "ask_customer", "resolve")
"""The operations whose first transaction writes: ``before_commit`` kills one of them."""


@attrs.frozen(kw_only=True)
class Settings:
    """How long and how wide a soak runs, and its seed; from the environment.

    ``SUPPORTDESK_SOAK_PROFILE`` is ``short`` (the test suite's run) or
    ``full`` (``nox -s soak``); ``SUPPORTDESK_SOAK_WORKERS``,
    ``SUPPORTDESK_SOAK_SECONDS`` and ``SUPPORTDESK_SOAK_SEED`` override its
    values.  ``SUPPORTDESK_SOAK_PG_FAULT`` is ``restart`` (the default:
    ``pg_ctlcluster ... restart``, or ``SUPPORTDESK_SOAK_RESTART_COMMAND``)
    or ``terminate`` (end only the soak's own connections, which leaves
    other users of the server alone).
    """

    profile: str
    workers: int
    seconds: float
    seed: int
    pg_fault: str

    @classmethod
    def from_env(cls) -> Settings:
        profile = os.environ.get("SUPPORTDESK_SOAK_PROFILE", "short")
        if profile not in ("short", "full"):
            raise ValueError(f"SUPPORTDESK_SOAK_PROFILE is short or full, not {profile!r}")
        workers, seconds = (3, 20.0) if profile == "short" else (8, 180.0)
        seed = os.environ.get("SUPPORTDESK_SOAK_SEED")
        if seed is None:
            # CI replays one plan, so that a red run can be rerun; local runs explore.
            chosen = (
                20260302
                if os.environ.get("CI") == "true"
                else random.SystemRandom().randrange(2**31)
            )
        else:
            chosen = int(seed)
        pg_fault = os.environ.get("SUPPORTDESK_SOAK_PG_FAULT", "restart")
        if pg_fault not in ("restart", "terminate"):
            raise ValueError(f"SUPPORTDESK_SOAK_PG_FAULT is restart or terminate, not {pg_fault!r}")
        return cls(
            profile=profile,
            workers=int(os.environ.get("SUPPORTDESK_SOAK_WORKERS", workers)),
            seconds=float(os.environ.get("SUPPORTDESK_SOAK_SECONDS", seconds)),
            seed=chosen,
            pg_fault=pg_fault,
        )


@attrs.frozen(kw_only=True)
class CrashPlan:
    """Where the victim dies: it reports the spot to the parent, which SIGKILLs it there.

    - ``between_ops``: after an operation was logged, before the next one.
    - ``before_commit``: inside the transaction of a ``kind`` operation, all
      its writes made, before the commit.
    - ``mid_sweep``: inside a timer sweep's batch, after one of its timers fired.
    - ``after_blob_put``: an attachment's bytes are in S3, its metadata not yet
      written (the blob becomes an orphan).
    - ``in_handler``: the notification handler recorded an event, the outbox
      does not know yet (the event is delivered again).
    """

    site: str
    kind: str = ""


@attrs.frozen(kw_only=True)
class FaultPlan:
    """The faults of one run, all drawn from the seed."""

    victim: int
    kill_after: float
    """Seconds into the run when the victim is armed; it dies at its next crash site."""
    crash: CrashPlan
    restart_after: float
    """Seconds into the run when PostgreSQL is restarted."""

    @classmethod
    def draw(cls, settings: Settings) -> FaultPlan:
        rng = random.Random(settings.seed)
        site = rng.choice(SITES)
        kind = rng.choice(COMMIT_KINDS) if site == "before_commit" else ""
        return cls(
            victim=rng.randrange(settings.workers),
            kill_after=settings.seconds * rng.uniform(0.1, 0.3),
            crash=CrashPlan(site=site, kind=kind),
            restart_after=settings.seconds * rng.uniform(0.5, 0.7),
        )


@attrs.frozen(kw_only=True)
class Person:
    """A seeded contact as the workers need it: picklable and small."""

    id: str
    email: str


@attrs.frozen(kw_only=True)
class Seeded:
    """The portal the workers share: two desks, their request types, customers and agents."""

    desks: dict[str, str]
    """Desk key -> desk id."""
    request_types: dict[str, str]
    """Desk key -> the id of its one request type."""
    customers: tuple[Person, ...]
    agents: dict[str, tuple[Person, ...]]
    """Desk key -> the agents of that desk."""


CUSTOMERS = 8


def seed_portal(desk: SupportDesk) -> Seeded:
    """Two organisations, two desks with one request type each, customers and agents."""
    acme = desk.add_organization(Organization(name="Acme Health"))
    globex = desk.add_organization(Organization(name="Globex"))
    desks = {
        "HHA": desk.add_desk(Desk(key="HHA", name="Customer Service Desk")),
        "EDI": desk.add_desk(Desk(key="EDI", name="EDI Support Desk")),
    }
    request_types = {
        "HHA": desk.add_request_type(
            RequestType(
                desk_id=desks["HHA"].id,
                name="General Request",
                attachments=AttachmentRule.OPTIONAL,
            )
        ),
        "EDI": desk.add_request_type(
            RequestType(
                desk_id=desks["EDI"].id, name="SFTP Issue", attachments=AttachmentRule.OPTIONAL
            )
        ),
    }
    organizations = [acme.id, acme.id, acme.id, acme.id, globex.id, globex.id, globex.id, None]
    customers = tuple(
        desk.add_contact(
            Contact(
                email=f"customer{n}@soak.test",
                full_name=f"Customer {n}",
                organization_id=organizations[n],
            )
        )
        for n in range(CUSTOMERS)
    )
    agents = {
        key: tuple(
            desk.add_contact(
                Contact(
                    email=f"agent{n}@{key.lower()}.soak.test",
                    full_name=f"Agent {n} of {key}",
                    role=Role.AGENT,
                    desk_ids=frozenset({d.id}),
                )
            )
            for n in range(2)
        )
        for key, d in desks.items()
    }
    return Seeded(
        desks={key: d.id for key, d in desks.items()},
        request_types={key: rt.id for key, rt in request_types.items()},
        customers=tuple(Person(id=c.id, email=c.email) for c in customers),
        agents={
            key: tuple(Person(id=a.id, email=a.email) for a in staff)
            for key, staff in agents.items()
        },
    )


def op_time(worker: int, op: int) -> datetime:
    """When worker ``worker`` runs its ``op``-th operation: unique to that worker and operation."""
    return T0 + op * STEP + timedelta(seconds=worker)


def log_path(folder: Path, worker: int) -> Path:
    """Worker ``worker``'s log of operations, shared by its incarnations (appended)."""
    return folder / f"worker{worker}.jsonl"


def records_path(folder: Path, worker: int, incarnation: int) -> Path:
    """The event ids one worker process's notification handler recorded."""
    return folder / f"worker{worker}.{incarnation}.events"


def markers_folder(folder: Path) -> Path:
    """Where the idempotent handler keeps one file per event it recorded (its dedup store)."""
    return folder / "recorded"


def read_log(path: Path) -> Iterator[dict[str, Any]]:
    """The complete lines of a worker's log; a line cut short by a kill is dropped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.endswith("\n"):
                return  # the tail a SIGKILL cut short
            yield json.loads(line)
