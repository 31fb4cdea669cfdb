"""The accounts area's contract: single-use link tokens, password hashes and sign-up answers."""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest

from ..._errors import Conflict
from ..._models import AccountToken, SignupAnswers, TokenPurpose
from ...storage.protocol import Store
from .base import T0, ContractBase, World

SIGNUP = TokenPurpose.SIGNUP
RESET = TokenPurpose.PASSWORD_RESET


def _token(world: World, hex_pair: str, purpose: TokenPurpose = SIGNUP) -> AccountToken:
    return AccountToken(
        token_hash=hex_pair * 32,
        contact_id=world.alice.id,
        purpose=purpose,
        created_at=T0,
        expires_at=T0 + timedelta(days=1),
    )


class AccountsContract(ContractBase):
    """What every adapter's ``work.accounts`` must do; one test per promise."""

    def test_signup_token_is_used_once(self, store: Store, world: World) -> None:
        token = _token(world, "ab")
        with store.unit_of_work() as work:
            work.accounts.add_token(token)
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.accounts.add_token(token)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.accounts.mark_token_used(token.token_hash, T0)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.accounts.get_token(token.token_hash, SIGNUP) == token
            assert work.accounts.mark_token_used(token.token_hash, T0)
            assert not work.accounts.mark_token_used(token.token_hash, T0)
            assert not work.accounts.mark_token_used("cd" * 32, T0)
            assert work.accounts.get_token("cd" * 32, SIGNUP) is None
        with store.unit_of_work() as work:
            used = attrs.evolve(token, used_at=T0)
            assert work.accounts.get_token(token.token_hash, SIGNUP) == used

    def test_a_token_is_found_for_its_own_purpose_only(self, store: Store, world: World) -> None:
        signup, reset = _token(world, "ab"), _token(world, "cd", RESET)
        with store.unit_of_work() as work:
            work.accounts.add_token(signup)
            work.accounts.add_token(reset)
        with store.unit_of_work() as work:
            assert work.accounts.get_token(signup.token_hash, RESET) is None
            assert work.accounts.get_token(reset.token_hash, SIGNUP) is None
            assert work.accounts.get_token(reset.token_hash, RESET) == reset

    def test_a_contacts_tokens_of_one_purpose_are_used_up_together(
        self, store: Store, world: World
    ) -> None:
        first, second, used = (_token(world, pair, RESET) for pair in ("a1", "a2", "a3"))
        used = attrs.evolve(used, used_at=T0)
        signup = _token(world, "b1")
        bobs = attrs.evolve(_token(world, "c1", RESET), contact_id=world.bob.id)
        later = T0 + timedelta(hours=1)
        with store.unit_of_work() as work:
            for token in (first, second, used, signup, bobs):
                work.accounts.add_token(token)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.accounts.mark_contact_tokens_used(world.alice.id, RESET, later) == 2
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.accounts.mark_contact_tokens_used(world.alice.id, RESET, later) == 2
            assert work.accounts.mark_contact_tokens_used(world.alice.id, RESET, later) == 0
        with store.unit_of_work() as work:
            for token in (first, second):
                expected = attrs.evolve(token, used_at=later)
                assert work.accounts.get_token(token.token_hash, RESET) == expected
            assert work.accounts.get_token(used.token_hash, RESET) == used
            assert work.accounts.get_token(signup.token_hash, SIGNUP) == signup
            assert work.accounts.get_token(bobs.token_hash, RESET) == bobs

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

    def test_signup_answers_keep_their_types_until_removed(
        self, store: Store, world: World
    ) -> None:
        answers = SignupAnswers(
            contact_id=world.alice.id,
            details={
                "customer_id": "C123456",
                "seats": 3,
                "since": date(2020, 1, 31),
                "states": ("NY", "NJ"),
                "no_customer_id": False,
            },
            submitted_at=T0,
        )
        with store.unit_of_work() as work:
            assert work.accounts.find_signup_answers([world.alice.id]) == []
            work.accounts.put_signup_answers(answers)
            assert work.accounts.find_signup_answers([world.alice.id]) == [answers]
        again = attrs.evolve(answers, details={}, submitted_at=T0 + timedelta(hours=1))
        bobs = attrs.evolve(answers, contact_id=world.bob.id)
        with store.unit_of_work() as work:
            assert work.accounts.find_signup_answers([world.alice.id, world.bob.id]) == [answers]
            work.accounts.put_signup_answers(again)
            work.accounts.put_signup_answers(bobs)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            assert work.accounts.remove_signup_answers(world.alice.id)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            found = work.accounts.find_signup_answers([world.alice.id, world.bob.id, "nobody"])
            assert sorted(found, key=lambda a: a.contact_id) == sorted(
                [again, bobs], key=lambda a: a.contact_id
            )
            assert work.accounts.find_signup_answers([]) == []
            assert work.accounts.remove_signup_answers(world.alice.id)
        with store.unit_of_work() as work:
            assert work.accounts.find_signup_answers([world.alice.id]) == []
            assert not work.accounts.remove_signup_answers(world.alice.id)
