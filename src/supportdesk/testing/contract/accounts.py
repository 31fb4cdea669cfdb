"""The accounts area's contract: sign-up tokens and password hashes."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._errors import Conflict
from ..._models import (
    SignupToken,
)
from ...storage.protocol import Store
from .base import (
    T0,
    ContractBase,
    World,
)


class AccountsContract(ContractBase):
    """What every adapter's ``work.accounts`` must do; one test per promise."""

    def test_signup_token_is_used_once(self, store: Store, world: World) -> None:
        token = SignupToken(
            token_hash="ab" * 32,
            contact_id=world.alice.id,
            created_at=T0,
            expires_at=T0 + timedelta(days=1),
        )
        with store.unit_of_work() as work:
            work.accounts.add_signup_token(token)
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.accounts.add_signup_token(token)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.accounts.mark_signup_token_used(token.token_hash, T0)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.accounts.get_signup_token(token.token_hash) == token
            assert work.accounts.mark_signup_token_used(token.token_hash, T0)
            assert not work.accounts.mark_signup_token_used(token.token_hash, T0)
            assert not work.accounts.mark_signup_token_used("cd" * 32, T0)
            assert work.accounts.get_signup_token("cd" * 32) is None
        with store.unit_of_work() as work:
            assert work.accounts.get_signup_token(token.token_hash) == attrs.evolve(
                token, used_at=T0
            )

    def test_password_hash_is_kept_apart_from_the_contact(self, store: Store, world: World) -> None:
        with store.unit_of_work() as work:
            assert work.accounts.get_password_hash(world.alice.id) is None
            work.accounts.put_password_hash(world.alice.id, "scrypt$1")
        with store.unit_of_work() as work:
            assert work.accounts.get_password_hash(world.alice.id) == "scrypt$1"
            assert work.directory.get_contact(world.alice.id) == world.alice
            work.accounts.put_password_hash(world.alice.id, "scrypt$2")
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.accounts.remove_password_hash(world.alice.id)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.accounts.get_password_hash(world.alice.id) == "scrypt$2"
            assert work.accounts.remove_password_hash(world.alice.id)
        with store.unit_of_work() as work:
            assert work.accounts.get_password_hash(world.alice.id) is None
            assert not work.accounts.remove_password_hash(world.alice.id)
