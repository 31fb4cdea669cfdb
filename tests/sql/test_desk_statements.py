"""How many SQL statements the busiest use cases send: more would be a regression."""

from __future__ import annotations

from supportdesk import Contact, Desk, FakeClock, RequestType, Role, Submission, SupportDesk
from supportdesk.storage.sql import SqlStore

from .test_sql_store import statements

# Without the BEGIN that SQLite sends and psycopg hides.
OPEN_TICKET = 10
PUBLIC_UPDATE = {"sqlite": 10, "postgresql": 11}
"""On SQLite, one writer at a time: a ticket read needs no lock before its log grows."""
STATUS_CHANGE = 14


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


def _counted(sent: list[str]) -> list[str]:
    return [statement for statement in sent if not statement.startswith("BEGIN")]
