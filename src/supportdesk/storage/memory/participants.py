"""The memory store's participants: each ticket's collaborators, and who muted which ticket."""

from __future__ import annotations

from collections.abc import Sequence

from ..._models import Collaborator
from ._changes import Changes


class ParticipantTables:
    """Collaborators per ticket, and the mutes."""

    def __init__(self) -> None:
        self.collaborators: dict[str, dict[str, Collaborator]] = {}
        """Ticket id -> contact id -> collaborator, in the order added."""
        self.muted: dict[tuple[str, str], None] = {}
        """(ticket id, contact id) of each mute, as an ordered set."""


class MemoryParticipants:
    """The participants area of a :class:`~.store.MemoryUnitOfWork`."""

    def __init__(self, tables: ParticipantTables, changes: Changes) -> None:
        self._tables = tables
        self._changes = changes

    def add_collaborator(self, collaborator: Collaborator) -> None:
        shared = self._tables.collaborators.setdefault(collaborator.ticket_id, {})
        if collaborator.contact_id not in shared:
            self._changes.set(shared, collaborator.contact_id, collaborator)

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        shared = self._tables.collaborators.get(ticket_id, {})
        if contact_id not in shared:
            return False
        self._changes.delete(shared, contact_id)
        return True

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        return list(self._tables.collaborators.get(ticket_id, {}).values())

    def add_mute(self, ticket_id: str, contact_id: str) -> None:
        self._changes.set(self._tables.muted, (ticket_id, contact_id), None)

    def remove_mute(self, ticket_id: str, contact_id: str) -> bool:
        key = (ticket_id, contact_id)
        if key not in self._tables.muted:
            return False
        self._changes.delete(self._tables.muted, key)
        return True

    def list_muted(self, ticket_id: str) -> frozenset[str]:
        return frozenset(contact for ticket, contact in self._tables.muted if ticket == ticket_id)
