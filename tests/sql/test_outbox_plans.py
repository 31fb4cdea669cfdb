"""Forgetting expired sign-up tokens reads the few events that hold one, by index."""

from __future__ import annotations

import pytest

from supportdesk.storage.sql import SqlStore
from supportdesk.storage.sql.outbox import EXPIRED_SECRETS
from supportdesk.testing.contract.base import T0

from .test_query_plans import _sql, sqlite_plan


def test_sqlite_finds_expired_secrets_by_the_partial_index(sqlite_store: SqlStore) -> None:
    plan = sqlite_plan(sqlite_store, EXPIRED_SECRETS.params(now=T0))
    assert any("ix_events_secret_until" in step for step in plan), plan
    assert not any(step.startswith("SCAN events") for step in plan), plan


@pytest.mark.postgres
def test_postgres_finds_expired_secrets_by_the_partial_index(postgres_store: SqlStore) -> None:
    with postgres_store.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        sql = _sql(EXPIRED_SECRETS.params(now=T0), connection.dialect)
        plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
        connection.rollback()
    assert any("ix_events_secret_until" in step for step in plan), plan
    assert not any("Seq Scan on events" in step for step in plan), plan
