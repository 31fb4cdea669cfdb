"""Account use cases: sign-up by e-mail link, approval, and passwords."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from ._desk_base import _DeskBase, _found
from ._errors import InvalidToken, ValidationError
from ._input import (
    ID_TEXT,
    SHORT_TEXT,
    check_email,
    check_optional_id,
    check_text,
    check_type,
    text_problem,
)
from ._models import Contact, ContactState, Event, EventKind, Recipient, Role
from .accounts import (
    MAX_PASSWORD_LENGTH,
    SignupDetails,
    decoy_hash,
    hash_token,
    issue_token,
    token_problem,
)
from .storage.protocol import UnitOfWork

TOKEN_TEXT = 128
"""The longest sign-up token taken: issued ones have 43 characters."""


class _AccountCases(_DeskBase):
    """Sign-up, approval and passwords."""

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
            token, record = issue_token(contact.id, now, self.signup_policy.token_lifetime)
            if not waiting:
                # Stored used, so that both paths write a token: it is sent to
                # nobody and completes nothing.
                record = attrs.evolve(record, used_at=now)
            work.accounts.add_signup_token(record)
            payload = {
                "email": email,
                "template": "verify" if waiting else "account_exists",
                "token": token if waiting else "",
                "expires_at": record.expires_at.isoformat() if waiting else "",
            }
            event = Event(
                kind=EventKind.SIGNUP_REQUESTED,
                at=now,
                payload=payload,
                recipients=(Recipient.of(contact),),
            )
            # E-mail only (no feed entry): written here, to say until when the token is kept.
            work.outbox.add([event], secret_until=record.expires_at if waiting else None)

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
        :class:`~supportdesk.InvalidToken`, before any password is hashed;
        bad input raises :class:`~supportdesk.ValidationError` and leaves the
        link unused.

        ``full_name`` is one line of at most 255 characters; ``password``
        from ``min_password_length`` to :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH`
        (1,024) characters; each of ``details`` a key of at most 64 and a
        value of at most 255 characters, on one line.  None of them may hold
        NUL or a broken character (a lone surrogate); nor may ``token``, of
        at most 128 characters, or it raises ValidationError rather than
        InvalidToken.
        """
        check_text("token", token, max_length=TOKEN_TEXT, one_line=True)
        errors = self._password_errors(password)
        check_type("full_name", full_name, str)
        if not full_name.strip():
            errors["full_name"] = "Enter your name."
        elif problem := text_problem(full_name, one_line=True):
            errors["full_name"] = problem
        details = self._checked_details(details, errors)
        organization_id = check_optional_id("organization_id", organization_id)
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        # The token first: a wrong one costs a look-up, never a password hash.
        with self._store.unit_of_work() as work:
            problem = token_problem(work.accounts.get_signup_token(hash_token(token)), now)
        if problem is not None:
            raise InvalidToken(problem)
        hashed = None if password is None else self._hasher.hash(password)
        with self._store.unit_of_work() as work:
            contact = self._use_token(work, token, now)
            if (
                organization_id is not None
                and work.directory.get_organization(organization_id) is None
            ):
                raise ValidationError({"organization_id": f"no organisation {organization_id!r}"})
            submitted = SignupDetails(
                email=contact.email,
                full_name=full_name.strip(),
                organization_id=organization_id,
                details=details,
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
                self._ask_admins(work, contact, submitted, now)
            else:
                self._welcome(work, contact, None, now)
            return contact

    @staticmethod
    def _checked_details(
        details: Mapping[str, str] | None, errors: dict[str, str]
    ) -> dict[str, str]:
        """The sign-up details as a plain dict; what is wrong with them goes to ``errors``."""
        if details is None:
            return {}
        check_type("details", details, Mapping)
        checked: dict[str, str] = {}
        for key, value in details.items():
            check_type("details", key, str)
            check_type("details", value, str)
            problem = text_problem(key, max_length=ID_TEXT, required=True, one_line=True)
            problem = problem or text_problem(value, max_length=SHORT_TEXT, one_line=True)
            if problem is not None:
                errors["details"] = problem
            checked[key] = value
        return checked

    def _ask_admins(
        self, work: UnitOfWork, contact: Contact, submitted: SignupDetails, now: datetime
    ) -> None:
        """Tell the active admins that a sign-up waits for them, with its details."""
        admins = work.directory.find_contacts(roles={Role.ADMIN}, state=ContactState.ACTIVE)
        payload = {
            "email": contact.email,
            "full_name": contact.full_name,
            "contact_id": contact.id,
            **{f"detail.{key}": value for key, value in submitted.details.items()},
        }
        self._emit_to(work, EventKind.APPROVAL_NEEDED, None, now, admins, payload)

    def _use_token(self, work: UnitOfWork, token: str, now: datetime) -> Contact:
        """Use up a sign-up token and return the contact waiting for it, or :class:`InvalidToken`.

        A later error in the use case rolls the transaction back, and with it
        the use: the link still works once the input is fixed.
        """
        record = work.accounts.get_signup_token(hash_token(token))
        problem = token_problem(record, now)
        if problem is not None or record is None:
            raise InvalidToken(problem or "unknown")
        contact = work.directory.get_contact(record.contact_id)
        waiting = contact is not None and contact.state is ContactState.PENDING_VERIFICATION
        if (
            contact is None
            or not waiting
            or not work.accounts.mark_signup_token_used(record.token_hash, now)
        ):
            raise InvalidToken("already used")
        return contact

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

    def list_pending_signups(self, actor: Contact) -> Sequence[Contact]:
        """The accounts waiting for approval, by e-mail (admins)."""
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "review sign-ups")
            return work.directory.find_contacts(state=ContactState.PENDING_APPROVAL)

    def approve_signup(self, actor: Contact, contact_id: str) -> Contact:
        """Activate an account waiting for approval (admins); the contact is told."""
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "approve a sign-up")
            contact = self._decide(work, contact_id, ContactState.ACTIVE)
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
            contact = self._decide(work, contact_id, ContactState.DISABLED)
            payload = {"email": contact.email, "full_name": contact.full_name, "reason": reason}
            self._emit_to(work, EventKind.REJECTED, admin, now, [contact], payload)
            return contact

    def _decide(self, work: UnitOfWork, contact_id: str, state: ContactState) -> Contact:
        """Move an account waiting for approval to ``state``."""
        contact = _found(work.directory.get_contact(contact_id), "contact", contact_id)
        if contact.state is not ContactState.PENDING_APPROVAL:
            raise ValidationError(
                {"contact_id": f"{contact.email} is {contact.state.value}, not pending_approval"}
            )
        contact = attrs.evolve(contact, state=state)
        work.directory.put_contact(contact)
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

        :raises ValidationError: on ``password`` when it is shorter than the
            policy's ``min_password_length``, longer than
            :data:`~supportdesk.accounts.MAX_PASSWORD_LENGTH` (1,024), or
            holds NUL or a broken character (a lone surrogate).
        """
        errors = self._password_errors(password)
        if errors:
            raise ValidationError(errors)
        hashed = None if password is None else self._hasher.hash(password)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            if hashed is None:
                work.accounts.remove_password_hash(actor.id)
            else:
                work.accounts.put_password_hash(actor.id, hashed)
