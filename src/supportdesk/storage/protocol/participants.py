"""The participants area: who shares a ticket, and how each contact wants to hear of tickets."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from ..._models import Collaborator, Contact, NotificationSettings


class Participants(Protocol):
    """Collaborators ("Shared with") and mutes ("Notifications off") per ticket.

    And each contact's notification settings: the kinds of ticket event they
    get no e-mail of.
    """

    def add_collaborator(self, collaborator: Collaborator) -> None:
        """Share the ticket with a contact; adding one twice keeps the first."""
        ...

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        """Stop sharing; False when the contact was no collaborator."""
        ...

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        """The ticket's collaborators, in the order they were added."""
        ...

    def list_collaborator_contacts(self, ticket_id: str) -> Sequence[Contact]:
        """The contacts of :meth:`list_collaborators`, in that order (SQL: one statement).

        A collaborator whose contact the store lacks is left out.
        """
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

    def put_settings(self, settings: NotificationSettings) -> None:
        """Insert or replace the notification settings of ``settings.contact_id``."""
        ...

    def find_settings(self, contact_ids: Collection[str]) -> Sequence[NotificationSettings]:
        """The settings of those of ``contact_ids`` who switched any e-mail off, in no order.

        A contact who gets every e-mail (no settings stored, or an empty
        ``email_off``) is not listed.  SQL: one statement however many ids.
        """
        ...
