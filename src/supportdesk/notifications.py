"""Notifications: who hears of each event, the outbox dispatcher and the in-app feed entries."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from . import access
from ._errors import NotFound
from ._input import check_type
from ._models import (
    STAFF_ONLY_EVENTS,
    Contact,
    DeliveryState,
    Event,
    EventKind,
    Notification,
    OutboxEntry,
    Recipient,
    Role,
    Ticket,
)
from .clock import Clock
from .storage.protocol import Store, UnitOfWork
from .storage.protocol.outbox import holds_secrets, without_secrets

NotificationHandler = Callable[[Event], object]
"""Delivers one event (an e-mail, a push, a webhook); raising means "try again later".

It receives the event with its resolved ``recipients`` and ``payload``: send to
exactly ``recipients``, who wanted this kind by e-mail (whoever switched it off
has the feed entry alone).  Delivery is at least once: use ``event.id`` as the
idempotency key.  A handler that may run longer than :attr:`RetryPolicy.lease`
keeps its event with :meth:`~supportdesk.SupportDesk.extend_notification_lease`.
"""

STAFF_ONLY = STAFF_ONLY_EVENTS
"""Events only those who see the ticket as staff hear of: internal notes never reach a
customer, and a new ticket is announced to staff (its requester gets ``ticket_received``)."""

CUSTOMERS_ONLY = frozenset({EventKind.REMINDER_DUE, EventKind.CLOSING_SOON})
"""Events that ask the customer to act; agents are not reminded of them."""

NOT_IN_FEED = frozenset({EventKind.SIGNUP_REQUESTED, EventKind.REJECTED})
"""Events for people who cannot log in: e-mail only, no feed entry."""

EMAIL_OPTIONAL = frozenset(
    {
        EventKind.TICKET_CREATED,
        EventKind.TICKET_RECEIVED,
        EventKind.PUBLIC_UPDATE,
        EventKind.INTERNAL_NOTE,
        EventKind.STATUS_CHANGED,
        EventKind.ASSIGNED,
        EventKind.REMINDER_DUE,
        EventKind.CLOSING_SOON,
        EventKind.AUTO_RESOLVED,
        EventKind.AUTO_CLOSED,
        EventKind.COLLABORATOR_ADDED,
        EventKind.FOLLOW_UP_CREATED,
        EventKind.ESCALATED,
        EventKind.ATTACHMENT_ADDED,
        EventKind.ATTACHMENT_REJECTED,
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACHED,
        EventKind.SLA_MET,
    }
)
"""The ticket events a contact may get no e-mail of (:class:`~supportdesk.NotificationSettings`).

Every other kind is an account e-mail (a sign-up or reset link, an approval),
always sent: a kind is optional only when listed here.
"""


def email_options(contact: Contact) -> frozenset[EventKind]:
    """The kinds of e-mail ``contact`` may switch off: those of :data:`EMAIL_OPTIONAL` they hear.

    What a settings page lists: a customer never hears of :data:`STAFF_ONLY`
    events; agents and admins may hear of every kind (raising a ticket
    themselves, they are reminded as its requester).

    :raises TypeError: naming ``contact`` when it is no :class:`~supportdesk.Contact`.
    """
    check_type("contact", contact, Contact)
    return EMAIL_OPTIONAL - STAFF_ONLY if contact.role is Role.CUSTOMER else EMAIL_OPTIONAL


def may_hear(
    contact: Contact,
    kind: EventKind,
    ticket: Ticket,
    collaborator_ids: Collection[str],
    *,
    internal: bool = False,
) -> bool:
    """Whether ``contact`` may hear of a ``kind`` event on ``ticket``, by e-mail or in the feed.

    The one rule every recipient of a ticket event passes: the contact sees
    the ticket now through the scope :meth:`~supportdesk.SupportDesk.get_ticket`
    uses (``access.ticket_scope(contact).grant(ticket, collaborator_ids)``),
    and a :data:`STAFF_ONLY` event, or one that tells of an internal entry
    (``internal``: a file on a note), needs a grant that shows the ticket
    as staff.  So an agent of another desk hears of nothing on the ticket,
    whatever list of people names them, and an inactive contact of nothing.
    """
    grant = access.ticket_scope(contact).grant(ticket, collaborator_ids)
    if grant is None:
        return False
    return grant.as_staff or not (internal or kind in STAFF_ONLY)


def ticket_recipients(
    kind: EventKind,
    ticket: Ticket,
    *,
    actor_id: str | None,
    customers: Iterable[Contact | None],
    staff: Iterable[Contact | None],
    collaborator_ids: Collection[str],
    muted: Collection[str],
) -> tuple[Recipient, ...]:
    """Who hears of a ticket event: its customers and its staff, by the rules of DESIGN.md.

    :param ticket: the ticket as the event leaves it.
    :param customers: the requester and the collaborators, in that order.
    :param staff: the assignee and the agents of the ticket's desk.
    :param collaborator_ids: the ticket's collaborators now, for the access scope.
    :param muted: contacts who switched the ticket's notifications off.

    :data:`CUSTOMERS_ONLY` events are offered to the customers alone, others
    to both; of those, the actor never hears of their own action, nor does
    anyone who muted the ticket, and every one left must pass
    :func:`may_hear`: :data:`STAFF_ONLY` events reach only who sees the
    ticket as staff.
    """
    offered = customers if kind in CUSTOMERS_ONLY else (*customers, *staff)
    chosen: dict[str, Recipient] = {}
    for contact in offered:
        if (
            contact is None
            or contact.id == actor_id
            or contact.id in muted
            or contact.id in chosen
            or not may_hear(contact, kind, ticket, collaborator_ids)
        ):
            continue
        chosen[contact.id] = Recipient.of(contact)
    return tuple(chosen.values())


@attrs.frozen
class Delivery:
    """Whom one event reaches: everyone who hears of it in the feed, and whom it is sent to."""

    feed: tuple[Recipient, ...]
    """Everyone who hears of the event: a feed entry each (the feed cannot be switched off)."""
    email: tuple[Recipient, ...]
    """Those of ``feed`` who did not switch e-mail of its kind off: the event's ``recipients``."""


def deliveries(
    work: UnitOfWork, *audiences: tuple[EventKind, Sequence[Recipient]]
) -> tuple[Delivery, ...]:
    """Each event's hearers, by kind, split by their notification settings, read once for all.

    A hearer gets the e-mail unless the kind is :data:`EMAIL_OPTIONAL` and
    their :class:`~supportdesk.NotificationSettings` switched it off.
    """
    optional = {
        r.contact_id for kind, hearers in audiences if kind in EMAIL_OPTIONAL for r in hearers
    }
    settings = (
        {s.contact_id: s for s in work.participants.find_settings(optional)} if optional else {}
    )

    def emailed(kind: EventKind, recipient: Recipient) -> bool:
        chosen = settings.get(recipient.contact_id)
        return kind not in EMAIL_OPTIONAL or chosen is None or chosen.emails(kind)

    return tuple(
        Delivery(feed=tuple(hearers), email=tuple(r for r in hearers if emailed(kind, r)))
        for kind, hearers in audiences
    )


def record(work: UnitOfWork, *sent: tuple[Event, Delivery]) -> None:
    """Write each event to the outbox and its feed entries, in ``work``, in one go.

    The outbox holds the event addressed to its delivery's ``email``: the
    handler of :func:`dispatch` sends to exactly ``event.recipients``.  Each
    of the delivery's ``feed`` gets a feed entry, unless the kind is
    :data:`NOT_IN_FEED`.
    """
    work.outbox.add([attrs.evolve(event, recipients=delivery.email) for event, delivery in sent])
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
            for event, delivery in sent
            if event.kind not in NOT_IN_FEED
            for recipient in delivery.feed
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

    dispatcher: str = ""
    """The identity this call claimed its events under: the owner of their leases."""
    delivered: tuple[str, ...] = ()
    """Ids of the events the handler accepted, in the order it got them."""
    retrying: tuple[OutboxEntry, ...] = ()
    """Events whose handler raised; each will be retried at its ``next_attempt_at``."""
    parked: tuple[OutboxEntry, ...] = ()
    """Events that failed ``max_attempts`` times: no longer retried, kept for a look."""
    stale: tuple[str, ...] = ()
    """Ids of events this call no longer held when it came to hand them over or to
    record how their delivery went: the lease ended and another dispatcher claimed
    them.  Nothing was recorded (a former owner's acknowledgement changes nothing);
    their new owner delivers them."""

    @property
    def attempted(self) -> int:
        """How many claimed events this call went through, whatever became of them."""
        return len(self.delivered) + len(self.retrying) + len(self.parked) + len(self.stale)


_DISPATCHER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "supportdesk_dispatcher", default=None
)
"""The dispatcher whose handler runs in this context, if any."""


def current_dispatcher() -> str | None:
    """The identity of the dispatcher whose handler is running in this context, or None.

    Set while :meth:`~supportdesk.SupportDesk.dispatch_notifications` calls its
    handler (threads the handler starts see it only through
    :func:`contextvars.copy_context`).
    """
    return _DISPATCHER.get()


def redacted(entry: OutboxEntry) -> OutboxEntry:
    """``entry`` as an admin may read it: secrets in its payload (a sign-up token) emptied."""
    if not holds_secrets(entry.event.payload):
        return entry
    event = attrs.evolve(entry.event, payload=without_secrets(entry.event.payload))
    return attrs.evolve(entry, event=event)


def dispatch(
    store: Store,
    clock: Clock,
    handler: NotificationHandler,
    policy: RetryPolicy,
    limit: int,
    dispatcher: str,
) -> DispatchReport:
    """Deliver up to ``limit`` due events; see :meth:`SupportDesk.dispatch_notifications`.

    How each delivery went is recorded before the next handler runs, however
    long that one takes, so an event is handed over again only when the
    process dies between its handler and that record.  The last of a batch
    is recorded in the transaction that claims the next batch: a ticket's
    next event becomes claimable at once, with no transaction of its own.
    The first transaction also empties the secrets of events not delivered
    before they expired (``work.outbox.remove_expired_secrets``).
    """
    report = DispatchReport(dispatcher=dispatcher)
    pending: list[_Outcome] = []
    handled = 0
    while True:
        now = clock.now()
        with store.unit_of_work() as work:
            if handled == 0:
                work.outbox.remove_expired_secrets(now)
            report = _record(work, policy, pending, report)
            batch = (
                work.outbox.claim(
                    now, limit - handled, lease_until=now + policy.lease, owner=dispatcher
                )
                if handled < limit
                else ()
            )
        if not batch:
            return report
        handled += len(batch)
        pending = []
        for entry in batch:
            report, pending = _deliver(store, clock, handler, policy, entry, pending, report)


def extend_lease(
    store: Store, clock: Clock, policy: RetryPolicy, event_id: str, owner: str
) -> bool:
    """Lease ``event_id`` to ``owner`` for ``policy.lease`` from now, if ``owner`` holds it."""
    now = clock.now()
    with store.unit_of_work() as work:
        return work.outbox.extend_lease(event_id, owner=owner, until=now + policy.lease)


@attrs.frozen
class _Outcome:
    """How handing one claimed event to the handler went, not yet recorded."""

    entry: OutboxEntry
    at: datetime
    """When the handler returned or raised."""
    error: str | None = None
    """The handler's exception, or None when it accepted the event."""
    stale: bool = False
    """The lease was lost before the handler ran: nothing to record."""


def _deliver(
    store: Store,
    clock: Clock,
    handler: NotificationHandler,
    policy: RetryPolicy,
    entry: OutboxEntry,
    pending: Sequence[_Outcome],
    report: DispatchReport,
) -> tuple[DispatchReport, list[_Outcome]]:
    """Record ``pending``, then hand ``entry`` to ``handler``: ``report`` so far, its outcome."""
    owner = report.dispatcher
    now = clock.now()
    # An event late in a batch may have spent its lease waiting for the ones
    # before it: renew a lease half gone before the handler starts, and leave
    # the event to whoever claimed it meanwhile.
    left = policy.lease if entry.claimed_until is None else entry.claimed_until - now
    renew = left < policy.lease / 2
    if pending or renew:
        with store.unit_of_work() as work:
            report = _record(work, policy, pending, report)
            held = not renew or work.outbox.extend_lease(
                entry.event.id, owner=owner, until=now + policy.lease
            )
        if not held:
            return report, [_Outcome(entry, now, stale=True)]
    try:
        _call(handler, entry.event, owner)
    except Exception as error:  # any handler failure means "retry later"
        return report, [_Outcome(entry, clock.now(), error=f"{type(error).__name__}: {error}")]
    return report, [_Outcome(entry, clock.now())]


def _record(
    work: UnitOfWork, policy: RetryPolicy, outcomes: Sequence[_Outcome], report: DispatchReport
) -> DispatchReport:
    """Write each outcome to the outbox in ``work``; ``report`` with them added."""
    delivered: list[str] = []
    stale: list[str] = []
    retrying: list[OutboxEntry] = []
    parked: list[OutboxEntry] = []
    owner = report.dispatcher
    for outcome in outcomes:
        event_id = outcome.entry.event.id
        if outcome.stale:
            stale.append(event_id)
        elif outcome.error is None:
            if _acknowledged(work, event_id, outcome.at, owner):
                delivered.append(event_id)
            else:
                stale.append(event_id)
        else:
            failed = _failed(work, policy, outcome, owner)
            if failed is None:
                stale.append(event_id)
            else:
                (parked if failed.state is DeliveryState.PARKED else retrying).append(failed)
    return attrs.evolve(
        report,
        delivered=(*report.delivered, *delivered),
        retrying=(*report.retrying, *retrying),
        parked=(*report.parked, *parked),
        stale=(*report.stale, *stale),
    )


def _acknowledged(work: UnitOfWork, event_id: str, at: datetime, owner: str) -> bool:
    """Mark the event delivered if ``owner`` still holds it; an event since purged is stale."""
    try:
        return work.outbox.mark_delivered(event_id, at, owner=owner)
    except NotFound:  # delivered by a later owner, then purged
        return False


def _failed(
    work: UnitOfWork, policy: RetryPolicy, outcome: _Outcome, owner: str
) -> OutboxEntry | None:
    """Record a failed delivery if ``owner`` still holds the event: the entry, redacted."""
    delay = policy.delay(outcome.entry.attempts + 1)
    try:
        failed = work.outbox.mark_failed(
            outcome.entry.event.id,
            owner=owner,
            error=outcome.error or "",
            now=outcome.at,
            retry_at=None if delay is None else outcome.at + delay,
        )
    except NotFound:  # delivered by a later owner, then purged
        return None
    return None if failed is None else redacted(failed)


def _call(handler: NotificationHandler, event: Event, dispatcher: str) -> None:
    """Call ``handler`` with ``dispatcher`` as the :func:`current_dispatcher`."""
    token = _DISPATCHER.set(dispatcher)
    try:
        handler(event)
    finally:
        _DISPATCHER.reset(token)
