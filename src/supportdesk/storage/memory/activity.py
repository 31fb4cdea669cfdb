"""The memory store's activity log: each ticket's entries in ``seq`` order."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..._errors import NotFound
from ..._models import Activity, ActivityEntry, ActivityKind, SearchKind
from ...search import IndexedText, SearchIndex
from ._changes import Area, Changes
from .directory import DirectoryTables
from .tickets import TicketTables


class ActivityTables:
    """Each ticket's log."""

    def __init__(self) -> None:
        self.logs: dict[str, list[Activity]] = {}
        """Ticket id -> its entries, in ``seq`` order."""


class MemoryActivityLog(Area[ActivityTables]):
    """The activity area of a :class:`~.store.MemoryUnitOfWork`.

    Reads the tickets (an entry needs its ticket) and the directory (who made
    each entry), and writes the search index.
    """

    def __init__(
        self,
        tables: ActivityTables,
        changes: Changes,
        *,
        tickets: TicketTables,
        directory: DirectoryTables,
        index: SearchIndex,
    ) -> None:
        super().__init__(tables, changes)
        self._tickets = tickets
        self._directory = directory
        self._search_index = index

    def add(self, activity: Activity) -> Activity:
        if activity.ticket_id not in self._tickets.tickets:
            raise NotFound("ticket", activity.ticket_id)
        log = self._tables.logs.setdefault(activity.ticket_id, [])
        entry = attrs.evolve(activity, seq=len(log) + 1)
        log.append(entry)
        self._changes.on_rollback(lambda: log.remove(entry))
        if entry.body and entry.kind is not ActivityKind.CREATED:
            # The creation entry repeats the description, which is indexed already.
            text = IndexedText.of(
                SearchKind.TICKET, entry.ticket_id, entry.body, internal=entry.internal
            )
            self._changes.index(self._search_index, ("activity", entry.id), text)
        return entry

    def list_entries(self, ticket_id: str, *, include_internal: bool) -> Sequence[ActivityEntry]:
        log = self._tables.logs.get(ticket_id, [])
        return [self._told(entry) for entry in log if include_internal or not entry.internal]

    def _told(self, entry: Activity) -> ActivityEntry:
        actor = None if entry.actor_id is None else self._directory.contacts.get(entry.actor_id)
        if actor is None:
            return ActivityEntry.of(entry, None, None)
        return ActivityEntry.of(entry, actor.full_name, actor.role)
