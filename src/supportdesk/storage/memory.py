"""The in-memory store: for tests, demos and hosts that keep nothing across restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs

from .._errors import Conflict, NotFound
from .._models import (
    Activity,
    Collaborator,
    Contact,
    Desk,
    Event,
    Organization,
    RequestType,
    Ticket,
    Timer,
    TimerState,
)
from .protocol import TicketQuery, TicketSort


class _State:
    """Everything the store holds; mutated only by a unit of work holding the lock."""

    def __init__(self) -> None:
        self.organizations: dict[str, Organization] = {}
        self.contacts: dict[str, Contact] = {}
        self.contact_ids_by_email: dict[str, str] = {}
        self.desks: dict[str, Desk] = {}
        self.request_types: dict[str, RequestType] = {}
        self.references: dict[str, int] = {}
        self.tickets: dict[str, Ticket] = {}
        self.ticket_ids_by_reference: dict[str, str] = {}
        self.activities: dict[str, list[Activity]] = {}
        self.collaborators: dict[str, dict[str, Collaborator]] = {}
        self.muted: set[tuple[str, str]] = set()
        self.timers: dict[str, Timer] = {}
        self.events: list[Event] = []


def _sort_key(query: TicketQuery) -> Callable[[Ticket], tuple[datetime, str]]:
    if query.sort is TicketSort.RECENTLY_UPDATED:
        return lambda ticket: (ticket.updated_at, ticket.id)
    return lambda ticket: (ticket.created_at, ticket.id)


class MemoryUnitOfWork:
    """A transaction over :class:`MemoryStore`: writes are undone if it rolls back."""

    def __init__(self, state: _State) -> None:
        self._state = state
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        """Undo every write of this unit of work, newest first."""
        while self._undo:
            self._undo.pop()()

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if key in table:
            old = table[key]
            self._undo.append(lambda: table.__setitem__(key, old))
        else:
            self._undo.append(lambda: table.pop(key, None))
        table[key] = value

    def _delete(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            old = table.pop(key)
            self._undo.append(lambda: table.__setitem__(key, old))

    # Directory.

    def put_organization(self, organization: Organization) -> None:
        self._set(self._state.organizations, organization.id, organization)

    def get_organization(self, organization_id: str) -> Organization | None:
        return self._state.organizations.get(organization_id)

    def put_contact(self, contact: Contact) -> None:
        by_email = self._state.contact_ids_by_email
        holder = by_email.get(contact.email)
        if holder is not None and holder != contact.id:
            raise Conflict("contact", contact.email, "another contact has this e-mail")
        previous = self._state.contacts.get(contact.id)
        if previous is not None and previous.email != contact.email:
            self._delete(by_email, previous.email)
        self._set(by_email, contact.email, contact.id)
        self._set(self._state.contacts, contact.id, contact)

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._state.contacts.get(contact_id)

    def get_contact_by_email(self, email: str) -> Contact | None:
        contact_id = self._state.contact_ids_by_email.get(email.strip().lower())
        return None if contact_id is None else self._state.contacts[contact_id]

    def put_desk(self, desk: Desk) -> None:
        for other in self._state.desks.values():
            if other.key == desk.key and other.id != desk.id:
                raise Conflict("desk", desk.key, "another desk has this key")
        self._set(self._state.desks, desk.id, desk)

    def get_desk(self, desk_id: str) -> Desk | None:
        return self._state.desks.get(desk_id)

    def list_desks(self) -> Sequence[Desk]:
        return sorted(self._state.desks.values(), key=lambda desk: (desk.name, desk.id))

    def put_request_type(self, request_type: RequestType) -> None:
        self._set(self._state.request_types, request_type.id, request_type)

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        return self._state.request_types.get(request_type_id)

    def list_request_types(self, desk_id: str) -> Sequence[RequestType]:
        return [rt for rt in self._state.request_types.values() if rt.desk_id == desk_id]

    # Tickets.

    def allocate_reference(self, desk_id: str) -> int:
        # Numbers are never handed out twice, even after a rollback: the
        # counter is deliberately not undone.
        number = self._state.references.get(desk_id, 0) + 1
        self._state.references[desk_id] = number
        return number

    def insert_ticket(self, ticket: Ticket) -> None:
        if ticket.id in self._state.tickets:
            raise Conflict("ticket", ticket.id, "a ticket with this id exists")
        if ticket.reference in self._state.ticket_ids_by_reference:
            raise Conflict("ticket", ticket.reference, "a ticket with this reference exists")
        self._set(self._state.tickets, ticket.id, ticket)
        self._set(self._state.ticket_ids_by_reference, ticket.reference, ticket.id)

    def update_ticket(self, ticket: Ticket) -> None:
        stored = self._state.tickets.get(ticket.id)
        if stored is None:
            raise NotFound("ticket", ticket.id)
        if stored.version != ticket.version - 1:
            raise Conflict(
                "ticket",
                ticket.reference,
                f"stored version is {stored.version}, the change was based on {ticket.version - 1}",
            )
        self._set(self._state.tickets, ticket.id, ticket)

    def touch_ticket(self, ticket_id: str, at: datetime) -> None:
        ticket = self._state.tickets[ticket_id]
        if at > ticket.updated_at:
            self._set(self._state.tickets, ticket_id, attrs.evolve(ticket, updated_at=at))

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._state.tickets.get(ticket_id)

    def get_ticket_by_reference(self, reference: str) -> Ticket | None:
        ticket_id = self._state.ticket_ids_by_reference.get(reference.upper())
        return None if ticket_id is None else self._state.tickets[ticket_id]

    def _matching(self, query: TicketQuery) -> Iterator[Ticket]:
        for ticket in self._state.tickets.values():
            collaborators = self._state.collaborators.get(ticket.id, {})
            if query.scope.grant(ticket, collaborators) is None:
                continue
            if query.collaborator_id is not None and query.collaborator_id not in collaborators:
                continue
            if _filters_admit(query, ticket):
                yield ticket

    def find_tickets(self, query: TicketQuery) -> Sequence[Ticket]:
        key = _sort_key(query)
        descending = query.sort is not TicketSort.OLDEST
        found = sorted(self._matching(query), key=key, reverse=descending)
        if query.after is not None:
            after = query.after
            found = [t for t in found if (key(t) < after if descending else key(t) > after)]
        return found[: query.limit]

    def count_tickets(self, query: TicketQuery) -> int:
        return sum(1 for _ in self._matching(query))

    # The activity log and who takes part.

    def append_activity(self, activity: Activity) -> Activity:
        log = self._state.activities.setdefault(activity.ticket_id, [])
        entry = attrs.evolve(activity, seq=len(log) + 1)
        log.append(entry)
        self._undo.append(lambda: log.remove(entry))
        return entry

    def list_activities(self, ticket_id: str, *, include_internal: bool) -> Sequence[Activity]:
        log = self._state.activities.get(ticket_id, [])
        return [entry for entry in log if include_internal or not entry.internal]

    def add_collaborator(self, collaborator: Collaborator) -> None:
        shared = self._state.collaborators.setdefault(collaborator.ticket_id, {})
        if collaborator.contact_id not in shared:
            self._set(shared, collaborator.contact_id, collaborator)

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        shared = self._state.collaborators.get(ticket_id, {})
        if contact_id not in shared:
            return False
        self._delete(shared, contact_id)
        return True

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        return list(self._state.collaborators.get(ticket_id, {}).values())

    def set_notifications(self, ticket_id: str, contact_id: str, enabled: bool) -> None:
        key = (ticket_id, contact_id)
        muted = self._state.muted
        was_muted = key in muted
        if enabled:
            muted.discard(key)
        else:
            muted.add(key)
        self._undo.append(lambda: muted.add(key) if was_muted else muted.discard(key))

    def muted_contacts(self, ticket_id: str) -> frozenset[str]:
        return frozenset(contact for ticket, contact in self._state.muted if ticket == ticket_id)

    # Timers.

    def add_timers(self, timers: Collection[Timer]) -> None:
        for timer in timers:
            self._set(self._state.timers, timer.id, timer)

    def cancel_timers(self, ticket_id: str, now: datetime) -> int:
        pending = self.pending_timers(ticket_id)
        for timer in pending:
            canceled = attrs.evolve(timer, state=TimerState.CANCELED, done_at=now)
            self._set(self._state.timers, timer.id, canceled)
        return len(pending)

    def pending_timers(self, ticket_id: str) -> Sequence[Timer]:
        return _soonest_first(
            timer
            for timer in self._state.timers.values()
            if timer.ticket_id == ticket_id and timer.state is TimerState.PENDING
        )

    def claim_due_timers(self, now: datetime, limit: int) -> Sequence[Timer]:
        # The store's lock is held for the whole unit of work, so nobody else
        # can claim these timers before this transaction finishes them.
        due = _soonest_first(
            timer
            for timer in self._state.timers.values()
            if timer.state is TimerState.PENDING and timer.due_at <= now
        )
        return due[:limit]

    def finish_timer(self, timer_id: str, state: TimerState, now: datetime) -> None:
        timer = self._state.timers[timer_id]
        self._set(self._state.timers, timer_id, attrs.evolve(timer, state=state, done_at=now))

    def next_timer_due(self) -> datetime | None:
        pending = [t.due_at for t in self._state.timers.values() if t.state is TimerState.PENDING]
        return min(pending, default=None)

    # The outbox.

    def add_events(self, events: Collection[Event]) -> None:
        log = self._state.events
        size = len(log)
        log.extend(events)
        self._undo.append(lambda: log.__delitem__(slice(size, None)))

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        return [e for e in self._state.events if ticket_id is None or e.ticket_id == ticket_id]


def _soonest_first(timers: Iterator[Timer]) -> list[Timer]:
    return sorted(timers, key=lambda timer: (timer.due_at, timer.id))


def _filters_admit(query: TicketQuery, ticket: Ticket) -> bool:
    return (
        (query.requester_id is None or ticket.requester_id == query.requester_id)
        and (query.organization_id is None or ticket.organization_id == query.organization_id)
        and (query.statuses is None or ticket.status in query.statuses)
        and (query.desk_id is None or ticket.desk_id == query.desk_id)
        and (query.request_type_id is None or ticket.request_type_id == query.request_type_id)
    )


class MemoryStore:
    """A store in this process's memory: one unit of work at a time, fully isolated."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        with self._lock:
            work = MemoryUnitOfWork(self._state)
            try:
                yield work
            except BaseException:
                work.rollback()
                raise

    def close(self) -> None:
        """Nothing to release."""
