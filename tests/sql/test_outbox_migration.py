"""Revision 0004: outbox leases get an owner; sign-up tokens already stored are not kept forever."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportdesk import FakeClock, SupportDesk
from supportdesk.storage.sql import SqlStore, head_revision, make_engine, upgrade
from supportdesk.testing.contract.base import T0

from .test_migrations import _upgrade_to, differences

EXPIRES = T0 + timedelta(hours=24)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url_at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at revision 0003."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_schema")
    _upgrade_to(url, "0003")
    return url


def _signup_event(event_id: str, state: str, token: str) -> dict[str, object]:
    payload = {
        "email": f"{event_id}@x.test",
        "template": "verify" if token else "account_exists",
        "token": token,
        "expires_at": EXPIRES.isoformat() if token else "",
    }
    return {
        "id": event_id,
        "kind": "signup_requested",
        "payload": json.dumps(payload),
        "recipients": "[]",
        "state": state,
        "attempts": 0,
    }


def test_signup_tokens_stored_before_0004_are_forgotten(url_at_0003: str) -> None:
    engine = make_engine(url_at_0003)
    with engine.begin() as connection:
        insert = sa.text(
            "INSERT INTO events (id, kind, at, payload, recipients, state, attempts, "
            "next_attempt_at) VALUES (:id, :kind, :at, :payload, :recipients, :state, "
            ":attempts, :next_attempt_at)"
        )
        for row in (
            _signup_event("sent", "delivered", "sent-token"),
            _signup_event("waiting", "pending", "waiting-token"),
            _signup_event("known", "pending", ""),
        ):
            # As 0003's store wrote times: naive UTC text on SQLite.
            at: object = T0.replace(tzinfo=None).isoformat(" ") if "sqlite" in url_at_0003 else T0
            connection.execute(insert, {**row, "at": at, "next_attempt_at": at})
    engine.dispose()
    assert upgrade(url_at_0003) == head_revision()
    assert differences(url_at_0003) == []

    store = SqlStore.from_url(url_at_0003)
    try:
        tokens = _tokens(store)
        assert tokens == {"sent": "", "waiting": "waiting-token", "known": ""}
        clock = FakeClock(EXPIRES - timedelta(seconds=1))
        desk = SupportDesk(store, clock=clock)
        desk.dispatch_notifications(lambda event: 1 / 0)  # the link still works: kept
        assert _tokens(store)["waiting"] == "waiting-token"
        clock.advance(timedelta(seconds=1))
        desk.dispatch_notifications(lambda event: 1 / 0)
        assert _tokens(store)["waiting"] == ""
    finally:
        store.close()


def _tokens(store: SqlStore) -> dict[str, str]:
    with store.unit_of_work() as work:
        return {e.event.id: e.event.payload["token"] for e in work.outbox.find()}
