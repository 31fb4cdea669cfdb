"""The outbox area: domain events written with their change, leased out for delivery."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Final, Protocol

from ..._models import DeliveryState, Event, OutboxEntry

SECRET_KEYS: Final = frozenset({"token"})
"""Payload keys whose value is a secret (a sign-up link's token).

Only the handler needs it: admins never read it (the desk redacts it), and the
outbox empties it in the stored payload of an event written with a
``secret_until`` once the event is delivered or that moment has passed.
"""


def without_secrets(payload: Mapping[str, str]) -> dict[str, str]:
    """``payload`` with the value of each of its :data:`SECRET_KEYS` emptied (same keys)."""
    return {key: "" if key in SECRET_KEYS else value for key, value in payload.items()}


def holds_secrets(payload: Mapping[str, str]) -> bool:
    """Whether ``payload`` has a non-empty value under one of the :data:`SECRET_KEYS`."""
    return any(payload.get(key) for key in SECRET_KEYS)


class Outbox(Protocol):
    """Events and their delivery state.

    The outbox keeps the order events were added in (SQL: an autoincrement
    position column); "oldest first" below means that order.
    """

    def add(self, events: Collection[Event], *, secret_until: datetime | None = None) -> None:
        """Write domain events to the outbox, in this transaction, in the order given.

        Each enters as a ``pending`` :class:`~supportdesk.OutboxEntry` with no
        attempts, ``next_attempt_at`` equal to the event's ``at`` and no lease.

        With ``secret_until``, the events' payloads hold secrets (values under
        :data:`SECRET_KEYS`) that the outbox keeps only until the event is
        delivered (:meth:`mark_delivered`) or ``secret_until`` has passed
        (:meth:`remove_expired_secrets`), whichever comes first.  The same
        statements are sent with or without it.
        """
        ...

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        """Outbox events, oldest first; only the ticket's when ``ticket_id`` is given."""
        ...

    def find(
        self, *, state: DeliveryState | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> Sequence[OutboxEntry]:
        """Up to ``limit`` outbox entries, oldest first, filtered by state and ticket."""
        ...

    def claim(
        self, now: datetime, limit: int, *, lease_until: datetime, owner: str
    ) -> Sequence[OutboxEntry]:
        """Lease up to ``limit`` events due for delivery to ``owner``, oldest first.

        An entry may be claimed when it is ``pending``, its
        ``next_attempt_at`` is at or before ``now``, its lease is unset or
        ended (``claimed_until <= now``), and no earlier entry of the same
        ticket is still ``pending`` (leased, waiting for a retry or not yet
        due alike): a ticket's events go out one at a time, in order.  A
        ``parked`` entry no longer holds back the ticket's later events.
        Events without a ticket have no order to keep.

        The claimed entries get ``claimed_until = lease_until`` and
        ``claimed_by = owner`` (the dispatcher's identity, at most 64
        characters), which this transaction writes, and are returned with
        them.  A concurrent claim never returns an entry claimed by a
        transaction in flight: SQL adapters select with ``FOR UPDATE SKIP
        LOCKED`` (Postgres; SQLite has one writer) and then set the lease.  A
        dispatcher that dies leaves its entries pending; they are claimed
        again, by a new owner, once the lease ends.
        """
        ...

    def extend_lease(self, event_id: str, *, owner: str, until: datetime) -> bool:
        """Set the lease of an entry ``owner`` holds to end at ``until``, for a slow handler.

        ``owner`` holds the entry while it is ``pending`` and its
        ``claimed_by`` is ``owner``: from its claim until it is acknowledged
        or claimed by another dispatcher (which may happen once the lease has
        ended).  Returns False, changing nothing, when ``owner`` does not
        hold it (unknown events included).
        """
        ...

    def mark_delivered(self, event_id: str, now: datetime, *, owner: str) -> bool:
        """Record that ``owner``'s handler accepted the event, if ``owner`` still holds it.

        The entry becomes ``delivered`` at ``now`` (``finished_at``), its
        lease and owner are cleared, and when it was written with a
        ``secret_until`` its secrets are emptied from the stored payload.
        Returns False and changes nothing when ``owner`` no longer holds it
        (another dispatcher claimed it after the lease ended, or it was
        acknowledged already): a stale acknowledgement.  Raises
        :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def mark_failed(
        self, event_id: str, *, owner: str, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry | None:
        """Record a failed delivery by ``owner`` and return the entry as stored.

        ``attempts`` grows by one, ``last_error`` becomes ``error`` and the
        lease and owner are cleared.  With a ``retry_at`` the entry stays
        ``pending`` with ``next_attempt_at = retry_at``; with None it is
        ``parked`` at ``now`` (``finished_at``) and never claimed again
        unless requeued.  Returns None and changes nothing when ``owner`` no
        longer holds the entry (see :meth:`mark_delivered`).  Raises
        :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def mark_requeued(self, event_id: str, now: datetime) -> bool:
        """Make a parked entry ``pending`` again, due at ``now``, with zero attempts.

        ``last_error`` is kept for reference.  Returns False (and changes
        nothing) when there is no such entry or it is not ``parked``.
        """
        ...

    def remove_expired_secrets(self, now: datetime) -> int:
        """Empty the secrets of every event whose ``secret_until`` is at or before ``now``.

        For events written with a ``secret_until`` and not delivered by then
        (pending or parked): the values under :data:`SECRET_KEYS` become
        ``""`` in the stored payload, and the event is never looked at for
        this again.  Returns how many events changed.  SQL adapters find them
        by an index, never by a scan of the outbox; a concurrent call skips
        the rows another one is scrubbing (Postgres).
        """
        ...
