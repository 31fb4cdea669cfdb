"""After the workers stop: drain what is due, then check every promise against the tables.

In order:

1. A final timer sweep at the latest time any worker reached: every timer due
   then must be handled by it (fired, or skipped as void), none left pending;
   then each fired timer's effect must be in the log once and only once
   (a reminder entry and event per fired reminder, an ``auto_resolved`` /
   ``auto_closed`` entry and event per fired automatic transition).
2. A final scan of quarantined attachments, then a final notification
   drain past the dispatch lease, with the same idempotent handler: every
   outbox row must be delivered, and recorded exactly once across all the
   processes' record files, in order per ticket within each file.
3. ``collect_orphan_blobs``: afterwards, no blob without metadata, no
   non-rejected attachment without its blob (whose bytes match its
   SHA-256), no rejected attachment with one.
4. Every acknowledged write in the workers' logs is in the tables: tickets
   by reference, notes and files by id, updates, transitions and the rest
   by the entry their use case wrote at the worker's unique time.
5. Every ticket's activity log is 1..n without gaps; every desk's
   references are 1..N without gaps.

Violations and lost writes are collected, not raised, so that one run shows
them all; the test asserts both lists are empty.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from supportdesk import FakeClock, SupportDesk
from supportdesk.storage.sql import SqlStore
from supportdesk.storage.sql.schema import (
    activities,
    attachments,
    collaborators,
    desk_sequences,
    desks,
    events,
    tickets,
    timers,
)

from .driver import RunReport
from .scenario import LEASE, STEP, log_path, markers_folder, op_time, read_log
from .worker import TRANSITIONS, Recorder, S3Config, blob_store, desk_options, s3_client

WRITES = frozenset(
    {
        "open",
        "update",
        "reply",
        "note",
        "ask_customer",
        "resolve",
        "reopen",
        "close",
        "cancel",
        "assign",
        "wait_for",
        "escalate",
        "collaborator",
        "attach",
    }
)


@attrs.define
class Figures:
    """What the run did and what the checks found."""

    report: RunReport
    acked: Counter[str] = attrs.field(factory=Counter)
    refused: Counter[str] = attrs.field(factory=Counter)
    refusals: Counter[str] = attrs.field(factory=Counter)
    retries: Counter[int] = attrs.field(factory=Counter)
    retried_ops: int = 0
    retry_causes: Counter[str] = attrs.field(factory=Counter)
    checked_writes: int = 0
    lost: list[str] = attrs.field(factory=list)
    violations: list[str] = attrs.field(factory=list)
    numbers: dict[str, Any] = attrs.field(factory=dict)

    def violate(self, what: str) -> None:
        self.violations.append(what)

    def render(self) -> str:
        settings, plan, report = self.report.settings, self.report.plan, self.report
        n = self.numbers
        lines = [
            f"soak: profile {settings.profile}, {settings.workers} workers, "
            f"{settings.seconds:g} s planned, {report.ran:.1f} s run after {report.startup:.1f} s "
            f"of start-up, seed {settings.seed}",
            "operations (acknowledged / refused):",
        ]
        for kind in sorted(set(self.acked) | set(self.refused)):
            lines.append(f"  {kind:<13}{self.acked[kind]:>7} / {self.refused[kind]}")
        lines.append(
            f"  {'total':<13}{sum(self.acked.values()):>7} / {sum(self.refused.values())}"
            f"   (refusals: {dict(sorted(self.refusals.items())) or 'none'})"
        )
        lines.append("faults injected:")
        kill = report.kill
        if kill is None:
            lines.append("  kill: none (the run ended first)")
        else:
            where = (
                ""
                if kill.op is None
                else f" {'after' if kill.site == 'forced' else 'at'} op {kill.op}"
            )
            lines.append(
                f"  SIGKILL: worker {kill.worker} (incarnation {kill.incarnation}){where}, "
                f"site {kill.site}{f' ({plan.crash.kind})' if plan.crash.kind else ''}, "
                f"{kill.at:.1f} s into the run{f' [{kill.detail}]' if kill.detail else ''}; "
                "restarted as incarnation "
                f"{kill.incarnation + 1}"
            )
            if "killed_left" in n:
                lines.append(f"  entries its transaction left behind: {n['killed_left']}")
        outage = report.outage
        if outage is None:
            lines.append("  PostgreSQL: not faulted (the run ended first)")
        else:
            note = f" ({outage.note})" if outage.note else ""
            lines.append(
                f"  PostgreSQL {outage.method} at {outage.at:.1f} s, "
                f"took {outage.seconds:.1f} s{note}"
            )
        per_worker = ", ".join(f"w{w} {c}" for w, c in sorted(self.retries.items()))
        lines.append(
            f"retries after StorageError: {sum(self.retries.values())} "
            f"({per_worker or 'none'}) over {self.retried_ops} operations"
        )
        for cause, count in self.retry_causes.most_common(4):
            lines.append(f"  {count} x {cause}")
        lines += [
            f"timers: {n.get('timers', 0)} in all; fired {n.get('fired', 0)} "
            f"({n.get('final_fired', 0)} by the final sweep), skipped {n.get('skipped', 0)}, "
            f"canceled {n.get('canceled', 0)}; due and pending at the end: "
            f"{n.get('due_left', 0)}; worker sweeps fired {n.get('worker_fired', 0)}",
            f"  fired: {n.get('fired_by_name') or 'none'}",
            f"events: {n.get('events', 0)}; delivered {n.get('delivered', 0)}; recorded "
            f"{n.get('recorded', 0)} ({n.get('final_recorded', 0)} by the final drain); "
            f"delivered again and absorbed by the handler: {n.get('again', 0)}",
            f"attachments: {n.get('attachments', 0)} ({n.get('rejected', 0)} rejected by the "
            f"scanner); blobs before the sweep {n.get('blobs_before', 0)}, orphans collected "
            f"{n.get('orphans', 0)}, blobs left {n.get('blobs_after', 0)}",
            f"tickets {n.get('tickets', 0)}, activity entries {n.get('entries', 0)}, "
            f"acknowledged writes checked {self.checked_writes}",
            f"violations {len(self.violations)}, lost writes {len(self.lost)}",
        ]
        for what in (self.violations + self.lost)[:40]:
            lines.append(f"  - {what}")
        return "\n".join(lines)


def check(url: str, s3: S3Config, folder: Path, report: RunReport) -> Figures:
    """Run the final drains and every check; return the figures."""
    figures = Figures(report)
    logs = {w: list(read_log(log_path(folder, w))) for w in range(report.settings.workers)}
    final_now = _read_logs(figures, logs)
    store = SqlStore.from_url(url)
    try:
        clock = FakeClock(final_now)
        desk = SupportDesk(store, **desk_options(clock, blob_store(s3)))
        _final_sweep(figures, store.engine, desk, final_now)
        _final_scan(figures, desk)
        clock.set(final_now + LEASE + STEP)
        _final_drain(figures, store.engine, desk, folder)
        _collect_orphans(figures, store, s3, report)
        _acknowledged(figures, store.engine, logs)
        _killed_transaction_undone(figures, store.engine, report)
        _gapless(figures, store.engine)
    finally:
        store.close()
    return figures


def _read_logs(figures: Figures, logs: dict[int, list[dict[str, Any]]]) -> datetime:
    """Count operations, refusals and retries; return the latest time any worker reached."""
    latest = op_time(0, 0)
    for worker, entries in logs.items():
        retried: set[int] = set()
        answered = [e["op"] for e in entries if e.get("t") in ("ack", "no")]
        if answered != sorted(set(answered)):
            figures.violate(f"worker {worker}: operation numbers repeat or go back after a restart")
        for entry in entries:
            if "op" in entry:
                latest = max(latest, op_time(worker, entry["op"]))
            kind = entry.get("t")
            if kind == "ack":
                figures.acked[entry["kind"]] += 1
                if entry["kind"] == "sweep":
                    figures.numbers["worker_fired"] = (
                        figures.numbers.get("worker_fired", 0) + entry["fired"]
                    )
            elif kind == "no":
                figures.refused[entry["kind"]] += 1
                figures.refusals[entry["error"]] += 1
            elif kind == "retry":
                figures.retries[worker] += 1
                figures.retry_causes[_cause(entry["error"])] += 1
                retried.add(entry["op"])
            elif kind == "violation":
                figures.violate(f"worker {worker} op {entry['op']}: {entry['what']}")
            elif kind == "error":
                figures.violate(f"worker {worker} failed: {entry['error']}")
        figures.retried_ops += len(retried)
    return latest + STEP


def _cause(error: str) -> str:
    """A retried error's gist: the driver's exception and the first words of its message."""
    return " ".join(error.removeprefix("the database failed: ").split())[:90]


def _final_sweep(figures: Figures, engine: sa.Engine, desk: SupportDesk, now: datetime) -> None:
    pending_due = sa.select(timers.c.id).where(timers.c.state == "pending", timers.c.due_at <= now)
    with engine.connect() as connection:
        due = set(connection.execute(pending_due).scalars())
    sweep = desk.run_due_timers(now, batch_size=200)
    figures.numbers["final_fired"] = sweep.fired
    with engine.connect() as connection:
        left = set(connection.execute(pending_due).scalars())
        states = (
            dict(
                connection.execute(
                    sa.select(timers.c.id, timers.c.state).where(timers.c.id.in_(due))
                ).all()
            )
            if due
            else {}
        )
        all_timers = connection.execute(
            sa.select(
                timers.c.ticket_id,
                timers.c.name,
                timers.c.trigger,
                timers.c.state,
                timers.c.done_at,
            )
        ).all()
        entries = connection.execute(
            sa.select(activities.c.ticket_id, activities.c.kind, activities.c.data).where(
                activities.c.kind.in_(["reminder_sent", "auto_resolved", "auto_closed"])
            )
        ).all()
        timer_events = connection.execute(
            sa.select(events.c.ticket_id, events.c.kind, events.c.payload).where(
                events.c.kind.in_(["reminder_due", "closing_soon", "auto_resolved", "auto_closed"])
            )
        ).all()
    figures.numbers["due_left"] = len(left)
    if left:
        figures.violate(f"{len(left)} timers due at {now} still pending after the final sweep")
    if sweep.fired + sweep.skipped < len(due):
        figures.violate(
            f"the final sweep handled {sweep.fired + sweep.skipped} of the {len(due)} due timers"
        )
    still = [t for t, state in states.items() if state == "pending"]
    if still:
        figures.violate(f"due timers left pending: {sorted(still)[:5]}")
    state_counts = Counter(row.state for row in all_timers)
    figures.numbers.update(
        timers=len(all_timers),
        fired=state_counts["fired"],
        skipped=state_counts["skipped"],
        canceled=state_counts["canceled"],
    )
    by_name = Counter(row.name for row in all_timers if row.state == "fired")
    figures.numbers["fired_by_name"] = ", ".join(f"{k} {v}" for k, v in sorted(by_name.items()))
    fired_reminders = Counter(
        (row.ticket_id, row.name) for row in all_timers if row.state == "fired" and not row.trigger
    )
    fired_moves = Counter(
        (row.ticket_id, row.trigger) for row in all_timers if row.state == "fired" and row.trigger
    )
    if any(row.state != "pending" and row.done_at is None for row in all_timers):
        figures.violate("a finished timer has no done_at")
    sent = Counter(
        (row.ticket_id, row.data.get("timer")) for row in entries if row.kind == "reminder_sent"
    )
    told = Counter(
        (row.ticket_id, row.payload.get("timer"))
        for row in timer_events
        if row.kind in ("reminder_due", "closing_soon")
    )
    trigger_of = {"auto_resolved": "resolve", "auto_closed": "close"}
    moved = Counter(
        (row.ticket_id, trigger_of[row.kind]) for row in entries if row.kind in trigger_of
    )
    announced = Counter(
        (row.ticket_id, trigger_of[row.kind]) for row in timer_events if row.kind in trigger_of
    )
    for name, fired, effects in (
        ("reminder entries", fired_reminders, sent),
        ("reminder events", fired_reminders, told),
        ("automatic transition entries", fired_moves, moved),
        ("automatic transition events", fired_moves, announced),
    ):
        if fired != effects:
            diff = dict((fired - effects) + (effects - fired))
            figures.violate(f"fired timers and their {name} differ: {_first(diff)}")


def _final_scan(figures: Figures, desk: SupportDesk) -> None:
    while True:
        scanned = desk.scan_pending_attachments(limit=200)
        if scanned.failed:
            figures.violate(f"{scanned.failed} scans failed in the final scan")
            return
        if scanned.clean + scanned.rejected == 0:
            return


def _final_drain(figures: Figures, engine: sa.Engine, desk: SupportDesk, folder: Path) -> None:
    recorder = Recorder(folder, folder / "checker.events", None)
    try:
        while True:
            sent = desk.dispatch_notifications(recorder, limit=500)
            if sent.retrying or sent.parked:
                figures.violate(f"the final drain failed to deliver: {sent.retrying + sent.parked}")
                return
            if not sent.attempted:
                break
    finally:
        recorder.close()
    with engine.connect() as connection:
        outbox = connection.execute(
            sa.select(events.c.id, events.c.position, events.c.ticket_id, events.c.state)
        ).all()
    figures.numbers["events"] = len(outbox)
    states = Counter(row.state for row in outbox)
    figures.numbers["delivered"] = states["delivered"]
    if states["delivered"] != len(outbox):
        figures.violate(f"outbox rows not delivered after the drain: {dict(states)}")
    position = {row.id: (row.ticket_id, row.position) for row in outbox}
    recorded: Counter[str] = Counter()
    again = 0
    for path in sorted(folder.glob("*.events")):
        lines = path.read_text(encoding="utf-8").splitlines()
        ids = [line for line in lines if not line.startswith("again ")]
        again += len(lines) - len(ids)
        recorded.update(ids)
        if path.name == "checker.events":
            figures.numbers["final_recorded"] = len(ids)
        last: dict[str | None, int] = {}
        for event_id in ids:
            ticket_id, at = position.get(event_id, (None, 0))
            if ticket_id is not None and last.get(ticket_id, -1) > at:
                figures.violate(f"{path.name}: events of ticket {ticket_id} recorded out of order")
            last[ticket_id] = at
    figures.numbers.update(recorded=sum(recorded.values()), again=again)
    twice = {event_id: n for event_id, n in recorded.items() if n > 1}
    if twice:
        figures.violate(f"events recorded more than once: {_first(twice)}")
    missing = set(position) - set(recorded)
    if missing:
        figures.violate(f"{len(missing)} outbox events never recorded: {sorted(missing)[:5]}")
    unknown = set(recorded) - set(position)
    if unknown:
        figures.violate(f"{len(unknown)} recorded events not in the outbox: {sorted(unknown)[:5]}")
    markers = {path.name for path in markers_folder(folder).iterdir()}
    if markers != set(recorded):
        figures.violate(
            f"handler markers and records differ by {len(markers ^ set(recorded))} event ids"
        )


def _collect_orphans(figures: Figures, store: SqlStore, s3: S3Config, report: RunReport) -> None:
    client = s3_client(s3.endpoint_url)
    listed = [
        item
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket)
        for item in page.get("Contents", [])
    ]
    figures.numbers["blobs_before"] = len(listed)
    blobs = blob_store(s3)
    if listed:
        # The blobs are dated by S3's own clock: sweep just after the newest, no grace needed
        # now that nothing uploads any more.
        newest = max(item["LastModified"] for item in listed)
        collector = SupportDesk(
            store, **desk_options(FakeClock(newest + timedelta(seconds=1)), blobs)
        )
        figures.numbers["orphans"] = collector.collect_orphan_blobs(timedelta(0))
    left = set(blobs.keys())
    figures.numbers["blobs_after"] = len(left)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(attachments.c.blob_key, attachments.c.sha256, attachments.c.scan_status)
        ).all()
    figures.numbers["attachments"] = len(rows)
    figures.numbers["rejected"] = sum(row.scan_status == "rejected" for row in rows)
    kept = {row.blob_key: row.sha256 for row in rows if row.scan_status != "rejected"}
    rejected = {row.blob_key for row in rows if row.scan_status == "rejected"}
    if scanning := [row.blob_key for row in rows if row.scan_status == "scanning"]:
        figures.violate(f"{len(scanning)} attachments still scanning after the final scan")
    if stray := left - set(kept):
        figures.violate(f"{len(stray)} blobs without metadata after the sweep: {sorted(stray)[:3]}")
    if lost := set(kept) - left:
        figures.violate(f"{len(lost)} attachments without their blob: {sorted(lost)[:3]}")
    if kept_rejected := left & rejected:
        figures.violate(f"{len(kept_rejected)} rejected attachments kept their bytes")
    for key, sha256 in kept.items():
        if key in left:
            with blobs.open(key) as body:
                if hashlib.sha256(body.read()).hexdigest() != sha256:
                    figures.violate(f"blob {key} does not match its SHA-256")
    kill = report.kill
    if kill is not None and kill.site == "after_blob_put" and kill.detail in left:
        figures.violate(f"the blob the kill orphaned ({kill.detail}) was not collected")


def _acknowledged(
    figures: Figures, engine: sa.Engine, logs: dict[int, list[dict[str, Any]]]
) -> None:
    with engine.connect() as connection:
        references = dict(connection.execute(sa.select(tickets.c.id, tickets.c.reference)).all())
        entries = connection.execute(
            sa.select(
                activities.c.id,
                activities.c.ticket_id,
                activities.c.kind,
                activities.c.at,
                activities.c.body,
                activities.c.data,
            )
        ).all()
        files = {
            row.id: row
            for row in connection.execute(
                sa.select(
                    attachments.c.id,
                    attachments.c.ticket_id,
                    attachments.c.activity_id,
                    attachments.c.sha256,
                    attachments.c.blob_key,
                    attachments.c.scan_status,
                )
            )
        }
        shared = {
            (row.ticket_id, row.contact_id)
            for row in connection.execute(
                sa.select(collaborators.c.ticket_id, collaborators.c.contact_id)
            ).all()
        }
    by_id = {row.id: row for row in entries}
    at_time: dict[tuple[str, datetime], list[Any]] = defaultdict(list)
    for row in entries:
        at_time[row.ticket_id, row.at].append(row)
    files_of: dict[str, list[str]] = defaultdict(list)
    for row in files.values():
        files_of[row.ticket_id].append(row.sha256)

    for worker, lines in logs.items():
        for entry in lines:
            if entry.get("t") != "ack" or entry["kind"] not in WRITES:
                continue
            figures.checked_writes += 1
            at = op_time(worker, entry["op"])
            missing = _missing(entry, at, references, by_id, at_time, files, files_of, shared)
            if missing:
                figures.lost.append(
                    f"worker {worker} op {entry['op']} {entry['kind']} on {entry.get('ref')}: "
                    f"{missing}"
                )


def _killed_transaction_undone(figures: Figures, engine: sa.Engine, report: RunReport) -> None:
    """A transaction the kill cut short left nothing: no entry bears its (unique) time."""
    kill = report.kill
    if kill is None or kill.op is None or kill.site not in ("before_commit", "mid_sweep"):
        return
    at = op_time(kill.worker, kill.op)
    with engine.connect() as connection:
        left = connection.execute(
            sa.select(sa.func.count()).select_from(activities).where(activities.c.at == at)
        ).scalar_one()
    figures.numbers["killed_left"] = left
    if left:
        figures.violate(f"the transaction killed at {kill.site} left {left} activity entries")


def _missing(
    entry: dict[str, Any],
    at: datetime,
    references: dict[str, str],
    by_id: dict[str, Any],
    at_time: dict[tuple[str, datetime], list[Any]],
    files: dict[str, Any],
    files_of: dict[str, list[str]],
    shared: set[tuple[str, str]],
) -> str | None:
    """What of an acknowledged write is not stored, or None when all of it is."""
    kind = entry["kind"]
    ticket_id = entry.get("id", "")
    if references.get(ticket_id) != entry.get("ref"):
        return "no such ticket"
    here = at_time.get((ticket_id, at), [])

    def has(activity: str, **match: Any) -> bool:
        return any(
            row.kind == activity and all(_field(row, k) == v for k, v in match.items())
            for row in here
        )

    if kind == "open":
        if not has("created"):
            return "no created entry"
        stored = Counter(files_of.get(ticket_id, ()))
        if Counter(entry["files"]) - stored:
            return "files missing"
        return None
    if kind in ("update", "reply"):
        landed = entry["landed_id"]
        if references.get(landed) != entry["landed_ref"]:
            return f"no ticket {entry['landed_ref']}"
        rows = at_time.get((landed, at), [])
        if not any(
            row.body == entry["body"] and row.kind in ("public_update", "created") for row in rows
        ):
            return "no update entry"
        return None
    if kind == "note":
        row = by_id.get(entry["activity_id"])
        if row is None or row.kind != "internal_note" or row.body != entry["body"]:
            return "no note entry"
        return None
    if kind in TRANSITIONS:
        if not has("status_changed", trigger=entry["trigger"], to=entry["status"]):
            return f"no status change to {entry['status']}"
        if entry["comment"] and not has("public_update", body=entry["comment"]):
            return "no comment entry"
        return None
    if kind == "escalate":
        return None if has("escalated", body=entry["comment"]) else "no escalated entry"
    if kind == "assign":
        return None if has("assigned") else "no assigned entry"
    if kind == "collaborator":
        if (ticket_id, entry["contact_id"]) not in shared:
            return "not a collaborator"
        return None if has("collaborator_added") else "no collaborator entry"
    if kind == "attach":
        row = files.get(entry["attachment_id"])
        if row is None or (row.ticket_id, row.activity_id, row.sha256, row.blob_key) != (
            ticket_id,
            entry["activity_id"],
            entry["sha256"],
            entry["blob_key"],
        ):
            return "no attachment"
        if (row.scan_status == "rejected") != entry["infected"]:
            return f"scanned {row.scan_status}"
        activity = by_id.get(entry["activity_id"])
        return None if activity is not None and activity.kind == "attachment_added" else "no entry"
    raise AssertionError(f"no check for {kind}")


def _field(row: Any, name: str) -> Any:
    return row.data.get(name) if name in ("trigger", "to") else getattr(row, name)


def _gapless(figures: Figures, engine: sa.Engine) -> None:
    with engine.connect() as connection:
        seqs = connection.execute(
            sa.select(activities.c.ticket_id, activities.c.seq, activities.c.kind).order_by(
                activities.c.ticket_id, activities.c.seq
            )
        ).all()
        numbered = connection.execute(
            sa.select(tickets.c.id, tickets.c.reference, desks.c.key).join(
                desks, desks.c.id == tickets.c.desk_id
            )
        ).all()
        last = dict(
            connection.execute(
                sa.select(desks.c.key, desk_sequences.c.last_number).join(
                    desk_sequences, desk_sequences.c.desk_id == desks.c.id
                )
            ).all()
        )
    logs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in seqs:
        logs[row.ticket_id].append((row.seq, row.kind))
    figures.numbers.update(tickets=len(numbered), entries=len(seqs))
    for ticket_id, log in logs.items():
        if [seq for seq, _ in log] != list(range(1, len(log) + 1)):
            figures.violate(f"ticket {ticket_id}: activity seqs {_gaps([s for s, _ in log])}")
        if log[0][1] != "created":
            figures.violate(f"ticket {ticket_id}: first entry is {log[0][1]}")
    if missing := {row.id for row in numbered} - set(logs):
        figures.violate(f"{len(missing)} tickets without an activity log")
    numbers: dict[str, list[int]] = defaultdict(list)
    for row in numbered:
        key, _, number = row.reference.partition("-")
        if key != row.key:
            figures.violate(f"{row.reference} is on desk {row.key}")
        numbers[key].append(int(number))
    for key, taken in numbers.items():
        if sorted(taken) != list(range(1, last.get(key, 0) + 1)):
            figures.violate(f"desk {key}: references {_gaps(sorted(taken))}, last {last.get(key)}")


def _gaps(numbers: list[int]) -> str:
    expected = set(range(1, (max(numbers) if numbers else 0) + 1))
    dupes = [n for n, c in Counter(numbers).items() if c > 1]
    return f"missing {sorted(expected - set(numbers))[:5]}, repeated {dupes[:5]}"


def _first(items: dict[Any, Any] | Iterable[Any]) -> str:
    listed = list(items.items()) if isinstance(items, dict) else list(items)
    return f"{listed[:3]}{' ...' if len(listed) > 3 else ''}"
