"""Timer use cases: the sweep that fires due reminders and automatic transitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ._desk_base import _Audience, _Context
from ._input import check_count, check_moment
from ._models import ActivityKind, Contact, EventKind, Timer, TimerState
from ._sla_steps import SLA_TIMER
from ._status_moves import _StatusMoves
from ._views import SweepReport
from .storage.protocol import UnitOfWork
from .workflow import Party, StatusCategory

_FINISHED = {True: TimerState.FIRED, False: TimerState.SKIPPED}
_LAST_SWEEP = datetime(9000, 1, 1, tzinfo=UTC)
"""A sweep's ``now`` comes before this: the timers it starts must still fall on a date."""


class _TimerCases(_StatusMoves):
    """Firing due timers, a batch per transaction."""

    def run_due_timers(
        self, now: datetime | None = None, *, batch_size: int = 100, max_batches: int | None = None
    ) -> SweepReport:
        """Fire the timers due at ``now``, oldest first, one transaction per batch.

        Safe to run from several workers at once: each timer fires at most
        once.  A timer whose ticket has left the status (or epoch) that set
        it is dropped; a reminder whose later milestone is also due is
        skipped, so downtime brings no burst of reminders.  ``batch_size`` is
        1 to 10,000; ``now`` (by default the clock's) comes before the year 9000.
        """
        if now is not None:
            check_moment("now", now, before=_LAST_SWEEP)
        check_count("batch_size", batch_size, most=10_000)
        if max_batches is not None:
            check_count("max_batches", max_batches)
        now = now or self._clock.now()
        report = SweepReport()
        while max_batches is None or report.batches < max_batches:
            with self._store.unit_of_work() as work:
                due = work.timers.claim_due(now, batch_size)
                if not due:
                    break
                # Staff are looked up once per desk and batch.
                staff: dict[str, Sequence[Contact]] = {}
                fired = sum(self._fire_timer(work, timer, now, staff) for timer in due)
            report = SweepReport(
                fired=report.fired + fired,
                skipped=report.skipped + len(due) - fired,
                batches=report.batches + 1,
            )
        return report

    def next_timer_due(self) -> datetime | None:
        """When the soonest timer is due: how long a worker may sleep."""
        with self._store.unit_of_work() as work:
            return work.timers.get_next_due()

    def _fire_timer(
        self,
        work: UnitOfWork,
        timer: Timer,
        now: datetime,
        desk_staff: dict[str, Sequence[Contact]],
    ) -> bool:
        ticket = work.tickets.get(timer.ticket_id)
        stale = timer.stale_at is not None and now >= timer.stale_at
        if (
            ticket is None
            or ticket.status != timer.status
            or ticket.status_epoch != timer.status_epoch
            or stale
        ):
            work.timers.mark_finished(timer.id, TimerState.SKIPPED, now)
            return False
        if timer.name.startswith(f"{SLA_TIMER}:"):
            fired = self._fire_sla(work, timer, ticket, now, desk_staff)
            work.timers.mark_finished(timer.id, _FINISHED[fired], now)
            return fired
        work.timers.mark_finished(timer.id, TimerState.FIRED, now)
        system = Contact(id="system", email="system@supportdesk.invalid", full_name="System")
        ctx = _Context(
            work, system, ticket, frozenset(), Party.SYSTEM, _Audience(desk_staff=desk_staff)
        )
        if timer.trigger is not None:
            self._fire(ctx, timer.trigger, now)
            return True
        closing = self._workflow(work, ticket).category(ticket.status) is StatusCategory.RESOLVED
        event = EventKind.CLOSING_SOON if closing else EventKind.REMINDER_DUE
        self._log(work, ticket, ActivityKind.REMINDER_SENT, None, now, data={"timer": timer.name})
        self._emit(
            work, ticket, event, None, now, _Audience(desk_staff=desk_staff), timer=timer.name
        )
        return True
