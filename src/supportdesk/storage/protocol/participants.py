"""The participants area: who shares a ticket, and who switched its notifications off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..._models import Collaborator


class Participants(Protocol):
    """Collaborators ("Shared with") and mutes ("Notifications off") per ticket."""

    def add_collaborator(self, collaborator: Collaborator) -> None:
        """Share the ticket with a contact; adding one twice keeps the first."""
        ...

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        """Stop sharing; False when the contact was no collaborator."""
        ...

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        """The ticket's collaborators, in the order they were added."""
        ...

    def add_mute(self, ticket_id: str, contact_id: str) -> None:
        """Switch the contact's notifications about the ticket off; twice is once."""
        ...

    def remove_mute(self, ticket_id: str, contact_id: str) -> bool:
        """Switch them on again; False when they were not off."""
        ...

    def list_muted(self, ticket_id: str) -> frozenset[str]:
        """The ids of the contacts who switched this ticket's notifications off."""
        ...
