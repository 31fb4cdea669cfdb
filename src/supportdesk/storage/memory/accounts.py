"""The memory store's accounts: sign-up tokens and password hashes, by token hash and contact."""

from __future__ import annotations

from datetime import datetime

import attrs

from ..._errors import Conflict
from ..._models import SignupToken
from ._changes import Changes


class AccountTables:
    """Sign-up tokens by their hash, and password hashes by contact id."""

    def __init__(self) -> None:
        self.signup_tokens: dict[str, SignupToken] = {}
        self.password_hashes: dict[str, str] = {}


class MemoryAccounts:
    """The accounts area of a :class:`~.store.MemoryUnitOfWork`."""

    def __init__(self, tables: AccountTables, changes: Changes) -> None:
        self._tables = tables
        self._changes = changes

    def add_signup_token(self, token: SignupToken) -> None:
        if token.token_hash in self._tables.signup_tokens:
            raise Conflict("sign-up token", token.token_hash[:8], "this token hash exists")
        self._changes.set(self._tables.signup_tokens, token.token_hash, token)

    def get_signup_token(self, token_hash: str) -> SignupToken | None:
        return self._tables.signup_tokens.get(token_hash)

    def mark_signup_token_used(self, token_hash: str, now: datetime) -> bool:
        token = self._tables.signup_tokens.get(token_hash)
        if token is None or token.used_at is not None:
            return False
        self._changes.set(self._tables.signup_tokens, token_hash, attrs.evolve(token, used_at=now))
        return True

    def put_password_hash(self, contact_id: str, password_hash: str) -> None:
        self._changes.set(self._tables.password_hashes, contact_id, password_hash)

    def remove_password_hash(self, contact_id: str) -> bool:
        if contact_id not in self._tables.password_hashes:
            return False
        self._changes.delete(self._tables.password_hashes, contact_id)
        return True

    def get_password_hash(self, contact_id: str) -> str | None:
        return self._tables.password_hashes.get(contact_id)
