"""The SQL timers: pending timers, claimed by sweeps with row locks that skip each other."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa

from ..._models import Timer, TimerState
from . import rows
from ._transaction import Repository
from .schema import PENDING, tickets, timers

IS_PENDING = timers.c.state == PENDING
CANCEL_TIMERS = (
    timers.update()
    .where(timers.c.ticket_id == sa.bindparam("match_ticket_id"), IS_PENDING)
    .values(state=TimerState.CANCELED.value, done_at=sa.bindparam("now"))
)
PENDING_TIMERS = (
    sa.select(timers)
    .where(timers.c.ticket_id == sa.bindparam("ticket_id"), IS_PENDING)
    .order_by(timers.c.due_at, timers.c.id)
)
# Postgres: concurrent sweeps skip each other's claimed rows instead of
# waiting for them, and a claim takes the timer's ticket with it.  A use case
# locks its ticket before it cancels the ticket's timers; a sweep that locked
# a timer first and its ticket second deadlocked with it.  Now a sweep skips
# the timers of a ticket a use case holds, and a use case waits for a sweep
# that holds its ticket.  FOR NO KEY UPDATE, as for appends, leaves the rows
# free for the key-share locks foreign keys take.  SQLite renders no lock:
# one writer at a time.
CLAIM_DUE_TIMERS = (
    sa.select(timers)
    .join(tickets, tickets.c.id == timers.c.ticket_id)
    .where(IS_PENDING, timers.c.due_at <= sa.bindparam("now"))
    .order_by(timers.c.due_at, timers.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True, key_share=True, of=[timers, tickets])
)
FINISH_TIMER = (
    timers.update()
    .where(timers.c.id == sa.bindparam("match_id"))
    .values(state=sa.bindparam("new_state"), done_at=sa.bindparam("now"))
)
NEXT_TIMER_DUE = sa.select(sa.func.min(timers.c.due_at)).where(IS_PENDING)


class SqlTimers(Repository):
    """Timers in SQL; a claim is the row lock this transaction holds."""

    def add(self, timers: Collection[Timer]) -> None:
        if timers:
            self._tx.execute(rows.TIMERS.table.insert(), [rows.TIMERS.row(t) for t in timers])

    def list_pending(self, ticket_id: str) -> Sequence[Timer]:
        return self._tx.all(rows.TIMERS, PENDING_TIMERS, ticket_id=ticket_id)

    def mark_canceled(self, ticket_id: str, now: datetime) -> int:
        canceled = self._tx.execute(CANCEL_TIMERS, {"match_ticket_id": ticket_id, "now": now})
        return canceled.rowcount

    def claim_due(self, now: datetime, limit: int) -> Sequence[Timer]:
        claimed = self._tx.all(rows.TIMERS, CLAIM_DUE_TIMERS, now=now, limit=limit)
        # Their tickets are locked with them: appends need no lock of their own.
        self._tx.held.update(timer.ticket_id for timer in claimed)
        return claimed

    def mark_finished(self, timer_id: str, state: TimerState, now: datetime) -> None:
        self._tx.execute(FINISH_TIMER, {"match_id": timer_id, "new_state": state.value, "now": now})

    def get_next_due(self) -> datetime | None:
        due: datetime | None = self._tx.execute(NEXT_TIMER_DUE).scalar_one()
        return due
