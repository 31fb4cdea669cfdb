"""The desk's state and the steps its use cases share: the actor, the ticket, the log, events."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Self, TypedDict, TypeVar, Unpack

import attrs

from . import access, notifications
from ._desk_rules import _RuleBook
from ._errors import NotFound, PermissionDenied
from ._input import LONG_TEXT, check_id, check_text, check_type
from ._models import (
    SYSTEM_NAME,
    Activity,
    ActivityKind,
    Contact,
    ContactState,
    Desk,
    Event,
    EventKind,
    Recipient,
    RequestType,
    Role,
    Ticket,
)
from .accounts import PasswordHasher, ScryptHasher, SignupPolicy
from .attachments import Scanner
from .blobs import BlobStore, MemoryBlobStore
from .clock import ALWAYS_OPEN, Calendar, Clock, SystemClock
from .notifications import RetryPolicy
from .sla import SlaPolicy
from .storage.protocol import ContactQuery, Store, UnitOfWork
from .workflow import DEFAULT_WORKFLOW, Party, Workflow

T = TypeVar("T")

_REFERENCE = re.compile(r"[A-Za-z0-9]+-[0-9]+")
"""How a ticket reference reads (``HHA-13782``); ticket ids never do."""


@attrs.frozen
class _Context:
    """A ticket loaded for one actor inside a unit of work."""

    work: UnitOfWork
    actor: Contact
    ticket: Ticket
    collaborator_ids: frozenset[str]
    party: Party
    audience: _Audience = attrs.field(factory=lambda: _Audience())
    """Who takes part, as far as this unit of work has read it and nothing changed it since."""


@attrs.frozen
class _Audience:
    """What a unit of work already knows of whom a ticket's event reaches; None: read it."""

    collaborator_ids: tuple[str, ...] | None = None
    """The ticket's collaborators in the order they were added."""
    muted: frozenset[str] | None = None
    desk_staff: dict[str, Sequence[Contact]] | None = attrs.field(default=None, eq=False)
    """Each desk's staff as first read, shared by the events of one batch (a timer sweep)."""
    delivery: notifications.Delivery | None = None
    """Whom the event reaches, resolved before the unit of work took a lock."""


_NEW_TICKET = _Audience(collaborator_ids=(), muted=frozenset())
"""A ticket created in this unit of work: no one shares or muted it yet."""


_STAFF_ROLES = frozenset({Role.AGENT, Role.ADMIN})


class DeskOptions(TypedDict, total=False):
    """The keyword options of :class:`SupportDesk` and its constructors, each optional."""

    clock: Clock | None
    """Where "now" comes from; a :class:`~supportdesk.SystemClock` by default."""
    workflow: Workflow | None
    """Statuses, transitions and timers of desks that name no workflow;
    :data:`~supportdesk.DEFAULT_WORKFLOW` by default."""
    calendar: Calendar
    """What timer durations count in on desks that name no calendar; 24x7
    (:data:`~supportdesk.ALWAYS_OPEN`) by default."""
    workflows: Mapping[str, Workflow]
    """The workflows a desk may name (:attr:`Desk.workflow <supportdesk.Desk.workflow>`),
    by name.  A status name must be open in all of them or in none."""
    calendars: Mapping[str, Calendar]
    """The calendars a desk may name (:attr:`Desk.calendar <supportdesk.Desk.calendar>`),
    by name."""
    sla_policies: Sequence[SlaPolicy]
    """The SLA targets of each desk's tickets, by desk key (see ``docs/sla.md``)."""
    retry_policy: RetryPolicy | None
    """How failed notification deliveries are retried."""
    signup_policy: SignupPolicy | None
    """Whether sign-ups are approved at once or reviewed."""
    password_hasher: PasswordHasher | None
    """How passwords are hashed; scrypt by default."""
    blob_store: BlobStore | None
    """Where attachment bytes go; memory on the desk's clock by default."""
    scanner: Scanner | None
    """A malware scan hook; without one every attachment is ``clean`` once stored."""
    scan_later: bool
    """Store attachments ``scanning`` and leave the scan to a worker; needs a ``scanner``."""


class _DeskBase:
    """What every use case reads: the store, the clock, the policies; and the steps they share."""

    def __init__(self, store: Store, **options: Unpack[DeskOptions]) -> None:
        scanner = options.get("scanner")
        if options.get("scan_later", False) and scanner is None:
            raise ValueError("scan_later needs a scanner to scan with")
        self._store = store
        self._options = options
        self._clock: Clock = options.get("clock") or SystemClock()
        self._blobs: BlobStore = options.get("blob_store") or MemoryBlobStore(clock=self._clock)
        self._scanner = scanner
        self._scan_later = options.get("scan_later", False)
        self.workflow = options.get("workflow") or Workflow(DEFAULT_WORKFLOW)
        self._rules = _RuleBook(
            self.workflow,
            options.get("calendar", ALWAYS_OPEN),
            options.get("workflows", {}),
            options.get("calendars", {}),
            options.get("sla_policies", ()),
        )
        self.retry_policy = options.get("retry_policy") or RetryPolicy()
        self.signup_policy = options.get("signup_policy") or SignupPolicy()
        self._hasher: PasswordHasher = options.get("password_hasher") or ScryptHasher()
        self._decoy_hash: str | None = None

    def _on(self, store: Store, blob_store: BlobStore) -> Self:
        """A desk of the same configuration on other stores (a preview's rehearsal)."""
        options: DeskOptions = {**self._options, "blob_store": blob_store}
        return type(self)(store, **options)

    def _workflow(self, work: UnitOfWork, ticket: Ticket) -> Workflow:
        """The workflow of the ticket's desk."""
        return self._rules.of(work, ticket.desk_id).workflow

    def _shown(self, ctx: _Context, ticket: Ticket) -> Ticket:
        """``ticket`` as the actor may read it: see :func:`_customer_copy`.

        Only a customer's copy of a ticket with answers costs a read (of its request type).
        """
        if access.is_staff(ctx.actor):
            return ticket
        has_answers = bool(ticket.fields)
        request_type = (
            ctx.work.desks.get_request_type(ticket.request_type_id) if has_answers else None
        )
        return _customer_copy(ticket, request_type)

    def _require_staff(self, work: UnitOfWork, actor: Contact, action: str) -> Contact:
        actor = self._refresh(work, actor)
        if not access.is_staff(actor):
            raise PermissionDenied(action, "only agents and admins may")
        return actor

    def _require_admin(self, work: UnitOfWork, actor: Contact, action: str) -> Contact:
        actor = self._refresh(work, actor)
        if actor.role is not Role.ADMIN:
            raise PermissionDenied(action, "only admins may")
        return actor

    def _refresh(self, work: UnitOfWork, actor: Contact) -> Contact:
        """The actor as stored now: a disabled or deleted account loses access at once."""
        check_type("actor", actor, Contact)
        check_id("actor", actor.id)
        current = work.directory.get_contact(actor.id)
        if current is None or current.state is not ContactState.ACTIVE:
            raise PermissionDenied("act on this portal", f"{actor.email} is not an active contact")
        return current

    def _find(self, work: UnitOfWork, reference: str) -> Ticket:
        check_id("reference", reference)
        ticket = work.tickets.get_by_reference(reference) or work.tickets.get(reference)
        return _found(ticket, "ticket", reference)

    def _load(self, work: UnitOfWork, actor: Contact, reference: str) -> _Context:
        """The ticket ``reference`` (or its id) names, as ``actor`` may see it; else NotFound.

        A ticket hidden from the actor costs exactly what a missing one does,
        so that neither time nor statements tell that it exists: one lookup
        (by reference or by id, as the text reads), the collaborators read
        either way, then the scope decides.
        """
        check_id("reference", reference)
        actor = self._refresh(work, actor)
        if _REFERENCE.fullmatch(reference):
            ticket = work.tickets.get_by_reference(reference)
        else:
            ticket = work.tickets.get(reference)
        listed = work.participants.list_collaborators("" if ticket is None else ticket.id)
        return self._admit(work, actor, reference, ticket, tuple(c.contact_id for c in listed))

    def _admit(
        self,
        work: UnitOfWork,
        actor: Contact,
        reference: str,
        ticket: Ticket | None,
        collaborator_ids: tuple[str, ...],
    ) -> _Context:
        """The ticket as ``actor`` sees it with these collaborators; NotFound if they may not."""
        ids = frozenset(collaborator_ids)
        if ticket is None or access.ticket_scope(actor).grant(ticket, ids) is None:
            raise NotFound("ticket", reference)
        audience = _Audience(collaborator_ids=collaborator_ids)
        return _Context(work, actor, ticket, ids, _party(actor, ticket, ids), audience)

    def _log(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        kind: ActivityKind,
        actor_id: str | None,
        now: datetime,
        *,
        body: str = "",
        internal: bool = False,
        data: Mapping[str, str] | None = None,
    ) -> Activity:
        activity = Activity(
            ticket_id=ticket.id,
            kind=kind,
            actor_id=actor_id,
            at=now,
            body=body,
            internal=internal,
            data=data or {},
        )
        logged = work.activity.add(activity)
        self._follow_log(work, ticket, kind, now)
        return logged

    def _follow_log(
        self, work: UnitOfWork, ticket: Ticket, kind: ActivityKind, now: datetime
    ) -> None:
        """What follows each log entry in the same unit of work; the SLA steps keep clocks here."""

    def _emit(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        kind: EventKind,
        actor: Contact | None,
        now: datetime,
        known: _Audience | None = None,
        /,
        **payload: str,
    ) -> None:
        """Write a ticket event with its recipients and payload as they are now (None: system).

        ``known`` is what the unit of work has read already of who takes part.
        """
        known = known or _Audience()
        delivery = known.delivery
        if delivery is None:
            hearers = _ticket_recipients(work, ticket, kind, actor, known)
            (delivery,) = notifications.deliveries(work, (kind, hearers))
        notifications.record(
            work, (self._ticket_event(work, ticket, kind, actor, now, payload), delivery)
        )

    def _ticket_event(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        kind: EventKind,
        actor: Contact | None,
        now: datetime,
        payload: Mapping[str, str],
    ) -> Event:
        """A ticket's event, its payload led by what every ticket event says; not yet addressed."""
        return Event(
            kind=kind,
            at=now,
            ticket_id=ticket.id,
            actor_id=None if actor is None else actor.id,
            payload={
                "reference": ticket.reference,
                "summary": ticket.summary,
                "status": ticket.status,
                "status_label": self._rules.of(work, ticket.desk_id)
                .workflow.status(ticket.status)
                .label,
                "actor": SYSTEM_NAME if actor is None else actor.full_name,
                **payload,
            },
        )

    def _emit_to(
        self,
        work: UnitOfWork,
        kind: EventKind,
        actor: Contact | None,
        now: datetime,
        to: Sequence[Contact],
        payload: Mapping[str, str],
        *,
        ticket_id: str | None = None,
    ) -> None:
        """Write an event to exactly the contacts ``to``: an account event, or a ticket's.

        They all get the feed entry; the e-mail, as their settings say.
        """
        event = Event(
            kind=kind,
            at=now,
            ticket_id=ticket_id,
            actor_id=None if actor is None else actor.id,
            payload=dict(payload),
        )
        hearers = tuple(Recipient.of(contact) for contact in to)
        (delivery,) = notifications.deliveries(work, (kind, hearers))
        notifications.record(work, (event, delivery))


def _ticket_recipients(
    work: UnitOfWork, ticket: Ticket, kind: EventKind, actor: Contact | None, known: _Audience
) -> tuple[Recipient, ...]:
    """Who hears of a ticket's event now: its customers and its desk's staff, as the kind says.

    Each passes :func:`notifications.may_hear` with the collaborators as they
    are now.  The actor never hears of their own action, so the actor is not
    read again.
    """
    actor_id = None if actor is None else actor.id

    def other(contact_id: str | None) -> Contact | None:
        return None if contact_id in (None, actor_id) else work.directory.get_contact(contact_id)

    # The collaborators' contacts in one read, however many they are.
    collaborators: Sequence[Contact] = ()
    if known.collaborator_ids != ():
        collaborators = work.participants.list_collaborator_contacts(ticket.id)
    collaborator_ids = known.collaborator_ids
    if collaborator_ids is None:
        collaborator_ids = tuple(contact.id for contact in collaborators)
    staff: list[Contact | None] = []
    if kind not in notifications.CUSTOMERS_ONLY:
        staff = [other(ticket.assignee_id), *_desk_staff(work, ticket.desk_id, known.desk_staff)]
    return notifications.ticket_recipients(
        kind,
        ticket,
        actor_id=actor_id,
        customers=[other(ticket.requester_id), *collaborators],
        staff=staff,
        collaborator_ids=collaborator_ids,
        muted=work.participants.list_muted(ticket.id) if known.muted is None else known.muted,
    )


def _desk_staff(
    work: UnitOfWork, desk_id: str, known: dict[str, Sequence[Contact]] | None
) -> Sequence[Contact]:
    """The desk's active agents and admins, from ``known`` when it holds them."""
    if known is not None and desk_id in known:
        return known[desk_id]
    staff = work.directory.find_contacts(
        ContactQuery(roles=_STAFF_ROLES, state=ContactState.ACTIVE, desk_id=desk_id)
    )
    if known is not None:
        known[desk_id] = staff
    return staff


def _get_desk(work: UnitOfWork, desk_id: str) -> Desk:
    return _found(work.desks.get_desk(desk_id), "desk", desk_id)


def _organization_problem(work: UnitOfWork, organization_id: str | None) -> str | None:
    """Why a contact cannot belong to ``organization_id`` (it does not exist), or None."""
    if organization_id is None or work.directory.get_organization(organization_id) is not None:
        return None
    return f"no organisation {organization_id!r}"


def _get_request_type(work: UnitOfWork, request_type_id: str) -> RequestType:
    return _found(work.desks.get_request_type(request_type_id), "request type", request_type_id)


def _next_reference(work: UnitOfWork, desk: Desk) -> str:
    """Take the desk's next ticket reference: ``HHA-42``."""
    return f"{desk.key}-{work.desks.claim_reference(desk.id)}"


def _party(actor: Contact, ticket: Ticket, collaborator_ids: frozenset[str]) -> Party:
    if access.is_staff(actor):
        return Party.AGENT
    if actor.id == ticket.requester_id:
        return Party.REQUESTER
    if actor.id in collaborator_ids:
        return Party.COLLABORATOR
    return Party.CUSTOMER


def _changed(ticket: Ticket, now: datetime, **changes: Any) -> Ticket:
    return attrs.evolve(ticket, updated_at=now, version=ticket.version + 1, **changes)


def _found(value: T | None, kind: str, key: str) -> T:
    if value is None:
        raise NotFound(kind, key)
    return value


def _require_text(name: str, value: object, *, max_length: int = LONG_TEXT) -> str:
    """``value``, once it is text that is not blank: :func:`~._input.check_text`, required."""
    return check_text(name, value, max_length=max_length, required=True)


def _form_for(actor: Contact, request_type: RequestType) -> RequestType:
    """The request type as ``actor`` may read it: a customer's copy has no internal fields."""
    if access.is_staff(actor) or not any(spec.internal for spec in request_type.fields):
        return request_type
    return attrs.evolve(
        request_type, fields=tuple(spec for spec in request_type.fields if not spec.internal)
    )


def _customer_copy(ticket: Ticket, request_type: RequestType | None) -> Ticket:
    """The ticket as a customer reads it: the answers of the form's customer fields only (not
    of internal fields, nor of fields the form no longer has), and no SLA due time.

    ``request_type`` is the form; None where the answers were just checked against it for
    a customer (their own new ticket), or there are none.
    """
    if request_type is None:
        return attrs.evolve(ticket, sla_due_at=None)
    theirs = {spec.key for spec in request_type.fields if not spec.internal}
    shown = {key: value for key, value in ticket.fields.items() if key in theirs}
    return attrs.evolve(ticket, fields=shown, sla_due_at=None)
