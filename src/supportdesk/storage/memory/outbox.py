"""The memory store's outbox: events in the order added, their delivery state and leases."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from datetime import datetime

import attrs

from ..._errors import NotFound
from ..._models import DeliveryState, Event, OutboxEntry
from ..protocol.outbox import holds_secrets, without_secrets
from ._changes import Area


class OutboxTables:
    """The events, their outbox entries, and the pending ones by position."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.entries: dict[str, OutboxEntry] = {}
        self.positions: dict[str, int] = {}
        """Event id -> its position in ``events``."""
        self.pending: dict[str, int] = {}
        """Event id -> outbox position, for the pending entries only."""
        self.secret_until: dict[str, datetime] = {}
        """Event id -> when its payload's secrets go, for events that still hold them."""


class MemoryOutbox(Area[OutboxTables]):
    """The outbox area of a :class:`~.store.MemoryUnitOfWork`."""

    def add(self, events: Collection[Event], *, secret_until: datetime | None = None) -> None:
        log = self._tables.events
        size = len(log)
        log.extend(events)
        self._changes.on_rollback(lambda: log.__delitem__(slice(size, None)))
        for position, event in enumerate(events, start=size):
            entry = OutboxEntry(event=event, next_attempt_at=event.at)
            self._changes.set(self._tables.entries, event.id, entry)
            self._changes.set(self._tables.positions, event.id, position)
            self._changes.set(self._tables.pending, event.id, position)
            if secret_until is not None:
                self._changes.set(self._tables.secret_until, event.id, secret_until)

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        return [e for e in self._tables.events if ticket_id is None or e.ticket_id == ticket_id]

    def find(
        self, *, state: DeliveryState | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> Sequence[OutboxEntry]:
        found = (
            entry
            for entry in self._tables.entries.values()
            if (state is None or entry.state is state)
            and (ticket_id is None or entry.event.ticket_id == ticket_id)
        )
        return list(itertools.islice(found, limit))

    def claim(
        self, now: datetime, limit: int, *, lease_until: datetime, owner: str
    ) -> Sequence[OutboxEntry]:
        claimed: list[OutboxEntry] = []
        held_back: set[str] = set()
        pending = sorted(self._tables.pending.items(), key=lambda item: item[1])
        for event_id, _position in pending:
            if len(claimed) >= limit:
                break
            entry = self._tables.entries[event_id]
            ticket_id = entry.event.ticket_id
            if ticket_id is not None:
                if ticket_id in held_back:
                    continue
                held_back.add(ticket_id)
            leased = entry.claimed_until is not None and entry.claimed_until > now
            if entry.next_attempt_at <= now and not leased:
                lease = attrs.evolve(entry, claimed_until=lease_until, claimed_by=owner)
                self._changes.set(self._tables.entries, event_id, lease)
                claimed.append(lease)
        return claimed

    def _held(self, event_id: str, owner: str) -> OutboxEntry | None:
        """The entry while ``owner`` holds it, else None; NotFound for an unknown event."""
        entry = self._entry(event_id)
        if entry.state is not DeliveryState.PENDING or entry.claimed_by != owner:
            return None
        return entry

    def extend_lease(self, event_id: str, *, owner: str, until: datetime) -> bool:
        entry = self._held(event_id, owner) if event_id in self._tables.entries else None
        if entry is None:
            return False
        self._changes.set(self._tables.entries, event_id, attrs.evolve(entry, claimed_until=until))
        return True

    def _entry(self, event_id: str) -> OutboxEntry:
        entry = self._tables.entries.get(event_id)
        if entry is None:
            raise NotFound("event", event_id)
        return entry

    def _finish(self, entry: OutboxEntry) -> None:
        self._changes.set(self._tables.entries, entry.event.id, entry)
        if entry.state is DeliveryState.PENDING:
            position = self._tables.positions[entry.event.id]
            self._changes.set(self._tables.pending, entry.event.id, position)
        else:
            self._changes.delete(self._tables.pending, entry.event.id)

    def mark_delivered(self, event_id: str, now: datetime, *, owner: str) -> bool:
        entry = self._held(event_id, owner)
        if entry is None:
            return False
        if event_id in self._tables.secret_until:
            entry = self._forget_secrets(entry)
        self._finish(
            attrs.evolve(
                entry,
                state=DeliveryState.DELIVERED,
                claimed_until=None,
                claimed_by=None,
                finished_at=now,
            )
        )
        return True

    def mark_failed(
        self, event_id: str, *, owner: str, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry | None:
        stored = self._held(event_id, owner)
        if stored is None:
            return None
        entry = attrs.evolve(
            stored,
            attempts=stored.attempts + 1,
            last_error=error,
            claimed_until=None,
            claimed_by=None,
        )
        if retry_at is None:
            entry = attrs.evolve(entry, state=DeliveryState.PARKED, finished_at=now)
        else:
            entry = attrs.evolve(entry, state=DeliveryState.PENDING, next_attempt_at=retry_at)
        self._finish(entry)
        return entry

    def mark_requeued(self, event_id: str, now: datetime) -> bool:
        entry = self._tables.entries.get(event_id)
        if entry is None or entry.state is not DeliveryState.PARKED:
            return False
        self._finish(
            attrs.evolve(
                entry,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                finished_at=None,
            )
        )
        return True

    def remove_expired_secrets(self, now: datetime) -> int:
        expired = [
            event_id for event_id, until in self._tables.secret_until.items() if until <= now
        ]
        for event_id in expired:
            self._changes.set(
                self._tables.entries, event_id, self._forget_secrets(self._tables.entries[event_id])
            )
        return len(expired)

    def _forget_secrets(self, entry: OutboxEntry) -> OutboxEntry:
        """The entry with its secrets emptied, in the event log too; not kept as such."""
        event_id = entry.event.id
        self._changes.delete(self._tables.secret_until, event_id)
        if not holds_secrets(entry.event.payload):
            return entry
        event = attrs.evolve(entry.event, payload=without_secrets(entry.event.payload))
        log, position = self._tables.events, self._tables.positions[event_id]
        before = log[position]
        self._changes.on_rollback(lambda: log.__setitem__(position, before))
        log[position] = event
        return attrs.evolve(entry, event=event)
