"""The worker: a desk's background work — due timers, notifications, scans, orphan blobs, purge.

A host runs it beside its web processes, as ``supportdesk worker --desk
myportal.desk:make_desk --handler myportal.mail:send`` or from its own code
(``Worker(desk, handler=send).run(stop)``).  Several workers may run at once
on Postgres: timers and events are claimed, so each is handled once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any, TypeVar

import attrs

from ._errors import StorageError
from ._privacy_cases import DEFAULT_RETENTION, PurgeReport
from ._views import ScanReport, SweepReport
from .desk import SupportDesk
from .notifications import DispatchReport, NotificationHandler

log = logging.getLogger("supportdesk.worker")
"""Each batch a worker handles is logged here at INFO, an idle pass at DEBUG."""


@attrs.frozen(kw_only=True)
class PassReport:
    """What one pass of :meth:`Worker.run_once` did, batch by batch."""

    timers: SweepReport
    notifications: DispatchReport
    scans: ScanReport
    orphan_blobs: int
    """Blobs deleted because no attachment needs them."""
    purged: PurgeReport = attrs.field(factory=PurgeReport)
    """Old history removed (:meth:`SupportDesk.purge`); all zero on passes that do not purge."""
    stopped: bool
    """Whether the pass ended early because the worker was asked to stop."""

    @property
    def busy(self) -> bool:
        """Whether the pass did anything at all."""
        return bool(
            self.timers.fired
            or self.timers.skipped
            or self.notifications.attempted
            or self.scans.clean
            or self.scans.rejected
            or self.scans.failed
            or self.orphan_blobs
            or self.purged.removed
        )


class Worker:
    """Runs a desk's due timers, dispatches its notifications, scans and sweeps its attachments.

    Every ``purge_every`` it also purges the history older than ``retention``;
    after each pass it does the store's upkeep
    (:meth:`SupportDesk.maintain_storage`).

    :param desk: the host's desk, with its workflow, calendar, blob store and scanner.
    :param handler: delivers notifications (an e-mail sender, say); without
        one, events stay in the outbox for another worker.
    :param batch_size: timers, events, attachments or purged rows of each kind per transaction.
    :param idle_wait: the longest a worker waits between passes when there
        was nothing to do; it wakes sooner for the next due timer.
    :param orphan_grace: how old an unneeded blob must be to be deleted
        (see :meth:`SupportDesk.collect_orphan_blobs`).
    :param orphan_every: how often orphan blobs are looked for.
    :param retention: how long finished history is kept (see
        :meth:`SupportDesk.purge`); None never purges, for a host that
        keeps everything or purges elsewhere.
    :param purge_every: how often old history is purged, by the desk's
        clock, once a purge has found nothing more to remove; until then
        every pass purges a batch.
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        handler: NotificationHandler | None = None,
        batch_size: int = 100,
        idle_wait: timedelta = timedelta(seconds=5),
        orphan_grace: timedelta = timedelta(hours=1),
        orphan_every: timedelta = timedelta(minutes=10),
        retention: timedelta | None = DEFAULT_RETENTION,
        purge_every: timedelta = timedelta(hours=1),
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if idle_wait <= timedelta(0):
            raise ValueError(f"idle_wait must be positive, not {idle_wait}")
        if retention is not None and retention <= timedelta(0):
            raise ValueError(f"retention must be positive or None, not {retention}")
        self.desk = desk
        self.handler = handler
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.orphan_grace = orphan_grace
        self.orphan_every = orphan_every
        self.retention = retention
        self.purge_every = purge_every
        self._orphans_due = self._purge_due = desk.clock.now()
        self.dispatcher = f"worker-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """Whose leases this worker's notification claims are: one name for its whole life."""

    def run(self, stop: threading.Event) -> None:
        """Work in passes until ``stop`` is set; a pass in progress ends after its current batch."""
        log.info("worker started (batch size %d)", self.batch_size)
        while not stop.is_set():
            report = self.run_once(stop)
            if not report.busy:
                stop.wait(self.seconds_to_wait())
        log.info("worker stopped")

    def run_once(self, stop: threading.Event | None = None) -> PassReport:
        """One pass: batches of each kind of work until none is left or ``stop`` is set."""
        stop = stop or threading.Event()
        timers, events, scans = SweepReport(), DispatchReport(), ScanReport()
        while not stop.is_set():
            swept = self.desk.run_due_timers(batch_size=self.batch_size, max_batches=1)
            timers = _combined(timers, swept)
            dispatched = self._dispatch()
            events = _combined(events, dispatched)
            scanned = self.desk.scan_pending_attachments(limit=self.batch_size)
            scans = _combined(scans, scanned)
            _log_batches(swept, dispatched, scanned)
            full = (
                swept.fired + swept.skipped >= self.batch_size
                or dispatched.attempted >= self.batch_size
                or scanned.clean + scanned.rejected + scanned.failed >= self.batch_size
            )
            if not full:
                break
        orphans = 0 if stop.is_set() else self._collect_orphans()
        purged = PurgeReport() if stop.is_set() else self._purge()
        self._maintain()
        report = PassReport(
            timers=timers,
            notifications=events,
            scans=scans,
            orphan_blobs=orphans,
            purged=purged,
            stopped=stop.is_set(),
        )
        if not report.busy:
            log.debug("worker pass: nothing to do")
        return report

    def seconds_to_wait(self) -> float:
        """How long an idle worker may wait: until the next due timer, at most ``idle_wait``."""
        longest = self.idle_wait.total_seconds()
        due = self.desk.next_timer_due()
        if due is None:
            return longest
        until_due: float = (due - self.desk.clock.now()).total_seconds()
        return max(0.0, min(longest, until_due))

    def _dispatch(self) -> DispatchReport:
        if self.handler is None:
            return DispatchReport()
        return self.desk.dispatch_notifications(
            self.handler, limit=self.batch_size, dispatcher=self.dispatcher
        )

    def _maintain(self) -> None:
        # Between passes, not in the requests' commits (SQLite's log).  Upkeep
        # that fails (the database busy past its timeout) is tried next pass.
        try:
            self.desk.maintain_storage()
        except StorageError as error:
            log.warning("store upkeep failed, to be tried again: %s", error)

    def _collect_orphans(self) -> int:
        now = self.desk.clock.now()
        if now < self._orphans_due:
            return 0
        self._orphans_due = now + self.orphan_every
        removed = self.desk.collect_orphan_blobs(self.orphan_grace)
        if removed:
            log.info("orphan blobs: %d deleted", removed)
        return removed

    def _purge(self) -> PurgeReport:
        now = self.desk.clock.now()
        if self.retention is None or now < self._purge_due:
            return PurgeReport()
        purged = self.desk.purge(self.retention, batch_size=self.batch_size)
        # A backlog is worked off a batch per pass, between the other work.
        if purged.finished:
            self._purge_due = now + self.purge_every
        if purged.removed:
            log.info(
                "purge: %d timers, %d events, %d feed entries removed",
                purged.timers,
                purged.events,
                purged.notifications,
            )
        return purged


Report = TypeVar("Report", SweepReport, DispatchReport, ScanReport)


def _combined(total: Report, more: Report) -> Report:
    """Two reports of one kind as one: counts added, id lists joined, names as the later says."""
    merged: dict[str, Any] = {}
    for field in attrs.fields(type(total)):
        earlier, later = getattr(total, field.name), getattr(more, field.name)
        merged[field.name] = later if isinstance(later, str) else earlier + later
    return type(total)(**merged)


def _log_batches(swept: SweepReport, dispatched: DispatchReport, scanned: ScanReport) -> None:
    if swept.batches:
        log.info("timers: %d fired, %d skipped", swept.fired, swept.skipped)
    if dispatched.attempted:
        log.info(
            "notifications: %d delivered, %d to retry, %d parked, %d taken over",
            len(dispatched.delivered),
            len(dispatched.retrying),
            len(dispatched.parked),
            len(dispatched.stale),
        )
    if scanned.clean or scanned.rejected or scanned.failed:
        log.info(
            "attachment scans: %d clean, %d rejected, %d failed",
            scanned.clean,
            scanned.rejected,
            scanned.failed,
        )
