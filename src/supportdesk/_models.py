"""Domain models: frozen attrs classes and enums, with no I/O."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from ._errors import ValidationError

FieldValue = str | int | float | bool | date | tuple[str, ...] | None
"""A custom field's value: text, number, yes/no, date or the options picked."""


def new_id() -> str:
    """A fresh random identifier for a stored object."""
    return uuid.uuid4().hex


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"{attribute.name} must be a datetime, not {type(value).__name__}")
    if value is not None and value.utcoffset() is None:
        message = f"must be a timezone-aware datetime, got {value!r}"
        raise ValidationError({attribute.name: message})


def normalize_email(email: str) -> str:
    """E-mail addresses compare case-insensitively: store them stripped and lower-case."""
    return email.strip().lower()


class Role(enum.StrEnum):
    """What a contact is on the portal."""

    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"


class ContactState(enum.StrEnum):
    """Where a portal account stands."""

    PENDING_VERIFICATION = "pending_verification"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    DISABLED = "disabled"
    ERASED = "erased"
    """Its personal data was erased: it keeps id, role and organisation, and never acts again."""


class Priority(enum.IntEnum):
    """Ticket priority; escalation raises it one step."""

    LOWEST = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    HIGHEST = 5


class FollowUpPolicy(enum.StrEnum):
    """What a customer's update on a closed ticket does."""

    FOLLOW_UP = "follow_up"
    """Open a new ticket linked to the closed one (the default)."""
    REOPEN = "reopen"
    """Reopen the closed ticket."""
    REFUSE = "refuse"
    """Refuse the update."""


class FieldKind(enum.StrEnum):
    """The kinds of custom field a request type's form may hold."""

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    DATE = "date"
    EMAIL = "email"
    YES_NO = "yes_no"


class AttachmentRule(enum.StrEnum):
    """Whether a request type's form takes attachments."""

    NOT_ALLOWED = "not_allowed"
    OPTIONAL = "optional"
    REQUIRED = "required"


KIB = 1024
MIB = 1024 * KIB

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

DEFAULT_ALLOWED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "application/json",
        "application/zip",
        DOCX,
        XLSX,
        PPTX,
    }
)
"""The types a desk accepts unless told otherwise: images, documents, text and archives.

Left out on purpose: HTML and SVG (both can carry script), executables and
scripts, and whatever :func:`~supportdesk.attachments.sniff_content_type`
cannot name.  ``text/csv`` is not listed because sniffing cannot tell CSV
from other text: a CSV file is ``text/plain``.
"""


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive whole number, got {value!r}")


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _media_types(values: Iterable[str]) -> frozenset[str]:
    # A lone string would become a set of its letters.
    if isinstance(values, str):
        raise ValueError(f"allowed_types must be a collection of types, not the str {values!r}")
    return frozenset(value.strip().lower() for value in values)


def _check_media_types(
    _instance: object, _attribute: attrs.Attribute[frozenset[str]], value: frozenset[str]
) -> None:
    if not value:
        raise ValueError("allowed_types is empty; refuse attachments per request type instead")
    malformed = sorted(item for item in value if _MEDIA_TYPE.fullmatch(item) is None)
    if malformed:
        raise ValueError(f"allowed_types holds what is not a type/subtype: {malformed}")


@attrs.frozen(kw_only=True)
class AttachmentLimits:
    """What one desk accepts as attachments (:attr:`Desk.attachment_limits`).

    :raises ValueError: a limit is not a positive whole number, the file
        limit exceeds the ticket limit, or a type is malformed.
    """

    max_file_bytes: int = attrs.field(default=25 * MIB, validator=_positive)
    """The largest file, in bytes."""
    max_ticket_bytes: int = attrs.field(default=100 * MIB, validator=_positive)
    """The most bytes all the files of one ticket may take together."""
    max_ticket_files: int = attrs.field(default=50, validator=_positive)
    """The most files one ticket may have."""
    allowed_types: frozenset[str] = attrs.field(
        default=DEFAULT_ALLOWED_TYPES, converter=_media_types, validator=_check_media_types
    )
    """The sniffed types accepted (lower case), see
    :func:`~supportdesk.attachments.sniff_content_type`."""

    def __attrs_post_init__(self) -> None:
        if self.max_file_bytes > self.max_ticket_bytes:
            raise ValueError(
                f"max_file_bytes ({self.max_file_bytes}) exceeds "
                f"max_ticket_bytes ({self.max_ticket_bytes})"
            )


class ScanStatus(enum.StrEnum):
    """Where an attachment stands with the scanner; only ``clean`` ones are downloaded."""

    SCANNING = "scanning"
    """Stored in quarantine, waiting for its verdict."""
    CLEAN = "clean"
    """The scanner passed it, or the desk has no scanner."""
    REJECTED = "rejected"
    """The scanner refused it; its bytes are deleted."""


class ActivityKind(enum.StrEnum):
    """The entries of a ticket's activity log."""

    CREATED = "created"
    PUBLIC_UPDATE = "public_update"
    INTERNAL_NOTE = "internal_note"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    COLLABORATOR_ADDED = "collaborator_added"
    COLLABORATOR_REMOVED = "collaborator_removed"
    ATTACHMENT_ADDED = "attachment_added"
    REMINDER_SENT = "reminder_sent"
    ESCALATED = "escalated"
    AUTO_RESOLVED = "auto_resolved"
    AUTO_CLOSED = "auto_closed"
    FOLLOW_UP_CREATED = "follow_up_created"
    """On the follow-up: ``data["follow_up_of"]`` is the closed ticket's reference."""
    FOLLOWED_UP = "followed_up"
    """On the closed ticket: ``data["follow_up"]`` is the reference of the one that continued it."""
    PRIORITY_CHANGED = "priority_changed"
    """``data["priority"]`` is the new priority's name, lower-case."""
    UNASSIGNED = "unassigned"
    REQUEST_TYPE_CHANGED = "request_type_changed"
    """``data["from"]`` and ``data["to"]`` are the names of the old and the new request type."""
    SLA_WARNING = "sla_warning"
    """Internal: ``data["metric"]`` names the SLA target most of whose time has run."""
    SLA_BREACHED = "sla_breached"
    """Internal: ``data["metric"]`` names the SLA target whose time ran out."""
    SLA_MET = "sla_met"
    """Internal: ``data["metric"]`` names the SLA target met in time."""


class TimerState(enum.StrEnum):
    """Where a timer stands; only ``pending`` timers are ever fired."""

    PENDING = "pending"
    FIRED = "fired"
    SKIPPED = "skipped"
    CANCELED = "canceled"


class EventKind(enum.StrEnum):
    """The domain events use cases write to the outbox."""

    TICKET_CREATED = "ticket_created"
    """A new ticket, announced to the staff who see it; its requester gets ``ticket_received``."""
    TICKET_RECEIVED = "ticket_received"
    """The requester's confirmation of a new ticket and its reference, even when they opened it."""
    PUBLIC_UPDATE = "public_update"
    INTERNAL_NOTE = "internal_note"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    REMINDER_DUE = "reminder_due"
    CLOSING_SOON = "closing_soon"
    AUTO_RESOLVED = "auto_resolved"
    AUTO_CLOSED = "auto_closed"
    COLLABORATOR_ADDED = "collaborator_added"
    FOLLOW_UP_CREATED = "follow_up_created"
    ESCALATED = "escalated"
    ATTACHMENT_ADDED = "attachment_added"
    """A file on a public update; a file on an internal note is an ``internal_note`` event."""
    ATTACHMENT_REJECTED = "attachment_rejected"
    """A file the scanner refused after it was stored; told to its uploader only."""
    SIGNUP_REQUESTED = "signup_requested"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105 (a name, no secret)
    """A password reset link, or word that the address has no active account: e-mail only."""
    APPROVAL_NEEDED = "approval_needed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SLA_WARNING = "sla_warning"
    """Most of an SLA target's time has run (its ``warn_at``): to the desk's staff."""
    SLA_BREACHED = "sla_breached"
    """An SLA target's time ran out: to the desk's staff."""
    SLA_MET = "sla_met"
    """An SLA target was met in time: to the desk's staff."""


STAFF_ONLY_EVENTS = frozenset(
    {
        EventKind.INTERNAL_NOTE,
        EventKind.TICKET_CREATED,
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACHED,
        EventKind.SLA_MET,
    }
)
"""The events only staff hear of: public as :data:`supportdesk.notifications.STAFF_ONLY`."""


class MailOutcome(enum.StrEnum):
    """What an inbound e-mail did."""

    UPDATED = "updated"
    """A public update on the ticket it answers."""
    OPENED = "opened"
    """A new ticket."""
    FOLLOWED_UP = "followed_up"
    """A follow-up of the closed ticket it answers (the desk's follow-up policy)."""
    NOTED = "noted"
    """An internal note: staff answering a staff-only e-mail (an internal note's, say)."""
    DROPPED = "dropped"
    """Nobody wrote it: an auto-reply, a list, a loop from the desk's own address."""
    BOUNCED = "bounced"
    """A delivery failure report: ``contact_id`` is the contact whose address failed."""
    REFUSED = "refused"
    """The mailbox or the ticket said no: an unknown sender, a closed ticket."""
    DUPLICATE = "duplicate"
    """Its Message-ID was taken in before: nothing changed.  Never stored."""
    MALFORMED = "malformed"
    """Bytes no one can answer.  Never stored."""


@attrs.frozen(kw_only=True)
class ReceivedMail:
    """An inbound e-mail taken in, by its Message-ID: the same message is taken in once."""

    message_id: str
    received_at: datetime = attrs.field(validator=_aware)
    outcome: MailOutcome
    ticket_id: str | None = None
    """The ticket it updated or opened."""
    contact_id: str | None = None
    """Its sender as a contact; for a bounce, the contact whose address failed."""
    reason: str = ""
    """Why it was dropped or refused, for the mailbox's log."""


@attrs.frozen(kw_only=True)
class Organization:
    """A customer organisation (an agency, a company) whose members may share tickets."""

    id: str = attrs.field(factory=new_id)
    name: str


@attrs.frozen(kw_only=True)
class Contact:
    """A portal account: a customer, an agent or an admin.

    ``desk_ids`` lists the desks an agent works on; it is empty for customers.
    """

    id: str = attrs.field(factory=new_id)
    email: str = attrs.field(converter=normalize_email)
    full_name: str
    role: Role = Role.CUSTOMER
    state: ContactState = ContactState.ACTIVE
    organization_id: str | None = None
    desk_ids: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class Desk:
    """A service desk: its key prefixes ticket references (``HHA-13782``)."""

    id: str = attrs.field(factory=new_id)
    key: str
    name: str
    description: str = ""
    share_with_organization: bool = True
    """Whether new tickets are shared with the requester's organisation."""
    follow_up_policy: FollowUpPolicy = FollowUpPolicy.FOLLOW_UP
    follow_up_window: timedelta | None = None
    """How long after closing an update may still follow up or reopen; None is forever."""
    attachment_limits: AttachmentLimits = attrs.field(factory=AttachmentLimits)
    """Sizes, counts and sniffed types of the files its tickets accept."""
    workflow: str | None = None
    """The name of the workflow its tickets follow, one of the ``workflows`` the
    :class:`~supportdesk.SupportDesk` was given; None: the desk's default ``workflow``.
    Fixed once the desk is stored: its tickets hold that workflow's statuses."""
    calendar: str | None = None
    """The name of the calendar its timers count in, one of the ``calendars`` the
    :class:`~supportdesk.SupportDesk` was given; None: the default ``calendar``.  Fixed
    once stored, as ``workflow``; change the hours of the calendar it names instead."""


@attrs.frozen(kw_only=True)
class DependentOptions:
    """The options of a choice field that depend on the value of an earlier choice field."""

    field: str
    """The key of the choice field whose value picks the options (``product``)."""
    options: Mapping[str, tuple[str, ...]]
    """For each of that field's options, the options this field offers then
    (``{"Claims Portal": ("Access", "Data")}``), shown in the order of the field's own
    ``options``; a value not listed leaves this field hidden."""


@attrs.frozen(kw_only=True)
class FieldSpec:
    """One custom field on a request type's form (or on the sign-up form).

    See ``docs/forms.md`` for what each kind takes and how conditions read.
    """

    key: str
    label: str
    kind: FieldKind = FieldKind.SHORT_TEXT
    required: bool = False
    """Required while the field is shown; a hidden field is never required."""
    help_text: str = ""
    max_length: int | None = None
    pattern: str | None = None
    options: tuple[str, ...] = ()
    """Every option of a choice or multi-choice field, in the order they are shown."""
    min_value: float | None = None
    max_value: float | None = None
    internal: bool = False
    """Internal-only fields are filled and seen by agents only."""
    visible_when: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Show the field only when each earlier field named here has one of the values given
    (``{"no_customer_id": ("yes",)}``): an option of a choice or multi-choice field, or
    ``"yes"``/``"no"`` for a yes/no field, where an empty answer counts as ``"no"``.  A hidden
    field is neither required nor stored, and what is sent for it is ignored."""
    options_by: DependentOptions | None = None
    """Make the options of this choice or multi-choice field depend on an earlier choice field."""


@attrs.frozen(kw_only=True)
class RequestType:
    """A kind of request on a desk ("Incident", "SFTP Issue"), with its form."""

    id: str = attrs.field(factory=new_id)
    desk_id: str
    name: str
    description: str = ""
    group: str | None = None
    """The audience it is listed under ("I am a Payer"), if the desk groups its types."""
    description_required: bool = False
    fields: tuple[FieldSpec, ...] = ()
    attachments: AttachmentRule = AttachmentRule.OPTIONAL


@attrs.frozen(kw_only=True)
class Ticket:
    """A customer's request ("case"), identified to people by its reference.

    ``status_epoch`` counts status changes: a timer set in one epoch is void in
    any later one.  ``version`` counts every change and guards against lost
    updates.
    """

    id: str = attrs.field(factory=new_id)
    reference: str
    desk_id: str
    request_type_id: str
    summary: str
    description: str = ""
    fields: Mapping[str, FieldValue] = attrs.field(factory=dict)
    status: str
    sub_status: str | None = None
    priority: Priority = Priority.MEDIUM
    requester_id: str
    organization_id: str | None = None
    assignee_id: str | None = None
    shared_with_organization: bool = True
    escalated: bool = False
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    """When anything its customers can read last changed: internal notes and their files
    leave it alone, so that its time and the lists' order tell customers nothing of them."""
    resolved_at: datetime | None = attrs.field(default=None, validator=_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=_aware)
    follow_up_of: str | None = None
    status_epoch: int = 1
    version: int = 1
    sla_due_at: datetime | None = attrs.field(default=None, validator=_aware)
    """When its nearest running SLA target breaches; None when none runs, and in every copy
    a customer reads.  The desk keeps it (it is no field a use case sets)."""


@attrs.frozen(kw_only=True)
class TicketRow:
    """A ticket as a row of a list shows it, names read with it: no look-up per row.

    Names (desk, request type, requester) are as stored when the list is
    read; ``status_label`` is the workflow's label of ``status``.
    """

    id: str
    reference: str
    summary: str
    desk_id: str
    desk_key: str
    desk_name: str
    request_type_id: str
    request_type_name: str
    requester_id: str
    requester_name: str
    status: str
    """The status's name, as stored and as the ``statuses=`` filter takes it."""
    status_label: str
    """What people read for the status ("Waiting for customer")."""
    sub_status: str | None = None
    priority: Priority
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    sla_due_at: datetime | None = attrs.field(default=None, validator=_aware)
    """When its nearest running SLA target breaches, for the staff's queue of breaches to
    come; None in a customer's rows."""


@attrs.frozen(kw_only=True)
class Activity:
    """One entry of a ticket's append-only activity log.

    ``seq`` orders a ticket's entries; the store assigns it on append.
    ``actor_id`` is None for what the system did (timers).
    """

    id: str = attrs.field(factory=new_id)
    ticket_id: str
    seq: int = 0
    kind: ActivityKind
    actor_id: str | None
    at: datetime = attrs.field(validator=_aware)
    body: str = ""
    internal: bool = False
    data: Mapping[str, str] = attrs.field(factory=dict)


SYSTEM_NAME = "System"
"""Who did what no contact did (a timer's reminder, an automatic close), as people read it."""


@attrs.frozen(kw_only=True)
class ActivityEntry(Activity):
    """An activity log entry as a ticket page shows it: with who made it, named as they are now.

    An :class:`Activity` with two more fields, so that it reads like one.
    """

    actor_name: str
    """The actor's full name now; :data:`SYSTEM_NAME` for what the system did."""
    actor_role: Role | None
    """The actor's role now (an agent's reply, a customer's update); None for the system."""

    @classmethod
    def of(cls, activity: Activity, name: str | None, role: Role | None) -> ActivityEntry:
        """``activity`` told by its actor's ``name`` and ``role`` as stored (None: unknown)."""
        if activity.actor_id is None:
            name, role = SYSTEM_NAME, None
        logged = {field.name: getattr(activity, field.name) for field in attrs.fields(Activity)}
        return cls(**logged, actor_name=name or "", actor_role=role)


@attrs.frozen(kw_only=True)
class Attachment:
    """A file on a ticket: its metadata here, its bytes in a blob store under ``blob_key``.

    ``filename`` is the uploader's name made safe and ``content_type`` was
    sniffed from the bytes; neither is ever the client's word.  Only a
    ``clean`` attachment is downloaded.
    """

    id: str = attrs.field(factory=new_id)
    ticket_id: str
    activity_id: str
    """The ``attachment_added`` entry of the activity log that carries it."""
    filename: str
    content_type: str
    size: int
    """Its length in bytes."""
    sha256: str
    """Its SHA-256 digest, 64 lowercase hex digits."""
    blob_key: str
    uploader_id: str
    uploaded_at: datetime = attrs.field(validator=_aware)
    internal: bool = False
    """On an internal note: never shown to customers."""
    scan_status: ScanStatus = ScanStatus.CLEAN
    rejection_reason: str | None = None
    """Why the scanner refused it, for agents; None unless ``rejected``."""


@attrs.frozen(kw_only=True)
class Collaborator:
    """A contact a ticket is shared with ("Shared with")."""

    ticket_id: str
    contact_id: str
    added_by: str
    added_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Timer:
    """A scheduled reminder or automatic transition of one ticket.

    A timer is void unless its ticket is still in ``status`` within
    ``status_epoch`` when it fires.  A reminder whose ``stale_at`` has passed
    when it fires is skipped: a later milestone supersedes it.
    """

    id: str = attrs.field(factory=new_id)
    ticket_id: str
    name: str
    status: str
    status_epoch: int
    due_at: datetime = attrs.field(validator=_aware)
    trigger: str | None = None
    """The trigger to fire, or None for a reminder."""
    stale_at: datetime | None = attrs.field(default=None, validator=_aware)
    state: TimerState = TimerState.PENDING
    done_at: datetime | None = attrs.field(default=None, validator=_aware)


@attrs.frozen(kw_only=True)
class Recipient:
    """Who an event is for, copied from the contact when the event was written."""

    contact_id: str
    email: str
    full_name: str
    role: Role = Role.CUSTOMER

    @classmethod
    def of(cls, contact: Contact) -> Recipient:
        """The recipient for ``contact`` as it is now."""
        return cls(
            contact_id=contact.id,
            email=contact.email,
            full_name=contact.full_name,
            role=contact.role,
        )


@attrs.frozen(kw_only=True)
class Event:
    """A domain event, written to the outbox in the transaction of its change.

    ``recipients`` and ``payload`` are resolved when the event is written, so
    what is sent never depends on how the ticket looks when it is sent.  The
    ``id`` is the idempotency key of its delivery.
    """

    id: str = attrs.field(factory=new_id)
    kind: EventKind
    at: datetime = attrs.field(validator=_aware)
    ticket_id: str | None = None
    actor_id: str | None = None
    payload: Mapping[str, str] = attrs.field(factory=dict)
    recipients: tuple[Recipient, ...] = ()
    """Whom to send it to: those who hear of it, but for any who switched e-mail of its kind
    off (:class:`NotificationSettings`), who get its feed entry alone."""


class DeliveryState(enum.StrEnum):
    """Where an outbox event stands."""

    PENDING = "pending"
    """Not delivered yet: waiting for its first attempt or for a retry."""
    DELIVERED = "delivered"
    """The handler accepted it."""
    PARKED = "parked"
    """It failed too often; it waits for someone to look at it and is never lost."""


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """An event in the outbox with the state of its delivery."""

    event: Event
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    """How many deliveries failed so far."""
    last_error: str | None = None
    next_attempt_at: datetime = attrs.field(validator=_aware)
    """The event may not be claimed before this moment (its time, or a retry's)."""
    claimed_until: datetime | None = attrs.field(default=None, validator=_aware)
    """A dispatcher's lease: nobody else claims it before this moment."""
    claimed_by: str | None = None
    """The dispatcher that claimed it last, while it is pending: the only one whose
    acknowledgement (delivered or failed) counts, or who may extend the lease."""
    finished_at: datetime | None = attrs.field(default=None, validator=_aware)
    """When it was delivered or parked."""


@attrs.frozen(kw_only=True)
class Notification:
    """One entry of a contact's in-app feed (the bell), written with its event."""

    id: str = attrs.field(factory=new_id)
    contact_id: str
    event_id: str
    kind: EventKind
    at: datetime = attrs.field(validator=_aware)
    ticket_id: str | None = None
    payload: Mapping[str, str] = attrs.field(factory=dict)
    read_at: datetime | None = attrs.field(default=None, validator=_aware)

    @property
    def unread(self) -> bool:
        """True until the contact marks it read."""
        return self.read_at is None


@attrs.frozen(kw_only=True)
class NotificationSettings:
    """How a contact wants to hear of ticket events: e-mail per kind; the in-app feed always.

    Account e-mails (sign-up links, approvals) are always sent; see
    :data:`supportdesk.notifications.EMAIL_OPTIONAL` for the kinds that may be
    switched off.
    """

    contact_id: str
    email_off: frozenset[EventKind] = frozenset()
    """The kinds of event the contact gets no e-mail of, only the feed entry."""

    def emails(self, kind: EventKind) -> bool:
        """Whether the contact is e-mailed events of ``kind``."""
        return kind not in self.email_off


class TokenPurpose(enum.StrEnum):
    """What a single-use e-mail link does."""

    SIGNUP = "signup"
    """Completes a sign-up (:meth:`~supportdesk.SupportDesk.complete_signup`)."""
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, no secret)
    """Sets a new password (:meth:`~supportdesk.SupportDesk.reset_password`)."""


@attrs.frozen(kw_only=True)
class AccountToken:
    """A single-use e-mail link's token as stored: only its SHA-256, never the token itself.

    A token works only for its ``purpose``: a sign-up link never resets a
    password, nor a reset link completes a sign-up.
    """

    token_hash: str
    contact_id: str
    """The contact the link is for; empty for an address without an account (a token
    written only so that every address costs the same, stored used)."""
    purpose: TokenPurpose = TokenPurpose.SIGNUP
    created_at: datetime = attrs.field(validator=_aware)
    expires_at: datetime = attrs.field(validator=_aware)
    used_at: datetime | None = attrs.field(default=None, validator=_aware)
    """When the link was used; a used link never works again."""


@attrs.frozen(kw_only=True)
class SignupAnswers:
    """What a person gave on the sign-up form, kept while their account waits for review.

    Stored when :meth:`~supportdesk.SupportDesk.complete_signup` parks an
    account for approval, and removed once an admin decides, or when the
    contact is erased: the portal keeps what it asked for no longer than
    the review needs it.
    """

    contact_id: str
    details: Mapping[str, FieldValue] = attrs.field(factory=dict)
    """The typed answers by field key, as the sign-up form's engine checked them."""
    submitted_at: datetime = attrs.field(validator=_aware)


class Audience(enum.StrEnum):
    """Who an announcement is for."""

    EVERYONE = "everyone"
    CUSTOMERS = "customers"
    STAFF = "staff"
    """Agents and admins only."""


@attrs.frozen(kw_only=True)
class Announcement:
    """A notice on the portal's home page, shown between ``active_from`` and ``active_until``.

    The desk fills ``active_from`` (when None), ``created_at`` and ``updated_at``
    when the announcement is saved.
    """

    id: str = attrs.field(factory=new_id)
    title: str
    body: str
    audience: Audience = Audience.EVERYONE
    active_from: datetime | None = attrs.field(default=None, validator=_aware)
    """None: from the moment it is saved."""
    active_until: datetime | None = attrs.field(default=None, validator=_aware)
    """None: until it is deleted."""
    author_id: str | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=_aware)

    def is_active(self, at: datetime) -> bool:
        """True when the announcement shows at ``at``."""
        started = self.active_from is None or self.active_from <= at
        return started and (self.active_until is None or at < self.active_until)


class ArticleKind(enum.StrEnum):
    """What a knowledge-base entry is."""

    ARTICLE = "article"
    FAQ = "faq"
    """A question (the title) and its answer (the body)."""


@attrs.frozen(kw_only=True)
class Article:
    """A knowledge-base article or FAQ; drafts are for agents only.

    The desk fills ``author_id``, ``created_at`` and ``updated_at`` when it is saved.
    """

    id: str = attrs.field(factory=new_id)
    kind: ArticleKind = ArticleKind.ARTICLE
    title: str
    body: str
    tags: tuple[str, ...] = ()
    published: bool = False
    author_id: str | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=_aware)


class SearchKind(enum.StrEnum):
    """What site search finds."""

    TICKET = "ticket"
    ARTICLE = "article"
    ANNOUNCEMENT = "announcement"


@attrs.frozen(kw_only=True)
class SearchHit:
    """One search result: a ticket, an article (or FAQ) or an announcement.

    ``snippet`` is cut from text the actor may see; ``score`` ranks hits,
    higher first, and only compares hits of the same search.
    """

    kind: SearchKind
    id: str
    title: str
    """A ticket's summary, an article's or announcement's title."""
    snippet: str = ""
    reference: str | None = None
    """A ticket's reference (``HHA-13782``); None for other kinds."""
    score: float = 0.0
