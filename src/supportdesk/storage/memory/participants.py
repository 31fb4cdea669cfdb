"""The memory store's participants: each ticket's collaborators, who muted which ticket,
and each contact's notification settings."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..._models import Collaborator, Contact, NotificationSettings
from ._changes import Area, Changes
from .directory import DirectoryTables


class ParticipantTables:
    """Collaborators per ticket, the mutes, and the notification settings."""

    def __init__(self) -> None:
        self.collaborators: dict[str, dict[str, Collaborator]] = {}
        """Ticket id -> contact id -> collaborator, in the order added."""
        self.muted: dict[tuple[str, str], None] = {}
        """(ticket id, contact id) of each mute, as an ordered set."""
        self.settings: dict[str, NotificationSettings] = {}
        """Contact id -> their settings, for those who switched any e-mail off."""


class MemoryParticipants(Area[ParticipantTables]):
    """The participants area of a :class:`~.store.MemoryUnitOfWork`; reads the directory."""

    def __init__(
        self, tables: ParticipantTables, changes: Changes, *, directory: DirectoryTables
    ) -> None:
        super().__init__(tables, changes)
        self._directory = directory

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

    def list_collaborator_contacts(self, ticket_id: str) -> Sequence[Contact]:
        contacts = self._directory.contacts
        shared = self._tables.collaborators.get(ticket_id, {})
        return [contacts[contact_id] for contact_id in shared if contact_id in contacts]

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

    def put_settings(self, settings: NotificationSettings) -> None:
        if settings.email_off:
            self._changes.set(self._tables.settings, settings.contact_id, settings)
        else:
            self._changes.delete(self._tables.settings, settings.contact_id)

    def find_settings(self, contact_ids: Collection[str]) -> Sequence[NotificationSettings]:
        stored = self._tables.settings
        return [stored[contact_id] for contact_id in set(contact_ids) if contact_id in stored]
