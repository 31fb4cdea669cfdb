"""The SQL outbox: events in the order added, leased out one ticket's event at a time."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import attrs
import sqlalchemy as sa

from ..._errors import NotFound
from ..._models import DeliveryState, Event, OutboxEntry
from . import rows
from ._transaction import Transaction
from .schema import PENDING, events

LIST_EVENTS = sa.select(events).order_by(events.c.position)
LIST_TICKET_EVENTS = LIST_EVENTS.where(events.c.ticket_id == sa.bindparam("ticket_id"))
EVENT_IS_PENDING = events.c.state == PENDING
_earlier = events.alias("earlier")
# A ticket's events go out one at a time: only its first pending one may be
# claimed.  Postgres skips entries other dispatchers hold; an entry they
# hold still holds back its ticket's later ones, as it is still pending.
CLAIM_EVENTS = (
    sa.select(events)
    .where(
        EVENT_IS_PENDING,
        events.c.next_attempt_at <= sa.bindparam("now"),
        sa.or_(events.c.claimed_until.is_(None), events.c.claimed_until <= sa.bindparam("now")),
        sa.or_(
            events.c.ticket_id.is_(None),
            ~sa.exists().where(
                _earlier.c.state == PENDING,
                _earlier.c.ticket_id == events.c.ticket_id,
                _earlier.c.position < events.c.position,
            ),
        ),
    )
    .order_by(events.c.position)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True, of=events)
)
LEASE_EVENTS = (
    events.update()
    .where(events.c.position.in_(sa.bindparam("positions", expanding=True)))
    .values(claimed_until=sa.bindparam("lease_until"))
)
EVENT_BY_ID = events.c.id == sa.bindparam("match_id")
DELIVER_EVENT = (
    events.update()
    .where(EVENT_BY_ID)
    .values(
        state=DeliveryState.DELIVERED.value, claimed_until=None, finished_at=sa.bindparam("now")
    )
)
FAIL_EVENT = (
    events.update()
    .where(EVENT_BY_ID)
    .values(attempts=events.c.attempts + 1, last_error=sa.bindparam("error"), claimed_until=None)
    .returning(*events.c)
)
RETRY_EVENT = FAIL_EVENT.values(
    state=DeliveryState.PENDING.value, next_attempt_at=sa.bindparam("retry_at")
)
PARK_EVENT = FAIL_EVENT.values(state=DeliveryState.PARKED.value, finished_at=sa.bindparam("now"))
REQUEUE_EVENT = (
    events.update()
    .where(EVENT_BY_ID, events.c.state == DeliveryState.PARKED.value)
    .values(
        state=DeliveryState.PENDING.value,
        attempts=0,
        next_attempt_at=sa.bindparam("now"),
        finished_at=None,
    )
)


class SqlOutbox:
    """The outbox in SQL: each event's row holds its delivery state and lease."""

    def __init__(self, transaction: Transaction) -> None:
        self._tx = transaction

    def add(self, events: Collection[Event]) -> None:
        if events:
            self._tx.execute(rows.EVENTS.table.insert(), [rows.outbox_row(e) for e in events])

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        if ticket_id is None:
            return self._tx.all(rows.EVENTS, LIST_EVENTS)
        return self._tx.all(rows.EVENTS, LIST_TICKET_EVENTS, ticket_id=ticket_id)

    def find(
        self,
        *,
        state: DeliveryState | None = None,
        ticket_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[OutboxEntry]:
        statement = sa.select(events).order_by(events.c.position).limit(limit)
        if state is not None:
            statement = statement.where(events.c.state == state.value)
        if ticket_id is not None:
            statement = statement.where(events.c.ticket_id == ticket_id)
        return [rows.outbox_entry(row) for row in self._tx.execute(statement).mappings()]

    def claim(self, now: datetime, limit: int, *, lease_until: datetime) -> Sequence[OutboxEntry]:
        claimed = self._tx.execute(CLAIM_EVENTS, {"now": now, "limit": limit})
        due = claimed.mappings().all()
        if not due:
            return []
        positions = [row["position"] for row in due]
        self._tx.execute(LEASE_EVENTS, {"positions": positions, "lease_until": lease_until})
        return [attrs.evolve(rows.outbox_entry(row), claimed_until=lease_until) for row in due]

    def mark_delivered(self, event_id: str, now: datetime) -> None:
        delivered = self._tx.execute(DELIVER_EVENT, {"match_id": event_id, "now": now})
        if delivered.rowcount == 0:
            raise NotFound("event", event_id)

    def mark_failed(
        self, event_id: str, *, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry:
        parameters = {"match_id": event_id, "error": error, "now": now, "retry_at": retry_at}
        statement = PARK_EVENT if retry_at is None else RETRY_EVENT
        row = self._tx.execute(statement, parameters).mappings().first()
        if row is None:
            raise NotFound("event", event_id)
        return rows.outbox_entry(row)

    def mark_requeued(self, event_id: str, now: datetime) -> bool:
        return self._tx.execute(REQUEUE_EVENT, {"match_id": event_id, "now": now}).rowcount == 1
