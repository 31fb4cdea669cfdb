"""The outbox area: domain events written with their change, leased out for delivery."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from ..._models import DeliveryState, Event, OutboxEntry


class Outbox(Protocol):
    """Events and their delivery state.

    The outbox keeps the order events were added in (SQL: an autoincrement
    position column); "oldest first" below means that order.
    """

    def add(self, events: Collection[Event]) -> None:
        """Write domain events to the outbox, in this transaction, in the order given.

        Each enters as a ``pending`` :class:`~supportdesk.OutboxEntry` with no
        attempts, ``next_attempt_at`` equal to the event's ``at`` and no lease.
        """
        ...

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        """Outbox events, oldest first; only the ticket's when ``ticket_id`` is given."""
        ...

    def find(
        self,
        *,
        state: DeliveryState | None = None,
        ticket_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[OutboxEntry]:
        """Up to ``limit`` outbox entries, oldest first, filtered by state and ticket."""
        ...

    def claim(self, now: datetime, limit: int, *, lease_until: datetime) -> Sequence[OutboxEntry]:
        """Lease up to ``limit`` events due for delivery, oldest first.

        An entry may be claimed when it is ``pending``, its
        ``next_attempt_at`` is at or before ``now``, its lease is unset or
        ended (``claimed_until <= now``), and no earlier entry of the same
        ticket is still ``pending`` (leased, waiting for a retry or not yet
        due alike): a ticket's events go out one at a time, in order.  A
        ``parked`` entry no longer holds back the ticket's later events.
        Events without a ticket have no order to keep.

        The claimed entries get ``claimed_until = lease_until``, which this
        transaction writes, and are returned with it.  A concurrent claim
        never returns an entry claimed by a transaction in flight: SQL
        adapters select with ``FOR UPDATE SKIP LOCKED`` (Postgres; SQLite has
        one writer) and then set the lease.  A dispatcher that dies leaves
        its entries pending; they are claimed again once the lease ends.
        """
        ...

    def mark_delivered(self, event_id: str, now: datetime) -> None:
        """Record that the handler accepted the event: ``delivered`` at ``now``, lease cleared.

        Raises :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def mark_failed(
        self, event_id: str, *, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry:
        """Record a failed delivery and return the entry as stored.

        ``attempts`` grows by one, ``last_error`` becomes ``error`` and the
        lease is cleared.  With a ``retry_at`` the entry stays ``pending``
        with ``next_attempt_at = retry_at``; with None it is ``parked`` at
        ``now`` (``finished_at``) and never claimed again unless requeued.
        Raises :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def mark_requeued(self, event_id: str, now: datetime) -> bool:
        """Make a parked entry ``pending`` again, due at ``now``, with zero attempts.

        ``last_error`` is kept for reference.  Returns False (and changes
        nothing) when there is no such entry or it is not ``parked``.
        """
        ...
