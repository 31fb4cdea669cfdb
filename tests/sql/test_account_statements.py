"""Sign-up, sign-in and reset requests cost the same for a known address and an unknown one.

Counted, never timed: the SQL statements each call sends, and the password
hasher's calls.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from supportdesk import (
    Contact,
    ContactState,
    FakeClock,
    ScryptHasher,
    SignupPolicy,
    SupportDesk,
    accounts,
)
from supportdesk.storage.sql import SqlStore

from ..conftest import build_portal
from .test_sql_store import statements

FAST = ScryptHasher(n=2**4)


class CountingHasher:
    """The fast hasher, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def hash(self, password: str) -> str:
        self.calls.append("hash")
        return FAST.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        self.calls.append("verify")
        return FAST.verify(password, hashed)


def sent_by(sql_store: SqlStore, call: object) -> list[str]:
    """The statements (BEGIN aside) that ``call()`` sends, as their SQL text."""
    assert callable(call)
    with statements(sql_store) as sent:
        call()
    return [statement for statement in sent if not statement.startswith("BEGIN")]


def every_kind_of_address(
    sql_store: SqlStore, hasher: CountingHasher
) -> tuple[SupportDesk, dict[str, str]]:
    """A desk on ``sql_store`` and an address of each kind of account, and of none, by kind."""
    portal = build_portal(sql_store, FakeClock())
    desk = SupportDesk(sql_store, clock=portal.clock, password_hasher=hasher)
    desk.set_password(portal.alice, "a long enough secret")
    desk.signup_policy = SignupPolicy.always_review()
    waiting = "waiting@x.test"
    desk.request_signup(waiting)
    with sql_store.unit_of_work() as work:
        tokens = [e.payload["token"] for e in work.outbox.list_events() if e.payload.get("token")]
    desk.complete_signup(tokens[-1], "Waiting")
    assert desk.find_contact(waiting).state is ContactState.PENDING_APPROVAL
    desk.request_signup("unverified@x.test")
    desk.add_contact(Contact(email="gone@x.test", full_name="Gone", state=ContactState.DISABLED))
    addresses = {
        "unknown": "nobody@x.test",
        "customer with a password": portal.alice.email,
        "customer without one": portal.bob.email,
        "agent with desks": portal.agent.email,
        "disabled": "gone@x.test",
        "pending approval": waiting,
        "pending verification": "unverified@x.test",
    }
    return desk, addresses


def assert_the_same_cost(
    sql_store: SqlStore,
    request: Callable[[str], None],
    addresses: dict[str, str],
    hasher: CountingHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``request`` of each address sends the same statements and hashes one token, no password."""
    hasher.calls.clear()
    token_hashes: list[str] = []
    hash_token = accounts.hash_token

    def counted(token: str) -> str:
        token_hashes.append(token)
        return hash_token(token)

    monkeypatch.setattr(accounts, "hash_token", counted)
    sent = {
        name: sent_by(sql_store, lambda a=address: request(a))
        for name, address in addresses.items()
    }
    assert len(sent["unknown"]) == 3, sent["unknown"]  # a contact read or added, a token, an event
    assert all(statements == sent["unknown"] for statements in sent.values()), sent
    assert hasher.calls == []
    assert len(token_hashes) == len(addresses)  # one token hashed for every address


def test_a_signup_request_costs_the_same_for_every_address(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher()
    desk, addresses = every_kind_of_address(sql_store, hasher)
    assert_the_same_cost(sql_store, desk.request_signup, addresses, hasher, monkeypatch)


def test_a_password_reset_request_costs_the_same_for_every_address(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = CountingHasher()
    desk, addresses = every_kind_of_address(sql_store, hasher)
    assert_the_same_cost(sql_store, desk.request_password_reset, addresses, hasher, monkeypatch)


def test_a_sign_in_costs_the_same_for_every_address(sql_store: SqlStore) -> None:
    portal = build_portal(sql_store, FakeClock())
    hasher = CountingHasher()
    desk = SupportDesk(sql_store, clock=portal.clock, password_hasher=hasher)
    desk.set_password(portal.alice, "a long enough secret")
    # The decoy is made by the first call, whichever (tests/test_accounts.py).
    desk.verify_password("first@x.test", "a wrong guess!")
    addresses = {
        "unknown": "nobody@x.test",
        "no password": portal.bob.email,
        "wrong password": portal.alice.email,
    }
    costs = {}
    for name, address in addresses.items():
        hasher.calls.clear()
        sent = sent_by(sql_store, lambda a=address: desk.verify_password(a, "a wrong guess!"))
        costs[name] = (sent, list(hasher.calls))
    assert all(cost == costs["unknown"] for cost in costs.values()), costs
    assert costs["unknown"][1] == ["verify"]
