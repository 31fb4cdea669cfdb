"""Access properties: every list, count, search, feed and event agrees with ``get_ticket``.

A seeded random portal grows in rounds on each store: organisations,
customers, agents of some desks, admins; tickets, collaborators, sharing,
public updates, internal notes, files on updates and on notes, status moves,
mutes; and contacts who change desks, role, organisation or state on the way.

- After every step, each new event's recipients are checked against
  ``get_ticket`` at that moment: each of them sees the ticket, an internal
  note reaches staff only, and no participant who may hear of it is left out.
- After every round, for every actor and every ticket: ``get_ticket`` against
  the rules of DESIGN.md; each ticket list (each mode, the open filter, desk,
  request type, statuses, sort, pages) and its count; ``search``; the feed
  and its unread count; ``view_ticket``'s log and files and
  ``open_attachment``: none shows what ``get_ticket`` refuses or omits what
  it grants, and no customer gets an internal note or a file on one.

``SUPPORTDESK_ACCESS_CHECKS`` sets how many checks each store runs at least
(20,000 by default); ``SUPPORTDESK_ACCESS_SEED`` replays a run.  Under
``CI=true`` the seed is fixed, so a red run is reproducible; locally each run
explores a new portal.  The figures are printed at the end of the session.
"""

from __future__ import annotations

import io
import itertools
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import attrs
import pytest

from supportdesk import (
    ActivityKind,
    AttachmentRejected,
    Contact,
    ContactState,
    Desk,
    Event,
    EventKind,
    FakeClock,
    InvalidTransition,
    NotFound,
    Organization,
    PermissionDenied,
    RequestType,
    Role,
    ScanStatus,
    SearchKind,
    Store,
    Submission,
    SupportDesk,
    Ticket,
    TicketList,
    TicketRow,
    TicketSort,
    TicketView,
    ValidationError,
)
from supportdesk.notifications import CUSTOMERS_ONLY, NOT_IN_FEED, STAFF_ONLY
from supportdesk.search import tokenize

from .conftest import record_figures

CHECKS = int(os.environ.get("SUPPORTDESK_ACCESS_CHECKS", "20000"))
"""How many individual checks each store runs, at least."""
SEED = int(
    os.environ.get(
        "SUPPORTDESK_ACCESS_SEED",
        "20240610" if os.environ.get("CI") == "true" else str(random.randrange(10**9)),
    )
)

PUBLIC_WORDS = ("apple", "brick", "cedar", "delta", "ember", "frost", "grove", "harbor")
"""Words of summaries, descriptions and public updates."""
SECRET_WORDS = tuple(f"hush{n}" for n in range(8))
"""Words only internal notes (and the notes of files on them) hold."""
COMMON = "claims"
"""In every summary: a search for it finds every ticket the actor sees."""
STEPS_PER_ROUND = 100
MIN_ROUNDS = 3
"""Rounds at least, whatever the count: days pass and timers fire between them."""
MAX_ROUNDS = 200

REFUSED = (NotFound, PermissionDenied, ValidationError, InvalidTransition, AttachmentRejected)
"""What a random step may run into; whether it should have is checked separately."""


@dataclass
class Audit:
    """Counts checks and keeps what failed."""

    checks: int = 0
    violations: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        self.checks += 1
        if not ok:
            self.violations.append(what)


@dataclass(frozen=True)
class ListQuery:
    """One call of list_tickets: a mode and its filters."""

    which: TicketList
    open: bool | None = None
    desk_id: str | None = None
    request_type_id: str | None = None
    statuses: frozenset[str] | None = None
    sort: TicketSort = TicketSort.NEWEST
    limit: int = 500


def is_staff(contact: Contact) -> bool:
    return contact.state is ContactState.ACTIVE and contact.role in (Role.AGENT, Role.ADMIN)


def sees_by_the_rules(contact: Contact, ticket: Ticket, collaborators: Iterable[str]) -> bool:
    """DESIGN.md, "Identity and access", written out again independently of the library."""
    if contact.state is not ContactState.ACTIVE:
        return False
    if contact.role is Role.ADMIN:
        return True
    if contact.role is Role.AGENT:
        return ticket.desk_id in contact.desk_ids
    return (
        contact.id == ticket.requester_id
        or contact.id in collaborators
        or (
            ticket.shared_with_organization
            and contact.organization_id is not None
            and contact.organization_id == ticket.organization_id
        )
    )


class World:
    """A random portal on one store, the model of who is who, and the checks."""

    def __init__(self, store: Store, rng: random.Random, audit: Audit) -> None:
        self.store = store
        self.rng = rng
        self.audit = audit
        self.clock = FakeClock()
        self.desk = SupportDesk(store, clock=self.clock)
        self.contacts: dict[str, Contact] = {}
        self.ever_staff: set[str] = set()
        self.references: list[str] = []
        self.ticket_ids: dict[str, str] = {}
        self.reference_of: dict[str, str] = {}
        self.muted: dict[str, set[str]] = {}
        self.events: dict[str, Event] = {}
        self.events_seen: dict[str, int] = {}
        self.visible: dict[tuple[str, str], bool] = {}
        """get_ticket's answers since visibility last changed: (contact id, reference)."""
        self.emails = 0
        self.files = 0
        self.rounds = 0
        self._populate()

    # The portal.

    def _populate(self) -> None:
        rng = self.rng
        self.organizations = [
            self.desk.add_organization(Organization(name=f"Org {n}")).id
            for n in range(rng.randint(1, 3))
        ]
        self.desks = [
            self.desk.add_desk(Desk(key=key, name=f"Desk {key}"))
            for key in ("HHA", "EDI", "OPS")[: rng.randint(2, 3)]
        ]
        self.request_types = [
            self.desk.add_request_type(RequestType(desk_id=desk.id, name=f"Type {n}"))
            for desk in self.desks
            for n in range(rng.randint(1, 2))
        ]
        self.root = self._add(Contact(email="root@x.test", full_name="Root", role=Role.ADMIN))
        for _ in range(rng.randint(5, 9)):
            self._add_customer()
        for _ in range(rng.randint(2, 4)):
            self._add_agent()
        for _ in range(rng.randint(0, 1)):
            self._add_admin()
        for _ in range(rng.randint(10, 16)):
            self._step_open()

    def _email(self) -> str:
        self.emails += 1
        return f"p{self.emails}@x.test"

    def _add(self, contact: Contact) -> Contact:
        self.desk.add_contact(contact)
        self._stored(contact)
        return contact

    def _stored(self, contact: Contact) -> None:
        self.contacts[contact.id] = contact
        if is_staff(contact):
            self.ever_staff.add(contact.id)
        self._forget(contact_id=contact.id)

    def _forget(self, *, contact_id: str | None = None, reference: str | None = None) -> None:
        """Drop the cached get_ticket answers a change may have changed."""
        for key in [k for k in self.visible if k[0] == contact_id or k[1] == reference]:
            del self.visible[key]

    def _add_customer(self) -> Contact:
        organization = self.rng.choice([None, *self.organizations, *self.organizations])
        return self._add(
            Contact(email=self._email(), full_name="Customer", organization_id=organization)
        )

    def _some_desks(self) -> frozenset[str]:
        chosen = self.rng.sample(self.desks, self.rng.randint(0, len(self.desks)))
        return frozenset(desk.id for desk in chosen)

    def _add_agent(self) -> Contact:
        return self._add(
            Contact(
                email=self._email(),
                full_name="Agent",
                role=Role.AGENT,
                desk_ids=self._some_desks() or frozenset({self.rng.choice(self.desks).id}),
            )
        )

    def _add_admin(self) -> Contact:
        return self._add(
            Contact(
                email=self._email(), full_name="Admin", role=Role.ADMIN, desk_ids=self._some_desks()
            )
        )

    def people(self) -> list[Contact]:
        return list(self.contacts.values())

    def active(self, role: Role | None = None) -> list[Contact]:
        return [
            c
            for c in self.contacts.values()
            if c.state is ContactState.ACTIVE and (role is None or c.role is role)
        ]

    # Ground truth.

    def sees(self, contact_id: str, reference: str) -> bool:
        """Whether get_ticket shows the ticket to the contact now (PermissionDenied: no)."""
        key = (contact_id, reference)
        if key not in self.visible:
            contact = self.contacts[contact_id]
            try:
                self.desk.get_ticket(contact, reference)
            except NotFound:
                self.visible[key] = False
            except PermissionDenied:
                self.audit.check(
                    contact.state is not ContactState.ACTIVE,
                    f"{contact.email} is active yet refused {reference}",
                )
                self.visible[key] = False
            else:
                self.visible[key] = True
        return self.visible[key]

    def admin_view(self, reference: str) -> TicketView:
        return self.desk.view_ticket(self.root, reference)

    # Steps.

    def step(self) -> None:
        self.clock.advance(timedelta(minutes=self.rng.choice([1, 7])))
        steps: list[tuple[int, Callable[[], None]]] = [
            (12, self._step_open),
            (18, self._step_update),
            (10, self._step_note),
            (8, self._step_attach),
            (10, self._step_add_collaborator),
            (4, self._step_remove_collaborator),
            (5, self._step_sharing),
            (4, self._step_mute),
            (5, self._step_assign),
            (10, self._step_move),
            (8, self._step_change_contact),
            (2, self._step_new_contact),
            (3, self._step_mark_read),
        ]
        weights = [weight for weight, _ in steps]
        (chosen,) = self.rng.choices([run for _, run in steps], weights=weights)
        chosen()

    def _someone_who_sees(self, reference: str) -> Contact:
        """Mostly a contact who sees the ticket; now and then anyone at all."""
        people = self.people()
        if self.rng.random() < 0.15:
            return self.rng.choice(people)
        for contact in self.rng.sample(people, len(people)):
            if self.sees(contact.id, reference):
                return contact
        return self.rng.choice(people)

    def _a_ticket(self) -> str:
        return self.rng.choice(self.references)

    def _text(self, words: tuple[str, ...], prefix: str) -> str:
        return " ".join([prefix, *self.rng.sample(words, self.rng.randint(1, 2))])

    def _file(self) -> tuple[str, io.BytesIO]:
        self.files += 1
        return f"file{self.files}.txt", io.BytesIO(f"plain text {self.files}\n".encode())

    def _ticket_action(
        self, actor: Contact, reference: str, action: Callable[[], object]
    ) -> object | None:
        """Run a use case on a ticket; its outcome must agree with get_ticket.

        Done, the actor saw the ticket; refused as not found, they did not.
        """
        saw = self.sees(actor.id, reference)
        try:
            result = action()
        except NotFound as error:
            if error.kind == "ticket":
                self.audit.check(
                    not saw, f"{actor.email}: NotFound on {reference}, which get_ticket shows"
                )
            return None
        except REFUSED:
            return None
        self.audit.check(saw, f"{actor.email} acted on {reference}, which get_ticket refuses")
        return result

    def _opened(self, ticket: Ticket) -> None:
        self.references.append(ticket.reference)
        self.ticket_ids[ticket.reference] = ticket.id
        self.reference_of[ticket.id] = ticket.reference
        self.muted[ticket.id] = set()
        self._check_new_events([ticket.reference])

    def _step_open(self) -> None:
        request_type = self.rng.choice(self.request_types)
        submission = Submission(
            summary=self._text(PUBLIC_WORDS, COMMON),
            description=self._text(PUBLIC_WORDS, "details"),
        )
        files = [self._file()] if self.rng.random() < 0.2 else []
        agents = [c for c in self.active() if c.role is not Role.CUSTOMER]
        customers = self.active(Role.CUSTOMER)
        if agents and customers and self.rng.random() < 0.25:
            actor = self.rng.choice(agents)
            requester: str | None = self.rng.choice(customers).id
        else:
            actor = self.rng.choice(customers or self.people())
            requester = None
        try:
            ticket = self.desk.open_ticket(
                actor, request_type.id, submission, requester_id=requester, attachments=files
            )
        except REFUSED:
            return
        self._opened(ticket)

    def _step_update(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        body = self._text(PUBLIC_WORDS, "about")
        landed = self._ticket_action(
            actor, reference, lambda: self.desk.share_update(actor, reference, body)
        )
        if isinstance(landed, Ticket) and landed.reference != reference:
            self._opened(landed)  # a follow-up of a closed ticket
        self._check_new_events([reference])

    def _step_note(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        body = self._text(SECRET_WORDS, "note")
        self._ticket_action(actor, reference, lambda: self.desk.add_note(actor, reference, body))
        self._check_new_events([reference])

    def _step_attach(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        internal = self.rng.random() < 0.5
        note = self._text(SECRET_WORDS if internal else PUBLIC_WORDS, "file")
        filename, stream = self._file()
        self._ticket_action(
            actor,
            reference,
            lambda: self.desk.attach(
                actor, reference, filename, stream, note=note, internal=internal
            ),
        )
        self._check_new_events([reference])

    def _step_add_collaborator(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        staff = [c for c in self.people() if c.role is not Role.CUSTOMER]
        target = self.rng.choice(staff if staff and self.rng.random() < 0.4 else self.people())
        view = self.admin_view(reference)
        collaborators = {c.id for c in _collaborators(view)} | {target.id}
        would_see = sees_by_the_rules(target, view.ticket, collaborators)
        saw = self.sees(actor.id, reference)
        try:
            self.desk.add_collaborator(actor, reference, target.email)
        except ValidationError as error:
            # Refused as unable to see the ticket (to a customer, as no shareable contact).
            said = error.errors.get("email", "")
            if "could not see" in said or "can be shared with" in said:
                self.audit.check(
                    not would_see, f"{target.email} refused on {reference}, yet would see it"
                )
            return
        except NotFound as error:
            if error.kind == "ticket":
                self.audit.check(
                    not saw, f"{actor.email}: NotFound on {reference}, which get_ticket shows"
                )
            return
        except REFUSED:
            return
        self._forget(reference=reference)
        self.audit.check(saw, f"{actor.email} acted on {reference}, which get_ticket refuses")
        self.audit.check(
            would_see and self.sees(target.id, reference),
            f"{target.email} added to {reference} by {actor.email}, yet cannot see it",
        )
        self._check_new_events([reference])

    def _step_remove_collaborator(self) -> None:
        reference = self._a_ticket()
        collaborators = _collaborators(self.admin_view(reference))
        if not collaborators:
            return
        gone = self.rng.choice(collaborators)
        actor = self.rng.choice([self._someone_who_sees(reference), self.contacts[gone.id]])
        self._ticket_action(
            actor, reference, lambda: self.desk.remove_collaborator(actor, reference, gone.id)
        )
        self._forget(reference=reference)

    def _step_sharing(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        shared = self.rng.random() < 0.5
        self._ticket_action(
            actor,
            reference,
            lambda: self.desk.set_organization_sharing(actor, reference, shared),
        )
        self._forget(reference=reference)

    def _step_mute(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        enabled = self.rng.random() < 0.4

        def switch() -> bool:
            self.desk.set_notifications(actor, reference, enabled)
            return True

        if self._ticket_action(actor, reference, switch):
            muted = self.muted[self.ticket_ids[reference]]
            (muted.discard if enabled else muted.add)(actor.id)

    def _step_assign(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        desk_id = self.admin_view(reference).ticket.desk_id
        staff = [c for c in self.people() if desk_id in c.desk_ids]
        assignee = self.rng.choice(staff if staff and self.rng.random() < 0.8 else self.people())
        self._ticket_action(
            actor, reference, lambda: self.desk.assign(actor, reference, assignee.id)
        )
        self._check_new_events([reference])

    def _step_move(self) -> None:
        reference = self._a_ticket()
        actor = self._someone_who_sees(reference)
        desk = self.desk
        moves: list[Callable[[], object]] = [
            lambda: desk.resolve(actor, reference, "done"),
            lambda: desk.close(actor, reference, "thanks"),
            lambda: desk.cancel(actor, reference),
            lambda: desk.reopen(actor, reference),
            lambda: desk.ask_customer(actor, reference, "which ones"),
            lambda: desk.escalate(actor, reference, "urgent"),
        ]
        self._ticket_action(actor, reference, self.rng.choice(moves))
        self._check_new_events([reference])

    def _step_change_contact(self) -> None:
        """A contact changes desks, role, organisation or state: their scope moves.

        Mostly someone who takes part in a ticket (collaborates on it, asked for
        it or is assigned it), whom its events name whether they still see it or not.
        """
        rng = self.rng
        people = [c for c in self.people() if c.id != self.root.id]
        view = self.admin_view(self._a_ticket())
        ticket = view.ticket
        involved = {c.id for c in view.shared_with} | {ticket.requester_id, ticket.assignee_id}
        taking_part = [c for c in people if c.id in involved]
        contact = rng.choice(taking_part if taking_part and rng.random() < 0.7 else people)
        changes: list[dict[str, object]] = [
            {"desk_ids": self._some_desks()} if contact.role is not Role.CUSTOMER else {},
            {"role": Role.AGENT, "desk_ids": self._some_desks()},
            {"role": Role.CUSTOMER, "desk_ids": frozenset()},
            {"state": ContactState.DISABLED},
            {"state": ContactState.ACTIVE},
            {"organization_id": rng.choice([None, *self.organizations])},
        ]
        changed = attrs.evolve(contact, **rng.choice(changes))
        try:
            self.desk.add_contact(changed)
        except ValidationError:
            return
        self._stored(changed)

    def _step_new_contact(self) -> None:
        self.rng.choice([self._add_customer, self._add_customer, self._add_agent])()

    def _step_mark_read(self) -> None:
        actor = self.rng.choice(self.people())
        try:
            if self.rng.random() < 0.5:
                self.desk.mark_read(actor)
            else:
                entries = self.desk.notifications(actor, limit=5).notifications
                if entries:
                    self.desk.mark_read(actor, self.rng.choice(entries).id)
        except PermissionDenied:
            pass

    def run_timers(self) -> None:
        """Days pass: reminders, auto-resolution and auto-closing fire, as the system."""
        self.clock.advance(timedelta(days=self.rng.randint(1, 5)))
        self.desk.run_due_timers()
        with self.store.unit_of_work() as work:
            fresh = [e for e in work.outbox.list_events() if e.id not in self.events]
        for event in fresh:
            assert event.ticket_id is not None
            self.events_seen[event.ticket_id] = self.events_seen.get(event.ticket_id, 0) + 1
        self._check_events(fresh)

    # Events: checked as they are written.

    def _check_new_events(self, references: Iterable[str]) -> None:
        fresh: list[Event] = []
        with self.store.unit_of_work() as work:
            for reference in references:
                ticket_id = self.ticket_ids[reference]
                events = work.outbox.list_events(ticket_id)
                fresh.extend(events[self.events_seen.get(ticket_id, 0) :])
                self.events_seen[ticket_id] = len(events)
        self._check_events(fresh)

    def _check_events(self, fresh: list[Event]) -> None:
        views: dict[str, TicketView] = {}
        for event in fresh:
            self.events[event.id] = event
            assert event.ticket_id is not None
            reference = self.reference_of[event.ticket_id]
            if reference not in views:
                views[reference] = self.admin_view(reference)
            self._check_event(event, reference, views[reference])

    def _check_event(self, event: Event, reference: str, view: TicketView) -> None:
        check = self.audit.check
        got = [r.contact_id for r in event.recipients]
        check(len(got) == len(set(got)), f"{event.kind} on {reference}: repeats {got}")
        staff_only = event.kind in STAFF_ONLY
        for contact_id in got:
            contact = self.contacts[contact_id]
            check(
                self.sees(contact_id, reference),
                f"{event.kind} on {reference} reached {contact.email}, whom get_ticket refuses",
            )
            if staff_only:
                check(
                    is_staff(contact),
                    f"{event.kind} on {reference} reached {contact.email}, not staff",
                )
        ticket = view.ticket
        if event.kind is EventKind.TICKET_RECEIVED:
            # The confirmation: for the requester alone, even as its actor.
            requester = ticket.requester_id
            wanted = {requester} if self.sees(requester, reference) else set()
            check(set(got) == wanted, f"{event.kind} on {reference} reached {self._emails(got)}")
            return
        collaborators = [c.id for c in _collaborators(view)]
        if event.kind is EventKind.TICKET_CREATED:
            collaborators = []  # a follow-up's collaborators join after it is created
        offered = [ticket.requester_id, *collaborators]
        if event.kind not in CUSTOMERS_ONLY:
            offered += [ticket.assignee_id or "", *self._desk_staff(ticket.desk_id)]
        expected = {
            c
            for c in offered
            if c
            and c != event.actor_id
            and c not in self.muted[ticket.id]
            and self.sees(c, reference)
            and (not staff_only or is_staff(self.contacts[c]))
        }
        check(
            set(got) == expected,
            f"{event.kind} on {reference}: recipients {self._emails(got)}, "
            f"expected {self._emails(expected)}",
        )

    def _emails(self, contact_ids: Iterable[str]) -> list[str]:
        return sorted(self.contacts[c].email for c in contact_ids)

    def _desk_staff(self, desk_id: str) -> list[str]:
        return [c.id for c in self.contacts.values() if is_staff(c) and desk_id in c.desk_ids]

    # The round's checks: every actor against every ticket.

    def check_everything(self) -> None:
        self.visible.clear()
        views = {reference: self.admin_view(reference) for reference in self.references}
        for contact in self.people():
            if contact.state is ContactState.ACTIVE:
                self._check_actor(contact, views)
            else:
                self._check_inactive(contact)

    def _check_inactive(self, contact: Contact) -> None:
        reads: list[Callable[[], object]] = [
            lambda: self.desk.list_tickets(contact, TicketList.VISIBLE),
            lambda: self.desk.count_tickets(contact, TicketList.CREATED_BY_ME),
            lambda: self.desk.search(contact, COMMON),
            lambda: self.desk.notifications(contact),
            lambda: self.desk.unread_count(contact),
        ]
        for read in reads:
            try:
                read()
            except PermissionDenied:
                refused = True
            else:
                refused = False
            self.audit.check(refused, f"{contact.email} is inactive yet may read")
        for reference in self.references:
            self.audit.check(
                not self.sees(contact.id, reference),
                f"{contact.email} is inactive yet sees {reference}",
            )

    def _check_actor(self, actor: Contact, views: dict[str, TicketView]) -> None:
        seen = {ref for ref in self.references if self.sees(actor.id, ref)}
        for reference, view in views.items():
            collaborators = {c.id for c in _collaborators(view)}
            self.audit.check(
                (reference in seen) == sees_by_the_rules(actor, view.ticket, collaborators),
                f"get_ticket({actor.email}, {reference}) breaks the rules of DESIGN.md",
            )
        self._check_lists(actor, views, seen)
        self._check_search(actor, views, seen)
        self._check_feed(actor)
        self._check_views(actor, views, seen)

    def _expected(
        self, actor: Contact, query: ListQuery, views: dict[str, TicketView], seen: set[str]
    ) -> set[str]:
        """The tickets get_ticket shows the actor that the list's mode and filters keep."""
        open_statuses = self.desk.workflow.open_statuses
        staff = actor.role is not Role.CUSTOMER
        chosen = set()
        for reference in seen:
            view = views[reference]
            ticket = view.ticket
            kept = {
                TicketList.CREATED_BY_ME: ticket.requester_id == actor.id,
                TicketList.COLLABORATING: actor.id in {c.id for c in _collaborators(view)},
                TicketList.ORGANIZATION: actor.organization_id is not None
                and ticket.organization_id == actor.organization_id,
                TicketList.VISIBLE: True,
                TicketList.ASSIGNED_TO_ME: staff and ticket.assignee_id == actor.id,
                TicketList.UNASSIGNED: staff and ticket.assignee_id is None,
            }[query.which] and all(
                (
                    query.open is None or (ticket.status in open_statuses) == query.open,
                    query.desk_id is None or ticket.desk_id == query.desk_id,
                    query.request_type_id is None
                    or ticket.request_type_id == query.request_type_id,
                    query.statuses is None or ticket.status in query.statuses,
                    # The queue of breaches to come holds tickets with a running clock.
                    query.sort is not TicketSort.SLA_DUE or ticket.sla_due_at is not None,
                )
            )
            if kept:
                chosen.add(reference)
        return chosen

    def _check_lists(self, actor: Contact, views: dict[str, TicketView], seen: set[str]) -> None:
        rng = self.rng
        statuses = self.desk.workflow.statuses
        # SLA due times are the staff's: a customer may not even sort by them.
        sorts = [s for s in TicketSort if is_staff(actor) or s is not TicketSort.SLA_DUE]
        if len(sorts) < len(TicketSort):
            try:
                self.desk.list_tickets(actor, sort=TicketSort.SLA_DUE)
            except PermissionDenied:
                pass
            else:
                self.audit.check(False, f"{actor.email} sorted by SLA due time")
        for which in TicketList:
            self._check_list(actor, ListQuery(which), views, seen)
            for _ in range(2):
                query = ListQuery(
                    which,
                    open=rng.choice([None, True, False]),
                    desk_id=rng.choice([None, rng.choice(self.desks).id]),
                    request_type_id=rng.choice([None, None, rng.choice(self.request_types).id]),
                    statuses=rng.choice([None, frozenset(rng.sample(statuses, rng.randint(1, 3)))]),
                    sort=rng.choice(sorts),
                    limit=rng.choice([3, 7, 500]),
                )
                self._check_list(actor, query, views, seen)
            for open in (None, True, False):
                expected = self._expected(actor, ListQuery(which, open=open), views, seen)
                count = self.desk.count_tickets(actor, which, open=open)
                self.audit.check(
                    count == len(expected),
                    (
                        f"count_tickets({actor.email}, {which}, open={open}) is {count}, "
                        f"get_ticket shows {len(expected)}"
                    ),
                )

    def _check_list(
        self, actor: Contact, query: ListQuery, views: dict[str, TicketView], seen: set[str]
    ) -> None:
        """Every page of one list: what get_ticket shows and the filters keep, once, in order."""
        expected = self._expected(actor, query, views, seen)
        listed: list[TicketRow] = []
        totals = set()
        cursor = None
        while True:
            page = self.desk.list_tickets(
                actor,
                query.which,
                open=query.open,
                desk_id=query.desk_id,
                request_type_id=query.request_type_id,
                statuses=None if query.statuses is None else sorted(query.statuses),
                sort=query.sort,
                limit=query.limit,
                cursor=cursor,
            )
            listed.extend(page.tickets)
            totals.add(page.total)
            cursor = page.next_cursor
            if cursor is None:
                break
        got = [t.reference for t in listed]
        check = self.audit.check
        check(len(got) == len(set(got)), f"{actor.email}: {query} repeats tickets")
        for reference in self.references:
            check(
                (reference in got) == (reference in expected),
                (
                    f"{actor.email}: {query} lists {reference}: {reference in got}; "
                    f"get_ticket and the filters say {reference in expected}"
                ),
            )
        check(
            totals == {len(expected)},
            f"{actor.email}: {query} totals {totals}, get_ticket shows {len(expected)}",
        )
        check(_in_order(listed, query.sort), f"{actor.email}: {query} out of order")

    def _check_search(self, actor: Contact, views: dict[str, TicketView], seen: set[str]) -> None:
        staff = is_staff(actor)
        terms = [COMMON, self.rng.choice(PUBLIC_WORDS), self.rng.choice(SECRET_WORDS)]
        for term in terms:
            hits = []
            cursor = None
            while True:
                page = self.desk.search(
                    actor, term, kinds=[SearchKind.TICKET], limit=100, cursor=cursor
                )
                hits.extend(page.hits)
                cursor = page.next_cursor
                if cursor is None:
                    break
            found = {hit.reference for hit in hits}
            for reference, view in views.items():
                public, internal = _texts(view)
                matches = term in public or (staff and term in internal)
                expected = reference in seen and matches
                self.audit.check(
                    (reference in found) == expected,
                    (
                        f"search({actor.email}, {term!r}): {reference} found "
                        f"{reference in found}, get_ticket and its text say {expected}"
                    ),
                )
            if not staff:
                for hit in hits:
                    self.audit.check(
                        not any(word in hit.snippet for word in SECRET_WORDS),
                        f"search({actor.email}, {term!r}) shows a note: {hit.snippet}",
                    )

    def _check_feed(self, actor: Contact) -> None:
        entries = []
        cursor = None
        while True:
            feed = self.desk.notifications(actor, limit=500, cursor=cursor)
            entries.extend(feed.notifications)
            cursor = feed.next_cursor
            if cursor is None:
                break
        expected = {
            e.id
            for e in self.events.values()
            if e.kind not in NOT_IN_FEED and actor.id in {r.contact_id for r in e.recipients}
        }
        check = self.audit.check
        for entry in entries:
            check(
                entry.event_id in expected,
                (
                    f"{actor.email}'s feed holds {entry.kind} {entry.event_id}, "
                    "not an event they were a checked recipient of"
                ),
            )
            if actor.id not in self.ever_staff:
                check(
                    entry.kind not in STAFF_ONLY,
                    f"{actor.email}, never staff, got {entry.kind} in the feed",
                )
        got = {entry.event_id for entry in entries}
        check(got == expected, f"{actor.email}'s feed misses {expected - got}")
        unread = sum(entry.unread for entry in entries)
        bell = self.desk.unread_count(actor)
        check(
            bell == feed.unread == unread,
            f"{actor.email}: unread {bell}, {feed.unread}, {unread}",
        )

    def _check_views(self, actor: Contact, views: dict[str, TicketView], seen: set[str]) -> None:
        """The ticket page and the files: internal entries and their files for staff only.

        Half the tickets the actor sees, and four files of any ticket, each round.
        """
        staff = is_staff(actor)
        check = self.audit.check
        for reference in seen:
            if self.rng.random() < 0.5:
                continue
            full = views[reference]
            view = self.desk.view_ticket(actor, reference)
            shown = [a.id for a in view.activities]
            for entry in full.activities:
                check(
                    (entry.id in shown) == (staff or not entry.internal),
                    f"view_ticket({actor.email}, {reference}) and {entry.kind}",
                )
            files = {a.id for a in view.attachments}
            for attachment in full.attachments:
                allowed = staff or not (
                    attachment.internal or attachment.scan_status is ScanStatus.REJECTED
                )
                check(
                    (attachment.id in files) == allowed,
                    f"view_ticket({actor.email}, {reference}) and file {attachment.id}",
                )
        every_file = [(ref, a) for ref, view in views.items() for a in view.attachments]
        for reference, attachment in self.rng.sample(every_file, min(4, len(every_file))):
            allowed = reference in seen and (staff or not attachment.internal)
            try:
                _, stream = self.desk.open_attachment(actor, attachment.id)
            except NotFound:
                opened = False
            else:
                stream.close()
                opened = True
            check(
                opened == allowed,
                (
                    f"open_attachment({actor.email}, file {attachment.id} on {reference}) "
                    f"is {opened}, get_ticket and the note say {allowed}"
                ),
            )


def _texts(view: TicketView) -> tuple[set[str], set[str]]:
    """The words search may match for everyone, and those for staff only."""
    ticket = view.ticket
    public = [ticket.reference, ticket.summary, ticket.description]
    internal = []
    for activity in view.activities:
        if activity.kind is not ActivityKind.CREATED:
            (internal if activity.internal else public).append(activity.body)
    return set(tokenize(" ".join(public))), set(tokenize(" ".join(internal)))


def _collaborators(view: TicketView) -> list[Contact]:
    """ "Shared with" but its requester: whom the ticket is shared with as collaborators."""
    return [c for c in view.shared_with if c.id != view.ticket.requester_id]


def _in_order(tickets: list[TicketRow], sort: TicketSort) -> bool:
    def key(ticket: TicketRow) -> tuple[object, str]:
        if sort is TicketSort.RECENTLY_UPDATED:
            return ticket.updated_at, ticket.id
        return ticket.created_at, ticket.id

    keys = [key(ticket) for ticket in tickets]
    descending = sort is not TicketSort.OLDEST
    pairs = itertools.pairwise(keys)
    return all((a > b) if descending else (a < b) for a, b in pairs)


def test_every_read_agrees_with_get_ticket(store: Store, request: pytest.FixtureRequest) -> None:
    audit = Audit()
    world = World(store, random.Random(SEED), audit)
    while world.rounds < MIN_ROUNDS or (audit.checks < CHECKS and world.rounds < MAX_ROUNDS):
        for _ in range(STEPS_PER_ROUND):
            world.step()
        world.run_timers()
        world.check_everything()
        world.rounds += 1
    name = request.node.callspec.id
    figures = (
        f"{name}: {audit.checks} checks, {len(audit.violations)} violations "
        f"(seed {SEED}, {world.rounds} rounds, {len(world.references)} tickets, "
        f"{len(world.contacts)} contacts, {len(world.events)} events)"
    )
    record_figures(request.config, "access properties", name, figures)
    assert audit.checks >= CHECKS
    shown = "\n".join(audit.violations[:25])
    assert not audit.violations, (
        f"{len(audit.violations)} violations (SUPPORTDESK_ACCESS_SEED={SEED}):\n{shown}"
    )
