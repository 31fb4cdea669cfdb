"""The timers area: timers due at a moment, claimed by sweeps so each fires at most once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from ..._models import Timer, TimerState


class Timers(Protocol):
    """Timers: ``pending`` until a sweep marks them ``fired`` or ``skipped``, or ``canceled``."""

    def add(self, timers: Collection[Timer]) -> None:
        """Store new pending timers."""
        ...

    def list_pending(self, ticket_id: str) -> Sequence[Timer]:
        """The ticket's pending timers, soonest first."""
        ...

    def mark_canceled(self, ticket_id: str, now: datetime) -> int:
        """Cancel every pending timer of the ticket at ``now``; returns how many."""
        ...

    def claim_due(self, now: datetime, limit: int) -> Sequence[Timer]:
        """Up to ``limit`` pending timers due at ``now``, oldest due first.

        The claim lasts until this transaction ends: a concurrent transaction
        never claims the same timer (it skips it: SQL ``FOR UPDATE SKIP
        LOCKED`` on Postgres; SQLite has one writer), and a rolled-back claim
        leaves the timer pending for the next sweep.  The claim holds each
        timer's ticket too, and skips the timers of a ticket that another
        transaction holds: a use case locks its ticket before it cancels the
        ticket's timers, so a sweep that took them in the other order would
        deadlock with it.
        """
        ...

    def mark_finished(self, timer_id: str, state: TimerState, now: datetime) -> None:
        """Mark a claimed timer ``fired`` or ``skipped`` at ``now``."""
        ...

    def get_next_due(self) -> datetime | None:
        """When the soonest pending timer is due, or None without any."""
        ...
