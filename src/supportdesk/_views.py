"""The public results of the desk's use cases: pages, views and reports."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import BinaryIO

import attrs

from . import access
from ._models import (
    ActivityEntry,
    Attachment,
    Contact,
    Desk,
    FieldValue,
    Notification,
    RequestType,
    Role,
    SearchHit,
    Ticket,
    TicketRow,
)
from .sla import SlaClock

Upload = tuple[str, BinaryIO]
"""A file as the host received it: the client's name for it and a stream of its bytes."""


class TicketList(enum.StrEnum):
    """The ticket lists a portal shows."""

    CREATED_BY_ME = "created_by_me"
    """Tickets the actor requested ("My requests")."""
    ORGANIZATION = "organization"
    """Tickets of the actor's organisation the actor may see ("All")."""
    COLLABORATING = "collaborating"
    """Tickets shared with the actor as a collaborator ("My Collaborator Cases")."""
    VISIBLE = "visible"
    """Every ticket the actor may see (an agent's queue)."""
    ASSIGNED_TO_ME = "assigned_to_me"
    """Tickets assigned to the actor (an agent's "Assigned to me" queue); empty for customers."""
    UNASSIGNED = "unassigned"
    """Tickets the actor may see that nobody is assigned to; empty for customers."""


@attrs.frozen(kw_only=True)
class ListCount:
    """How many tickets one of the portal's lists holds: the number on its tab."""

    open: int
    """Its open tickets, waiting ones included ("My Open Cases")."""
    closed: int
    """Its resolved, closed and canceled tickets ("My Closed Cases")."""

    @property
    def total(self) -> int:
        """Open and closed together."""
        return self.open + self.closed


@attrs.frozen(kw_only=True)
class Page:
    """One page of a ticket list, ready to show: its rows, its total and every list's count."""

    tickets: tuple[TicketRow, ...]
    """The rows of this page, each with the names a list shows."""
    total: int
    """How many tickets the whole list holds, over all pages, with the page's filters."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; None on the last page."""
    counts: Mapping[TicketList, ListCount]
    """Each :class:`TicketList`'s count as the actor's tabs show it, whatever the page's
    filters: ``page.counts[TicketList.CREATED_BY_ME].open``."""


@attrs.frozen(kw_only=True)
class Participant:
    """Someone a ticket is shared with, as its page shows them ("Shared with")."""

    id: str
    full_name: str
    role: Role
    email: str | None
    """Their address, for staff and for the person themselves; None to other customers, who
    learn no one's address from a ticket shared with their organisation."""

    @classmethod
    def of(cls, contact: Contact, viewer: Contact) -> Participant:
        """``contact`` as ``viewer`` reads them on the ticket's page."""
        shown = access.is_staff(viewer) or contact.id == viewer.id
        return cls(
            id=contact.id,
            full_name=contact.full_name,
            role=contact.role,
            email=contact.email if shown else None,
        )


@attrs.frozen(kw_only=True)
class TicketView:
    """A ticket as one actor may see it: everything the ticket page of a portal shows."""

    ticket: Ticket
    desk: Desk
    request_type: RequestType
    status_label: str
    """What people read for the ticket's status ("Waiting for customer")."""
    assignee_name: str | None
    """Who handles the ticket, or None while nobody is assigned."""
    activities: tuple[ActivityEntry, ...]
    """The activity log, without internal entries for customers, each with who made it."""
    shared_with: tuple[Participant, ...]
    """"Shared with": the requester first, then the collaborators in the order they were added."""
    actions: tuple[str, ...]
    """The workflow triggers this actor may fire now."""
    notifications_on: bool
    """The actor's "Notifications on/off" switch for this ticket."""
    attachments: tuple[Attachment, ...] = ()
    """The Attachments tab, as :meth:`SupportDesk.list_attachments` shows it to this actor."""
    sla: tuple[SlaClock, ...] = ()
    """For staff, the clock of each SLA target of the ticket's policy, measured now; customers
    see none."""


@attrs.frozen(kw_only=True)
class PendingSignup:
    """An account waiting for an admin's approval, with what the person gave at sign-up."""

    contact: Contact
    details: Mapping[str, FieldValue]
    """The answers to the sign-up form by field key, typed (render each with
    :func:`~supportdesk.forms.field_text` beside the label of
    :attr:`SignupPolicy.fields <supportdesk.SignupPolicy.fields>`); empty when the form
    asks nothing."""
    submitted_at: datetime | None
    """When the sign-up was completed; None for an account parked otherwise (before 0.2.0,
    or stored waiting by the host's :meth:`~supportdesk.SupportDesk.add_contact`)."""


class MailDirection(enum.StrEnum):
    """Which way a message of a ticket's e-mail thread went."""

    IN = "in"
    OUT = "out"


@attrs.frozen(kw_only=True)
class TicketEmail:
    """One message of a ticket's e-mail thread (:meth:`SupportDesk.list_ticket_emails`)."""

    direction: MailDirection
    at: datetime
    message_id: str
    """In: the message's own Message-ID.  Out: its event's id (:func:`~supportdesk.thread_headers`
    makes the Message-ID of each recipient's copy from it)."""
    kind: str
    """In: what it did (a :class:`~supportdesk.MailOutcome`).  Out: its event's kind."""
    to: tuple[str, ...] = ()
    """Out: the addresses it went to; a customer sees only their own."""


@attrs.frozen(kw_only=True)
class SweepReport:
    """What one :meth:`SupportDesk.run_due_timers` call did."""

    fired: int = 0
    """Reminders sent and automatic transitions made."""
    skipped: int = 0
    """Timers void at firing: the ticket had moved on, or a later milestone was due too."""
    batches: int = 0


@attrs.frozen(kw_only=True)
class ScanReport:
    """What one :meth:`SupportDesk.scan_pending_attachments` call did."""

    clean: int = 0
    """Attachments the scanner passed: they may be downloaded now."""
    rejected: int = 0
    """Attachments the scanner refused: their bytes are deleted and the uploader told."""
    failed: int = 0
    """Scans that raised; those attachments stay ``scanning`` for the next call."""


@attrs.frozen(kw_only=True)
class Feed:
    """A page of a contact's in-app feed, with the number on the bell."""

    notifications: tuple[Notification, ...]
    unread: int
    """How many of the contact's entries are unread, over all pages."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; None on the last page."""


@attrs.frozen(kw_only=True)
class SearchPage:
    """A page of search results, best first."""

    hits: tuple[SearchHit, ...]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; None on the last page."""
