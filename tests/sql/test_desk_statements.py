"""How many SQL statements the busiest use cases send: more would be a regression."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from supportdesk import (
    Contact,
    Desk,
    FakeClock,
    NotFound,
    RequestType,
    Role,
    Submission,
    SupportDesk,
)
from supportdesk.storage.sql import SqlStore

from ..conftest import build_portal
from .test_sql_store import statements

# Without the BEGIN that SQLite sends and psycopg hides.  Each use case reads
# its recipients' e-mail settings once, whatever the number of its events.
OPEN_TICKET = 11
PUBLIC_UPDATE = {"sqlite": 11, "postgresql": 12}
"""On SQLite, one writer at a time: a ticket read needs no lock before its log grows."""
STATUS_CHANGE = 15
INTERNAL_NOTE = {"sqlite": 10, "postgresql": 11}
"""A note writes its entry and event and leaves the ticket row alone (its updated_at too)."""
DISPATCH_TWO_EVENTS = 8
DISPATCH_TRANSACTIONS = 3
"""The two events of one new ticket, in its order: claim the first; record it and claim
the second; record that and find nothing left (five transactions when each was recorded
alone)."""


def test_ticket_use_cases_send_few_statements(sql_store: SqlStore) -> None:
    desk = SupportDesk(sql_store, clock=FakeClock())
    help_desk = desk.add_desk(Desk(key="HHA", name="Help"))
    request_type = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    customer = Contact(email="c@x.test", full_name="Customer")
    agent = Contact(
        email="a@x.test", full_name="Agent", role=Role.AGENT, desk_ids=frozenset({help_desk.id})
    )
    with sql_store.unit_of_work() as work:
        work.directory.put_contact(customer)
        work.directory.put_contact(agent)
    submission = Submission(summary="Portal missing data", description="Claims are missing")

    with statements(sql_store) as sent:
        ticket = desk.open_ticket(customer, request_type.id, submission)
    assert len(_counted(sent)) == OPEN_TICKET, sent
    # The desk's reference counter, locked until commit on Postgres, is taken
    # after every read: concurrent creators wait for writes only.
    taken = next(n for n, statement in enumerate(sent) if "desk_sequences" in statement)
    assert not [statement for statement in sent[taken:] if statement.startswith("SELECT")]
    with statements(sql_store) as sent:
        desk.share_update(customer, ticket.reference, "more details")
    assert len(_counted(sent)) == PUBLIC_UPDATE[sql_store.engine.dialect.name], sent
    with statements(sql_store) as sent:
        desk.ask_customer(agent, ticket.reference, "which claims?")
    assert len(_counted(sent)) == STATUS_CHANGE, sent
    with statements(sql_store) as sent:
        desk.add_note(agent, ticket.reference, "on the old plan")
    assert len(_counted(sent)) == INTERNAL_NOTE[sql_store.engine.dialect.name], sent
    assert not [statement for statement in sent if statement.startswith("UPDATE tickets")]


def test_an_event_reads_its_collaborators_at_once(sql_store: SqlStore) -> None:
    """Addressing an event costs the same with one collaborator or three: no read per person."""
    portal = build_portal(sql_store, FakeClock())
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.bob.email)

    def reply() -> int:
        with statements(sql_store) as sent:
            portal.desk.share_update(portal.agent, ticket.reference, "Any news?")
        return len(_counted(sent))

    with_one = reply()
    for contact in (portal.carol, portal.loner):
        portal.desk.add_collaborator(portal.alice, ticket.reference, contact.email)
    assert reply() == with_one


def test_dispatch_records_each_batch_with_the_next_claim(sql_store: SqlStore) -> None:
    portal = build_portal(sql_store, FakeClock())
    portal.open()
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    sa.event.listen(sql_store.engine, "commit", committed)
    try:
        with statements(sql_store) as sent:
            report = portal.desk.dispatch_notifications(lambda event: None)
    finally:
        sa.event.remove(sql_store.engine, "commit", committed)
    assert len(report.delivered) == 2
    assert len(_counted(sent)) == DISPATCH_TWO_EVENTS, sent
    assert len(commits) == DISPATCH_TRANSACTIONS


def test_a_hidden_ticket_costs_what_a_missing_one_does(sql_store: SqlStore) -> None:
    """No existence oracle: a ticket the actor may not see sends the statements none would."""
    portal = build_portal(sql_store, FakeClock())
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)

    def refused(actor: Contact, key: str, use_case: str = "get_ticket") -> list[str]:
        with statements(sql_store) as sent, pytest.raises(NotFound):
            if use_case == "get_ticket":
                portal.desk.get_ticket(actor, key)
            else:
                portal.desk.share_update(actor, key, "Anyone there?")
        return _counted(sent)

    for outsider in (portal.bob, portal.outsider_agent):
        portal.desk.set_organization_sharing(portal.alice, ticket.reference, shared=False)
        for use_case in ("get_ticket", "share_update"):
            hidden = refused(outsider, ticket.reference, use_case)
            assert len(hidden) == 3, hidden  # the actor, the ticket, its collaborators
            assert hidden == refused(outsider, "HHA-999", use_case)
            assert hidden == refused(outsider, "hha-1000", use_case)
            assert refused(outsider, ticket.id, use_case) == refused(outsider, "0" * 32, use_case)
        portal.desk.set_organization_sharing(portal.alice, ticket.reference, shared=True)
    # A ticket the actor sees is read with the same statements, then returned.
    with statements(sql_store) as sent:
        portal.desk.get_ticket(portal.carol, ticket.reference)
    assert _counted(sent) == refused(portal.loner, ticket.reference)


def _counted(sent: list[str]) -> list[str]:
    return [statement for statement in sent if not statement.startswith("BEGIN")]
