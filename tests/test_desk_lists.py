"""The portal's ticket lists: which tickets, counts, filters, sort and keyset pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk import Submission, TicketList, TicketSort, ValidationError

from .conftest import Portal


def references(page_tickets: tuple[object, ...]) -> list[str]:
    return [t.reference for t in page_tickets]  # type: ignore[attr-defined]


@pytest.fixture
def busy(portal: Portal) -> Portal:
    """Alice opens 1-6 (4 and 5 resolved), Bob 7-8, Carol 9 with Alice collaborating."""
    for number in range(1, 10):
        requester = portal.alice if number <= 6 else portal.bob if number <= 8 else portal.carol
        portal.clock.advance(timedelta(minutes=1))
        ticket = portal.open(requester, summary=f"ticket {number}")
        if number in (4, 5):
            portal.desk.resolve(portal.agent, ticket.reference)
        if number == 8:
            portal.desk.set_organization_sharing(portal.bob, ticket.reference, shared=False)
        if number == 9:
            portal.desk.add_collaborator(portal.carol, ticket.reference, portal.alice.email)
    return portal


def test_each_list_and_its_count(busy: Portal) -> None:
    desk, alice = busy.desk, busy.alice
    mine = desk.list_tickets(alice, TicketList.CREATED_BY_ME)
    assert references(mine.tickets) == [f"HHA-{n}" for n in (6, 5, 4, 3, 2, 1)]
    assert mine.total == 6
    organisation = desk.list_tickets(alice, TicketList.ORGANIZATION)
    assert references(organisation.tickets) == [f"HHA-{n}" for n in (7, 6, 5, 4, 3, 2, 1)]
    collaborating = desk.list_tickets(alice, TicketList.COLLABORATING)
    assert references(collaborating.tickets) == ["HHA-9"]
    assert desk.count_tickets(alice, TicketList.CREATED_BY_ME, open=True) == 4
    assert desk.count_tickets(alice, TicketList.CREATED_BY_ME, open=False) == 2
    assert desk.count_tickets(alice, TicketList.VISIBLE) == 8
    assert desk.count_tickets(busy.agent, TicketList.VISIBLE) == 9
    assert desk.count_tickets(busy.outsider_agent, TicketList.VISIBLE) == 0
    assert desk.count_tickets(busy.loner, TicketList.ORGANIZATION) == 0


def test_filters(busy: Portal) -> None:
    desk, alice = busy.desk, busy.alice
    closed = desk.list_tickets(alice, TicketList.CREATED_BY_ME, open=False)
    assert references(closed.tickets) == ["HHA-5", "HHA-4"]
    assert desk.list_tickets(alice, statuses=["resolved"], open=True).total == 0
    assert desk.list_tickets(alice, desk_id=busy.other_desk.id).total == 0
    assert desk.list_tickets(alice, request_type_id=busy.general.id).total == 6
    incident = desk.open_ticket(alice, busy.incident.id, Submission(summary="Down"))
    only = desk.list_tickets(alice, request_type_id=busy.incident.id)
    assert references(only.tickets) == [incident.reference]


def test_keyset_pagination_walks_every_ticket_once(busy: Portal) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = busy.desk.list_tickets(busy.agent, TicketList.VISIBLE, limit=4, cursor=cursor)
        assert page.total == 9
        seen.extend(references(page.tickets))
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"HHA-{n}" for n in range(9, 0, -1)]


def test_sorts(busy: Portal) -> None:
    desk = busy.desk
    oldest = desk.list_tickets(busy.agent, TicketList.VISIBLE, sort=TicketSort.OLDEST, limit=2)
    assert references(oldest.tickets) == ["HHA-1", "HHA-2"]
    busy.clock.advance(timedelta(hours=1))
    desk.share_update(busy.alice, "HHA-2", "any news?")
    recent = desk.list_tickets(
        busy.agent, TicketList.VISIBLE, sort=TicketSort.RECENTLY_UPDATED, limit=2
    )
    assert references(recent.tickets) == ["HHA-2", "HHA-9"]
    second = desk.list_tickets(
        busy.agent,
        TicketList.VISIBLE,
        sort=TicketSort.RECENTLY_UPDATED,
        limit=2,
        cursor=recent.next_cursor,
    )
    assert references(second.tickets) == ["HHA-8", "HHA-7"]


def test_bad_paging_input(busy: Portal) -> None:
    with pytest.raises(ValidationError):
        busy.desk.list_tickets(busy.alice, limit=0)
    with pytest.raises(ValidationError):
        busy.desk.list_tickets(busy.alice, cursor="not-a-cursor!")


def test_rows_carry_what_a_list_shows(busy: Portal) -> None:
    desk, alice = busy.desk, busy.alice
    desk.wait_for(busy.agent, "HHA-7", "the clearing house")
    page = desk.list_tickets(alice, TicketList.ORGANIZATION, limit=3)
    seven, six, five = page.tickets
    assert (seven.reference, seven.summary, seven.requester_name) == (
        "HHA-7",
        "ticket 7",
        "Bob Payer",
    )
    assert (seven.request_type_name, seven.desk_key, seven.desk_name) == (
        "General Request",
        "HHA",
        "Customer Service Desk",
    )
    assert (seven.status, seven.status_label, seven.sub_status) == (
        "waiting_for_third_party",
        "Waiting for third party",
        "the clearing house",
    )
    assert (six.requester_name, six.status_label, five.status_label) == (
        "Alice Payer",
        "New",
        "Resolved",
    )
    ticket = desk.get_ticket(alice, "HHA-6")
    assert (six.id, six.priority, six.created_at, six.updated_at) == (
        ticket.id,
        ticket.priority,
        ticket.created_at,
        ticket.updated_at,
    )
    # Agents read the same label: one label per status, from the workflow.
    (row,) = desk.list_tickets(
        busy.agent, TicketList.VISIBLE, statuses=["resolved"], limit=1
    ).tickets
    assert row.status_label == desk.workflow.status("resolved").label == "Resolved"


def test_a_page_counts_every_list_whatever_its_filters(busy: Portal) -> None:
    desk = busy.desk
    page = desk.list_tickets(busy.alice, TicketList.COLLABORATING, desk_id=busy.other_desk.id)
    assert (page.tickets, page.total) == ((), 0)
    counts = {which: (count.open, count.closed) for which, count in page.counts.items()}
    assert counts == {
        TicketList.CREATED_BY_ME: (4, 2),
        TicketList.ORGANIZATION: (5, 2),
        TicketList.COLLABORATING: (1, 0),
        TicketList.VISIBLE: (6, 2),
        TicketList.ASSIGNED_TO_ME: (0, 0),
        TicketList.UNASSIGNED: (0, 0),
    }
    assert page.counts[TicketList.VISIBLE].total == 8
    for which, count in page.counts.items():
        assert count.open == desk.count_tickets(busy.alice, which, open=True)
        assert count.closed == desk.count_tickets(busy.alice, which, open=False)
    loner = desk.list_tickets(busy.loner, TicketList.ORGANIZATION)
    assert {count.total for count in loner.counts.values()} == {0}
    agent = desk.list_tickets(busy.agent, TicketList.VISIBLE, limit=1)
    assert agent.counts[TicketList.VISIBLE].total == agent.total == 9
    assert agent.counts[TicketList.CREATED_BY_ME].total == 0


def test_agent_queues_assigned_to_me_and_unassigned(busy: Portal) -> None:
    desk, agent = busy.desk, busy.agent
    for reference in ("HHA-2", "HHA-3", "HHA-7"):
        desk.assign(agent, reference, agent.id)
    mine = desk.list_tickets(agent, TicketList.ASSIGNED_TO_ME, limit=2)
    assert references(mine.tickets) == ["HHA-7", "HHA-3"]
    assert mine.total == 3
    rest = desk.list_tickets(agent, TicketList.ASSIGNED_TO_ME, limit=2, cursor=mine.next_cursor)
    assert references(rest.tickets) == ["HHA-2"]
    unassigned = desk.list_tickets(agent, TicketList.UNASSIGNED, open=True, limit=50)
    assert references(unassigned.tickets) == [f"HHA-{n}" for n in (9, 8, 6, 1)]
    assert unassigned.counts[TicketList.UNASSIGNED].open == 4
    assert unassigned.counts[TicketList.ASSIGNED_TO_ME].open == 3
    # Customers have no queues, and the tabs say so.
    page = desk.list_tickets(busy.alice, TicketList.UNASSIGNED)
    assert (page.tickets, page.total) == ((), 0)
    assert desk.count_tickets(busy.alice, TicketList.ASSIGNED_TO_ME) == 0
    assert page.counts[TicketList.UNASSIGNED].total == 0
