"""E-mail of ticket events: the headers that let mail clients thread a ticket's messages.

A ticket's messages all answer one root Message-ID made from the ticket's id
(``<ticket.ID@domain>``), which the library never sends itself: each message
has its own Message-ID, stable for its event and recipient (a redelivery
carries the same one, so mail systems drop the duplicate), and names the
root in ``In-Reply-To`` and ``References``.  A reply's ``References`` then
names the ticket whatever message it answers.
"""

from __future__ import annotations

import re

from ._models import Event

__all__ = ["thread_headers"]

_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*")


def thread_headers(event: Event, index: int, *, domain: str) -> dict[str, str]:
    """The ``Message-ID`` of the e-mail of ``event`` to its ``index``-th recipient, and for a
    ticket's event the ``In-Reply-To`` and ``References`` that thread it with the ticket's others.

    :param domain: the right-hand side of the ids: your portal's mail domain.
    :raises ValueError: for a ``domain`` that is not a host name, or a
        negative ``index``.
    """
    if not isinstance(domain, str) or len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise ValueError(f"domain must be a host name such as support.example.com, not {domain!r}")
    if index < 0:
        raise ValueError(f"index counts the event's recipients from 0, not {index}")
    headers = {"Message-ID": f"<{event.id}.{index}@{domain}>"}
    if event.ticket_id is not None:
        root = f"<ticket.{event.ticket_id}@{domain}>"
        headers.update({"In-Reply-To": root, "References": root})
    return headers
