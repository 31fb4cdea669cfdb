"""The SQL outbox: events in the order added, leased out one ticket's event at a time."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import cast

import attrs
import sqlalchemy as sa

from ..._errors import NotFound
from ..._models import DeliveryState, Event, OutboxEntry
from ..protocol.outbox import holds_secrets, without_secrets
from . import rows
from ._transaction import Repository
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
    .values(claimed_until=sa.bindparam("lease_until"), claimed_by=sa.bindparam("owner"))
)
EVENT_BY_ID = events.c.id == sa.bindparam("match_id")
EVENT_EXISTS = sa.select(events.c.id).where(EVENT_BY_ID)
# An entry is its owner's while it is pending and nobody claimed it since:
# every acknowledgement and extension matches on both, in the one UPDATE, so
# of an old owner and a new one racing, only the new one's changes a row.
HELD_BY_OWNER = sa.and_(
    EVENT_BY_ID, events.c.state == PENDING, events.c.claimed_by == sa.bindparam("owner")
)
EXTEND_LEASE = events.update().where(HELD_BY_OWNER).values(claimed_until=sa.bindparam("until"))
DELIVER_EVENT = (
    events.update()
    .where(HELD_BY_OWNER)
    .values(
        state=DeliveryState.DELIVERED.value,
        claimed_until=None,
        claimed_by=None,
        finished_at=sa.bindparam("now"),
    )
    .returning(events.c.payload, events.c.secret_until)
)
FORGET_SECRETS = (
    events.update()
    .where(EVENT_BY_ID)
    .values(payload=sa.bindparam("scrubbed", type_=events.c.payload.type), secret_until=None)
)
FAIL_EVENT = (
    events.update()
    .where(HELD_BY_OWNER)
    .values(
        attempts=events.c.attempts + 1,
        last_error=sa.bindparam("error"),
        claimed_until=None,
        claimed_by=None,
    )
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
# The partial index on secret_until holds only the events that keep a secret.
EXPIRED_SECRETS = (
    sa.select(events.c.id, events.c.payload)
    .where(events.c.secret_until <= sa.bindparam("now"))
    .order_by(events.c.secret_until)
    .with_for_update(skip_locked=True, of=events)
)


class SqlOutbox(Repository):
    """The outbox in SQL: each event's row holds its delivery state and lease."""

    def add(self, events: Collection[Event], *, secret_until: datetime | None = None) -> None:
        if events:
            added = [rows.outbox_row(e, secret_until) for e in events]
            self._tx.execute(rows.EVENTS.table.insert(), added)

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        if ticket_id is None:
            return self._tx.all(rows.EVENTS, LIST_EVENTS)
        return self._tx.all(rows.EVENTS, LIST_TICKET_EVENTS, ticket_id=ticket_id)

    def find(
        self, *, state: DeliveryState | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> Sequence[OutboxEntry]:
        statement = sa.select(events).order_by(events.c.position).limit(limit)
        if state is not None:
            statement = statement.where(events.c.state == state.value)
        if ticket_id is not None:
            statement = statement.where(events.c.ticket_id == ticket_id)
        return [rows.outbox_entry(row) for row in self._tx.execute(statement).mappings()]

    def claim(
        self, now: datetime, limit: int, *, lease_until: datetime, owner: str
    ) -> Sequence[OutboxEntry]:
        claimed = self._tx.execute(CLAIM_EVENTS, {"now": now, "limit": limit})
        due = claimed.mappings().all()
        if not due:
            return []
        positions = [row["position"] for row in due]
        lease = {"positions": positions, "lease_until": lease_until, "owner": owner}
        self._tx.execute(LEASE_EVENTS, lease)
        return [
            attrs.evolve(rows.outbox_entry(row), claimed_until=lease_until, claimed_by=owner)
            for row in due
        ]

    def extend_lease(self, event_id: str, *, owner: str, until: datetime) -> bool:
        parameters = {"match_id": event_id, "owner": owner, "until": until}
        return self._tx.execute(EXTEND_LEASE, parameters).rowcount == 1

    def mark_delivered(self, event_id: str, now: datetime, *, owner: str) -> bool:
        parameters = {"match_id": event_id, "owner": owner, "now": now}
        delivered = self._tx.execute(DELIVER_EVENT, parameters).first()
        if delivered is None:
            self._require(event_id)
            return False
        if delivered.secret_until is not None:
            payload = _payload(delivered.payload)
            scrubbed = without_secrets(payload) if holds_secrets(payload) else payload
            self._tx.execute(FORGET_SECRETS, {"match_id": event_id, "scrubbed": scrubbed})
        return True

    def mark_failed(
        self, event_id: str, *, owner: str, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry | None:
        parameters = {
            "match_id": event_id,
            "owner": owner,
            "error": error,
            "now": now,
            "retry_at": retry_at,
        }
        statement = PARK_EVENT if retry_at is None else RETRY_EVENT
        row = self._tx.execute(statement, parameters).mappings().first()
        if row is None:
            self._require(event_id)
            return None
        return rows.outbox_entry(row)

    def mark_requeued(self, event_id: str, now: datetime) -> bool:
        return self._tx.execute(REQUEUE_EVENT, {"match_id": event_id, "now": now}).rowcount == 1

    def remove_expired_secrets(self, now: datetime) -> int:
        expired = self._tx.execute(EXPIRED_SECRETS, {"now": now}).all()
        if expired:
            scrubbed = [
                {"match_id": row.id, "scrubbed": without_secrets(_payload(row.payload))}
                for row in expired
            ]
            self._tx.execute(FORGET_SECRETS, scrubbed)
        return len(expired)

    def _require(self, event_id: str) -> None:
        """Raise NotFound unless the event is in the outbox."""
        if self._tx.execute(EVENT_EXISTS, {"match_id": event_id}).first() is None:
            raise NotFound("event", event_id)


def _payload(stored: object) -> dict[str, str]:
    """A payload as the driver returns it (a dict; SQLite may hand back its JSON text)."""
    loaded = json.loads(stored) if isinstance(stored, str) else stored
    return dict(cast("dict[str, str]", loaded))
