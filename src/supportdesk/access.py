"""Who may see which ticket: each rule written once, as data that yields both check and filter.

:func:`ticket_scope` is the only place the visibility rules live.  It turns an
actor into a :class:`TicketScope`; the scope answers the object check
(:meth:`TicketScope.grant`) and storage adapters compile the same scope into
their list, count and search filters.  List and detail therefore cannot
disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Collection

import attrs

from ._models import Activity, Contact, ContactState, Role, Ticket


class Grant(enum.StrEnum):
    """The rule that lets an actor see a ticket."""

    ADMIN = "admin"
    DESK_AGENT = "desk_agent"
    REQUESTER = "requester"
    COLLABORATOR = "collaborator"
    ORGANIZATION = "organization"

    @property
    def as_staff(self) -> bool:
        """True when it shows the ticket as staff see it: internal notes and their files too."""
        return self in (Grant.ADMIN, Grant.DESK_AGENT)


@attrs.frozen(kw_only=True)
class TicketScope:
    """The tickets one actor may see, as data.

    A ticket is in scope when any one clause admits it: ``everything``; its
    desk in ``desk_ids``; its requester is ``requester_id``;
    ``collaborator_id`` is among its collaborators; or it is shared with the
    organisation and its organisation is ``organization_id``.
    """

    everything: bool = False
    desk_ids: frozenset[str] = frozenset()
    requester_id: str | None = None
    collaborator_id: str | None = None
    organization_id: str | None = None

    def grant(self, ticket: Ticket, collaborator_ids: Collection[str]) -> Grant | None:
        """The first clause that admits ``ticket``, or None when none does."""
        if self.everything:
            return Grant.ADMIN
        if ticket.desk_id in self.desk_ids:
            return Grant.DESK_AGENT
        if self.requester_id is not None and ticket.requester_id == self.requester_id:
            return Grant.REQUESTER
        if self.collaborator_id is not None and self.collaborator_id in collaborator_ids:
            return Grant.COLLABORATOR
        if (
            self.organization_id is not None
            and ticket.shared_with_organization
            and ticket.organization_id == self.organization_id
        ):
            return Grant.ORGANIZATION
        return None

    @property
    def is_empty(self) -> bool:
        """True when no ticket can be in scope."""
        return not (
            self.everything
            or self.desk_ids
            or self.requester_id
            or self.collaborator_id
            or self.organization_id
        )


NOTHING = TicketScope()
"""The scope of an actor who may see no ticket at all."""


def is_staff(actor: Contact) -> bool:
    """True for active agents and admins: the people who see internal notes."""
    return actor.state is ContactState.ACTIVE and actor.role in (Role.AGENT, Role.ADMIN)


def ticket_scope(actor: Contact) -> TicketScope:
    """The tickets ``actor`` may see: the visibility rules of the portal.

    Admins see every ticket, agents the tickets of their desks; customers see
    what they requested, what they collaborate on and what is shared with
    their organisation.  A contact who is not active sees nothing.
    """
    if actor.state is not ContactState.ACTIVE:
        return NOTHING
    if actor.role is Role.ADMIN:
        return TicketScope(everything=True)
    if actor.role is Role.AGENT:
        return TicketScope(desk_ids=actor.desk_ids)
    return TicketScope(
        requester_id=actor.id,
        collaborator_id=actor.id,
        organization_id=actor.organization_id,
    )


@attrs.frozen(kw_only=True)
class Explanation:
    """Why an actor may, or may not, see a ticket."""

    grant: Grant | None
    reason: str

    @property
    def allowed(self) -> bool:
        """True when some rule grants access."""
        return self.grant is not None


_REASONS = {
    Grant.ADMIN: "admins see every ticket",
    Grant.DESK_AGENT: "agents see the tickets of the desks they work on",
    Grant.REQUESTER: "they requested it",
    Grant.COLLABORATOR: "the ticket is shared with them as a collaborator",
    Grant.ORGANIZATION: "the ticket is shared with their organisation",
}


def explain(actor: Contact, ticket: Ticket, collaborator_ids: Collection[str]) -> Explanation:
    """Which rule lets ``actor`` see ``ticket``, or why none does."""
    grant = ticket_scope(actor).grant(ticket, collaborator_ids)
    if grant is not None:
        return Explanation(grant=grant, reason=f"{actor.email}: {_REASONS[grant]}")
    if actor.state is not ContactState.ACTIVE:
        return Explanation(grant=None, reason=f"{actor.email} is {actor.state.value}")
    return Explanation(grant=None, reason=f"no rule lets {actor.email} see {ticket.reference}")


def can_see_activity(actor: Contact, activity: Activity) -> bool:
    """Internal entries (notes, and what is attached to them) are for staff only."""
    return not activity.internal or is_staff(actor)
