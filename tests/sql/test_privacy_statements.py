"""Export, erasure and purge on SQL: how many statements they send, and that they read by index."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa

from supportdesk import FakeClock
from supportdesk.storage.sql import SqlStore
from supportdesk.storage.sql.privacy import (
    OLD_EVENTS,
    OLD_NOTIFICATIONS,
    OLD_TIMERS,
    THEIR_COLLABORATIONS,
    THEIR_ENTRIES,
    THEIR_EVENTS,
    THEIR_FEED_ENTRIES,
    THEIR_FILES,
    THEIR_MUTES,
)
from supportdesk.testing.contract.base import T0

from ..conftest import build_portal
from .test_query_plans import sqlite_plan
from .test_sql_store import statements

EXPORT = 11
"""The admin, the contact, one statement per table that holds their rows, their settings,
their sign-up answers."""
ERASE = 26
"""Export's reads but settings and sign-up answers; the ticket and its search fields; each
redacted table once (the log's search fields too); their feed, collaborations, mutes, tokens,
password and sign-up answers; the contact."""
PURGE = 3
"""One DELETE per kind: timers, events, feed entries."""

FINDS: dict[str, sa.Select[Any]] = {
    "collaborations": THEIR_COLLABORATIONS,
    "mutes": THEIR_MUTES,
    "activity": THEIR_ENTRIES,
    "files": THEIR_FILES,
    "feed": THEIR_FEED_ENTRIES,
    "timers to purge": OLD_TIMERS,
    "events to purge": OLD_EVENTS,
    "feed entries to purge": OLD_NOTIFICATIONS,
}
"""Every statement export, erasure and purge read with, but the outbox's."""
BINDS = {"contact_id": "alice", "quoted_id": "%alice%", "before": T0, "limit": 10}


def _counted(sent: list[str]) -> list[str]:
    return [statement for statement in sent if not statement.startswith("BEGIN")]


def test_privacy_use_cases_send_few_statements(sql_store: SqlStore) -> None:
    portal = build_portal(sql_store, FakeClock())
    desk = portal.desk
    ticket = portal.open()
    desk.share_update(portal.alice, ticket.reference, "More details")
    desk.attach(portal.alice, ticket.reference, "log.txt", io.BytesIO(b"batch 7"))

    with statements(sql_store) as sent:
        desk.export_contact_data(portal.admin, portal.alice.id)
    assert len(_counted(sent)) == EXPORT, sent
    with statements(sql_store) as sent:
        desk.erase_contact(portal.admin, portal.alice.id)
    assert len(_counted(sent)) == ERASE, sent
    with statements(sql_store) as sent:
        desk.purge()
    assert len(_counted(sent)) == PURGE, sent


@pytest.mark.parametrize("name", sorted(FINDS))
def test_sqlite_finds_a_persons_rows_and_old_history_by_index(
    sqlite_store: SqlStore, name: str
) -> None:
    plan = sqlite_plan(sqlite_store, FINDS[name].params(**BINDS))
    full_scans = [step for step in plan if step.startswith("SCAN") and "INDEX" not in step]
    assert not full_scans, plan


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("timers to purge", "ix_timers_finished_done_at"),
        ("events to purge", "ix_events_delivered_finished_at"),
        ("feed entries to purge", "ix_notifications_read_at"),
    ],
)
def test_sqlite_purge_reads_its_partial_indexes(
    sqlite_store: SqlStore, name: str, index: str
) -> None:
    plan = sqlite_plan(sqlite_store, FINDS[name].params(**BINDS))
    assert any(index in step for step in plan), plan


def test_the_outbox_is_read_whole_once(sqlite_store: SqlStore) -> None:
    """Documented: recipients are JSON, so a person's events are found by one read of the outbox."""
    plan = sqlite_plan(sqlite_store, THEIR_EVENTS.params(**BINDS))
    assert "SCAN events" in plan, plan


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(FINDS))
def test_postgres_finds_have_an_index_path(postgres_store: SqlStore, name: str) -> None:
    with postgres_store.engine.connect() as connection:
        # As in test_query_plans: forbidding scans shows whether an index path exists.
        connection.exec_driver_sql("SET enable_seqscan = off")
        statement = FINDS[name].params(**BINDS)
        sql = str(
            statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        )
        plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
        connection.rollback()
    assert not any("Seq Scan" in step for step in plan), plan
