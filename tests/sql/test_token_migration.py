"""Revision 0005: each link token has a purpose; those stored before are sign-up links."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from supportdesk import AccountToken, TokenPurpose
from supportdesk.storage.sql import SqlStore, make_engine, upgrade
from supportdesk.storage.sql.migrate import alembic_config
from supportdesk.testing.contract.base import T0

from .test_migrations import _upgrade_to, differences

OLD_HASH = "ab" * 32


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at revision 0004 holding one sign-up token."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_schema")
    _upgrade_to(url, "0004")
    _insert_token(url, OLD_HASH)
    return url


def _insert_token(url: str, token_hash: str, **purpose: str) -> None:
    """Store a token as the schema of the time has it: with a purpose from 0005 on."""
    columns = ("token_hash", "contact_id", *purpose)
    times = ("created_at", "expires_at", "used_at")
    tokens = sa.table(
        "signup_tokens",
        *(sa.column(name, sa.String) for name in columns),
        *(sa.column(name, sa.DateTime(timezone=True)) for name in times),
    )
    row = {"token_hash": token_hash, "contact_id": "dana", **purpose}
    row |= {"created_at": T0, "expires_at": T0 + timedelta(days=1), "used_at": None}
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(tokens.insert(), row)
    engine.dispose()


def test_tokens_stored_before_are_sign_up_links(url_at_0004: str) -> None:
    upgrade(url_at_0004)
    store = SqlStore.from_url(url_at_0004)
    with store.unit_of_work() as work:
        token = work.accounts.get_token(OLD_HASH, TokenPurpose.SIGNUP)
        assert token == AccountToken(
            token_hash=OLD_HASH,
            contact_id="dana",
            purpose=TokenPurpose.SIGNUP,
            created_at=T0,
            expires_at=T0 + timedelta(days=1),
        )
        assert work.accounts.get_token(OLD_HASH, TokenPurpose.PASSWORD_RESET) is None
    store.close()
    compare_defaults = url_at_0004.startswith("postgresql")
    assert differences(url_at_0004, compare_server_default=compare_defaults) == []


def test_0005_downgrades_without_the_reset_links(url_at_0004: str) -> None:
    _upgrade_to(url_at_0004, "0005")
    _insert_token(url_at_0004, "cd" * 32, purpose=TokenPurpose.PASSWORD_RESET.value)
    engine = make_engine(url_at_0004)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    with engine.connect() as connection:
        left = connection.execute(sa.text("SELECT token_hash FROM signup_tokens")).scalars()
        assert list(left) == [OLD_HASH]
    assert "purpose" not in {c["name"] for c in sa.inspect(engine).get_columns("signup_tokens")}
    engine.dispose()
    upgrade(url_at_0004)
    assert differences(url_at_0004) == []
