"""One SupportDesk shared by a web server's threads: each call its own transaction, none clash."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from supportdesk import Submission, TicketList

from .conftest import Portal

THREADS = 6
TICKETS_PER_THREAD = 15


def test_threads_share_one_desk(portal: Portal) -> None:
    desk = portal.desk
    start = threading.Barrier(THREADS)

    def work(thread: int) -> list[str]:
        start.wait(timeout=60)
        references = []
        for number in range(TICKETS_PER_THREAD):
            summary = f"thread {thread} ticket {number}"
            ticket = desk.open_ticket(portal.alice, portal.incident.id, Submission(summary=summary))
            desk.share_update(portal.alice, ticket.reference, "More details.")
            desk.add_note(portal.agent, ticket.reference, "Looking.")
            references.append(ticket.reference)
        return references

    with ThreadPoolExecutor(THREADS) as pool:
        opened = [ref for refs in pool.map(work, range(THREADS)) for ref in refs]

    total = THREADS * TICKETS_PER_THREAD
    assert sorted(opened, key=lambda r: int(r.split("-")[1])) == [
        f"HHA-{n}" for n in range(1, total + 1)
    ]
    assert desk.count_tickets(portal.alice, TicketList.CREATED_BY_ME) == total
    for reference in opened[::TICKETS_PER_THREAD]:
        kinds = [a.kind for a in desk.view_ticket(portal.agent, reference).activities]
        assert kinds == ["created", "public_update", "internal_note"]
