"""Account use cases: sign-up by e-mail link, approval, and passwords."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from ._desk_base import _DeskBase, _found
from ._errors import InvalidToken, ValidationError
from ._models import Contact, ContactState, EventKind, Role, normalize_email
from .accounts import SignupDetails, hash_token, issue_token, token_problem
from .storage.protocol import UnitOfWork


class _AccountCases(_DeskBase):
    """Sign-up, approval and passwords."""

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
            contact = work.directory.get_contact_by_email(email)
            if contact is None:
                contact = Contact(
                    email=email, full_name="", state=ContactState.PENDING_VERIFICATION
                )
                work.directory.put_contact(contact)
            payload = {"email": email, "template": "account_exists", "token": "", "expires_at": ""}
            if contact.state is ContactState.PENDING_VERIFICATION:
                token, record = issue_token(contact.id, now, self.signup_policy.token_lifetime)
                work.accounts.add_signup_token(record)
                payload.update(
                    template="verify", token=token, expires_at=record.expires_at.isoformat()
                )
            self._emit_to(work, EventKind.SIGNUP_REQUESTED, None, now, [contact], payload)

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
            if (
                organization_id is not None
                and work.directory.get_organization(organization_id) is None
            ):
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
            work.directory.put_contact(contact)
            if hashed is not None:
                work.accounts.put_password_hash(contact.id, hashed)
            if review:
                self._ask_admins(work, contact, submitted, now)
            else:
                self._welcome(work, contact, None, now)
            return contact

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
        shortest = self.signup_policy.min_password_length
        if password is not None and len(password) < shortest:
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

        Takes as long for an unknown address, or one without a password, as
        for a wrong password: no timing tells which addresses exist.
        """
        with self._store.unit_of_work() as work:
            contact = work.directory.get_contact_by_email(email)
            hashed = None if contact is None else work.accounts.get_password_hash(contact.id)
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
            if hashed is None:
                work.accounts.remove_password_hash(actor.id)
            else:
                work.accounts.put_password_hash(actor.id, hashed)
