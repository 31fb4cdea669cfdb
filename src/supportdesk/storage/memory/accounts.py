"""The memory store's accounts: link tokens by hash; passwords and sign-up answers by contact."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import attrs

from ..._errors import Conflict
from ..._models import AccountToken, SignupAnswers, TokenPurpose
from ._changes import Area


class AccountTables:
    """Link tokens by their hash; password hashes and sign-up answers by contact id."""

    def __init__(self) -> None:
        # Every link token, of either purpose: the name predates password resets.
        self.signup_tokens: dict[str, AccountToken] = {}
        self.password_hashes: dict[str, str] = {}
        self.signup_answers: dict[str, SignupAnswers] = {}


class MemoryAccounts(Area[AccountTables]):
    """The accounts area of a :class:`~.store.MemoryUnitOfWork`."""

    def add_token(self, token: AccountToken) -> None:
        if token.token_hash in self._tables.signup_tokens:
            raise Conflict("link token", token.token_hash[:8], "this token hash exists")
        self._changes.set(self._tables.signup_tokens, token.token_hash, token)

    def get_token(self, token_hash: str, purpose: TokenPurpose) -> AccountToken | None:
        token = self._tables.signup_tokens.get(token_hash)
        return token if token is not None and token.purpose is purpose else None

    def mark_token_used(self, token_hash: str, now: datetime) -> bool:
        token = self._tables.signup_tokens.get(token_hash)
        if token is None or token.used_at is not None:
            return False
        self._changes.set(self._tables.signup_tokens, token_hash, attrs.evolve(token, used_at=now))
        return True

    def mark_contact_tokens_used(
        self, contact_id: str, purpose: TokenPurpose, now: datetime
    ) -> int:
        unused = [
            token
            for token in self._tables.signup_tokens.values()
            if token.contact_id == contact_id and token.purpose is purpose and token.used_at is None
        ]
        for token in unused:
            self._changes.set(
                self._tables.signup_tokens, token.token_hash, attrs.evolve(token, used_at=now)
            )
        return len(unused)

    def put_password_hash(self, contact_id: str, password_hash: str) -> None:
        self._changes.set(self._tables.password_hashes, contact_id, password_hash)

    def remove_password_hash(self, contact_id: str) -> bool:
        if contact_id not in self._tables.password_hashes:
            return False
        self._changes.delete(self._tables.password_hashes, contact_id)
        return True

    def get_password_hash(self, contact_id: str) -> str | None:
        return self._tables.password_hashes.get(contact_id)

    def put_signup_answers(self, answers: SignupAnswers) -> None:
        self._changes.set(self._tables.signup_answers, answers.contact_id, answers)

    def find_signup_answers(self, contact_ids: Collection[str]) -> Sequence[SignupAnswers]:
        stored = self._tables.signup_answers
        return [stored[contact_id] for contact_id in set(contact_ids) if contact_id in stored]

    def remove_signup_answers(self, contact_id: str) -> bool:
        if contact_id not in self._tables.signup_answers:
            return False
        self._changes.delete(self._tables.signup_answers, contact_id)
        return True
