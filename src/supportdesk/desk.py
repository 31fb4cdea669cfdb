"""SupportDesk, the facade: every use case is one method and one unit of work."""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import itertools
import logging
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypedDict, TypeVar, Unpack, cast

import attrs

from . import access, notifications
from ._errors import (
    AttachmentRejected,
    Conflict,
    InvalidToken,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StorageError,
    ValidationError,
)
from ._models import (
    Activity,
    ActivityKind,
    Announcement,
    Article,
    ArticleKind,
    Attachment,
    AttachmentLimits,
    AttachmentRule,
    Audience,
    Collaborator,
    Contact,
    ContactState,
    DeliveryState,
    Desk,
    Event,
    EventKind,
    FollowUpPolicy,
    Notification,
    Organization,
    OutboxEntry,
    Priority,
    Recipient,
    RequestType,
    Role,
    ScanStatus,
    SearchHit,
    SearchKind,
    Ticket,
    Timer,
    TimerState,
    new_id,
    normalize_email,
)
from .accounts import (
    PasswordHasher,
    ScryptHasher,
    SignupDetails,
    SignupPolicy,
    hash_token,
    issue_token,
    token_problem,
)
from .attachments import (
    ReceivedFile,
    Scanner,
    ScanVerdict,
    check_ticket_room,
    receive,
    scan_blob,
)
from .blobs import BlobStore, FilesystemBlobStore, MemoryBlobStore, safe_filename
from .clock import ALWAYS_OPEN, Calendar, Clock, SystemClock
from .forms import CleanedSubmission, Submission, validate_submission
from .notifications import DispatchReport, NotificationHandler, RetryPolicy
from .search import query_terms
from .storage.protocol import (
    AttachmentUsage,
    SearchQuery,
    Store,
    TicketQuery,
    TicketSort,
    UnitOfWork,
)
from .workflow import DEFAULT_WORKFLOW, Party, StatusCategory, Workflow

T = TypeVar("T")

_log = logging.getLogger(__name__)

Upload = tuple[str, BinaryIO]
"""A file as the host received it: the client's name for it and a stream of its bytes."""

TICKET_BLOBS = "tickets/"
"""The blob key prefix of every attachment: ``tickets/<ticket id>/<attachment id>``."""

_SWEEP_BATCH = 500


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


@attrs.frozen(kw_only=True)
class Page:
    """One page of a ticket list with the list's total count."""

    tickets: tuple[Ticket, ...]
    total: int
    """How many tickets the whole list holds, over all pages."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; None on the last page."""


@attrs.frozen(kw_only=True)
class TicketView:
    """A ticket as one actor may see it: the ticket page of a portal."""

    ticket: Ticket
    desk: Desk
    request_type: RequestType
    activities: tuple[Activity, ...]
    """The activity log, without internal entries for customers."""
    shared_with: tuple[Contact, ...]
    """The collaborators ("Shared with")."""
    actions: tuple[str, ...]
    """The workflow triggers this actor may fire now."""
    notifications_on: bool
    attachments: tuple[Attachment, ...] = ()
    """The Attachments tab, as :meth:`SupportDesk.list_attachments` shows it to this actor."""


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


@attrs.frozen
class _Context:
    """A ticket loaded for one actor inside a unit of work."""

    work: UnitOfWork
    actor: Contact
    ticket: Ticket
    collaborator_ids: frozenset[str]
    party: Party


_TIMER_ACTIVITY = {"resolve": ActivityKind.AUTO_RESOLVED, "close": ActivityKind.AUTO_CLOSED}
_TIMER_EVENT = {"resolve": EventKind.AUTO_RESOLVED, "close": EventKind.AUTO_CLOSED}
_STAFF_ROLES = frozenset({Role.AGENT, Role.ADMIN})
_CUSTOMER_AUDIENCES = frozenset({Audience.EVERYONE, Audience.CUSTOMERS})


class SupportDesk:
    """The support portal's back end.  Every use case takes the acting contact.

    A ticket the actor may not see raises :class:`~supportdesk.NotFound`,
    exactly as a ticket that does not exist.  Each call is one transaction:
    it either happens whole, events included, or not at all.  (Attachment
    bytes go to the blob store before that transaction, and are deleted
    again if it fails.)

    :param blob_store: where attachment bytes go; by default a
        :class:`~supportdesk.blobs.MemoryBlobStore` on the desk's clock.
    :param scanner: a malware scan hook; without one every attachment is
        ``clean`` once stored.
    :param scan_later: store attachments ``scanning`` and leave the scan to
        :meth:`scan_pending_attachments` (a worker) rather than scan during
        the upload.
    :raises ValueError: ``scan_later`` without a ``scanner``.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        workflow: Workflow | None = None,
        calendar: Calendar = ALWAYS_OPEN,
        retry_policy: RetryPolicy | None = None,
        signup_policy: SignupPolicy | None = None,
        password_hasher: PasswordHasher | None = None,
        blob_store: BlobStore | None = None,
        scanner: Scanner | None = None,
        scan_later: bool = False,
    ) -> None:
        if scan_later and scanner is None:
            raise ValueError("scan_later needs a scanner to scan with")
        self._store = store
        self._clock: Clock = clock or SystemClock()
        self._blobs: BlobStore = blob_store or MemoryBlobStore(clock=self._clock)
        self._scanner = scanner
        self._scan_later = scan_later
        self.workflow = workflow or Workflow(DEFAULT_WORKFLOW)
        self.workflow.check_calendar(calendar)
        self._calendar = calendar
        self.retry_policy = retry_policy or RetryPolicy()
        self.signup_policy = signup_policy or SignupPolicy()
        self._hasher: PasswordHasher = password_hasher or ScryptHasher()
        self._decoy_hash: str | None = None

    @classmethod
    def in_memory(cls, **options: Unpack[DeskOptions]) -> SupportDesk:
        """A desk on a fresh :class:`~supportdesk.storage.memory.MemoryStore`.

        ``options`` are the constructor's keyword arguments.
        """
        from .storage.memory import MemoryStore

        return cls(MemoryStore(), **options)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        create: bool = False,
        synchronous: str = "NORMAL",
        **options: Unpack[DeskOptions],
    ) -> SupportDesk:
        """A desk on the database at ``url``: ``sqlite:///portal.db`` or ``postgresql+psycopg://...``.

        Attachment bytes of a SQLite file go to a folder beside it
        (``portal.db.attachments/``) unless ``blob_store`` says otherwise; on
        any other database pass a ``blob_store`` (an S3 bucket, say).

        :param create: migrate the database to the latest schema first;
            otherwise a database that is not up to date is refused.
        :param synchronous: SQLite's ``PRAGMA synchronous`` (NORMAL or FULL).
        :raises StorageError: when the database is unreachable or not migrated.
        :raises ValueError: for a server database without a ``blob_store``.
        """
        from .storage.sql import SqlStore

        if "blob_store" not in options:
            options["blob_store"] = _default_blob_store(url)
        store = SqlStore.from_url(url, create=create, synchronous=synchronous)
        try:
            return cls(store, **options)
        except BaseException:
            store.close()
            raise

    @property
    def blob_store(self) -> BlobStore:
        """Where this desk keeps attachment bytes."""
        return self._blobs

    def dispose(self) -> None:
        """Release the store's connections and files."""
        self._store.close()

    # Directory (trusted host code: no actor).

    def add_organization(self, organization: Organization) -> Organization:
        """Store a customer organisation."""
        _require_text("name", organization.name)
        with self._store.unit_of_work() as work:
            work.put_organization(organization)
        return organization

    def add_contact(self, contact: Contact) -> Contact:
        """Store a portal account; its e-mail must be unique (case-insensitive)."""
        with self._store.unit_of_work() as work:
            self._check_contact(work, contact)
            work.put_contact(contact)
        return contact

    def _check_contact(self, work: UnitOfWork, contact: Contact) -> None:
        errors: dict[str, str] = {}
        if "@" not in contact.email:
            errors["email"] = f"{contact.email!r} is not an e-mail address"
        if not contact.full_name.strip():
            errors["full_name"] = "a contact needs a name"
        if contact.organization_id and work.get_organization(contact.organization_id) is None:
            errors["organization_id"] = f"no organisation {contact.organization_id!r}"
        unknown = sorted(d for d in contact.desk_ids if work.get_desk(d) is None)
        if unknown:
            errors["desk_ids"] = f"no such desks: {', '.join(unknown)}"
        if errors:
            raise ValidationError(errors)

    def get_contact(self, contact_id: str) -> Contact:
        """The contact with that id, for the host's own login code (unscoped)."""
        with self._store.unit_of_work() as work:
            return _found(work.get_contact(contact_id), "contact", contact_id)

    def find_contact(self, email: str) -> Contact:
        """The contact with that e-mail, for the host's own login code (unscoped)."""
        with self._store.unit_of_work() as work:
            return _found(work.get_contact_by_email(email), "contact", email)

    def add_desk(self, desk: Desk) -> Desk:
        """Store a service desk; its key (``HHA``) must be unique and upper-case."""
        if not (desk.key.isalnum() and desk.key.isupper() and 2 <= len(desk.key) <= 10):
            raise ValidationError(
                {"key": f"use 2 to 10 upper-case letters or digits: {desk.key!r}"}
            )
        _require_text("name", desk.name)
        with self._store.unit_of_work() as work:
            work.put_desk(desk)
        return desk

    def add_request_type(self, request_type: RequestType) -> RequestType:
        """Store a request type and its form on an existing desk."""
        _require_text("name", request_type.name)
        keys = [spec.key for spec in request_type.fields]
        if len(set(keys)) != len(keys):
            raise ValidationError({"fields": "two fields share a key"})
        with self._store.unit_of_work() as work:
            _found(work.get_desk(request_type.desk_id), "desk", request_type.desk_id)
            work.put_request_type(request_type)
        return request_type

    # Accounts: sign-up and passwords.

    def request_signup(self, email: str) -> None:
        """Start a sign-up: write an event that e-mails the address a single-use link.

        The event (``signup_requested``, to that address) carries the link's
        ``token`` and ``expires_at`` for the host to e-mail; only the token's
        hash is stored.  Asking again issues a fresh link.  For an address
        that already has an account the event has the same shape with
        ``template`` ``account_exists`` and no token: the caller learns
        nothing either way, as this returns None whatever the address.

        The token stays in the outbox event's payload, which the handler
        needs; it works once and only until ``expires_at``.
        """
        email = normalize_email(email)
        if "@" not in email or len(email) > 254:
            raise ValidationError({"email": f"{email!r} is not an e-mail address"})
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            contact = work.get_contact_by_email(email)
            if contact is None:
                contact = Contact(
                    email=email, full_name="", state=ContactState.PENDING_VERIFICATION
                )
                work.put_contact(contact)
            payload = {"email": email, "template": "account_exists", "token": "", "expires_at": ""}
            if contact.state is ContactState.PENDING_VERIFICATION:
                token, record = issue_token(contact.id, now, self.signup_policy.token_lifetime)
                work.add_signup_token(record)
                payload.update(
                    template="verify", token=token, expires_at=record.expires_at.isoformat()
                )
            self._emit_account(work, EventKind.SIGNUP_REQUESTED, None, now, [contact], payload)

    def complete_signup(
        self,
        token: str,
        full_name: str,
        password: str | None = None,
        *,
        organization_id: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> Contact:
        """Finish a sign-up from its link: the account becomes active, or waits for approval.

        The desk's :class:`SignupPolicy` judges the submitted details (a
        customer id, say) and decides; for review they reach the admins in
        the ``approval_needed`` event's payload as ``detail.<key>``.  A
        password, if given, is stored hashed.  An unknown, used or expired token raises
        :class:`~supportdesk.InvalidToken`; bad input raises
        :class:`~supportdesk.ValidationError` and leaves the link unused.
        """
        errors = self._password_errors(password)
        if not full_name.strip():
            errors["full_name"] = "Enter your name."
        if errors:
            raise ValidationError(errors)
        hashed = None if password is None else self._hasher.hash(password)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            contact = self._use_token(work, token, now)
            if organization_id is not None and work.get_organization(organization_id) is None:
                raise ValidationError({"organization_id": f"no organisation {organization_id!r}"})
            submitted = SignupDetails(
                email=contact.email,
                full_name=full_name.strip(),
                organization_id=organization_id,
                details=dict(details or {}),
            )
            review = self.signup_policy.needs_review(submitted)
            contact = attrs.evolve(
                contact,
                full_name=submitted.full_name,
                organization_id=organization_id,
                state=ContactState.PENDING_APPROVAL if review else ContactState.ACTIVE,
            )
            work.put_contact(contact)
            if hashed is not None:
                work.set_password_hash(contact.id, hashed)
            if review:
                admins = work.list_contacts(roles={Role.ADMIN}, state=ContactState.ACTIVE)
                payload = {
                    "email": contact.email,
                    "full_name": contact.full_name,
                    "contact_id": contact.id,
                    **{f"detail.{key}": value for key, value in submitted.details.items()},
                }
                self._emit_account(work, EventKind.APPROVAL_NEEDED, None, now, admins, payload)
            else:
                self._welcome(work, contact, None, now)
            return contact

    def _use_token(self, work: UnitOfWork, token: str, now: datetime) -> Contact:
        """Use up a sign-up token and return the contact waiting for it, or :class:`InvalidToken`.

        A later error in the use case rolls the transaction back, and with it
        the use: the link still works once the input is fixed.
        """
        record = work.get_signup_token(hash_token(token))
        problem = token_problem(record, now)
        if problem is not None or record is None:
            raise InvalidToken(problem or "unknown")
        contact = work.get_contact(record.contact_id)
        waiting = contact is not None and contact.state is ContactState.PENDING_VERIFICATION
        if contact is None or not waiting or not work.use_signup_token(record.token_hash, now):
            raise InvalidToken("already used")
        return contact

    def _password_errors(self, password: str | None) -> dict[str, str]:
        shortest = self.signup_policy.min_password_length
        if password is not None and len(password) < shortest:
            return {"password": f"Use at least {shortest} characters."}
        return {}

    def list_pending_signups(self, actor: Contact) -> Sequence[Contact]:
        """The accounts waiting for approval, by e-mail (admins)."""
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "review sign-ups")
            return work.list_contacts(state=ContactState.PENDING_APPROVAL)

    def approve_signup(self, actor: Contact, contact_id: str) -> Contact:
        """Activate an account waiting for approval (admins); the contact is told."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "approve a sign-up")
            contact = self._awaiting_approval(work, contact_id)
            contact = attrs.evolve(contact, state=ContactState.ACTIVE)
            work.put_contact(contact)
            self._welcome(work, contact, admin, now)
            return contact

    def reject_signup(self, actor: Contact, contact_id: str, reason: str = "") -> Contact:
        """Refuse an account waiting for approval (admins): it is disabled and told why.

        A disabled account keeps its address: signing up again with it only
        brings the ``account_exists`` e-mail.
        """
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "reject a sign-up")
            contact = self._awaiting_approval(work, contact_id)
            contact = attrs.evolve(contact, state=ContactState.DISABLED)
            work.put_contact(contact)
            payload = {"email": contact.email, "full_name": contact.full_name, "reason": reason}
            self._emit_account(work, EventKind.REJECTED, admin, now, [contact], payload)
            return contact

    def _awaiting_approval(self, work: UnitOfWork, contact_id: str) -> Contact:
        contact = _found(work.get_contact(contact_id), "contact", contact_id)
        if contact.state is not ContactState.PENDING_APPROVAL:
            raise ValidationError(
                {"contact_id": f"{contact.email} is {contact.state.value}, not pending_approval"}
            )
        return contact

    def _welcome(
        self, work: UnitOfWork, contact: Contact, admin: Contact | None, now: datetime
    ) -> None:
        payload = {"email": contact.email, "full_name": contact.full_name}
        self._emit_account(work, EventKind.APPROVED, admin, now, [contact], payload)

    def verify_password(self, email: str, password: str) -> Contact | None:
        """The active contact with that e-mail if ``password`` is theirs, else None.

        Takes as long for an unknown address, or one without a password, as
        for a wrong password: no timing tells which addresses exist.
        """
        with self._store.unit_of_work() as work:
            contact = work.get_contact_by_email(email)
            hashed = None if contact is None else work.get_password_hash(contact.id)
        if contact is None or hashed is None:
            self._hasher.verify(password, self._decoy())
            return None
        matches = self._hasher.verify(password, hashed)
        return contact if matches and contact.state is ContactState.ACTIVE else None

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    def set_password(self, actor: Contact, password: str | None) -> None:
        """Set or (with None) remove the actor's own password."""
        errors = self._password_errors(password)
        if errors:
            raise ValidationError(errors)
        hashed = None if password is None else self._hasher.hash(password)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            work.set_password_hash(actor.id, hashed)

    def _emit_account(
        self,
        work: UnitOfWork,
        kind: EventKind,
        actor: Contact | None,
        now: datetime,
        to: Sequence[Contact],
        payload: Mapping[str, str],
    ) -> None:
        """Write an account event (no ticket) to exactly the contacts ``to``."""
        event = Event(
            kind=kind,
            at=now,
            actor_id=None if actor is None else actor.id,
            payload=dict(payload),
            recipients=tuple(Recipient.of(contact) for contact in to),
        )
        notifications.record(work, event)

    # Reading the catalogue.

    def list_desks(self, actor: Contact) -> Sequence[Desk]:
        """The desks the portal shows on its home page."""
        with self._store.unit_of_work() as work:
            self._refresh(work, actor)
            return work.list_desks()

    def list_request_types(self, actor: Contact, desk_id: str) -> Sequence[RequestType]:
        """A desk's request types, in the order they were added."""
        with self._store.unit_of_work() as work:
            self._refresh(work, actor)
            _found(work.get_desk(desk_id), "desk", desk_id)
            return work.list_request_types(desk_id)

    # Opening and reading tickets.

    def open_ticket(
        self,
        actor: Contact,
        request_type_id: str,
        submission: Submission,
        *,
        requester_id: str | None = None,
        priority: Priority = Priority.MEDIUM,
        attachments: Sequence[Upload] = (),
    ) -> Ticket:
        """Raise a request: validate the form, allocate the reference, start the workflow.

        Agents may raise a request on a customer's behalf with ``requester_id``.
        ``attachments`` are ``(filename, stream)`` pairs, judged as
        :meth:`attach` judges one file; the request type's
        :class:`~supportdesk.AttachmentRule` decides whether they may or must
        come.  The form is checked and the files stored before the ticket is
        written, and a file refused stores nothing at all.
        """
        ticket_id = new_id()
        files: list[tuple[str, ReceivedFile]] = []
        if attachments:
            names = [filename for filename, _ in attachments]
            with self._store.unit_of_work() as work:
                checked = self._refresh(work, actor)
                desk = self._intake(
                    work, checked, request_type_id, submission, requester_id, names
                )[1]
            files = self._receive_all(ticket_id, attachments, desk.attachment_limits)
        now = self._clock.now()
        with (
            self._blobs_discarded_on_failure(received.key for _, received in files),
            self._store.unit_of_work() as work,
        ):
            actor = self._refresh(work, actor)
            request_type, desk, cleaned, requester = self._intake(
                work,
                actor,
                request_type_id,
                submission,
                requester_id,
                [r.filename for _, r in files],
            )
            ticket = Ticket(
                id=ticket_id,
                reference=f"{desk.key}-{work.allocate_reference(desk.id)}",
                desk_id=desk.id,
                request_type_id=request_type.id,
                summary=cleaned.summary,
                description=cleaned.description,
                fields=cleaned.fields,
                status=self.workflow.initial,
                priority=priority,
                requester_id=requester.id,
                organization_id=requester.organization_id,
                shared_with_organization=desk.share_with_organization,
                created_at=now,
                updated_at=now,
            )
            listed = {"attachments": ", ".join(r.filename for _, r in files)} if files else {}
            self._start(work, actor, ticket, now, **listed)
            for attachment_id, received in files:
                self._record_attachment(work, ticket, actor, attachment_id, received, now)
            return ticket

    def _intake(
        self,
        work: UnitOfWork,
        actor: Contact,
        request_type_id: str,
        submission: Submission,
        requester_id: str | None,
        filenames: Sequence[str],
    ) -> tuple[RequestType, Desk, CleanedSubmission, Contact]:
        """Check a new request and the names of its files before anything is written."""
        request_type = _found(
            work.get_request_type(request_type_id), "request type", request_type_id
        )
        cleaned = validate_submission(request_type, submission, staff=access.is_staff(actor))
        requester = self._requester(work, actor, requester_id)
        desk = _found(work.get_desk(request_type.desk_id), "desk", request_type.desk_id)
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
        requester = work.get_contact(requester_id)
        if requester is None or requester.state is not ContactState.ACTIVE:
            raise ValidationError({"requester_id": f"no active contact {requester_id!r}"})
        return requester

    def _start(
        self, work: UnitOfWork, actor: Contact, ticket: Ticket, now: datetime, **payload: str
    ) -> None:
        work.insert_ticket(ticket)
        self._log(work, ticket, ActivityKind.CREATED, actor.id, now, body=ticket.description)
        self._emit(work, ticket, EventKind.TICKET_CREATED, actor, now, **payload)
        work.add_timers(self.workflow.plan_timers(ticket, now, self._calendar))

    def get_ticket(self, actor: Contact, reference: str) -> Ticket:
        """The ticket with that reference (or id), if the actor may see it."""
        with self._store.unit_of_work() as work:
            return self._load(work, actor, reference).ticket

    def view_ticket(self, actor: Contact, reference: str) -> TicketView:
        """Everything a ticket page shows this actor, internal entries only for staff."""
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            ticket = ctx.ticket
            shared_with = tuple(
                _found(work.get_contact(c.contact_id), "contact", c.contact_id)
                for c in work.list_collaborators(ticket.id)
            )
            return TicketView(
                ticket=ticket,
                desk=_found(work.get_desk(ticket.desk_id), "desk", ticket.desk_id),
                request_type=_found(
                    work.get_request_type(ticket.request_type_id),
                    "request type",
                    ticket.request_type_id,
                ),
                activities=tuple(
                    work.list_activities(ticket.id, include_internal=access.is_staff(ctx.actor))
                ),
                shared_with=shared_with,
                actions=self.workflow.allowed_triggers(ticket.status, ctx.party),
                notifications_on=ctx.actor.id not in work.muted_contacts(ticket.id),
                attachments=self._visible_attachments(ctx),
            )

    def explain_access(self, contact_id: str, reference: str) -> access.Explanation:
        """Why a contact may or may not see a ticket, for support staff (unscoped)."""
        with self._store.unit_of_work() as work:
            contact = _found(work.get_contact(contact_id), "contact", contact_id)
            ticket = self._find(work, reference)
            ids = frozenset(c.contact_id for c in work.list_collaborators(ticket.id))
            return access.explain(contact, ticket, ids)

    # Updates and notes.

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
            if self.workflow.category(ctx.ticket.status) is StatusCategory.CLOSED:
                return self._update_closed(ctx, body, now)
            self._log(work, ctx.ticket, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=body)
            if ctx.party is Party.AGENT:
                work.touch_ticket(ctx.ticket.id, now)
                ticket = _found(work.get_ticket(ctx.ticket.id), "ticket", reference)
            else:
                ticket = self._fire(ctx, "share_update", now, announce=False)
            self._emit_update(ctx, ticket, body, now)
            return ticket

    def _emit_update(self, ctx: _Context, ticket: Ticket, body: str, now: datetime) -> None:
        """The public update's event; it says so when the update moved the ticket."""
        moved = {"from": ctx.ticket.status} if ticket.status != ctx.ticket.status else {}
        self._emit(ctx.work, ticket, EventKind.PUBLIC_UPDATE, ctx.actor, now, body=body, **moved)

    def _update_closed(self, ctx: _Context, body: str, now: datetime) -> Ticket:
        ticket = ctx.ticket
        desk = _found(ctx.work.get_desk(ticket.desk_id), "desk", ticket.desk_id)
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
        target = self.workflow.definition.reopen_to
        if target is None:
            raise InvalidTransition(ctx.ticket.status, "share_update", ctx.party.value, ())
        return self._move(ctx, "share_update", target, now, announce=False)

    def _follow_up(self, ctx: _Context, body: str, now: datetime) -> Ticket:
        original = ctx.ticket
        desk = _found(ctx.work.get_desk(original.desk_id), "desk", original.desk_id)
        requester_id = ctx.actor.id if ctx.party is not Party.AGENT else original.requester_id
        follow_up = Ticket(
            reference=f"{desk.key}-{ctx.work.allocate_reference(desk.id)}",
            desk_id=original.desk_id,
            request_type_id=original.request_type_id,
            summary=original.summary,
            description=body,
            fields=original.fields,
            status=self.workflow.initial,
            priority=original.priority,
            requester_id=requester_id,
            organization_id=original.organization_id,
            shared_with_organization=original.shared_with_organization,
            created_at=now,
            updated_at=now,
            follow_up_of=original.id,
        )
        self._start(ctx.work, ctx.actor, follow_up, now)
        for collaborator in ctx.work.list_collaborators(original.id):
            if collaborator.contact_id != requester_id:
                ctx.work.add_collaborator(attrs.evolve(collaborator, ticket_id=follow_up.id))
        if original.requester_id != requester_id:
            ctx.work.add_collaborator(
                Collaborator(
                    ticket_id=follow_up.id,
                    contact_id=original.requester_id,
                    added_by=ctx.actor.id,
                    added_at=now,
                )
            )
        data = {"follow_up_of": original.reference}
        self._log(ctx.work, follow_up, ActivityKind.FOLLOW_UP_CREATED, ctx.actor.id, now, data=data)
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
            note = self._log(
                work,
                ctx.ticket,
                ActivityKind.INTERNAL_NOTE,
                ctx.actor.id,
                now,
                body=body,
                internal=True,
            )
            self._emit(work, ctx.ticket, EventKind.INTERNAL_NOTE, ctx.actor, now, body=body)
            work.touch_ticket(ctx.ticket.id, now)
            return note

    # Attachments.

    def attach(
        self,
        actor: Contact,
        reference: str,
        filename: str,
        stream: BinaryIO,
        *,
        note: str | None = None,
        internal: bool = False,
    ) -> Attachment:
        """Attach a file to the ticket, on a public update or (agents) an internal note.

        ``note`` is the update's text, which may be left out ("Attached
        screenshot.png" is the host's to show).  The file is judged by the
        request type's :class:`~supportdesk.AttachmentRule` and the desk's
        :class:`~supportdesk.AttachmentLimits` (per file, and the ticket's
        files and bytes so far, rejected ones aside), its type sniffed from
        its bytes and its name cleaned; whatever breaks a rule raises
        :class:`~supportdesk.AttachmentRejected` naming the rule and keeps
        nothing.  With a scanner it is scanned before it is recorded, or,
        with ``scan_later``, recorded ``scanning`` for
        :meth:`scan_pending_attachments`.

        The bytes go to the blob store first, outside the transaction that
        records the attachment, its ``attachment_added`` activity and its
        event; if that transaction fails, the blob is deleted (and should
        the process die in between, :meth:`collect_orphan_blobs` removes it).
        A customer's file counts as their update: it moves the ticket back
        to support as :meth:`share_update` does.  Customers may not attach
        to a closed ticket; they share an update to follow it up.
        """
        body = (note or "").strip()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            limits, usage = self._attaching(ctx, filename, internal)
        attachment_id = new_id()
        received = self._receive(
            _blob_key(ctx.ticket.id, attachment_id), filename, stream, limits, usage
        )
        now = self._clock.now()
        with self._blobs_discarded_on_failure([received.key]), self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            limits, usage = self._attaching(ctx, received.filename, internal)
            # Another upload to this ticket may have committed while this one streamed.
            check_ticket_room(
                received.filename,
                limits,
                ticket_bytes_so_far=usage.bytes,
                ticket_files_so_far=usage.files,
                size=received.size,
            )
            attachment = self._record_attachment(
                work,
                ctx.ticket,
                ctx.actor,
                attachment_id,
                received,
                now,
                body=body,
                internal=internal,
            )
            self._announce_attachment(ctx, attachment, body, now)
            return attachment

    def _attaching(
        self, ctx: _Context, filename: str, internal: bool
    ) -> tuple[AttachmentLimits, AttachmentUsage]:
        """Whether the actor may attach ``filename`` here; the limits and what the ticket uses."""
        if internal and ctx.party is not Party.AGENT:
            raise PermissionDenied("attach a file to an internal note", "only agents may")
        closed = self.workflow.category(ctx.ticket.status) is StatusCategory.CLOSED
        if closed and ctx.party is not Party.AGENT:
            raise PermissionDenied(
                "attach a file to a closed ticket", "share an update to follow it up instead"
            )
        ticket = ctx.ticket
        request_type = _found(
            ctx.work.get_request_type(ticket.request_type_id),
            "request type",
            ticket.request_type_id,
        )
        _check_rule(request_type, filename)
        desk = _found(ctx.work.get_desk(ticket.desk_id), "desk", ticket.desk_id)
        return desk.attachment_limits, ctx.work.attachment_usage(ticket.id)

    def _receive(
        self,
        key: str,
        filename: str,
        stream: BinaryIO,
        limits: AttachmentLimits,
        usage: AttachmentUsage,
    ) -> ReceivedFile:
        """Store one upload under ``key``, scanned now unless the desk scans later."""
        return receive(
            self._blobs,
            key,
            filename,
            stream,
            limits=limits,
            ticket_bytes_so_far=usage.bytes,
            ticket_files_so_far=usage.files,
            scanner=None if self._scan_later else self._scanner,
        )

    def _receive_all(
        self, ticket_id: str, uploads: Sequence[Upload], limits: AttachmentLimits
    ) -> list[tuple[str, ReceivedFile]]:
        """Store the files of a new ticket, each with its attachment id; all of them or none."""
        files: list[tuple[str, ReceivedFile]] = []
        with self._blobs_discarded_on_failure(received.key for _, received in files):
            for filename, stream in uploads:
                usage = AttachmentUsage(files=len(files), bytes=sum(r.size for _, r in files))
                attachment_id = new_id()
                key = _blob_key(ticket_id, attachment_id)
                files.append((attachment_id, self._receive(key, filename, stream, limits, usage)))
        return files

    def _record_attachment(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        uploader: Contact,
        attachment_id: str,
        received: ReceivedFile,
        now: datetime,
        *,
        body: str = "",
        internal: bool = False,
    ) -> Attachment:
        """Write the attachment and the activity entry that carries it."""
        data = {
            "attachment_id": attachment_id,
            "filename": received.filename,
            "content_type": received.content_type,
            "size": str(received.size),
        }
        activity = self._log(
            work,
            ticket,
            ActivityKind.ATTACHMENT_ADDED,
            uploader.id,
            now,
            body=body,
            internal=internal,
            data=data,
        )
        attachment = Attachment(
            id=attachment_id,
            ticket_id=ticket.id,
            activity_id=activity.id,
            filename=received.filename,
            content_type=received.content_type,
            size=received.size,
            sha256=received.sha256,
            blob_key=received.key,
            uploader_id=uploader.id,
            uploaded_at=now,
            internal=internal,
            scan_status=ScanStatus.SCANNING if self._scan_later else ScanStatus.CLEAN,
        )
        work.add_attachment(attachment)
        return attachment

    def _announce_attachment(
        self, ctx: _Context, attachment: Attachment, body: str, now: datetime
    ) -> None:
        """Move the ticket as the update moves it, and write the event.

        A file on a note is announced as the note it is, so that it reaches
        staff only.
        """
        payload = {
            "body": body,
            "attachment_id": attachment.id,
            "filename": attachment.filename,
        }
        if attachment.internal:
            ctx.work.touch_ticket(ctx.ticket.id, now)
            self._emit(ctx.work, ctx.ticket, EventKind.INTERNAL_NOTE, ctx.actor, now, **payload)
            return
        status = ctx.ticket.status
        if ctx.party is not Party.AGENT and self.workflow.can_fire(
            status, "share_update", ctx.party
        ):
            ticket = self._fire(ctx, "share_update", now, announce=False)
        else:
            ctx.work.touch_ticket(ctx.ticket.id, now)
            ticket = _found(ctx.work.get_ticket(ctx.ticket.id), "ticket", ctx.ticket.reference)
        moved = {"from": status} if ticket.status != status else {}
        self._emit(ctx.work, ticket, EventKind.ATTACHMENT_ADDED, ctx.actor, now, **payload, **moved)

    @contextlib.contextmanager
    def _blobs_discarded_on_failure(self, keys: Iterable[str]) -> Iterator[None]:
        """Delete the blobs under ``keys`` if the block raises: no metadata will point to them.

        ``keys`` is read only on failure, so a list still being filled works.
        """
        try:
            yield
        except BaseException:
            for key in keys:
                # The original failure matters more; the orphan sweep gets what stays.
                with contextlib.suppress(StorageError):
                    self._blobs.delete(key)
            raise

    def list_attachments(self, actor: Contact, reference: str) -> tuple[Attachment, ...]:
        """The ticket's files in the order added: the Attachments tab.

        Customers see neither files on internal notes nor ``rejected`` ones;
        staff see all, a rejected one with its ``rejection_reason``.
        ``scanning`` ones are listed for everyone but not yet downloaded.
        """
        with self._store.unit_of_work() as work:
            return self._visible_attachments(self._load(work, actor, reference))

    def _visible_attachments(self, ctx: _Context) -> tuple[Attachment, ...]:
        staff = access.is_staff(ctx.actor)
        return tuple(
            ctx.work.list_attachments(ctx.ticket.id, include_internal=staff, include_rejected=staff)
        )

    def open_attachment(self, actor: Contact, attachment_id: str) -> tuple[Attachment, BinaryIO]:
        """The attachment and a stream of its bytes, which the caller closes.

        An attachment the actor may not see (its ticket is hidden from them,
        or a customer asks for one on an internal note or a rejected one)
        is :class:`~supportdesk.NotFound`, exactly as an unknown id.  One
        still being scanned raises :class:`~supportdesk.PermissionDenied`,
        a rejected one :class:`~supportdesk.AttachmentRejected` with the
        scanner's reason.
        """
        with self._store.unit_of_work() as work:
            attachment = self._downloadable(work, actor, attachment_id)
        return attachment, self._blobs.open(attachment.blob_key)

    def attachment_url(
        self, actor: Contact, attachment_id: str, *, expires_in: timedelta = timedelta(minutes=5)
    ) -> str | None:
        """A short-lived URL that downloads the attachment, or None where the blob store has none.

        Checked as :meth:`open_attachment` checks; the URL makes the browser
        save the file under its clean name (``Content-Disposition:
        attachment``) rather than show it.  Without a URL, stream
        :meth:`open_attachment` instead.
        """
        with self._store.unit_of_work() as work:
            attachment = self._downloadable(work, actor, attachment_id)
        return self._blobs.presign(
            attachment.blob_key,
            filename=attachment.filename,
            expires_in=expires_in,
            content_type=attachment.content_type,
        )

    def _downloadable(self, work: UnitOfWork, actor: Contact, attachment_id: str) -> Attachment:
        attachment = work.get_attachment(attachment_id)
        if attachment is None:
            raise NotFound("attachment", attachment_id)
        try:
            ctx = self._load(work, actor, attachment.ticket_id)
        except NotFound:
            raise NotFound("attachment", attachment_id) from None
        if attachment not in self._visible_attachments(ctx):
            raise NotFound("attachment", attachment_id)
        if attachment.scan_status is ScanStatus.SCANNING:
            raise PermissionDenied(
                f"download {attachment.filename!r}",
                "it is still being scanned for malware; try again in a minute",
            )
        if attachment.scan_status is ScanStatus.REJECTED:
            raise AttachmentRejected(
                attachment.filename, attachment.rejection_reason or "the malware scan refused it"
            )
        return attachment

    def scan_pending_attachments(self, limit: int = 100) -> ScanReport:
        """Scan up to ``limit`` attachments waiting in ``scanning``, oldest first (a worker's job).

        Each verdict is recorded in its own transaction: ``clean`` ones may
        be downloaded from then on; ``rejected`` ones get the scanner's
        reason, lose their bytes, and their uploader an
        ``attachment_rejected`` event.  A file whose bytes are gone is
        rejected.  A scan that raises leaves its attachment ``scanning`` for
        the next call.  Safe to run from several workers: the first verdict
        on a file counts.  Does nothing on a desk without a scanner.
        """
        if limit < 1:
            raise ValidationError({"limit": f"scan at least 1 attachment, not {limit}"})
        if self._scanner is None:
            return ScanReport()
        with self._store.unit_of_work() as work:
            waiting = work.attachments_to_scan(limit)
        counts = {ScanStatus.CLEAN: 0, ScanStatus.REJECTED: 0}
        failed = 0
        for attachment in waiting:
            try:
                verdict = self._verdict(self._scanner, attachment)
            except Exception:
                _log.warning("scanning attachment %s failed", attachment.id, exc_info=True)
                failed += 1
                continue
            finished = self._finish_scan(attachment, verdict)
            if finished is not None:
                counts[finished] += 1
        return ScanReport(
            clean=counts[ScanStatus.CLEAN], rejected=counts[ScanStatus.REJECTED], failed=failed
        )

    def _verdict(self, scanner: Scanner, attachment: Attachment) -> ScanVerdict:
        try:
            return scan_blob(
                self._blobs,
                attachment.blob_key,
                attachment.filename,
                attachment.content_type,
                scanner,
            )
        except NotFound:
            return ScanVerdict(clean=False, reason="its bytes were lost before the scan")

    def _finish_scan(self, attachment: Attachment, verdict: ScanVerdict) -> ScanStatus | None:
        """Record ``verdict``; None when another worker recorded one first."""
        status = ScanStatus.CLEAN if verdict.clean else ScanStatus.REJECTED
        reason = verdict.reason or "the malware scan refused it"
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            finished = work.finish_scan(attachment.id, status, reason=reason)
            if finished is None:
                return None
            if status is ScanStatus.REJECTED:
                self._tell_uploader(work, finished, now)
        if status is ScanStatus.REJECTED:
            with contextlib.suppress(StorageError):
                self._blobs.delete(attachment.blob_key)
        return status

    def _tell_uploader(self, work: UnitOfWork, attachment: Attachment, now: datetime) -> None:
        ticket = _found(work.get_ticket(attachment.ticket_id), "ticket", attachment.ticket_id)
        uploader = work.get_contact(attachment.uploader_id)
        active = uploader is not None and uploader.state is ContactState.ACTIVE
        event = Event(
            kind=EventKind.ATTACHMENT_REJECTED,
            at=now,
            ticket_id=ticket.id,
            payload={
                "reference": ticket.reference,
                "summary": ticket.summary,
                "attachment_id": attachment.id,
                "filename": attachment.filename,
                "reason": attachment.rejection_reason or "",
            },
            recipients=(Recipient.of(uploader),) if uploader is not None and active else (),
        )
        notifications.record(work, event)

    def collect_orphan_blobs(self, older_than: timedelta) -> int:
        """Delete attachment blobs no attachment needs, stored more than ``older_than`` ago.

        Such blobs are left when a process dies between storing a file and
        committing its metadata, or when deleting a refused file failed.
        The grace period keeps blobs whose upload is still being committed:
        choose it well above the longest upload and transaction (an hour,
        say).  Blobs of ``rejected`` attachments count as unneeded.  Returns
        how many blobs were deleted; run it from cron or a worker.
        """
        if older_than < timedelta(0):
            raise ValidationError(
                {"older_than": f"a grace period cannot be negative: {older_than}"}
            )
        cutoff = self._clock.now() - older_than
        keys = self._blobs.keys(TICKET_BLOBS)
        removed = 0
        while batch := list(itertools.islice(keys, _SWEEP_BATCH)):
            removed += self._collect(batch, cutoff)
        return removed

    def _collect(self, keys: Sequence[str], cutoff: datetime) -> int:
        with self._store.unit_of_work() as work:
            known = work.known_blob_keys(keys)
        old = [key for key in keys if key not in known and self._stored_before(key, cutoff)]
        if not old:
            return 0
        # Asked again: metadata may have committed while the blobs were dated.
        with self._store.unit_of_work() as work:
            known = work.known_blob_keys(old)
        orphans = [key for key in old if key not in known]
        for key in orphans:
            self._blobs.delete(key)
        return len(orphans)

    def _stored_before(self, key: str, cutoff: datetime) -> bool:
        try:
            return self._blobs.modified_at(key) < cutoff
        except NotFound:
            return False

    # Workflow.

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
            return ticket

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
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            self.workflow.fire(ctx.ticket.status, "escalate", ctx.party)
            ticket = ctx.ticket
            raised = Priority(min(ticket.priority + 1, Priority.HIGHEST))
            escalated = _changed(ticket, now, priority=raised, escalated=True)
            work.update_ticket(escalated)
            data = {"priority": raised.name.lower()}
            self._log(
                work, escalated, ActivityKind.ESCALATED, ctx.actor.id, now, body=reason, data=data
            )
            self._emit(work, escalated, EventKind.ESCALATED, ctx.actor, now, reason=reason, **data)
            return escalated

    def assign(self, actor: Contact, reference: str, assignee_id: str) -> Ticket:
        """Assign the ticket to an agent of its desk (or an admin)."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            assignee = work.get_contact(assignee_id)
            if assignee is None or access.ticket_scope(assignee).grant(ctx.ticket, ()) not in (
                access.Grant.ADMIN,
                access.Grant.DESK_AGENT,
            ):
                raise ValidationError(
                    {"assignee_id": "assign to an active agent of the ticket's desk"}
                )
            # An agent may hand an open ticket to a colleague in any status; the
            # workflow's "assign" move only applies where the table has it.
            status = ctx.ticket.status
            reassign = ctx.party is Party.AGENT and self.workflow.is_open(status)
            if reassign and not self.workflow.can_fire(status, "assign", ctx.party):
                ticket = _changed(ctx.ticket, now, assignee_id=assignee.id)
                work.update_ticket(ticket)
            else:
                ticket = self._fire(ctx, "assign", now, announce=False, assignee_id=assignee.id)
            data = {"assignee": assignee.full_name}
            self._log(work, ticket, ActivityKind.ASSIGNED, ctx.actor.id, now, data=data)
            # One notification per action: the assignment says if it moved the ticket.
            moved = {"from": ctx.ticket.status} if ticket.status != ctx.ticket.status else {}
            self._emit(
                work,
                ticket,
                EventKind.ASSIGNED,
                ctx.actor,
                now,
                assignee_id=assignee.id,
                **data,
                **moved,
            )
            return ticket

    def wait_for(self, actor: Contact, reference: str, whom: str, comment: str = "") -> Ticket:
        """Park the ticket while a third party (``whom``) acts."""
        _require_text("whom", whom)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            ticket = self._fire(
                ctx, "wait_for", now, comment=comment.strip(), sub_status=whom.strip()
            )
            if comment.strip():
                self._log(work, ticket, ActivityKind.PUBLIC_UPDATE, ctx.actor.id, now, body=comment)
            return ticket

    def _fire(
        self,
        ctx: _Context,
        trigger: str,
        now: datetime,
        *,
        comment: str = "",
        announce: bool = True,
        **changes: Any,
    ) -> Ticket:
        target = self.workflow.fire(ctx.ticket.status, trigger, ctx.party)
        if target == ctx.ticket.status and not changes:
            ctx.work.touch_ticket(ctx.ticket.id, now)
            return _found(ctx.work.get_ticket(ctx.ticket.id), "ticket", ctx.ticket.reference)
        return self._move(ctx, trigger, target, now, comment=comment, announce=announce, **changes)

    def _move(
        self,
        ctx: _Context,
        trigger: str,
        target: str,
        now: datetime,
        *,
        comment: str = "",
        announce: bool = True,
        **changes: Any,
    ) -> Ticket:
        """Change the ticket's status (or only its fields when it stays), with timers and log.

        The status event carries ``comment`` and the resolution in force;
        ``announce=False`` leaves the event to the caller (a customer's update
        announces itself).
        """
        ticket = ctx.ticket
        if target == ticket.status:
            moved = _changed(ticket, now, **changes)
            ctx.work.update_ticket(moved)
            return moved
        moved = self._entered(ticket, target, now, **changes)
        ctx.work.update_ticket(moved)
        ctx.work.cancel_timers(ticket.id, now)
        ctx.work.add_timers(self.workflow.plan_timers(moved, now, self._calendar))
        data = {"from": ticket.status, "to": target, "trigger": trigger}
        category = self.workflow.category(target)
        resolution = self._resolution(ctx.work, ticket, category, comment)
        if resolution and category is StatusCategory.RESOLVED:
            data["resolution"] = resolution
        kind = ActivityKind.STATUS_CHANGED
        event = EventKind.STATUS_CHANGED
        if ctx.party is Party.SYSTEM:
            kind = _TIMER_ACTIVITY.get(trigger, kind)
            event = _TIMER_EVENT.get(trigger, event)
        actor = None if ctx.party is Party.SYSTEM else ctx.actor
        self._log(ctx.work, moved, kind, None if actor is None else actor.id, now, data=data)
        if announce:
            payload = {**data, "comment": comment} if comment else dict(data)
            if category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
                payload["resolution"] = resolution
            if moved.resolved_at is not None:
                payload["resolved_at"] = moved.resolved_at.isoformat()
            self._emit(ctx.work, moved, event, actor, now, **payload)
        return moved

    def _resolution(
        self, work: UnitOfWork, ticket: Ticket, entering: StatusCategory, comment: str
    ) -> str:
        """What resolves the ticket as it enters a status of category ``entering``.

        Resolving (or closing an open ticket) is resolved by its comment;
        closing a resolved ticket carries the resolution in force, never one
        that a reopen has since undone.
        """
        if entering not in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
            return ""
        if self.workflow.category(ticket.status) is not StatusCategory.RESOLVED:
            return comment
        for entry in reversed(work.list_activities(ticket.id, include_internal=False)):
            if "to" in entry.data:
                return entry.data.get("resolution", "")
        return ""

    def _entered(self, ticket: Ticket, target: str, now: datetime, **changes: Any) -> Ticket:
        category = self.workflow.category(target)
        resolved_at = ticket.resolved_at
        if category is StatusCategory.RESOLVED or (
            category is StatusCategory.CLOSED and resolved_at is None
        ):
            resolved_at = now
        elif category in (StatusCategory.OPEN, StatusCategory.WAITING):
            resolved_at = None
        closed_at = now if category is StatusCategory.CLOSED else None
        sub_status = changes.pop("sub_status", None)
        return _changed(
            ticket,
            now,
            status=target,
            sub_status=sub_status,
            status_epoch=ticket.status_epoch + 1,
            resolved_at=resolved_at,
            closed_at=closed_at,
            **changes,
        )

    # Collaborators and preferences.

    def add_collaborator(self, actor: Contact, reference: str, email: str) -> Collaborator:
        """Share the ticket with an existing active contact, in or outside the organisation."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party is Party.CUSTOMER:
                raise PermissionDenied(
                    "add a collaborator", "only the requester, a collaborator or an agent may"
                )
            contact = work.get_contact_by_email(email)
            if contact is None or contact.state is not ContactState.ACTIVE:
                raise ValidationError({"email": f"{email} is not an active contact of this portal"})
            if contact.id == ctx.ticket.requester_id or contact.id in ctx.collaborator_ids:
                raise ValidationError({"email": f"{email} already takes part in this ticket"})
            collaborator = Collaborator(
                ticket_id=ctx.ticket.id, contact_id=contact.id, added_by=ctx.actor.id, added_at=now
            )
            work.add_collaborator(collaborator)
            data = {"contact": contact.full_name}
            self._log(
                work, ctx.ticket, ActivityKind.COLLABORATOR_ADDED, ctx.actor.id, now, data=data
            )
            self._emit(
                work,
                ctx.ticket,
                EventKind.COLLABORATOR_ADDED,
                ctx.actor,
                now,
                contact_id=contact.id,
            )
            work.touch_ticket(ctx.ticket.id, now)
            return collaborator

    def remove_collaborator(self, actor: Contact, reference: str, contact_id: str) -> None:
        """Stop sharing the ticket with a contact (requester, agents, or the collaborator)."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party not in (Party.REQUESTER, Party.AGENT) and ctx.actor.id != contact_id:
                raise PermissionDenied(
                    "remove a collaborator", "only the requester or an agent may"
                )
            contact = work.get_contact(contact_id)
            if contact is None or not work.remove_collaborator(ctx.ticket.id, contact_id):
                raise NotFound("collaborator", contact_id)
            data = {"contact": contact.full_name}
            self._log(
                work, ctx.ticket, ActivityKind.COLLABORATOR_REMOVED, ctx.actor.id, now, data=data
            )

    def set_notifications(self, actor: Contact, reference: str, enabled: bool) -> None:
        """Switch the actor's notifications about this ticket on or off."""
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            work.set_notifications(ctx.ticket.id, ctx.actor.id, enabled)

    def set_organization_sharing(self, actor: Contact, reference: str, shared: bool) -> Ticket:
        """Share the ticket with the requester's organisation, or stop (requester, agents)."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            if ctx.party not in (Party.REQUESTER, Party.AGENT):
                raise PermissionDenied("change sharing", "only the requester or an agent may")
            ticket = _changed(ctx.ticket, now, shared_with_organization=shared)
            work.update_ticket(ticket)
            return ticket

    # Lists.

    def list_tickets(
        self,
        actor: Contact,
        which: TicketList = TicketList.CREATED_BY_ME,
        *,
        open: bool | None = None,
        desk_id: str | None = None,
        request_type_id: str | None = None,
        statuses: Sequence[str] | None = None,
        sort: TicketSort = TicketSort.NEWEST,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page:
        """A page of one of the portal's ticket lists, with the list's total count.

        ``open`` keeps open (True) or not-open (False: resolved, closed,
        canceled) tickets; ``cursor`` continues from a previous page.
        """
        if not 1 <= limit <= 500:
            raise ValidationError({"limit": f"ask for 1 to 500 tickets per page, not {limit}"})
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            query = self._query(actor, which, open, statuses)
            if query is None:
                return Page(tickets=(), total=0, next_cursor=None)
            query = attrs.evolve(
                query,
                desk_id=desk_id,
                request_type_id=request_type_id,
                sort=sort,
                limit=limit + 1,
                after=_decode_cursor(cursor),
            )
            found = list(work.find_tickets(query))
            total = work.count_tickets(query)
        tickets = tuple(found[:limit])
        more = len(found) > limit
        return Page(
            tickets=tickets,
            total=total,
            next_cursor=_ticket_cursor(tickets[-1], sort) if more else None,
        )

    def count_tickets(self, actor: Contact, which: TicketList, *, open: bool | None = None) -> int:
        """How many tickets one of the lists holds (the portal's tab counts)."""
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            query = self._query(actor, which, open, None)
            return 0 if query is None else work.count_tickets(query)

    def _query(
        self, actor: Contact, which: TicketList, open: bool | None, statuses: Sequence[str] | None
    ) -> TicketQuery | None:
        scope = access.ticket_scope(actor)
        if scope.is_empty:
            return None
        chosen = frozenset(statuses) if statuses is not None else None
        if open is not None:
            wanted = self.workflow.open_statuses
            if not open:
                wanted = frozenset(self.workflow.statuses) - wanted
            chosen = wanted if chosen is None else chosen & wanted
        query = TicketQuery(scope=scope, statuses=chosen)
        if which is TicketList.CREATED_BY_ME:
            return attrs.evolve(query, requester_id=actor.id)
        if which is TicketList.COLLABORATING:
            return attrs.evolve(query, collaborator_id=actor.id)
        if which is TicketList.ORGANIZATION:
            if actor.organization_id is None:
                return None
            return attrs.evolve(query, organization_id=actor.organization_id)
        return query

    # Timers.

    def run_due_timers(
        self, now: datetime | None = None, *, batch_size: int = 100, max_batches: int | None = None
    ) -> SweepReport:
        """Fire the timers due at ``now``, oldest first, one transaction per batch.

        Safe to run from several workers at once: each timer fires at most
        once.  A timer whose ticket has left the status (or epoch) that set
        it is dropped; a reminder whose later milestone is also due is
        skipped, so downtime brings no burst of reminders.
        """
        now = now or self._clock.now()
        report = SweepReport()
        while max_batches is None or report.batches < max_batches:
            with self._store.unit_of_work() as work:
                due = work.claim_due_timers(now, batch_size)
                if not due:
                    break
                fired = sum(self._fire_timer(work, timer, now) for timer in due)
            report = SweepReport(
                fired=report.fired + fired,
                skipped=report.skipped + len(due) - fired,
                batches=report.batches + 1,
            )
        return report

    def next_timer_due(self) -> datetime | None:
        """When the soonest timer is due: how long a worker may sleep."""
        with self._store.unit_of_work() as work:
            return work.next_timer_due()

    def _fire_timer(self, work: UnitOfWork, timer: Timer, now: datetime) -> bool:
        ticket = work.get_ticket(timer.ticket_id)
        stale = timer.stale_at is not None and now >= timer.stale_at
        if (
            ticket is None
            or ticket.status != timer.status
            or ticket.status_epoch != timer.status_epoch
            or stale
        ):
            work.finish_timer(timer.id, TimerState.SKIPPED, now)
            return False
        work.finish_timer(timer.id, TimerState.FIRED, now)
        system = Contact(id="system", email="system@supportdesk.invalid", full_name="System")
        ctx = _Context(work, system, ticket, frozenset(), Party.SYSTEM)
        if timer.trigger is not None:
            self._fire(ctx, timer.trigger, now)
            return True
        closing = self.workflow.category(ticket.status) is StatusCategory.RESOLVED
        event = EventKind.CLOSING_SOON if closing else EventKind.REMINDER_DUE
        self._log(work, ticket, ActivityKind.REMINDER_SENT, None, now, data={"timer": timer.name})
        self._emit(work, ticket, event, None, now, timer=timer.name)
        return True

    # Announcements and the knowledge base.

    def save_announcement(self, actor: Contact, announcement: Announcement) -> Announcement:
        """Publish an announcement or change one (agents and admins); returns it as stored."""
        errors = _content_errors(announcement.title, announcement.body)
        start, end = announcement.active_from, announcement.active_until
        if start is not None and end is not None and end <= start:
            errors["active_until"] = "End the announcement after it starts."
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            staff = self._require_staff(work, actor, "publish announcements")
            stored = work.get_announcement(announcement.id)
            saved = attrs.evolve(
                announcement,
                active_from=start or now,
                author_id=stored.author_id if stored else staff.id,
                created_at=stored.created_at if stored else now,
                updated_at=now,
            )
            work.put_announcement(saved)
            return saved

    def delete_announcement(self, actor: Contact, announcement_id: str) -> None:
        """Take an announcement down for good (agents and admins)."""
        with self._store.unit_of_work() as work:
            self._require_staff(work, actor, "delete announcements")
            if not work.delete_announcement(announcement_id):
                raise NotFound("announcement", announcement_id)

    def list_announcements(
        self, actor: Contact, *, include_inactive: bool = False
    ) -> Sequence[Announcement]:
        """The announcements the actor's home page shows, newest first.

        Customers see the active ones for everyone or for customers; staff see
        every audience, and with ``include_inactive`` past and future ones too.
        """
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            return work.list_announcements(
                active_at=None if staff and include_inactive else self._clock.now(),
                audiences=None if staff else _CUSTOMER_AUDIENCES,
            )

    def save_article(self, actor: Contact, article: Article) -> Article:
        """Write or change a knowledge-base article or FAQ (agents and admins).

        Publish it with ``published=True``; until then it is a draft only
        staff see.
        """
        errors = _content_errors(article.title, article.body)
        if any(not tag.strip() for tag in article.tags):
            errors["tags"] = "Remove the empty tag."
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            staff = self._require_staff(work, actor, "write articles")
            stored = work.get_article(article.id)
            saved = attrs.evolve(
                article,
                tags=tuple(tag.strip() for tag in article.tags),
                author_id=stored.author_id if stored else staff.id,
                created_at=stored.created_at if stored else now,
                updated_at=now,
            )
            work.put_article(saved)
            return saved

    def delete_article(self, actor: Contact, article_id: str) -> None:
        """Delete a knowledge-base article or FAQ (agents and admins)."""
        with self._store.unit_of_work() as work:
            self._require_staff(work, actor, "delete articles")
            if not work.delete_article(article_id):
                raise NotFound("article", article_id)

    def get_article(self, actor: Contact, article_id: str) -> Article:
        """An article or FAQ; a draft is :class:`~supportdesk.NotFound` for customers."""
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            article = work.get_article(article_id)
            if article is None or not (article.published or access.is_staff(actor)):
                raise NotFound("article", article_id)
            return article

    def list_articles(
        self, actor: Contact, *, kind: ArticleKind | None = None, tag: str | None = None
    ) -> Sequence[Article]:
        """The knowledge base by title: published entries, and drafts too for staff."""
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            return work.list_articles(published_only=not access.is_staff(actor), kind=kind, tag=tag)

    # Search.

    def search(
        self,
        actor: Contact,
        text: str,
        *,
        kinds: Collection[SearchKind] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Search what the actor may see: tickets, knowledge-base articles, announcements.

        Tickets match on reference, summary, description and public updates,
        and on internal notes for staff only; the ticket scope is the one
        lists use, so search shows no ticket :meth:`get_ticket` would refuse.
        Customers find published articles and the announcements they are
        shown; staff find drafts too.  Every word must match; hits come best
        first.
        """
        terms = query_terms(text)
        if not terms:
            raise ValidationError({"text": "Enter a word to search for."})
        if not 1 <= limit <= 100:
            raise ValidationError({"limit": f"ask for 1 to 100 results per page, not {limit}"})
        offset = _decode_offset(cursor)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            query = SearchQuery(
                terms=terms,
                kinds=frozenset(SearchKind) if kinds is None else frozenset(kinds),
                ticket_scope=access.ticket_scope(actor),
                include_internal=staff,
                include_drafts=staff,
                audiences=frozenset(Audience) if staff else _CUSTOMER_AUDIENCES,
                now=self._clock.now(),
                limit=limit + 1,
                offset=offset,
            )
            found = work.search(query)
        hits = tuple(found[:limit])
        more = len(found) > limit
        return SearchPage(
            hits=hits, next_cursor=_encode_cursor(str(offset + limit)) if more else None
        )

    # Notifications: the outbox and the feed.

    def dispatch_notifications(
        self, handler: NotificationHandler, *, limit: int = 100
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
        """
        if limit < 1:
            raise ValidationError({"limit": f"dispatch at least 1 event, not {limit}"})
        return notifications.dispatch(self._store, self._clock, handler, self.retry_policy, limit)

    def list_undelivered(
        self, actor: Contact, *, state: DeliveryState = DeliveryState.PARKED, limit: int = 100
    ) -> Sequence[OutboxEntry]:
        """Outbox entries not delivered (parked by default, or still pending), for admins."""
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "see the outbox")
            return work.list_outbox(state=state, limit=limit)

    def retry_notification(self, actor: Contact, event_id: str) -> None:
        """Put a parked event back in the queue, due now, with its attempts reset (admins)."""
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "retry a notification")
            if not work.requeue_event(event_id, self._clock.now()):
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
        if not 1 <= limit <= 500:
            raise ValidationError({"limit": f"ask for 1 to 500 entries per page, not {limit}"})
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            found = work.list_notifications(
                actor.id, unread_only=unread_only, limit=limit + 1, before=_decode_cursor(cursor)
            )
            unread = work.count_unread_notifications(actor.id)
        entries = tuple(found[:limit])
        more = len(found) > limit
        last = entries[-1] if entries else None
        return Feed(
            notifications=entries,
            unread=unread,
            next_cursor=_encode_cursor(last.at.isoformat(), last.id) if more and last else None,
        )

    def unread_count(self, actor: Contact) -> int:
        """How many of the actor's feed entries are unread: the number on the bell."""
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            return work.count_unread_notifications(actor.id)

    def mark_read(self, actor: Contact, notification_id: str | None = None) -> int:
        """Mark one of the actor's feed entries read, or all of them when no id is given.

        Returns how many entries changed.  An id that is not the actor's own
        entry raises :class:`~supportdesk.NotFound`.
        """
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            if notification_id is None:
                return work.mark_notifications_read(actor.id, None, self._clock.now())
            entry = work.get_notification(notification_id)
            if entry is None or entry.contact_id != actor.id:
                raise NotFound("notification", notification_id)
            return work.mark_notifications_read(actor.id, [notification_id], self._clock.now())

    def preview_notifications(self, use_case: Callable[[SupportDesk], object]) -> tuple[Event, ...]:
        """What a use case would notify, and to whom, without doing it.

        ``use_case`` gets a desk on the same store and clock and calls any
        use cases on it, for example
        ``desk.preview_notifications(lambda d: d.resolve(agent, "HHA-1", "Fixed"))``.
        Everything runs in one transaction that is rolled back: nothing it
        writes persists, events and feed entries included, and a ticket it
        opens shows the reference the next ticket would get without taking
        it.  Errors of the use case propagate as they would without the
        preview.
        """
        with contextlib.suppress(_Rollback), self._store.unit_of_work() as work:
            rehearsal = _Rehearsal(work)
            # Files a rehearsal attaches must not reach the real blob store.
            scratch = MemoryBlobStore(clock=self._clock)
            use_case(self._on(_RehearsalStore(rehearsal), scratch))
            raise _Rollback
        return tuple(rehearsal.events)

    def _on(self, store: Store, blob_store: BlobStore) -> SupportDesk:
        """This desk's configuration on other stores."""
        return SupportDesk(
            store,
            blob_store=blob_store,
            scanner=self._scanner,
            scan_later=self._scan_later,
            clock=self._clock,
            workflow=self.workflow,
            calendar=self._calendar,
            retry_policy=self.retry_policy,
            signup_policy=self.signup_policy,
            password_hasher=self._hasher,
        )

    # Shared steps.

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
        current = work.get_contact(actor.id)
        if current is None or current.state is not ContactState.ACTIVE:
            raise PermissionDenied("act on this portal", f"{actor.email} is not an active contact")
        return current

    def _find(self, work: UnitOfWork, reference: str) -> Ticket:
        ticket = work.get_ticket_by_reference(reference) or work.get_ticket(reference)
        return _found(ticket, "ticket", reference)

    def _load(self, work: UnitOfWork, actor: Contact, reference: str) -> _Context:
        actor = self._refresh(work, actor)
        ticket = self._find(work, reference)
        ids = frozenset(c.contact_id for c in work.list_collaborators(ticket.id))
        grant = access.ticket_scope(actor).grant(ticket, ids)
        if grant is None:
            raise NotFound("ticket", reference)
        return _Context(work, actor, ticket, ids, _party(actor, ticket, ids))

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
        return work.append_activity(activity)

    def _emit(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        kind: EventKind,
        actor: Contact | None,
        now: datetime,
        **payload: str,
    ) -> None:
        """Write a ticket event with its recipients and payload as they are now (None: system)."""
        assignee = work.get_contact(ticket.assignee_id) if ticket.assignee_id else None
        recipients = notifications.ticket_recipients(
            kind,
            actor_id=None if actor is None else actor.id,
            customers=[
                work.get_contact(ticket.requester_id),
                *(work.get_contact(c.contact_id) for c in work.list_collaborators(ticket.id)),
            ],
            staff=[assignee, *work.list_contacts(roles=_STAFF_ROLES, desk_id=ticket.desk_id)],
            muted=work.muted_contacts(ticket.id),
        )
        payload = {
            "reference": ticket.reference,
            "summary": ticket.summary,
            "status": ticket.status,
            "actor": "System" if actor is None else actor.full_name,
            **payload,
        }
        event = Event(
            kind=kind,
            at=now,
            ticket_id=ticket.id,
            actor_id=None if actor is None else actor.id,
            payload=payload,
            recipients=recipients,
        )
        notifications.record(work, event)


class DeskOptions(TypedDict, total=False):
    """The keyword arguments of :class:`SupportDesk`, for its other constructors."""

    clock: Clock | None
    workflow: Workflow | None
    calendar: Calendar
    retry_policy: RetryPolicy | None
    signup_policy: SignupPolicy | None
    password_hasher: PasswordHasher | None
    blob_store: BlobStore | None
    scanner: Scanner | None
    scan_later: bool


def _default_blob_store(url: str) -> BlobStore:
    """A folder beside a SQLite file; anything else must name its blob store."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return FilesystemBlobStore(Path(f"{parsed.database}.attachments"))
    if parsed.get_backend_name() == "sqlite":
        return MemoryBlobStore()
    raise ValueError(
        f"a desk on {parsed.get_backend_name()} needs blob_store=... for attachment bytes "
        "(S3BlobStore or FilesystemBlobStore)"
    )


def _party(actor: Contact, ticket: Ticket, collaborator_ids: frozenset[str]) -> Party:
    if access.is_staff(actor):
        return Party.AGENT
    if actor.id == ticket.requester_id:
        return Party.REQUESTER
    if actor.id in collaborator_ids:
        return Party.COLLABORATOR
    return Party.CUSTOMER


def _blob_key(ticket_id: str, attachment_id: str) -> str:
    return f"{TICKET_BLOBS}{ticket_id}/{attachment_id}"


def _check_rule(request_type: RequestType, filename: str) -> None:
    if request_type.attachments is AttachmentRule.NOT_ALLOWED:
        raise AttachmentRejected(
            safe_filename(filename), f"{request_type.name!r} requests take no attachments"
        )


def _changed(ticket: Ticket, now: datetime, **changes: Any) -> Ticket:
    return attrs.evolve(ticket, updated_at=now, version=ticket.version + 1, **changes)


def _found(value: T | None, kind: str, key: str) -> T:
    if value is None:
        raise NotFound(kind, key)
    return value


def _require_text(name: str, value: str) -> None:
    if not value.strip():
        raise ValidationError({name: "Enter a value."})


def _content_errors(title: str, body: str) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "Enter a title."
    if not body.strip():
        errors["body"] = "Enter the text."
    return errors


def _ticket_cursor(ticket: Ticket, sort: TicketSort) -> str:
    moment = ticket.updated_at if sort is TicketSort.RECENTLY_UPDATED else ticket.created_at
    return _encode_cursor(moment.isoformat(), ticket.id)


def _encode_cursor(*parts: str) -> str:
    """An opaque page cursor holding ``parts``."""
    raw = "|".join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_parts(cursor: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ValidationError({"cursor": "not a cursor from a previous page"}) from error
    parts = raw.split("|", count - 1)
    if len(parts) != count:
        raise ValidationError({"cursor": "not a cursor from a previous page"})
    return parts


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The keyset position (time, id) in a list's cursor."""
    if cursor is None:
        return None
    moment, key = _cursor_parts(cursor, 2)
    try:
        return datetime.fromisoformat(moment), key
    except ValueError as error:
        raise ValidationError({"cursor": "not a cursor from a previous page"}) from error


def _decode_offset(cursor: str | None) -> int:
    """How many ranked results a search cursor skips."""
    if cursor is None:
        return 0
    (offset,) = _cursor_parts(cursor, 1)
    if not offset.isdigit():
        raise ValidationError({"cursor": "not a cursor from a previous page"})
    return int(offset)


class _Rollback(Exception):
    """Raised to roll a preview's transaction back."""


class _Rehearsal:
    """A unit of work that records events and takes no reference numbers.

    Every other call goes to the real unit of work, which the preview rolls back.
    """

    def __init__(self, work: UnitOfWork) -> None:
        self._work = work
        self._taken: dict[str, int] = {}
        self.events: list[Event] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)

    def allocate_reference(self, desk_id: str) -> int:
        # The counter survives rollbacks on purpose, so a preview only peeks.
        number = self._work.next_reference(desk_id) + self._taken.get(desk_id, 0)
        self._taken[desk_id] = self._taken.get(desk_id, 0) + 1
        return number

    def add_events(self, events: Collection[Event]) -> None:
        self.events.extend(events)
        self._work.add_events(events)


class _RehearsalStore:
    """A store whose every unit of work is the one rehearsal transaction."""

    def __init__(self, rehearsal: _Rehearsal) -> None:
        self._rehearsal = rehearsal

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        yield cast(UnitOfWork, self._rehearsal)

    def close(self) -> None:
        """The real store stays open."""


__all__ = [
    "TICKET_BLOBS",
    "Feed",
    "Page",
    "ScanReport",
    "SearchPage",
    "SupportDesk",
    "SweepReport",
    "TicketList",
    "TicketView",
    "Upload",
]
