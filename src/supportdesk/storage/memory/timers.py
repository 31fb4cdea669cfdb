"""The memory store's timers: by id, with the pending ones indexed by ticket."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

import attrs

from ..._models import Timer, TimerState
from ._changes import Area


class TimerTables:
    """Every timer by id, and the pending ones by ticket."""

    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}
        self.pending: dict[str, dict[str, Timer]] = {}
        """Ticket id -> timer id -> timer, for the pending timers only."""


class MemoryTimers(Area[TimerTables]):
    """The timers area of a :class:`~.store.MemoryUnitOfWork`."""

    def add(self, timers: Collection[Timer]) -> None:
        for timer in timers:
            self._put(timer)

    def _put(self, timer: Timer) -> None:
        """Store ``timer``, keeping the index of pending timers in step."""
        previous = self._tables.timers.get(timer.id)
        if previous is not None and previous.state is TimerState.PENDING:
            self._changes.unfile(self._tables.pending, previous.ticket_id, timer.id)
        if timer.state is TimerState.PENDING:
            self._changes.file(self._tables.pending, timer.ticket_id, timer.id, timer)
        self._changes.set(self._tables.timers, timer.id, timer)

    def _all_pending(self) -> Iterator[Timer]:
        for pending in self._tables.pending.values():
            yield from pending.values()

    def list_pending(self, ticket_id: str) -> Sequence[Timer]:
        return _soonest_first(iter(self._tables.pending.get(ticket_id, {}).values()))

    def mark_canceled(self, ticket_id: str, now: datetime) -> int:
        pending = self.list_pending(ticket_id)
        for timer in pending:
            self._put(attrs.evolve(timer, state=TimerState.CANCELED, done_at=now))
        return len(pending)

    def claim_due(self, now: datetime, limit: int) -> Sequence[Timer]:
        # The store's lock is held for the whole unit of work, so nobody else
        # can claim these timers before this transaction finishes them.
        due = _soonest_first(timer for timer in self._all_pending() if timer.due_at <= now)
        return due[:limit]

    def mark_finished(self, timer_id: str, state: TimerState, now: datetime) -> None:
        timer = self._tables.timers[timer_id]
        self._put(attrs.evolve(timer, state=state, done_at=now))

    def get_next_due(self) -> datetime | None:
        return min((timer.due_at for timer in self._all_pending()), default=None)


def _soonest_first(timers: Iterator[Timer]) -> list[Timer]:
    return sorted(timers, key=lambda timer: (timer.due_at, timer.id))
