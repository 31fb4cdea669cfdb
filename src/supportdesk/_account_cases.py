"""Account use cases: sign-up and password reset by e-mail link, approval, passwords, and
disabling an account."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from . import access
from ._desk_base import _changed, _DeskBase, _found, _organization_problem
from ._errors import InvalidToken, PermissionDenied, ValidationError
from ._input import (
    LONG_TEXT,
    check_choice,
    check_email,
    check_id,
    check_optional_id,
    check_text,
    check_type,
    name_problem,
    text_problem,
)
from ._models import (
    ActivityKind,
    Contact,
    ContactState,
    DeliveryState,
    Event,
    EventKind,
    FieldValue,
    Recipient,
    Role,
    SignupAnswers,
    TokenPurpose,
)
from ._views import PendingSignup
from .accounts import (
    MAX_PASSWORD_LENGTH,
    SignupDetails,
    decoy_hash,
    hash_token,
    issue_token,
    token_problem,
)
from .forms import clean_fields
from .storage.protocol import ContactQuery, Redacted, TicketQuery, UnitOfWork

TOKEN_TEXT = 128
"""The longest link token taken: issued ones have 43 characters."""

_SWITCHABLE = frozenset({ContactState.ACTIVE, ContactState.DISABLED})
"""The states an admin moves an account between; the others move by sign-up or erasure."""

_BATCH = 500
"""How many of a disabled agent's tickets are unassigned per read."""


@attrs.frozen
class _Link:
    """What a kind of single-use e-mail link does, and for whom it works."""

    purpose: TokenPurpose
    kind: EventKind
    """The event that carries the link to the person."""
    name: str
    """What :class:`InvalidToken` calls it."""
    holder: ContactState
    """The state the contact must be in for the link to work."""
    otherwise: str
    """Why the link does not work when the contact is in another state."""


_SIGNUP = _Link(
    TokenPurpose.SIGNUP,
    EventKind.SIGNUP_REQUESTED,
    "sign-up",
    ContactState.PENDING_VERIFICATION,
    # The account was completed, through this link or another one.
    "already used",
)
_RESET = _Link(
    TokenPurpose.PASSWORD_RESET,
    EventKind.PASSWORD_RESET_REQUESTED,
    "password reset",
    ContactState.ACTIVE,
    "no longer valid",
)


class _AccountCases(_DeskBase):
    """Sign-up, approval, passwords and their reset."""

    def request_signup(self, email: str) -> None:
        """Start a sign-up: write an event that e-mails the address a single-use link.

        The event (``signup_requested``, to that address) carries the link's
        ``token`` and ``expires_at`` for the host to e-mail; only the token's
        hash is stored.  Asking again issues a fresh link.  For an address
        that already has an account the event has the same shape with
        ``template`` ``account_exists`` and no token: the caller learns
        nothing either way, as this returns None whatever the address, and
        does the same work for both (the same statements, the same hashing).

        The token is in the event the handler of
        :meth:`dispatch_notifications` gets, and nowhere an admin can read
        it (:meth:`list_undelivered` shows it empty); the outbox forgets it
        once the event is delivered, or at ``expires_at`` if it never is.

        :raises ValidationError: on ``email`` unless it is one valid address
            (no line breaks, at most 254 characters).
        """
        email = check_email("email", email)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            # One statement whether the address is new or known: no oracle.
            contact = work.directory.add_contact(
                Contact(email=email, full_name="", state=ContactState.PENDING_VERIFICATION)
            )
            waiting = contact.state is ContactState.PENDING_VERIFICATION
            template = "verify" if waiting else "account_exists"
            lifetime = self.signup_policy.token_lifetime
            _send_link(work, _SIGNUP, Recipient.of(contact), template, waiting, now, lifetime)

    def request_password_reset(self, email: str) -> None:
        """Write an event that e-mails the address a single-use link to set a new password.

        Works as :meth:`request_signup` does: the event
        (``password_reset_requested``, to that address) carries the link's
        ``token`` and ``expires_at`` (``template`` ``reset``) when the
        address has an active account; for any other address (unknown,
        disabled, waiting for verification or approval) it has the same
        shape with ``template`` ``no_active_account`` and no token, and a
        recipient whose ``contact_id`` is empty when there is no account.
        Either way this returns None, sends the same statements and hashes
        the same: nobody learns which addresses have accounts.  The token is
        the handler's only and is forgotten once delivered or expired.  A
        link works for ``SignupPolicy.reset_token_lifetime`` (an hour by
        default), once, and only with :meth:`reset_password`.

        :raises ValidationError: on ``email`` unless it is one valid address.
        """
        email = check_email("email", email)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            contact = work.directory.get_contact_by_email(email)
            active = contact is not None and contact.state is ContactState.ACTIVE
            recipient = (
                Recipient(contact_id="", email=email, full_name="")
                if contact is None
                else Recipient.of(contact)
            )
            template = "reset" if active else "no_active_account"
            lifetime = self.signup_policy.reset_token_lifetime
            _send_link(work, _RESET, recipient, template, active, now, lifetime)

    def reset_password(self, token: str, password: str) -> Contact:
        """Set a new password from a reset link's token; returns the contact.

        The link works once, until it expires, and only while the account is
        active.  Setting the password uses up the contact's other reset
        links still out.  An unknown, used or expired token, or a sign-up
        link's, raises :class:`~supportdesk.InvalidToken` before the password
        is hashed; a bad password raises ValidationError and leaves the link
        unused.

        :param token: the link's token, at most 128 characters on one line.
        :param password: from the policy's ``min_password_length`` to
            :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH` characters,
            without NUL or a broken character (a lone surrogate).
        :raises InvalidToken: with ``reason`` ``unknown``, ``already used``,
            ``expired`` or ``no longer valid`` (the account was disabled).
        :raises ValidationError: on ``token`` or ``password``.
        """
        check_text("token", token, max_length=TOKEN_TEXT, one_line=True)
        check_type("password", password, str)
        errors = self._password_errors(password)
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        self._check_link(_RESET, token, now)
        hashed = self._hasher.hash(password)
        with self._store.unit_of_work() as work:
            contact = _use_link(work, _RESET, token, now)
            work.accounts.put_password_hash(contact.id, hashed)
            work.accounts.mark_contact_tokens_used(contact.id, TokenPurpose.PASSWORD_RESET, now)
            return contact

    def check_link(self, token: str, purpose: TokenPurpose) -> None:
        """Raise :class:`~supportdesk.InvalidToken` unless the e-mailed link may still work.

        What a page the link opens asks first, so that a used or expired
        link says so before the person fills in a form: ``purpose`` is
        :attr:`TokenPurpose.SIGNUP` for :meth:`complete_signup`,
        :attr:`TokenPurpose.PASSWORD_RESET` for :meth:`reset_password`.  It
        uses nothing up, and costs one look-up.

        :raises InvalidToken: with ``reason`` ``unknown``, ``already used`` or
            ``expired``.
        :raises ValidationError: on ``token`` over 128 characters or not on one line.
        """
        check_text("token", token, max_length=TOKEN_TEXT, one_line=True)
        purpose = check_choice("purpose", purpose, TokenPurpose)
        link = _SIGNUP if purpose is TokenPurpose.SIGNUP else _RESET
        self._check_link(link, token, self._clock.now())

    def _check_link(self, link: _Link, token: str, now: datetime) -> None:
        """Raise :class:`InvalidToken` unless ``token`` may work: a look-up, never a hash."""
        with self._store.unit_of_work() as work:
            record = work.accounts.get_token(hash_token(token), link.purpose)
        problem = token_problem(record, now)
        if problem is not None:
            raise InvalidToken(problem, link.name)

    def complete_signup(
        self,
        token: str,
        full_name: str,
        password: str | None = None,
        *,
        organization_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> Contact:
        """Finish a sign-up from its link: the account becomes active, or waits for approval.

        ``details`` are the answers to the desk's sign-up form
        (:attr:`SignupPolicy.fields`), raw as a web form or a JSON body gives
        them, checked by the engine that checks request types' forms: each
        field by its kind, required fields only while shown, hidden ones
        ignored, and a key the form does not declare refused.  The policy
        judges the typed answers (a customer id, say) and decides; for review
        they are kept for :meth:`list_pending_signups` until an admin decides
        (the ``approval_needed`` event tells the admins who signed up, not
        what they answered).
        A password, if given, is stored hashed.  An unknown, used or expired
        token raises :class:`~supportdesk.InvalidToken`, before any password
        is hashed; bad input raises :class:`~supportdesk.ValidationError`
        with every problem at once, by field (``full_name``, ``password``,
        each form field's key), and leaves the link unused.

        ``full_name`` is one line of at most 255 characters; ``password``
        from ``min_password_length`` to :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH`
        (1,024) characters.  None of them may hold NUL or a broken character
        (a lone surrogate); nor may ``token``, of at most 128 characters, or
        it raises ValidationError rather than InvalidToken.

        :raises TypeError: naming ``details`` when it is no mapping of str keys.
        """
        check_text("token", token, max_length=TOKEN_TEXT, one_line=True)
        errors = self._password_errors(password)
        check_type("full_name", full_name, str)
        if problem := name_problem(full_name):
            errors["full_name"] = problem
        answers = self._signup_answers(details, errors)
        organization_id = check_optional_id("organization_id", organization_id)
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        # The token first: a wrong one costs a look-up, never a password hash.
        self._check_link(_SIGNUP, token, now)
        hashed = None if password is None else self._hasher.hash(password)
        with self._store.unit_of_work() as work:
            contact = _use_link(work, _SIGNUP, token, now)
            if problem := _organization_problem(work, organization_id):
                raise ValidationError({"organization_id": problem})
            submitted = SignupDetails(
                email=contact.email,
                full_name=full_name.strip(),
                organization_id=organization_id,
                details=answers,
            )
            review = self.signup_policy.needs_review(submitted)
            contact = attrs.evolve(
                contact,
                full_name=submitted.full_name,
                organization_id=organization_id,
                state=ContactState.PENDING_APPROVAL if review else ContactState.ACTIVE,
            )
            work.directory.put_contact(contact)
            if hashed is not None:
                work.accounts.put_password_hash(contact.id, hashed)
            if review:
                self._ask_admins(work, contact, answers, now)
            else:
                self._welcome(work, contact, None, now)
            return contact

    def _signup_answers(
        self, details: Mapping[str, object] | None, errors: dict[str, str]
    ) -> dict[str, FieldValue]:
        """The sign-up form's typed answers; what is wrong with them goes to ``errors``."""
        raw = {} if details is None else details
        check_type("details", raw, Mapping)
        for key in raw:
            check_type("details", key, str)
        return clean_fields(self.signup_policy.fields, raw, errors)

    def _ask_admins(
        self, work: UnitOfWork, contact: Contact, answers: dict[str, FieldValue], now: datetime
    ) -> None:
        """Keep the sign-up's answers for the review, and tell the active admins it waits."""
        kept = SignupAnswers(contact_id=contact.id, details=answers, submitted_at=now)
        work.accounts.put_signup_answers(kept)
        admins = work.directory.find_contacts(
            ContactQuery(roles={Role.ADMIN}, state=ContactState.ACTIVE)
        )
        # Who, not what they answered: the answers go once decided, a feed entry may stay.
        payload = {"email": contact.email, "full_name": contact.full_name, "contact_id": contact.id}
        self._emit_to(work, EventKind.APPROVAL_NEEDED, None, now, admins, payload)

    def _password_errors(self, password: str | None) -> dict[str, str]:
        """What is wrong with a new password (None: none given), by field."""
        if password is None:
            return {}
        check_type("password", password, str)
        problem = text_problem(password, max_length=MAX_PASSWORD_LENGTH)
        if problem is not None:
            return {"password": problem}
        shortest = self.signup_policy.min_password_length
        if len(password) < shortest:
            return {"password": f"Use at least {shortest} characters."}
        return {}

    def list_pending_signups(self, actor: Contact) -> Sequence[PendingSignup]:
        """The accounts waiting for approval, by e-mail, each with its sign-up answers (admins).

        What an admin's review page shows: who, when, and what they gave on
        the sign-up form (a customer id, a company), in three statements
        however many wait (the admin, the accounts, their answers).
        """
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "review sign-ups")
            waiting = work.directory.find_contacts(
                ContactQuery(state=ContactState.PENDING_APPROVAL)
            )
            stored = work.accounts.find_signup_answers([contact.id for contact in waiting])
        answers = {given.contact_id: given for given in stored}
        return [_pending(contact, answers.get(contact.id)) for contact in waiting]

    def approve_signup(self, actor: Contact, contact_id: str) -> Contact:
        """Activate an account waiting for approval (admins); the contact is told."""
        check_id("contact_id", contact_id)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "approve a sign-up")
            contact = self._decide(work, contact_id, ContactState.ACTIVE)
            self._welcome(work, contact, admin, now)
            return contact

    def reject_signup(self, actor: Contact, contact_id: str, reason: str = "") -> Contact:
        """Refuse an account waiting for approval (admins): it is disabled and told why.

        A disabled account keeps its address: signing up again with it only
        brings the ``account_exists`` e-mail.  ``reason`` is told to the person as it
        is: at most 100,000 characters, without NUL or a broken character.
        """
        check_id("contact_id", contact_id)
        check_text("reason", reason, max_length=LONG_TEXT)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "reject a sign-up")
            contact = self._decide(work, contact_id, ContactState.DISABLED)
            payload = {"email": contact.email, "full_name": contact.full_name, "reason": reason}
            self._emit_to(work, EventKind.REJECTED, admin, now, [contact], payload)
            return contact

    def set_contact_state(self, actor: Contact, contact_id: str, state: ContactState) -> Contact:
        """Disable an active account, or activate a disabled one again: admins only.

        A disabled contact cannot log in (:meth:`verify_password` answers
        None), act, or hear of anything: disabling uses up their password
        reset links, takes them off the recipients of the e-mails still
        waiting in the outbox, and unassigns their open tickets (logged
        ``unassigned``, so that the tickets join "Unassigned").  Their
        tickets, words and files stay, and nobody is told.  Activating an
        account writes the ``approved`` event that tells them it is open,
        as approving a sign-up does (a sign-up once rejected is let in so).
        Accounts waiting for verification or approval move only through
        their sign-up, and an erased one never moves.

        :returns: the contact as changed (unchanged if already in ``state``).
        :raises ValidationError: on ``state`` unless it is ``active`` or
            ``disabled``, and on ``contact_id`` when the contact is in another
            state.
        :raises PermissionDenied: when the actor is no active admin, or
            disables their own account.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        check_id("contact_id", contact_id)
        check_type("state", state, ContactState)
        if state not in _SWITCHABLE:
            raise ValidationError({"state": f"set active or disabled, not {state.value}"})
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "change whether an account is active")
            if contact_id == admin.id and state is ContactState.DISABLED:
                raise PermissionDenied("disable your own account", "another admin must")
            contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            if contact.state not in _SWITCHABLE:
                moving = f"{contact.email} is {contact.state.value}, not active or disabled"
                raise ValidationError({"contact_id": moving})
            if contact.state is state:
                return contact
            contact = attrs.evolve(contact, state=state)
            work.directory.put_contact(contact)
            if state is ContactState.DISABLED:
                self._retire(work, admin, contact, now)
            else:
                self._welcome(work, contact, admin, now)
            return contact

    def _retire(self, work: UnitOfWork, admin: Contact, contact: Contact, now: datetime) -> None:
        """Undo what a disabled account still holds: reset links, queued mail, assignments."""
        work.accounts.mark_contact_tokens_used(contact.id, TokenPurpose.PASSWORD_RESET, now)
        queued = [
            _without(entry.event, contact.id)
            for entry in work.privacy.find_personal_data(contact.id).events
            if entry.state is not DeliveryState.DELIVERED
            and any(r.contact_id == contact.id for r in entry.event.recipients)
        ]
        work.privacy.mark_redacted(Redacted(events=queued))
        assigned = TicketQuery(
            scope=access.ticket_scope(admin),
            statuses=self._rules.open_statuses,
            assignee_id=contact.id,
            limit=_BATCH,
        )
        # Each batch is unassigned before the next is read: the query finds the rest.
        while batch := work.tickets.find(assigned):
            for ticket in batch:
                ticket = _changed(ticket, now, assignee_id=None)
                work.tickets.update(ticket)
                self._log(work, ticket, ActivityKind.UNASSIGNED, admin.id, now)

    def _decide(self, work: UnitOfWork, contact_id: str, state: ContactState) -> Contact:
        """Move an account waiting for approval to ``state``."""
        contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
        if contact.state is not ContactState.PENDING_APPROVAL:
            raise ValidationError(
                {"contact_id": f"{contact.email} is {contact.state.value}, not pending_approval"}
            )
        contact = attrs.evolve(contact, state=state)
        work.directory.put_contact(contact)
        # The answers served the review: decided, the portal no longer needs them.
        work.accounts.remove_signup_answers(contact.id)
        return contact

    def _welcome(
        self, work: UnitOfWork, contact: Contact, admin: Contact | None, now: datetime
    ) -> None:
        payload = {"email": contact.email, "full_name": contact.full_name}
        self._emit_to(work, EventKind.APPROVED, admin, now, [contact], payload)

    def verify_password(self, email: str, password: str) -> Contact | None:
        """The active contact with that e-mail if ``password`` is theirs, else None.

        Costs the same for an unknown address, or one without a password, as
        for a wrong password, from the first call on: the same statements and
        one password verification, against a decoy hash made once per
        process and hasher before either path looks anything up.  No timing
        tells which addresses exist.

        :raises ValidationError: on ``email`` unless it is a valid address,
            and on ``password`` when it is longer than
            :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH` or holds NUL or
            a broken character.
        """
        email = check_email("email", email)
        check_text("password", password, max_length=MAX_PASSWORD_LENGTH)
        decoy = self._decoy()
        with self._store.unit_of_work() as work:
            contact = work.directory.get_contact_by_email(email)
            # Looked up for an unknown address too, by an id no contact has.
            hashed = work.accounts.get_password_hash("" if contact is None else contact.id)
        matches = self._hasher.verify(password, decoy if hashed is None else hashed)
        if contact is None or hashed is None or not matches:
            return None
        return contact if contact.state is ContactState.ACTIVE else None

    def _decoy(self) -> str:
        """A hash of no one's password by this desk's hasher, to verify against instead."""
        made = decoy_hash(self._hasher)
        if made is None:  # A hasher that cannot be a dict key: one decoy per desk.
            if self._decoy_hash is None:
                self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            made = self._decoy_hash
        return made

    def set_password(self, actor: Contact, password: str | None) -> None:
        """Set or (with None) remove the actor's own password.

        Either way the actor's password reset links still out stop working.

        :raises ValidationError: on ``password`` when it is shorter than the
            policy's ``min_password_length``, longer than
            :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH` (1,024), or
            holds NUL or a broken character (a lone surrogate).
        """
        errors = self._password_errors(password)
        if errors:
            raise ValidationError(errors)
        hashed = None if password is None else self._hasher.hash(password)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            if hashed is None:
                work.accounts.remove_password_hash(actor.id)
            else:
                work.accounts.put_password_hash(actor.id, hashed)
            work.accounts.mark_contact_tokens_used(actor.id, TokenPurpose.PASSWORD_RESET, now)


def _send_link(
    work: UnitOfWork,
    link: _Link,
    recipient: Recipient,
    template: str,
    works: bool,
    now: datetime,
    lifetime: timedelta,
) -> None:
    """Write a link's token and the e-mail-only event that carries it to ``recipient``.

    Without ``works`` the event has the same shape, its ``token`` and
    ``expires_at`` empty, and the token is stored all the same, used: every
    path sends the same statements and hashes alike, so that neither tells
    which addresses have accounts.  Only the token's hash is stored; the
    outbox keeps the token itself until the event is delivered or expires.
    """
    token, record = issue_token(recipient.contact_id, now, lifetime, link.purpose)
    if not works:
        record = attrs.evolve(record, used_at=now)
    work.accounts.add_token(record)
    payload = {
        "email": recipient.email,
        "template": template,
        "token": token if works else "",
        "expires_at": record.expires_at.isoformat() if works else "",
    }
    event = Event(kind=link.kind, at=now, payload=payload, recipients=(recipient,))
    # E-mail only (no feed entry): written here, to say until when the token is kept.
    work.outbox.add([event], secret_until=record.expires_at if works else None)


def _use_link(work: UnitOfWork, link: _Link, token: str, now: datetime) -> Contact:
    """Use up a link's token and return its contact, or raise :class:`InvalidToken`.

    The contact must be in the state the link is for (waiting for
    verification, or active).  A later error in the use case rolls the
    transaction back, and with it the use: the link still works once the
    input is fixed.
    """
    record = work.accounts.get_token(hash_token(token), link.purpose)
    problem = token_problem(record, now)
    if problem is not None or record is None:
        raise InvalidToken(problem or "unknown", link.name)
    contact = work.directory.get_contact(record.contact_id)
    if contact is None or contact.state is not link.holder:
        raise InvalidToken(link.otherwise, link.name)
    if not work.accounts.mark_token_used(record.token_hash, now):
        raise InvalidToken("already used", link.name)
    return contact


def _pending(contact: Contact, answers: SignupAnswers | None) -> PendingSignup:
    """A sign-up waiting for review, as the review page shows it."""
    if answers is None:  # parked with none kept: before 0.2.0, or by the host's add_contact
        return PendingSignup(contact=contact, details={}, submitted_at=None)
    return PendingSignup(
        contact=contact, details=answers.details, submitted_at=answers.submitted_at
    )


def _without(event: Event, contact_id: str) -> Event:
    """``event`` addressed to everyone it was but the contact."""
    return attrs.evolve(
        event, recipients=tuple(r for r in event.recipients if r.contact_id != contact_id)
    )
