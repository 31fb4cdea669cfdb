"""The accounts area: sign-up tokens and password hashes, kept apart from contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..._models import SignupToken


class Accounts(Protocol):
    """What proves who a person is: single-use tokens and password hashes.

    Kept apart from :class:`~supportdesk.Contact` so that contacts handed
    around never carry them.
    """

    def add_signup_token(self, token: SignupToken) -> None:
        """Store a new sign-up token; ``Conflict`` if its ``token_hash`` is taken."""
        ...

    def get_signup_token(self, token_hash: str) -> SignupToken | None:
        """The sign-up token with that hash, used or not, expired or not."""
        ...

    def mark_signup_token_used(self, token_hash: str, now: datetime) -> bool:
        """Mark an unused token used at ``now``; False when unknown or already used.

        Atomic: of two transactions using the same token, one gets False
        (SQL: ``UPDATE ... SET used_at = :now WHERE token_hash = :hash AND
        used_at IS NULL`` and check the row count).  Expiry is the caller's
        check.
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
