"""The accounts area: single-use link tokens and password hashes, kept apart from contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..._models import AccountToken, TokenPurpose


class Accounts(Protocol):
    """What proves who a person is: single-use tokens and password hashes.

    Kept apart from :class:`~supportdesk.Contact` so that contacts handed
    around never carry them.
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
