"""The lists and sweeps use indexes: no full scan of tickets, timers, attachments or the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from supportdesk import SearchKind
from supportdesk.access import TicketScope
from supportdesk.storage.protocol import SearchQuery, TicketQuery, TicketSort
from supportdesk.storage.sql import SqlStore
from supportdesk.storage.sql.activity import LIST_ACTIVITIES
from supportdesk.storage.sql.attachments import (
    ATTACHMENT_USAGE,
    ATTACHMENTS_TO_SCAN,
    KNOWN_BLOB_KEYS,
    LIST_ATTACHMENTS,
)
from supportdesk.storage.sql.feed import COUNT_UNREAD
from supportdesk.storage.sql.outbox import CLAIM_EVENTS
from supportdesk.storage.sql.participants import FIND_SETTINGS, LIST_COLLABORATOR_CONTACTS
from supportdesk.storage.sql.search import search_statement
from supportdesk.storage.sql.ticket_lists import (
    count_each_statement,
    count_statement,
    find_statement,
    rows_statement,
)
from supportdesk.storage.sql.tickets import GET_TICKET_DETAILS
from supportdesk.storage.sql.timers import CLAIM_DUE_TIMERS
from supportdesk.testing.contract.base import T0

CUSTOMER = TicketScope(requester_id="alice", collaborator_id="alice", organization_id="acme")
OPEN = frozenset({"new", "assigned", "pending_support"})
AFTER = (T0 + timedelta(days=3), "f" * 32)

LISTS = {
    "created by me": TicketQuery(scope=CUSTOMER, requester_id="alice", statuses=OPEN),
    "my organisation": TicketQuery(scope=CUSTOMER, organization_id="acme", statuses=OPEN),
    "where I collaborate": TicketQuery(scope=CUSTOMER, collaborator_id="alice"),
    "everything I see": TicketQuery(scope=CUSTOMER),
    "an agent's desks": TicketQuery(scope=TicketScope(desk_ids=frozenset({"d1", "d2"}))),
    "assigned to me": TicketQuery(
        scope=TicketScope(desk_ids=frozenset({"d1"})), assignee_id="sam", statuses=OPEN
    ),
    "breaches to come": TicketQuery(
        scope=TicketScope(desk_ids=frozenset({"d1", "d2"})), statuses=OPEN, sort=TicketSort.SLA_DUE
    ),
}


def _with_values(built: tuple[sa.Select[Any], dict[str, Any]]) -> sa.Select[Any]:
    """A list statement with its values bound, to be compiled with them for EXPLAIN."""
    statement, values = built
    return statement.params(**values)


def _each_statement(dialect_name: str) -> Iterator[Any]:
    for name, query in LISTS.items():
        after = attrs.evolve(query, after=AFTER)
        yield pytest.param(_with_values(find_statement(query)), id=f"{name}: page")
        yield pytest.param(_with_values(find_statement(after)), id=f"{name}: next page")
        counted = count_statement(query, dialect_name)
        yield pytest.param(_with_values(counted), id=f"{name}: count")
        yield pytest.param(_with_values(rows_statement(query)), id=f"{name}: rows")
        yield pytest.param(_with_values(rows_statement(after)), id=f"{name}: next rows")
    every = count_each_statement(list(LISTS.values()), dialect_name)
    yield pytest.param(_with_values(every), id="every count at once")


SQLITE_STATEMENTS = list(_each_statement("sqlite"))
POSTGRES_STATEMENTS = list(_each_statement("postgresql"))

PAGE_READS = [
    pytest.param(
        GET_TICKET_DETAILS.params(key="HHA-1", reference="HHA-1", viewer_id="alice"),
        id="a ticket with its desk, type, people and switch",
    ),
    pytest.param(LIST_COLLABORATOR_CONTACTS.params(ticket_id="t1"), id="collaborators' contacts"),
    pytest.param(LIST_ACTIVITIES.params(ticket_id="t1"), id="the log with its actors"),
    pytest.param(FIND_SETTINGS.params(contact_ids=["alice", "bob"]), id="e-mail settings"),
]


def _sql(statement: sa.Select[Any], dialect: sa.Dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def sqlite_plan(store: SqlStore, statement: sa.Select[Any]) -> list[str]:
    with store.engine.connect() as connection:
        sql = _sql(statement, connection.dialect)
        return [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def postgres_plan(store: SqlStore, statement: sa.Select[Any]) -> list[str]:
    with store.engine.connect() as connection:
        # Tiny tables are cheapest to scan; forbidding it shows whether an
        # index path exists at all (the planner scans anyway when none does).
        connection.exec_driver_sql("SET enable_seqscan = off")
        sql = _sql(statement, connection.dialect)
        plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
        connection.rollback()
    return plan


@pytest.mark.parametrize("statement", SQLITE_STATEMENTS)
def test_sqlite_lists_search_tickets_by_index(
    sqlite_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = sqlite_plan(sqlite_store, statement)
    full_scans = [step for step in plan if step.startswith("SCAN") and "INDEX" not in step]
    # Every count at once is a SELECT of subqueries, without a table of its own.
    assert not [step for step in full_scans if step != "SCAN CONSTANT ROW"], plan
    assert any("INDEX" in step and "tickets" in step for step in plan), plan


def test_sqlite_requester_list_reads_a_page_in_order(sqlite_store: SqlStore) -> None:
    for query in (LISTS["created by me"], LISTS["my organisation"]):
        for built in (find_statement(query), rows_statement(query)):
            plan = sqlite_plan(sqlite_store, _with_values(built))
            assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("statement", PAGE_READS)
def test_sqlite_page_reads_look_rows_up_by_index(
    sqlite_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = sqlite_plan(sqlite_store, statement)
    assert not [step for step in plan if step.startswith("SCAN") and "INDEX" not in step], plan


@pytest.mark.postgres
@pytest.mark.parametrize("statement", PAGE_READS)
def test_postgres_page_reads_have_an_index_path(
    postgres_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = postgres_plan(postgres_store, statement)
    assert not any("Seq Scan" in step for step in plan), plan


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (CLAIM_DUE_TIMERS, "ix_timers_pending_due_at"),
        (CLAIM_EVENTS, "ix_events_pending_position"),
        (COUNT_UNREAD, "ix_notifications_unread_contact_id"),
    ],
    ids=["timer sweep", "outbox claim", "unread count"],
)
def test_sqlite_sweeps_use_the_partial_indexes(
    sqlite_store: SqlStore, statement: sa.Select[Any], index: str
) -> None:
    bound = statement.params(now=T0, limit=10, contact_id="alice")
    plan = sqlite_plan(sqlite_store, bound)
    assert any(index in step for step in plan), plan


@pytest.mark.postgres
@pytest.mark.parametrize("statement", POSTGRES_STATEMENTS)
def test_postgres_lists_have_an_index_path(
    postgres_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = postgres_plan(postgres_store, statement)
    assert not any("Seq Scan on tickets" in step for step in plan), plan


SEARCH = SearchQuery(
    terms=("missing", "hha-13782"),
    kinds=frozenset(SearchKind),
    ticket_scope=CUSTOMER,
    now=T0,
)


def test_sqlite_search_reads_the_full_text_index(sqlite_store: SqlStore) -> None:
    plan = sqlite_plan(sqlite_store, search_statement(SEARCH, "sqlite"))
    assert any("VIRTUAL TABLE INDEX" in step and "search_fts" in step for step in plan), plan
    assert not any(step.startswith("SCAN search_fields") for step in plan), plan


@pytest.mark.postgres
def test_postgres_search_reads_the_gin_index(postgres_store: SqlStore) -> None:
    plan = postgres_plan(postgres_store, search_statement(SEARCH, "postgresql"))
    assert any("ix_search_fields_tokens" in step for step in plan), plan
    assert not any("Seq Scan on search_fields" in step for step in plan), plan


ATTACHMENT_READS = [
    *(
        pytest.param(
            statement.params(ticket_id="t1"),
            id=f"list attachments internal={internal} rejected={rejected}",
        )
        for (internal, rejected), statement in LIST_ATTACHMENTS.items()
    ),
    pytest.param(ATTACHMENT_USAGE.params(ticket_id="t1"), id="attachment usage"),
    pytest.param(ATTACHMENTS_TO_SCAN.params(limit=10), id="scan queue"),
    pytest.param(KNOWN_BLOB_KEYS.params(keys=["tickets/a/b", "tickets/c/d"]), id="known blob keys"),
]


@pytest.mark.parametrize("statement", ATTACHMENT_READS)
def test_sqlite_attachment_reads_use_an_index_and_read_in_order(
    sqlite_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = sqlite_plan(sqlite_store, statement)
    assert not any(step.startswith("SCAN attachments") and "INDEX" not in step for step in plan)
    assert any("INDEX" in step and "attachments" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_sqlite_scan_queue_reads_the_partial_index(sqlite_store: SqlStore) -> None:
    plan = sqlite_plan(sqlite_store, ATTACHMENTS_TO_SCAN.params(limit=10))
    assert any("ix_attachments_scanning_uploaded_at_position" in step for step in plan), plan


@pytest.mark.postgres
@pytest.mark.parametrize("statement", ATTACHMENT_READS)
def test_postgres_attachment_reads_have_an_index_path(
    postgres_store: SqlStore, statement: sa.Select[Any]
) -> None:
    plan = postgres_plan(postgres_store, statement)
    assert not any("Seq Scan on attachments" in step for step in plan), plan
    assert not any(step.lstrip("-> ").startswith("Sort") for step in plan), plan
