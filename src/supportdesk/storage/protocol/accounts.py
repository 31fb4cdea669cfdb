"""The accounts area: link tokens, password hashes and sign-up answers, kept apart from contacts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from ..._models import AccountToken, SignupAnswers, TokenPurpose


class Accounts(Protocol):
    """What proves who a person is, and what they said to get an account.

    Single-use tokens, password hashes and the answers of sign-ups waiting
    for review, kept apart from :class:`~supportdesk.Contact` so that
    contacts handed around never carry them.
    """

    def add_token(self, token: AccountToken) -> None:
        """Store a new link token; ``Conflict`` if its ``token_hash`` is taken."""
        ...

    def get_token(self, token_hash: str, purpose: TokenPurpose) -> AccountToken | None:
        """The token with that hash if it is for ``purpose``, used or not, expired or not.

        A token of another purpose is None, as an unknown one: a sign-up
        link never resets a password.
        """
        ...

    def mark_token_used(self, token_hash: str, now: datetime) -> bool:
        """Mark an unused token used at ``now``; False when unknown or already used.

        Atomic: of two transactions using the same token, one gets False
        (SQL: ``UPDATE ... SET used_at = :now WHERE token_hash = :hash AND
        used_at IS NULL`` and check the row count).  Expiry is the caller's
        check.
        """
        ...

    def mark_contact_tokens_used(
        self, contact_id: str, purpose: TokenPurpose, now: datetime
    ) -> int:
        """Mark every unused ``purpose`` token of the contact used at ``now``; how many there were.

        A changed password uses up the reset links still out.
        """
        ...

    def put_password_hash(self, contact_id: str, password_hash: str) -> None:
        """Store the contact's password hash (a :class:`PasswordHasher` string)."""
        ...

    def remove_password_hash(self, contact_id: str) -> bool:
        """Remove the contact's password hash; False when they had none."""
        ...

    def get_password_hash(self, contact_id: str) -> str | None:
        """The contact's password hash, or None when they have no password."""
        ...

    def put_signup_answers(self, answers: SignupAnswers) -> None:
        """Store the answers of the contact's sign-up, replacing any stored before."""
        ...

    def find_signup_answers(self, contact_ids: Collection[str]) -> Sequence[SignupAnswers]:
        """The stored answers of those of ``contact_ids`` who have any, in no order.

        SQL: one statement however many ids.
        """
        ...

    def remove_signup_answers(self, contact_id: str) -> bool:
        """Remove the contact's sign-up answers; False when there were none."""
        ...
