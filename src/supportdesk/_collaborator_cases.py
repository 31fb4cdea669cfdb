"""Collaborator use cases: sharing a ticket with contacts and its organisation, and muting it."""

from __future__ import annotations

from . import access
from ._desk_base import _changed, _Context, _DeskBase
from ._errors import NotFound, PermissionDenied, ValidationError
from ._input import check_email, check_id, check_type
from ._models import ActivityKind, Collaborator, Contact, ContactState, EventKind, Ticket
from .workflow import Party


class _CollaboratorCases(_DeskBase):
    """Who takes part in a ticket, and who hears about it."""

    def add_collaborator(self, actor: Contact, reference: str, email: str) -> Collaborator:
        """Share the ticket with an existing active contact, in or outside the organisation.

        The contact must be able to see the ticket once added, as
        :meth:`get_ticket` would: any customer can (as a collaborator), an
        admin can, an agent only on a ticket of their own desks.  An agent of
        another desk raises :class:`~supportdesk.ValidationError` on
        ``email``, since agents see their desks' tickets only: put them on
        the ticket's desk instead (a customer is told only that the address
        is no active contact the ticket can be shared with, as for an
        unknown one).  The requester, a collaborator or an agent
        may add one; the event reaches the new collaborator too.  ``email``
        must be one valid address (no line breaks).
        """
        email = check_email("email", email)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party is Party.CUSTOMER:
                raise PermissionDenied(
                    "add a collaborator", "only the requester, a collaborator or an agent may"
                )
            contact = _newcomer(ctx, email)
            sharing = ctx.collaborator_ids | {contact.id}
            if access.ticket_scope(contact).grant(ctx.ticket, sharing) is None:
                if ctx.party is not Party.AGENT:  # a customer learns no more of staff accounts
                    raise ValidationError({"email": f"{email} {_NOT_SHAREABLE}"})
                raise ValidationError(
                    {
                        "email": f"{email} could not see {ctx.ticket.reference}: agents see the"
                        " tickets of their own desks only, so add them to the ticket's desk"
                        " rather than as a collaborator"
                    }
                )
            collaborator = Collaborator(
                ticket_id=ctx.ticket.id, contact_id=contact.id, added_by=ctx.actor.id, added_at=now
            )
            work.participants.add_collaborator(collaborator)
            data = {"contact": contact.full_name}
            self._log(
                work, ctx.ticket, ActivityKind.COLLABORATOR_ADDED, ctx.actor.id, now, data=data
            )
            kind = EventKind.COLLABORATOR_ADDED
            self._emit(work, ctx.ticket, kind, ctx.actor, now, contact_id=contact.id)
            work.tickets.mark_updated(ctx.ticket.id, now)
            return collaborator

    def remove_collaborator(self, actor: Contact, reference: str, contact_id: str) -> None:
        """Stop sharing the ticket with a contact (requester, agents, or the collaborator)."""
        check_id("contact_id", contact_id)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party not in (Party.REQUESTER, Party.AGENT) and ctx.actor.id != contact_id:
                raise PermissionDenied(
                    "remove a collaborator", "only the requester or an agent may"
                )
            contact = work.directory.get_contact(contact_id)
            if contact is None or not work.participants.remove_collaborator(
                ctx.ticket.id, contact_id
            ):
                raise NotFound("collaborator", contact_id)
            data = {"contact": contact.full_name}
            self._log(
                work, ctx.ticket, ActivityKind.COLLABORATOR_REMOVED, ctx.actor.id, now, data=data
            )

    def set_notifications(self, actor: Contact, reference: str, enabled: bool) -> None:
        """Switch the actor's notifications about this ticket on or off."""
        check_type("enabled", enabled, bool)
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if enabled:
                work.participants.remove_mute(ctx.ticket.id, ctx.actor.id)
            else:
                work.participants.add_mute(ctx.ticket.id, ctx.actor.id)

    def set_organization_sharing(self, actor: Contact, reference: str, shared: bool) -> Ticket:
        """Share the ticket with the requester's organisation, or stop (requester, agents)."""
        check_type("shared", shared, bool)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party not in (Party.REQUESTER, Party.AGENT):
                raise PermissionDenied("change sharing", "only the requester or an agent may")
            ticket = _changed(ctx.ticket, now, shared_with_organization=shared)
            work.tickets.update(ticket)
            return self._shown(ctx, ticket)


_NOT_SHAREABLE = "is not an active contact this ticket can be shared with"
"""Why an address cannot collaborate, for a customer: one reason, whatever the account is."""


def _newcomer(ctx: _Context, email: str) -> Contact:
    """The active contact with that e-mail, who does not take part in the ticket yet."""
    contact = ctx.work.directory.get_contact_by_email(email)
    if contact is None or contact.state is not ContactState.ACTIVE:
        raise ValidationError({"email": f"{email} {_NOT_SHAREABLE}"})
    if contact.id == ctx.ticket.requester_id or contact.id in ctx.collaborator_ids:
        raise ValidationError({"email": f"{email} already takes part in this ticket"})
    return contact
