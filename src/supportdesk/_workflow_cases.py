"""Workflow use cases: triggers and their shortcuts, escalation, assignment, waiting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import access
from ._desk_base import _changed, _Context, _found, _get_desk, _require_text
from ._errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from ._input import LABEL_TEXT, LONG_TEXT, check_choice, check_id, check_text, check_type
from ._models import ActivityKind, Contact, ContactState, EventKind, Priority, Role, Ticket
from ._status_moves import _moved_from, _StatusMoves
from .forms import clean_fields
from .storage.protocol import ContactQuery, UnitOfWork
from .workflow import Party


class _WorkflowCases(_StatusMoves):
    """The actions that move a ticket or change who handles it."""

    def transition(
        self,
        actor: Contact,
        reference: str,
        trigger: str,
        *,
        comment: str = "",
        expected_version: int | None = None,
    ) -> Ticket:
        """Fire any workflow trigger; the named methods below are shortcuts.

        ``expected_version`` guards a change made from a page the actor read
        earlier: if the ticket changed since, :class:`~supportdesk.Conflict`.
        """
        check_text("trigger", trigger, one_line=True)
        check_text("comment", comment, max_length=LONG_TEXT)
        if expected_version is not None:
            check_type("expected_version", expected_version, int)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if expected_version is not None and expected_version != ctx.ticket.version:
                raise Conflict("ticket", ctx.ticket.reference, "it changed since it was read")
            ticket = self._fire(ctx, trigger, now, comment=comment.strip())
            if comment.strip():
                self._log(work, ticket, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=comment)
                if ticket.status_epoch == ctx.ticket.status_epoch:
                    # No status change carried the comment: it is an update of its own.
                    self._emit_update(ctx, ticket, comment, now)
            return self._shown(ctx, ticket)

    def resolve(self, actor: Contact, reference: str, comment: str = "") -> Ticket:
        """Resolve the ticket ("Resolve this issue")."""
        return self.transition(actor, reference, "resolve", comment=comment)

    def close(self, actor: Contact, reference: str, comment: str = "") -> Ticket:
        """Close the ticket ("Close Case")."""
        return self.transition(actor, reference, "close", comment=comment)

    def cancel(self, actor: Contact, reference: str, comment: str = "") -> Ticket:
        """Cancel the request: the requester's own withdrawal."""
        return self.transition(actor, reference, "cancel", comment=comment)

    def reopen(self, actor: Contact, reference: str, comment: str = "") -> Ticket:
        """Send a resolved ticket back to support (agents)."""
        return self.transition(actor, reference, "reopen", comment=comment)

    def ask_customer(self, actor: Contact, reference: str, body: str) -> Ticket:
        """An agent's public reply that waits for the customer."""
        _require_text("body", body)
        return self.transition(actor, reference, "ask_customer", comment=body)

    def escalate(self, actor: Contact, reference: str, reason: str = "") -> Ticket:
        """Raise the priority one step and flag the ticket as escalated."""
        check_text("reason", reason, max_length=LONG_TEXT)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            self._workflow(work, ctx.ticket).fire(ctx.ticket.status, "escalate", ctx.party)
            ticket = ctx.ticket
            raised = Priority(min(ticket.priority + 1, Priority.HIGHEST))
            escalated = _changed(ticket, now, priority=raised, escalated=True)
            work.tickets.update(escalated)
            data = {"priority": raised.name.lower()}
            self._log(
                work, escalated, ActivityKind.ESCALATED, ctx.actor.id, now, body=reason, data=data
            )
            self._emit(work, escalated, EventKind.ESCALATED, ctx.actor, now, reason=reason, **data)
            return self._shown(ctx, escalated)

    def assign(self, actor: Contact, reference: str, assignee_id: str) -> Ticket:
        """Assign the ticket to an agent of its desk (or an admin)."""
        check_id("assignee_id", assignee_id)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            assignee = _assignee(ctx, assignee_id)
            # An agent may hand an open ticket to a colleague in any status; the
            # workflow's "assign" move only applies where the table has it.
            status, workflow = ctx.ticket.status, self._workflow(work, ctx.ticket)
            reassign = ctx.party is Party.AGENT and workflow.is_open(status)
            if reassign and not workflow.can_fire(status, "assign", ctx.party):
                ticket = _changed(ctx.ticket, now, assignee_id=assignee.id)
                work.tickets.update(ticket)
            else:
                ticket = self._fire(ctx, "assign", now, announce=False, assignee_id=assignee.id)
            data = {"assignee": assignee.full_name}
            self._log(work, ticket, ActivityKind.ASSIGNED, ctx.actor.id, now, data=data)
            # One notification per action: the assignment says if it moved the ticket.
            moved = _moved_from(ctx.ticket, ticket)
            kind = EventKind.ASSIGNED
            self._emit(work, ticket, kind, ctx.actor, now, assignee_id=assignee.id, **data, **moved)
            return ticket

    def list_assignees(self, actor: Contact, desk_id: str) -> Sequence[Contact]:
        """Whom the desk's tickets may be assigned to, by e-mail: its active agents, and admins.

        The choices of an "Assign to" list; :meth:`assign` takes each of
        them.  For the desk's agents and for admins.

        :raises PermissionDenied: for a customer, or an agent of other desks.
        :raises NotFound: when there is no desk ``desk_id``.
        """
        check_id("desk_id", desk_id)
        with self._store.unit_of_work() as work:
            staff = self._require_staff(work, actor, "list whom tickets may be assigned to")
            _get_desk(work, desk_id)
            if staff.role is not Role.ADMIN and desk_id not in staff.desk_ids:
                raise PermissionDenied("list the assignees of another desk", "work on it first")
            active = ContactState.ACTIVE
            agents = ContactQuery(roles={Role.AGENT}, state=active, desk_id=desk_id)
            admins = ContactQuery(roles={Role.ADMIN}, state=active)
            found = [*work.directory.find_contacts(agents), *work.directory.find_contacts(admins)]
        return sorted(found, key=lambda contact: contact.email)

    def unassign(self, actor: Contact, reference: str) -> Ticket:
        """Take the assignee off an open ticket (agents and admins); it joins "Unassigned".

        Logged, with no notification.  Unassigning an unassigned ticket
        changes nothing.

        :raises PermissionDenied: for a customer.
        :raises InvalidTransition: on a ticket that is no longer open.
        """
        return self._staff_change(
            actor, reference, "unassign", ActivityKind.UNASSIGNED, assignee_id=None
        )

    def set_priority(self, actor: Contact, reference: str, priority: Priority) -> Ticket:
        """Set an open ticket's priority (agents and admins); logged, with no notification.

        :raises PermissionDenied: for a customer.
        :raises InvalidTransition: on a ticket that is no longer open.
        :raises ValidationError: on ``priority`` when it is not a :class:`Priority`.
        """
        chosen = check_choice("priority", priority, Priority)
        data = {"priority": chosen.name.lower()}
        return self._staff_change(
            actor,
            reference,
            "set_priority",
            ActivityKind.PRIORITY_CHANGED,
            data=data,
            priority=chosen,
        )

    def change_request_type(
        self,
        actor: Contact,
        reference: str,
        request_type_id: str,
        fields: Mapping[str, object] | None = None,
    ) -> Ticket:
        """Move an open ticket to another request type of its desk (agents and admins); logged.

        The ticket's answers are checked against the new type's form: answers
        to fields the two forms share stay, answers the new form has no field
        for are dropped, and ``fields`` adds or replaces answers (raw, as for
        :meth:`open_ticket`), say for a field only the new form requires.
        The summary and description stay as the requester wrote them.
        No notification; choosing the type it has changes nothing.

        :raises PermissionDenied: for a customer.
        :raises InvalidTransition: on a ticket that is no longer open.
        :raises ValidationError: on ``request_type_id`` for a type of another
            desk or none; by field key for answers the new form refuses, all
            at once; the ticket stays as it was.
        """
        check_id("request_type_id", request_type_id)
        given = {} if fields is None else fields
        check_type("fields", given, Mapping)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._staff_only(work, actor, reference, "change_request_type")
            ticket = ctx.ticket
            if request_type_id == ticket.request_type_id and not given:
                return ticket
            chosen = work.desks.get_request_type(request_type_id)
            if chosen is None or chosen.desk_id != ticket.desk_id:
                problem = "choose a request type of the ticket's own desk"
                raise ValidationError({"request_type_id": problem})
            kept = {
                spec.key: ticket.fields[spec.key]
                for spec in chosen.fields
                if spec.key in ticket.fields
            }
            # The summary and description stay the customer's words; the answers follow the form.
            errors: dict[str, str] = {}
            answers = clean_fields(chosen.fields, {**kept, **given}, errors, staff=True)
            if errors:
                raise ValidationError(errors)
            was = _found(
                work.desks.get_request_type(ticket.request_type_id),
                "request type",
                ticket.request_type_id,
            )
            changed = _changed(ticket, now, request_type_id=chosen.id, fields=answers)
            work.tickets.update(changed)
            data = {"from": was.name, "to": chosen.name}
            self._log(
                work, changed, ActivityKind.REQUEST_TYPE_CHANGED, ctx.actor.id, now, data=data
            )
            return changed

    def _staff_only(self, work: UnitOfWork, actor: Contact, reference: str, move: str) -> _Context:
        """The open ticket ``reference`` for an agent; ``move`` names the change in errors."""
        ctx = self._load(work, actor, reference)
        if ctx.party is not Party.AGENT:
            raise PermissionDenied(move.replace("_", " "), "only agents may")
        if not self._workflow(work, ctx.ticket).is_open(ctx.ticket.status):
            raise InvalidTransition(ctx.ticket.status, move, ctx.party.value, ())
        return ctx

    def _staff_change(
        self,
        actor: Contact,
        reference: str,
        move: str,
        kind: ActivityKind,
        *,
        data: dict[str, str] | None = None,
        **changes: object,
    ) -> Ticket:
        """Change fields of an open ticket that only staff set, and log it when it changed.

        ``move`` names the change in errors, as a workflow trigger would.
        """
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._staff_only(work, actor, reference, move)
            if all(getattr(ctx.ticket, name) == value for name, value in changes.items()):
                return ctx.ticket
            ticket = _changed(ctx.ticket, now, **changes)
            work.tickets.update(ticket)
            self._log(work, ticket, kind, ctx.actor.id, now, data=data)
            return ticket

    def wait_for(self, actor: Contact, reference: str, whom: str, comment: str = "") -> Ticket:
        """Park the ticket while a third party (``whom``) acts: one line, at most 64 characters."""
        check_text("whom", whom, max_length=LABEL_TEXT, required=True, one_line=True)
        check_text("comment", comment, max_length=LONG_TEXT)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            ticket = self._fire(
                ctx, "wait_for", now, comment=comment.strip(), sub_status=whom.strip()
            )
            if comment.strip():
                self._log(work, ticket, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=comment)
            return ticket


def _assignee(ctx: _Context, assignee_id: str) -> Contact:
    """The contact to assign the ticket to: an agent of its desk, or an admin."""
    assignee = ctx.work.directory.get_contact(assignee_id)
    if assignee is None or access.ticket_scope(assignee).grant(ctx.ticket, ()) not in (
        access.Grant.ADMIN,
        access.Grant.DESK_AGENT,
    ):
        raise ValidationError({"assignee_id": "assign to an active agent of the ticket's desk"})
    return assignee
