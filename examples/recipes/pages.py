"""What every recipe answers with: the requests list and a request's page as JSON, names included.

Each is one call to the desk (``list_tickets``, ``view_ticket``), whose rows
and views carry the names and labels a page shows: no look-up per row.
"""

from __future__ import annotations

from typing import Any

from supportdesk import Page, TicketList, TicketView


def requests_page(page: Page) -> dict[str, Any]:
    """The requests list: the portal's columns, the total, and the tabs' counts."""
    return {
        "total": page.total,
        "requests": [
            {
                "type": row.request_type_name,
                "reference": row.reference,
                "summary": row.summary,
                "status": row.status_label,
                "service_desk": row.desk_name,
                "requester": row.requester_name,
            }
            for row in page.tickets
        ],
        "tabs": {
            "created_by_me": page.counts[TicketList.CREATED_BY_ME].total,
            "all": page.counts[TicketList.ORGANIZATION].total,
            "shared_with_me": page.counts[TicketList.COLLABORATING].total,
        },
    }


def request_page(view: TicketView) -> dict[str, Any]:
    """A request's page: its details, who it is shared with, and the activity with its authors."""
    return {
        "reference": view.ticket.reference,
        "summary": view.ticket.summary,
        "status": view.status_label,
        "type": view.request_type.name,
        "service_desk": view.desk.name,
        "shared_with": [contact.full_name for contact in view.shared_with],
        "activity": [
            {"by": entry.actor_name, "body": entry.body} for entry in view.activities if entry.body
        ],
        "actions": list(view.actions),
    }
