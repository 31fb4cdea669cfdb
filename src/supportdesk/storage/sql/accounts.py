"""The SQL accounts: link tokens, password hashes and sign-up answers, a table each."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..._errors import Conflict
from ..._models import AccountToken, SignupAnswers, TokenPurpose
from . import dialects, rows
from ._transaction import Repository
from .schema import password_hashes, signup_answers, signup_tokens

GET_TOKEN = sa.select(signup_tokens).where(
    signup_tokens.c.token_hash == sa.bindparam("token_hash"),
    signup_tokens.c.purpose == sa.bindparam("purpose"),
)
USE_TOKEN = (
    signup_tokens.update()
    .where(
        signup_tokens.c.token_hash == sa.bindparam("match_hash"), signup_tokens.c.used_at.is_(None)
    )
    .values(used_at=sa.bindparam("now"))
)
USE_CONTACT_TOKENS = (
    signup_tokens.update()
    .where(
        signup_tokens.c.contact_id == sa.bindparam("match_contact"),
        signup_tokens.c.purpose == sa.bindparam("match_purpose"),
        signup_tokens.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("now"))
)
GET_PASSWORD_HASH = sa.select(password_hashes.c.password_hash).where(
    password_hashes.c.contact_id == sa.bindparam("contact_id")
)
REMOVE_PASSWORD_HASH = password_hashes.delete().where(
    password_hashes.c.contact_id == sa.bindparam("contact_id")
)

FIND_SIGNUP_ANSWERS = sa.select(signup_answers).where(
    signup_answers.c.contact_id.in_(sa.bindparam("contact_ids", expanding=True))
)
REMOVE_SIGNUP_ANSWERS = signup_answers.delete().where(
    signup_answers.c.contact_id == sa.bindparam("contact_id")
)


@functools.cache
def _put_by_contact(dialect_name: str, table: sa.Table) -> Any:
    """Insert a contact's row of ``table``, or replace its other columns."""
    insert = dialects.insert_for(dialect_name)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.contact_id],
        set_={
            column.name: insert.excluded[column.name]
            for column in table.columns
            if column.name != "contact_id"
        },
    )


class SqlAccounts(Repository):
    """Link tokens and password hashes in SQL."""

    def add_token(self, token: AccountToken) -> None:
        row = rows.SIGNUP_TOKENS.row(token)
        if not self._tx.add_new(signup_tokens, "token_hash", row):
            raise Conflict("link token", token.token_hash[:8], "this token hash exists")

    def get_token(self, token_hash: str, purpose: TokenPurpose) -> AccountToken | None:
        return self._tx.one(
            rows.SIGNUP_TOKENS, GET_TOKEN, token_hash=token_hash, purpose=purpose.value
        )

    def mark_token_used(self, token_hash: str, now: datetime) -> bool:
        # One UPDATE both checks and marks: of two racing users, one gets no row.
        used = self._tx.execute(USE_TOKEN, {"match_hash": token_hash, "now": now})
        return used.rowcount == 1

    def mark_contact_tokens_used(
        self, contact_id: str, purpose: TokenPurpose, now: datetime
    ) -> int:
        used = self._tx.execute(
            USE_CONTACT_TOKENS,
            {"match_contact": contact_id, "match_purpose": purpose.value, "now": now},
        )
        count: int = used.rowcount
        return count

    def put_password_hash(self, contact_id: str, password_hash: str) -> None:
        row = {"contact_id": contact_id, "password_hash": password_hash}
        self._tx.execute(_put_by_contact(self._tx.dialect_name, password_hashes), row)

    def remove_password_hash(self, contact_id: str) -> bool:
        removed = self._tx.execute(REMOVE_PASSWORD_HASH, {"contact_id": contact_id})
        return removed.rowcount == 1

    def get_password_hash(self, contact_id: str) -> str | None:
        found = self._tx.execute(GET_PASSWORD_HASH, {"contact_id": contact_id})
        password_hash: str | None = found.scalar_one_or_none()
        return password_hash

    def put_signup_answers(self, answers: SignupAnswers) -> None:
        statement = _put_by_contact(self._tx.dialect_name, signup_answers)
        self._tx.execute(statement, rows.SIGNUP_ANSWERS.row(answers))

    def find_signup_answers(self, contact_ids: Collection[str]) -> Sequence[SignupAnswers]:
        if not contact_ids:
            return []
        return self._tx.all(rows.SIGNUP_ANSWERS, FIND_SIGNUP_ANSWERS, contact_ids=list(contact_ids))

    def remove_signup_answers(self, contact_id: str) -> bool:
        removed = self._tx.execute(REMOVE_SIGNUP_ANSWERS, {"contact_id": contact_id})
        return removed.rowcount == 1
