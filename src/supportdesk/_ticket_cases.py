"""Ticket use cases: opening, reading, public updates, follow-ups and internal notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from . import access, notifications
from ._attachment_cases import _AttachmentCases, _check_rule
from ._desk_base import (
    _NEW_TICKET,
    _Context,
    _customer_copy,
    _form_for,
    _found,
    _get_desk,
    _get_request_type,
    _next_reference,
    _require_text,
    _ticket_recipients,
)
from ._errors import InvalidTransition, PermissionDenied, ValidationError
from ._input import check_choice, check_id, check_optional_id, check_stream, check_type
from ._models import (
    Activity,
    ActivityEntry,
    ActivityKind,
    AttachmentRule,
    Collaborator,
    Contact,
    ContactState,
    Desk,
    EventKind,
    FollowUpPolicy,
    Priority,
    RequestType,
    Ticket,
    new_id,
)
from ._views import Participant, TicketView, Upload
from .attachments import ReceivedFile
from .forms import CleanedSubmission, Submission, validate_submission
from .storage.protocol import TicketDetails, UnitOfWork
from .workflow import Party, StatusCategory


@attrs.frozen
class _Request:
    """What a new request asks for, checked by ``_intake`` before anything is written."""

    request_type_id: str
    submission: Submission
    requester_id: str | None = None
    priority: Priority | None = None


class _TicketCases(_AttachmentCases):
    """Opening and reading tickets, and writing on them; a new ticket may come with files."""

    def open_ticket(
        self,
        actor: Contact,
        request_type_id: str,
        submission: Submission,
        *,
        requester_id: str | None = None,
        priority: Priority | None = None,
        attachments: Sequence[Upload] = (),
    ) -> Ticket:
        """Raise a request: validate the form, allocate the reference, start the workflow.

        Agents may raise a request on a customer's behalf with ``requester_id``,
        and set its ``priority`` (a :class:`~supportdesk.Priority`, or its
        number); a customer who gives one is
        :class:`~supportdesk.PermissionDenied`.  Left out, it is ``MEDIUM``.
        ``attachments`` are ``(filename, stream)`` pairs, judged as
        :meth:`attach` judges one file; the request type's
        :class:`~supportdesk.AttachmentRule` decides whether they may or must
        come.  The form is checked and the files stored before the ticket is
        written, and a file refused stores nothing at all.
        """
        check_id("request_type_id", request_type_id)
        check_type("submission", submission, Submission)
        check_optional_id("requester_id", requester_id)
        chosen = None if priority is None else check_choice("priority", priority, Priority)
        _check_uploads(attachments)
        ticket_id = new_id()
        request = _Request(request_type_id, submission, requester_id, chosen)
        files: list[tuple[str, ReceivedFile]] = []
        if attachments:
            files = self._receive_new(actor, ticket_id, request, attachments)
        now = self._clock.now()
        with (
            self._blobs_discarded_on_failure(received.key for _, received in files),
            self._store.unit_of_work() as work,
        ):
            actor = self._refresh(work, actor)
            ticket = self._open(work, actor, ticket_id, request, files, now)
        # A customer's form holds no internal answers: their copy lacks only the SLA time.
        return ticket if access.is_staff(actor) else _customer_copy(ticket, None)

    def _open(
        self,
        work: UnitOfWork,
        actor: Contact,
        ticket_id: str,
        request: _Request,
        files: Sequence[tuple[str, ReceivedFile]],
        now: datetime,
    ) -> Ticket:
        """Open the ticket ``ticket_id`` in ``work`` for an active ``actor``, its files stored."""
        filenames = [received.filename for _, received in files]
        request_type, desk, cleaned, requester = self._intake(work, actor, request, filenames)
        draft = Ticket(
            id=ticket_id,
            reference="",
            desk_id=desk.id,
            request_type_id=request_type.id,
            summary=cleaned.summary,
            description=cleaned.description,
            fields=cleaned.fields,
            status=self._rules.remember(desk).workflow.initial,
            priority=Priority.MEDIUM if request.priority is None else request.priority,
            requester_id=requester.id,
            organization_id=requester.organization_id,
            shared_with_organization=desk.share_with_organization,
            created_at=now,
            updated_at=now,
        )
        listed = {"attachments": ", ".join(r.filename for _, r in files)} if files else {}
        ticket = self._start(work, actor, requester, draft, desk, now, **listed)
        for attachment_id, received in files:
            self._record_attachment(work, ticket, actor, attachment_id, received, now)
        return ticket

    def _receive_new(
        self, actor: Contact, ticket_id: str, request: _Request, uploads: Sequence[Upload]
    ) -> list[tuple[str, ReceivedFile]]:
        """Check the request, then store its files: refused input stores nothing."""
        names = [filename for filename, _ in uploads]
        with self._store.unit_of_work() as work:
            desk = self._intake(work, self._refresh(work, actor), request, names)[1]
        return self._receive_all(ticket_id, uploads, desk.attachment_limits)

    def _intake(
        self, work: UnitOfWork, actor: Contact, request: _Request, filenames: Sequence[str]
    ) -> tuple[RequestType, Desk, CleanedSubmission, Contact]:
        """Check a new request and the names of its files before anything is written."""
        if request.priority is not None and not access.is_staff(actor):
            raise PermissionDenied("set a ticket's priority", "only agents and admins may")
        request_type = _get_request_type(work, request.request_type_id)
        staff = access.is_staff(actor)
        cleaned = validate_submission(request_type, request.submission, staff=staff)
        requester = self._requester(work, actor, request.requester_id)
        desk = _get_desk(work, request_type.desk_id)
        if filenames:
            _check_rule(request_type, filenames[0])
        elif request_type.attachments is AttachmentRule.REQUIRED:
            raise ValidationError(
                {"attachments": f"Attach at least one file to a {request_type.name} request."}
            )
        return request_type, desk, cleaned, requester

    def _requester(self, work: UnitOfWork, actor: Contact, requester_id: str | None) -> Contact:
        if requester_id is None or requester_id == actor.id:
            return actor
        if not access.is_staff(actor):
            raise PermissionDenied("raise a request for someone else", "only agents may")
        requester = work.directory.get_contact(requester_id)
        if requester is None or requester.state is not ContactState.ACTIVE:
            raise ValidationError({"requester_id": f"no active contact {requester_id!r}"})
        return requester

    def _start(
        self,
        work: UnitOfWork,
        actor: Contact,
        requester: Contact | None,
        draft: Ticket,
        desk: Desk,
        now: datetime,
        **payload: str,
    ) -> Ticket:
        """Store a new ticket, its first entry, events and timers; returns it with its reference.

        Staff hear of it (``ticket_created``), and the requester gets the
        confirmation (``ticket_received``), also when they opened it.  Whom
        the events reach is read first: the desk's reference counter, which
        concurrent creators take in turns until commit, is taken last.
        """
        created, received = EventKind.TICKET_CREATED, EventKind.TICKET_RECEIVED
        staff = _ticket_recipients(work, draft, created, actor, _NEW_TICKET)
        # No actor to leave out: the confirmation is for the requester, whoever acted.
        confirmed = notifications.ticket_recipients(
            received,
            draft,
            actor_id=None,
            customers=[requester],
            staff=(),
            collaborator_ids=(),
            muted=(),
        )
        to_staff, to_requester = notifications.deliveries(
            work, (created, staff), (received, confirmed)
        )
        ticket = attrs.evolve(draft, reference=_next_reference(work, desk))
        work.tickets.add(ticket)
        self._log(work, ticket, ActivityKind.CREATED, actor.id, now, body=ticket.description)
        notifications.record(
            work,
            (self._ticket_event(work, ticket, created, actor, now, payload), to_staff),
            (self._ticket_event(work, ticket, received, actor, now, payload), to_requester),
        )
        rules = self._rules.remember(desk)
        work.timers.add(rules.workflow.plan_timers(ticket, now, rules.calendar))
        return ticket

    def get_ticket(self, actor: Contact, reference: str) -> Ticket:
        """The ticket with that reference (or id), if the actor may see it."""
        with self._store.unit_of_work() as work:
            return self._load_page(work, actor, reference)[0].ticket

    def view_ticket(self, actor: Contact, reference: str) -> TicketView:
        """Everything a ticket page shows this actor, internal entries only for staff.

        Names come with what they name: each activity entry's actor, the
        assignee, and "Shared with", the requester first.  The status label is
        the workflow's :attr:`~supportdesk.StatusSpec.label`, the same for
        customers and agents.  Five statements on SQL however long the log
        and the list of collaborators: the actor, the ticket with its desk,
        request type, people and the actor's switch, the collaborators, the
        log, the files.  A ticket the actor may not see costs what a missing
        one does.  Staff also get the ticket's SLA clocks, measured from the
        log already read.
        """
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx, details, shared = self._load_page(work, actor, reference)
            ticket, actor = ctx.ticket, ctx.actor
            requester = () if details.requester is None else (details.requester,)
            desk = _found(details.desk, "desk", ticket.desk_id)
            staff = access.is_staff(actor)
            entries = tuple(work.activity.list_entries(ticket.id, include_internal=staff))
            attachments = self._visible_attachments(ctx)
            if not staff:
                entries = _files_named(entries, {attachment.id for attachment in attachments})
            workflow = self._rules.remember(desk).workflow
            return TicketView(
                ticket=ticket,
                desk=desk,
                request_type=_form_for(
                    actor, _found(details.request_type, "request type", ticket.request_type_id)
                ),
                status_label=workflow.status(ticket.status).label,
                assignee_name=None if details.assignee is None else details.assignee.full_name,
                activities=entries,
                shared_with=tuple(Participant.of(c, actor) for c in (*requester, *shared)),
                actions=workflow.allowed_triggers(ticket.status, ctx.party),
                notifications_on=not details.muted,
                attachments=attachments,
                sla=self._sla_clocks(work, ticket, entries, now) if staff else (),
            )

    def _load_page(
        self, work: UnitOfWork, actor: Contact, reference: str
    ) -> tuple[_Context, TicketDetails, tuple[Contact, ...]]:
        """The ticket with what its page shows, as ``actor`` may read it; else NotFound.

        Three statements on SQL, for a hidden ticket as for a missing one: the
        actor, the ticket joined with its desk, request type and people, and
        the collaborators' contacts.  The joined request type says which
        fields a customer may not read: their copy has none of them.
        """
        check_id("reference", reference)
        actor = self._refresh(work, actor)
        found = work.tickets.get_details(reference, actor.id)
        key = "" if found is None else found.ticket.id
        shared = tuple(work.participants.list_collaborator_contacts(key))
        details = _found(found, "ticket", reference)
        ctx = self._admit(work, actor, reference, details.ticket, tuple(c.id for c in shared))
        if not access.is_staff(ctx.actor):
            readable = _customer_copy(ctx.ticket, details.request_type)
            ctx = attrs.evolve(ctx, ticket=readable)
        return ctx, details, shared

    def explain_access(self, contact_id: str, reference: str) -> access.Explanation:
        """Why a contact may or may not see a ticket, for support staff (unscoped).

        Host code that answers a support question calls it; it takes no
        actor, and tells a ticket hidden from the contact from a missing
        one, so never hand its answer to the contact it explains.
        """
        check_id("contact_id", contact_id)
        with self._store.unit_of_work() as work:
            contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            ticket = self._find(work, reference)
            ids = frozenset(c.contact_id for c in work.participants.list_collaborators(ticket.id))
            return access.explain(contact, ticket, ids)

    def share_update(self, actor: Contact, reference: str, body: str) -> Ticket:
        """Add a public update; returns the ticket it landed on.

        A customer's update moves the ticket back to support.  On a closed
        ticket the desk's follow-up policy decides: a new linked ticket (the
        default), a reopen, or a refusal.
        """
        _require_text("body", body)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            return self._shown(ctx, self._update(ctx, body, now))

    def _update(self, ctx: _Context, body: str, now: datetime) -> Ticket:
        """The public update ``body`` by the context's actor; the ticket it landed on."""
        work = ctx.work
        if self._workflow(work, ctx.ticket).category(ctx.ticket.status) is StatusCategory.CLOSED:
            return self._update_closed(ctx, body, now)
        self._log(work, ctx.ticket, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=body)
        if ctx.party is Party.AGENT:
            ticket = self._touched(ctx, now)
        else:
            ticket = self._fire(ctx, "share_update", now, announce=False)
        self._emit_update(ctx, ticket, body, now)
        return ticket

    def _update_closed(self, ctx: _Context, body: str, now: datetime) -> Ticket:
        ticket = ctx.ticket
        desk = _get_desk(ctx.work, ticket.desk_id)
        closed_at = ticket.closed_at or ticket.updated_at
        window_over = desk.follow_up_window is not None and now - closed_at > desk.follow_up_window
        if desk.follow_up_policy is FollowUpPolicy.REFUSE or window_over:
            raise InvalidTransition(ticket.status, "share_update", ctx.party.value, ())
        if desk.follow_up_policy is FollowUpPolicy.REOPEN:
            reopened = self._reopen_closed(ctx, now)
            self._log(ctx.work, reopened, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=body)
            self._emit_update(ctx, reopened, body, now)
            return reopened
        return self._follow_up(ctx, body, now)

    def _reopen_closed(self, ctx: _Context, now: datetime) -> Ticket:
        target = self._workflow(ctx.work, ctx.ticket).definition.reopen_to
        if target is None:
            raise InvalidTransition(ctx.ticket.status, "share_update", ctx.party.value, ())
        return self._fire(ctx, "share_update", now, target=target, announce=False)

    def _follow_up(self, ctx: _Context, body: str, now: datetime) -> Ticket:
        original = ctx.ticket
        desk = _get_desk(ctx.work, original.desk_id)
        requester: Contact | None = ctx.actor
        requester_id = ctx.actor.id
        if ctx.party is Party.AGENT:
            requester_id = original.requester_id
            requester = ctx.work.directory.get_contact(requester_id)
        draft = Ticket(
            reference="",
            desk_id=original.desk_id,
            request_type_id=original.request_type_id,
            summary=original.summary,
            description=body,
            fields=original.fields,
            status=self._rules.remember(desk).workflow.initial,
            priority=original.priority,
            requester_id=requester_id,
            organization_id=original.organization_id,
            shared_with_organization=original.shared_with_organization,
            created_at=now,
            updated_at=now,
            follow_up_of=original.id,
        )
        follow_up = self._start(ctx.work, ctx.actor, requester, draft, desk, now)
        _carry_collaborators(ctx, follow_up, now)
        data = {"follow_up_of": original.reference}
        self._log(ctx.work, follow_up, ActivityKind.FOLLOW_UP_CREATED, ctx.actor.id, now, data=data)
        # The closed ticket's log says where the conversation went on.
        onward = {"follow_up": follow_up.reference}
        self._log(ctx.work, original, ActivityKind.FOLLOWED_UP, ctx.actor.id, now, data=onward)
        self._emit(ctx.work, follow_up, EventKind.FOLLOW_UP_CREATED, ctx.actor, now, **data)
        return follow_up

    def add_note(self, actor: Contact, reference: str, body: str) -> Activity:
        """Add an internal note: agents only, never shown to customers."""
        _require_text("body", body)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party is not Party.AGENT:
                raise PermissionDenied("add an internal note", "only agents may")
            return self._note(ctx, body, now)

    def _note(self, ctx: _Context, body: str, now: datetime) -> Activity:
        """Log an internal note by ``ctx``'s agent and tell the staff."""
        note = self._log(
            ctx.work,
            ctx.ticket,
            ActivityKind.INTERNAL_NOTE,
            ctx.actor.id,
            now,
            body=body,
            internal=True,
        )
        # The ticket's updated_at stays: customers read it, and a note must tell them nothing.
        self._emit(ctx.work, ctx.ticket, EventKind.INTERNAL_NOTE, ctx.actor, now, body=body)
        return note


def _check_uploads(attachments: object) -> None:
    """Raise :class:`TypeError` unless ``attachments`` is a sequence of (filename, stream)."""
    if isinstance(attachments, str | bytes) or not isinstance(attachments, Sequence):
        raise TypeError(f"attachments must be a sequence, not {type(attachments).__name__}")
    for upload in attachments:
        if not isinstance(upload, tuple | list) or len(upload) != 2:
            raise TypeError("attachments must hold (filename, stream) pairs")
        check_type("attachments", upload[0], str)
        check_stream("attachments", upload[1])


def _carry_collaborators(ctx: _Context, follow_up: Ticket, now: datetime) -> None:
    """Everyone who took part in the closed ticket takes part in its follow-up.

    The original requester becomes a collaborator when someone else followed up.
    """
    original = ctx.ticket
    for collaborator in ctx.work.participants.list_collaborators(original.id):
        if collaborator.contact_id != follow_up.requester_id:
            ctx.work.participants.add_collaborator(
                attrs.evolve(collaborator, ticket_id=follow_up.id)
            )
    if original.requester_id != follow_up.requester_id:
        ctx.work.participants.add_collaborator(
            Collaborator(
                ticket_id=follow_up.id,
                contact_id=original.requester_id,
                added_by=ctx.actor.id,
                added_at=now,
            )
        )


def _files_named(entries: tuple[ActivityEntry, ...], shown: set[str]) -> tuple[ActivityEntry, ...]:
    """The log as a customer reads it: an entry of a file they may not see (one the scan
    refused after it was announced) keeps its words but no longer names the file."""
    named = shown | {""}  # "": an entry of no file
    return tuple(
        entry if entry.data.get("attachment_id", "") in named else attrs.evolve(entry, data={})
        for entry in entries
    )
