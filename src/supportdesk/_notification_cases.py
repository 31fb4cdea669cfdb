"""Notification use cases: the outbox, the in-app feed, and previews of what would be sent."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Self, cast

from . import notifications
from ._desk_base import _DeskBase, _found
from ._errors import NotFound, PermissionDenied, ValidationError
from ._input import (
    ID_TEXT,
    check_choice,
    check_count,
    check_id,
    check_optional_id,
    check_text,
    check_type,
)
from ._models import (
    Contact,
    DeliveryState,
    Event,
    EventKind,
    NotificationSettings,
    OutboxEntry,
    Role,
    new_id,
)
from ._paging import _check_page_size, _decode_cursor, _keyset_cursor, _one_page
from ._views import Feed
from .blobs import MemoryBlobStore
from .notifications import DispatchReport, NotificationHandler
from .storage.protocol import Desks, FeedQuery, Outbox, UnitOfWork


class _NotificationCases(_DeskBase):
    """Delivering events, the bell's feed, and rehearsing a use case to see its events."""

    def dispatch_notifications(
        self, handler: NotificationHandler, *, limit: int = 100, dispatcher: str | None = None
    ) -> DispatchReport:
        """Hand up to ``limit`` due events to ``handler``, at least once each, in order per ticket.

        The handler gets each :class:`~supportdesk.Event` with its recipients
        and payload as they were when it was written; ``event.id`` is the
        idempotency key, since a crash between delivery and bookkeeping
        delivers again.  A handler that raises leaves the event pending, to
        be retried after the :class:`RetryPolicy` backoff; the ticket's later
        events wait for it.  After ``max_attempts`` failures the event is
        parked: reported here and by :meth:`list_undelivered`, never lost.
        Run it from a worker or cron, like :meth:`run_due_timers`.

        Events are leased to ``dispatcher`` for :attr:`RetryPolicy.lease`; a
        handler that may take longer keeps its event with
        :meth:`extend_notification_lease`.  Once a lease ends another
        dispatcher may claim the event, and from then on only the new owner's
        outcome is recorded: this call reports the event as ``stale``.
        ``dispatcher`` names this call (one line, at most 64 characters,
        unique among the dispatchers running at once); by default a fresh
        random one, given back as :attr:`DispatchReport.dispatcher`.

        The first pass also empties the link token of sign-up events that
        expired undelivered; a delivered event loses its token at once.
        """
        check_count("limit", limit)
        if dispatcher is None:
            dispatcher = f"dispatcher-{new_id()}"
        _check_dispatcher(dispatcher)
        return notifications.dispatch(
            self._store, self._clock, handler, self.retry_policy, limit, dispatcher
        )

    def extend_notification_lease(self, event_id: str, dispatcher: str | None = None) -> bool:
        """Keep an event being delivered leased to its dispatcher, for a handler that runs long.

        Call it from the handler, as often as it likes, before the lease of
        :attr:`RetryPolicy.lease` (5 minutes by default) ends: the event's
        lease then ends one ``lease`` from now, and no other dispatcher
        claims it meanwhile.  ``dispatcher`` defaults to the one running the
        handler in this context (pass it explicitly from threads the handler
        starts: the ``dispatcher`` given to :meth:`dispatch_notifications`).

        Returns False, changing nothing, when that dispatcher no longer holds
        the event: its lease ended and another dispatcher claimed it, or its
        delivery was recorded already.  The handler may then stop; whatever
        it does, its outcome is not recorded.

        :raises ValidationError: on ``dispatcher`` when none is given and no
            handler of :meth:`dispatch_notifications` runs in this context.
        """
        check_id("event_id", event_id)
        if dispatcher is None:
            dispatcher = notifications.current_dispatcher()
            if dispatcher is None:
                raise ValidationError(
                    {"dispatcher": "no dispatcher runs a handler here: pass its identity"}
                )
        _check_dispatcher(dispatcher)
        return notifications.extend_lease(
            self._store, self._clock, self.retry_policy, event_id, dispatcher
        )

    def list_undelivered(
        self, actor: Contact, *, state: DeliveryState = DeliveryState.PARKED, limit: int = 100
    ) -> Sequence[OutboxEntry]:
        """Outbox entries not delivered (parked by default, or still pending), for admins.

        Secrets in a payload (a sign-up link's ``token``) read ``""``: an
        admin never sees what would let them complete someone's sign-up.
        """
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "see the outbox")
            found = work.outbox.find(state=state, limit=limit)
        return [notifications.redacted(entry) for entry in found]

    def retry_notification(self, actor: Contact, event_id: str) -> None:
        """Put a parked event back in the queue, due now, with its attempts reset (admins)."""
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "retry a notification")
            if not work.outbox.mark_requeued(event_id, self._clock.now()):
                raise NotFound("parked event", event_id)

    def notifications(
        self,
        actor: Contact,
        *,
        unread_only: bool = False,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Feed:
        """A page of the actor's feed (the bell), newest first, with the unread count."""
        _check_page_size(limit, 500, "entries")
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            page = FeedQuery(
                contact_id=actor.id,
                unread_only=unread_only,
                limit=limit + 1,
                before=_decode_cursor(cursor),
            )
            found = work.feed.find(page)
            unread = work.feed.count_unread(actor.id)
        entries, more = _one_page(found, limit)
        return Feed(
            notifications=entries,
            unread=unread,
            next_cursor=_keyset_cursor(entries[-1].at, entries[-1].id) if more else None,
        )

    def unread_count(self, actor: Contact) -> int:
        """How many of the actor's feed entries are unread: the number on the bell."""
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            return work.feed.count_unread(actor.id)

    def mark_read(self, actor: Contact, notification_id: str | None = None) -> int:
        """Mark one of the actor's feed entries read, or all of them when no id is given.

        Returns how many entries changed.  An id that is not the actor's own
        entry raises :class:`~supportdesk.NotFound`.
        """
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            if notification_id is None:
                return work.feed.mark_read(actor.id, None, self._clock.now())
            entry = work.feed.get(notification_id)
            if entry is None or entry.contact_id != actor.id:
                raise NotFound("notification", notification_id)
            return work.feed.mark_read(actor.id, [notification_id], self._clock.now())

    def get_notification_settings(
        self, actor: Contact, *, contact_id: str | None = None
    ) -> NotificationSettings:
        """How the actor (or, for admins, the contact ``contact_id``) hears of ticket events.

        Every kind is e-mailed until switched off with
        :meth:`set_notification_settings`; the in-app feed always gets them.

        :raises PermissionDenied: for someone else's settings, unless the actor is an admin.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        with self._store.unit_of_work() as work:
            owner = self._settings_owner(work, actor, contact_id)
            stored = work.participants.find_settings([owner.id])
        return stored[0] if stored else NotificationSettings(contact_id=owner.id)

    def set_notification_settings(
        self,
        actor: Contact,
        email: Mapping[EventKind, bool],
        *,
        contact_id: str | None = None,
    ) -> NotificationSettings:
        """Switch the e-mail of each kind of ticket event named on (True) or off (False).

        Kinds not named keep their setting, so a settings form may send all of
        them or only what changed.  Only the kinds of
        :data:`~supportdesk.notifications.EMAIL_OPTIONAL` may be switched off:
        account e-mails (sign-up and reset links, approvals) are always sent.
        The feed entry comes whatever the setting.  An actor changes their own
        settings; an admin may change anyone's with ``contact_id`` (a bouncing
        address, say).  Returns the settings as stored now.

        :raises ValidationError: on ``email`` for a kind that cannot be switched off.
        :raises PermissionDenied: for someone else's settings, unless the actor is an admin.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        wanted = _check_email_switches(email)
        with self._store.unit_of_work() as work:
            owner = self._settings_owner(work, actor, contact_id)
            stored = work.participants.find_settings([owner.id])
            off = set(stored[0].email_off if stored else ())
            off |= {kind for kind, on in wanted.items() if not on}
            off -= {kind for kind, on in wanted.items() if on}
            settings = NotificationSettings(contact_id=owner.id, email_off=frozenset(off))
            work.participants.put_settings(settings)
        return settings

    def _settings_owner(self, work: UnitOfWork, actor: Contact, contact_id: str | None) -> Contact:
        """Whose settings the actor reads or changes: their own, or anyone's for an admin."""
        check_optional_id("contact_id", contact_id)
        actor = self._refresh(work, actor)
        if contact_id is None or contact_id == actor.id:
            return actor
        if actor.role is not Role.ADMIN:
            raise PermissionDenied(
                "see or change another contact's notification settings", "only admins may"
            )
        return _found(work.directory.get_contact(contact_id), "contact", contact_id)

    def preview_notifications(self, use_case: Callable[[Self], object]) -> tuple[Event, ...]:
        """What a use case would notify, and to whom, without doing it.

        ``use_case`` gets a desk on the same store and clock and calls any
        use cases on it, for example
        ``desk.preview_notifications(lambda d: d.resolve(agent, "HHA-1", "Fixed"))``.
        Everything runs in one transaction that is rolled back: nothing it
        writes persists, events and feed entries included, and a ticket it
        opens shows the reference the next ticket would get without taking
        it.  Errors of the use case propagate as they would without the
        preview.

        Unscoped: every event with every recipient and payload, staff-only
        ones included, for the host's own checks (a test, an admin's
        preview).  What a customer may be shown of them is what
        :func:`~supportdesk.notifications.may_hear` lets them hear.
        """
        with contextlib.suppress(_Rollback), self._store.unit_of_work() as work:
            rehearsal = _Rehearsal(work)
            # Files a rehearsal attaches must not reach the real blob store.
            scratch = MemoryBlobStore(clock=self._clock)
            use_case(self._on(_RehearsalStore(rehearsal), scratch))
            raise _Rollback
        return tuple(rehearsal.events)


def _check_email_switches(email: object) -> dict[EventKind, bool]:
    """``email`` as kinds and switches, each kind one a contact may switch."""
    if not isinstance(email, Mapping):
        raise TypeError(f"email must be a mapping of kinds to bool, not {type(email).__name__}")
    switches: dict[EventKind, bool] = {}
    for kind, on in email.items():
        chosen = check_choice("email", kind, EventKind)
        check_type("email", on, bool)
        switches[chosen] = on
    fixed = sorted(kind.value for kind in switches if kind not in notifications.EMAIL_OPTIONAL)
    if fixed:
        raise ValidationError(
            {
                "email": f"{', '.join(fixed)}: account e-mails are always sent; only ticket"
                " events can be switched off"
            }
        )
    return switches


def _check_dispatcher(dispatcher: object) -> None:
    """A dispatcher's identity is one line, not blank, of at most 64 characters."""
    check_text("dispatcher", dispatcher, max_length=ID_TEXT, required=True, one_line=True)


class _Rollback(Exception):
    """Raised to roll a preview's transaction back."""


class _Rehearsal:
    """A unit of work that records events and takes no reference numbers.

    Every other call goes to the real unit of work, which the preview rolls back.
    """

    def __init__(self, work: UnitOfWork) -> None:
        self._work = work
        self.desks = _PeekingDesks(work.desks)
        self.outbox = _RecordingOutbox(work.outbox)

    @property
    def events(self) -> list[Event]:
        """The events the rehearsed use case wrote, in order."""
        return self.outbox.events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)


class _PeekingDesks:
    """The desks area of a rehearsal: reference numbers are only peeked at."""

    def __init__(self, desks: Desks) -> None:
        self._desks = desks
        self._taken: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._desks, name)

    def claim_reference(self, desk_id: str) -> int:
        # The counter survives rollbacks on purpose, so a preview only peeks.
        number = self._desks.get_next_reference(desk_id) + self._taken.get(desk_id, 0)
        self._taken[desk_id] = self._taken.get(desk_id, 0) + 1
        return number


class _RecordingOutbox:
    """The outbox of a rehearsal: it remembers what was added."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.events: list[Event] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)

    def add(self, events: Collection[Event], *, secret_until: datetime | None = None) -> None:
        self.events.extend(events)
        self._outbox.add(events, secret_until=secret_until)


class _RehearsalStore:
    """A store whose every unit of work is the one rehearsal transaction."""

    def __init__(self, rehearsal: _Rehearsal) -> None:
        self._rehearsal = rehearsal

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        yield cast(UnitOfWork, self._rehearsal)

    def close(self) -> None:
        """The real store stays open."""
