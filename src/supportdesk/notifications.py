"""Notifications: who hears of each event, the outbox dispatcher and the in-app feed entries."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import timedelta

import attrs

from . import access
from ._models import (
    Contact,
    ContactState,
    Event,
    EventKind,
    Notification,
    OutboxEntry,
    Recipient,
)
from .clock import Clock
from .storage.protocol import Store, UnitOfWork

NotificationHandler = Callable[[Event], object]
"""Delivers one event (an e-mail, a push, a webhook); raising means "try again later".

It receives the event with its resolved ``recipients`` and ``payload``.  Delivery
is at least once: use ``event.id`` as the idempotency key.
"""

STAFF_ONLY = frozenset({EventKind.INTERNAL_NOTE})
"""Events only agents and admins hear of: internal notes never reach a customer."""

CUSTOMERS_ONLY = frozenset({EventKind.REMINDER_DUE, EventKind.CLOSING_SOON})
"""Events that ask the customer to act; agents are not reminded of them."""

NOT_IN_FEED = frozenset({EventKind.SIGNUP_REQUESTED, EventKind.REJECTED})
"""Events for people who cannot log in: e-mail only, no feed entry."""


def ticket_recipients(
    kind: EventKind,
    *,
    actor_id: str | None,
    customers: Iterable[Contact | None],
    staff: Iterable[Contact | None],
    muted: Collection[str],
) -> tuple[Recipient, ...]:
    """Who hears of a ticket event: its customers and its staff, by the rules of DESIGN.md.

    :param customers: the requester and the collaborators, in that order.
    :param staff: the assignee and the agents of the ticket's desk.
    :param muted: contacts who switched the ticket's notifications off.

    The actor never hears of their own action, inactive contacts hear of
    nothing, and :data:`STAFF_ONLY` events reach staff only (a collaborator
    who is an agent included).
    """
    if kind in STAFF_ONLY:
        candidates = [c for c in (*customers, *staff) if c is not None and access.is_staff(c)]
    elif kind in CUSTOMERS_ONLY:
        candidates = [c for c in customers if c is not None]
    else:
        candidates = [c for c in (*customers, *staff) if c is not None]
    chosen: dict[str, Recipient] = {}
    for contact in candidates:
        if (
            contact.id == actor_id
            or contact.id in muted
            or contact.state is not ContactState.ACTIVE
            or contact.id in chosen
        ):
            continue
        chosen[contact.id] = Recipient.of(contact)
    return tuple(chosen.values())


def record(work: UnitOfWork, event: Event) -> None:
    """Write ``event`` to the outbox and one feed entry per recipient, in ``work``."""
    work.outbox.add([event])
    if event.kind in NOT_IN_FEED:
        return
    work.feed.add(
        [
            Notification(
                contact_id=recipient.contact_id,
                event_id=event.id,
                kind=event.kind,
                at=event.at,
                ticket_id=event.ticket_id,
                payload=event.payload,
            )
            for recipient in event.recipients
        ]
    )


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How the dispatcher retries a failing handler, and when it gives up.

    The n-th failure waits ``first_delay * factor ** (n - 1)``, at most
    ``max_delay``; the ``max_attempts``-th failure parks the event.
    """

    max_attempts: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    first_delay: timedelta = timedelta(minutes=1)
    factor: float = attrs.field(default=2.0, validator=attrs.validators.ge(1.0))
    max_delay: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=5)
    """How long a dispatcher holds the events it claimed before others may take them."""

    def delay(self, attempts: int) -> timedelta | None:
        """How long to wait after ``attempts`` failures, or None to park the event."""
        if attempts >= self.max_attempts:
            return None
        return min(self.first_delay * self.factor ** (attempts - 1), self.max_delay)


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :meth:`~supportdesk.SupportDesk.dispatch_notifications` call did."""

    delivered: tuple[str, ...] = ()
    """Ids of the events the handler accepted, in the order it got them."""
    retrying: tuple[OutboxEntry, ...] = ()
    """Events whose handler raised; each will be retried at its ``next_attempt_at``."""
    parked: tuple[OutboxEntry, ...] = ()
    """Events that failed ``max_attempts`` times: no longer retried, kept for a look."""

    @property
    def attempted(self) -> int:
        """How many deliveries were tried."""
        return len(self.delivered) + len(self.retrying) + len(self.parked)


def dispatch(
    store: Store,
    clock: Clock,
    handler: NotificationHandler,
    policy: RetryPolicy,
    limit: int,
) -> DispatchReport:
    """Deliver up to ``limit`` due events; see :meth:`SupportDesk.dispatch_notifications`."""
    report = DispatchReport()
    while report.attempted < limit:
        now = clock.now()
        with store.unit_of_work() as work:
            batch = work.outbox.claim(now, limit - report.attempted, lease_until=now + policy.lease)
        if not batch:
            break
        for entry in batch:
            report = _deliver(store, clock, handler, policy, entry, report)
    return report


def _deliver(
    store: Store,
    clock: Clock,
    handler: NotificationHandler,
    policy: RetryPolicy,
    entry: OutboxEntry,
    report: DispatchReport,
) -> DispatchReport:
    try:
        handler(entry.event)
    except Exception as error:  # any handler failure means "retry later"
        now = clock.now()
        delay = policy.delay(entry.attempts + 1)
        with store.unit_of_work() as work:
            failed = work.outbox.mark_failed(
                entry.event.id,
                error=f"{type(error).__name__}: {error}",
                now=now,
                retry_at=None if delay is None else now + delay,
            )
        if delay is None:
            return attrs.evolve(report, parked=(*report.parked, failed))
        return attrs.evolve(report, retrying=(*report.retrying, failed))
    with store.unit_of_work() as work:
        work.outbox.mark_delivered(entry.event.id, clock.now())
    return attrs.evolve(report, delivered=(*report.delivered, entry.event.id))
