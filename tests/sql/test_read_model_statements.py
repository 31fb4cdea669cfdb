"""A portal's pages in a bounded number of statements, names included, however much they show."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from supportdesk import Contact, FakeClock, NotFound, Submission, TicketList
from supportdesk.storage.sql import SqlStore

from ..conftest import Portal, build_portal
from .test_desk_statements import _counted
from .test_sql_store import statements

LIST_PAGE = 3
"""The actor, the rows with their names, every count."""
TICKET_PAGE = 5
"""The actor, the ticket with its desk, type and people, the collaborators, the log, the files."""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def portal(sql_store: SqlStore) -> Portal:
    return build_portal(sql_store, FakeClock())


def test_a_list_page_of_25_rows_is_three_statements(sql_store: SqlStore, portal: Portal) -> None:
    desk = portal.desk
    for number in range(30):
        portal.clock.advance(timedelta(minutes=1))
        requester = (portal.alice, portal.bob)[number % 2]
        request_type = (portal.general, portal.incident)[number % 3 == 0]
        desk.open_ticket(
            requester, request_type.id, Submission(summary=f"Request {number}", description="D")
        )
    with statements(sql_store) as sent:
        page = desk.list_tickets(portal.alice, TicketList.ORGANIZATION, limit=25)
    assert len(_counted(sent)) == LIST_PAGE, sent
    assert len(page.tickets) == 25 and page.total == 30
    assert {row.requester_name for row in page.tickets} == {"Alice Payer", "Bob Payer"}
    assert {row.request_type_name for row in page.tickets} == {"General Request", "Incident"}
    assert {(row.desk_key, row.desk_name) for row in page.tickets} == {
        ("HHA", "Customer Service Desk")
    }
    assert {row.status_label for row in page.tickets} == {"New"}
    assert (page.counts[TicketList.CREATED_BY_ME].open, page.counts[TicketList.VISIBLE].open) == (
        15,
        30,
    )
    # The next page, filtered, costs the same; a list the actor has none of costs less.
    with statements(sql_store) as sent:
        desk.list_tickets(
            portal.alice,
            TicketList.ORGANIZATION,
            open=True,
            request_type_id=portal.general.id,
            limit=10,
            cursor=page.next_cursor,
        )
    assert len(_counted(sent)) == LIST_PAGE, sent
    with statements(sql_store) as sent:
        assert desk.list_tickets(portal.loner, TicketList.ORGANIZATION).tickets == ()
    assert len(_counted(sent)) == LIST_PAGE - 1, sent


def _busy_ticket(portal: Portal) -> str:
    """A ticket with three collaborators, a long log by five people and the system, and files."""
    desk, clock = portal.desk, portal.clock
    ticket = portal.open()
    for contact in (portal.bob, portal.carol, portal.loner):
        desk.add_collaborator(portal.alice, ticket.reference, contact.email)
    desk.assign(portal.agent, ticket.reference, portal.agent.id)
    for n in range(5):
        clock.advance(timedelta(hours=1))
        desk.ask_customer(portal.agent, ticket.reference, f"Question {n}")
        desk.share_update((portal.alice, portal.carol)[n % 2], ticket.reference, f"Answer {n}")
        desk.add_note(portal.admin, ticket.reference, f"Note {n}")
    desk.attach(portal.carol, ticket.reference, "one.png", io.BytesIO(PNG))
    desk.attach(portal.bob, ticket.reference, "two.png", io.BytesIO(PNG))
    desk.set_notifications(portal.agent, ticket.reference, enabled=False)
    desk.ask_customer(portal.agent, ticket.reference, "Anything else?")
    clock.advance(timedelta(days=1))
    desk.run_due_timers()
    return ticket.reference


def test_a_ticket_page_is_five_statements(sql_store: SqlStore, portal: Portal) -> None:
    reference = _busy_ticket(portal)
    for viewer in (portal.alice, portal.agent, portal.loner):
        with statements(sql_store) as sent:
            view = portal.desk.view_ticket(viewer, reference)
        assert len(_counted(sent)) == TICKET_PAGE, (viewer.email, sent)
    view = portal.desk.view_ticket(portal.agent, reference)
    assert [c.full_name for c in view.shared_with] == [
        "Alice Payer",
        "Bob Payer",
        "Carol Provider",
        "Lone Customer",
    ]
    assert {e.actor_name for e in view.activities} == {
        "Alice Payer",
        "Carol Provider",
        "Bob Payer",
        "Agent Smith",
        "Admin",
        "System",
    }
    assert (view.assignee_name, view.status_label) == ("Agent Smith", "Waiting for customer")
    assert not view.notifications_on
    assert [a.filename for a in view.attachments] == ["one.png", "two.png"]


def test_a_hidden_ticket_page_costs_what_a_missing_one_does(
    sql_store: SqlStore, portal: Portal
) -> None:
    ticket = portal.open()
    portal.desk.set_organization_sharing(portal.alice, ticket.reference, shared=False)

    def refused(actor: Contact, key: str) -> list[str]:
        with statements(sql_store) as sent, pytest.raises(NotFound):
            portal.desk.view_ticket(actor, key)
        return _counted(sent)

    for outsider in (portal.bob, portal.outsider_agent):
        hidden = refused(outsider, ticket.reference)
        assert len(hidden) == 3, hidden  # the actor, the ticket, its collaborators
        assert hidden == refused(outsider, "HHA-999")
        assert refused(outsider, ticket.id) == refused(outsider, "0" * 32)
