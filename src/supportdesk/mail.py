"""E-mail of ticket events: the headers that let mail clients thread a ticket's messages.

A ticket's messages all answer one root Message-ID made from the ticket's id
(``<ticket.ID@domain>``), which the library never sends itself: each message
has its own Message-ID, stable for its event and recipient (a redelivery
carries the same one, so mail systems drop the duplicate), and names the
root in ``In-Reply-To`` and ``References``.  A reply's ``References`` then
names the ticket whatever message it answers.  Staff-only mail (an internal
note, a new ticket's notice to staff, SLA events) answers a root of its own,
``<staff.ID@domain>``, so that staff answering it by e-mail write an
internal note, never a public update.  Every message says
``Auto-Submitted: auto-generated``, so that no mailbox answers it.
"""

from __future__ import annotations

import re

from ._models import STAFF_ONLY_EVENTS, Event

__all__ = ["thread_headers"]

_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*")


def thread_headers(event: Event, index: int, *, domain: str) -> dict[str, str]:
    """The ``Message-ID`` of the e-mail of ``event`` to its ``index``-th recipient, its
    ``Auto-Submitted``, and for a ticket's event the ``In-Reply-To`` and ``References`` that
    thread it with the ticket's others (staff-only ones with the ticket's staff mail).

    :param domain: the right-hand side of the ids: your portal's mail domain.
    :raises ValueError: for a ``domain`` that is not a host name, or a
        negative ``index``.
    """
    if not isinstance(domain, str) or len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise ValueError(f"domain must be a host name such as support.example.com, not {domain!r}")
    if index < 0:
        raise ValueError(f"index counts the event's recipients from 0, not {index}")
    # Auto-Submitted: a mailbox (another portal's, say) must not answer it, nor loop.
    headers = {"Message-ID": f"<{event.id}.{index}@{domain}>", "Auto-Submitted": "auto-generated"}
    if event.ticket_id is not None:
        # Staff-only mail threads apart: an answer to it must stay among staff.
        thread = "staff" if event.kind in STAFF_ONLY_EVENTS else "ticket"
        root = f"<{thread}.{event.ticket_id}@{domain}>"
        headers.update({"In-Reply-To": root, "References": root})
    return headers
