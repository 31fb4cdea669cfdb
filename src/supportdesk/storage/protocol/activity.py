"""The activity area: each ticket's append-only, ordered log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..._models import Activity, ActivityEntry


class ActivityLog(Protocol):
    """The activity log: appended to, never changed.

    Appending a body (an update or a note) indexes it for search with the
    entry's visibility; the creation entry repeats the ticket's description
    and is not indexed again.
    """

    def add(self, activity: Activity) -> Activity:
        """Append to the ticket's log and return the entry with its ``seq``.

        ``seq`` is one more than the ticket's last entry; appends by
        concurrent transactions never conflict with each other.  Raises
        ``NotFound`` when there is no such ticket.
        """
        ...

    def list_entries(self, ticket_id: str, *, include_internal: bool) -> Sequence[ActivityEntry]:
        """The ticket's log in ``seq`` order, without internal entries unless asked.

        Each entry is told by its actor's name and role as the directory holds
        them now (:meth:`ActivityEntry.of <supportdesk.ActivityEntry.of>`; SQL:
        in the same statement).
        """
        ...
