"""The directory area: organisations and contacts (the people a portal knows)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import attrs

from ..._models import Contact, ContactState, Organization, Role


@attrs.frozen(kw_only=True)
class ContactQuery:
    """The contacts matching every filter given; an empty query matches every contact."""

    roles: Collection[Role] | None = None
    """Contacts with one of these roles."""
    state: ContactState | None = None
    """Contacts in this state."""
    desk_id: str | None = None
    """Contacts whose ``desk_ids`` hold this desk: the desk's agents (SQL: through an
    indexed membership table, never a scan of contacts)."""


class Directory(Protocol):
    """Organisations and contacts.  E-mail addresses compare case-insensitively."""

    def put_organization(self, organization: Organization) -> None:
        """Insert or replace the organisation with ``organization.id``."""
        ...

    def get_organization(self, organization_id: str) -> Organization | None:
        """The organisation with that id."""
        ...

    def put_contact(self, contact: Contact) -> None:
        """Insert or replace the contact with ``contact.id``, and its desk memberships.

        Raises :class:`~supportdesk.Conflict` when another contact has the
        same e-mail (compared case-insensitively).  ``contact.desk_ids`` is
        the whole set of desks it works on: desks it no longer names are left.
        """
        ...

    def add_contact(self, contact: Contact) -> Contact:
        """Insert ``contact`` unless a contact has its e-mail; return the one that has it now.

        The same work whether the address is new or known (SQL: one
        statement either way, which takes the existing row's lock on
        Postgres), so that a sign-up request tells nobody, not even by its
        cost, which addresses have an account.  A known contact is returned
        as stored, unchanged.  ``contact.desk_ids`` must be empty: desk
        memberships go through :meth:`put_contact`.
        """
        ...

    def get_contact(self, contact_id: str) -> Contact | None:
        """The contact with that id."""
        ...

    def get_contact_by_email(self, email: str) -> Contact | None:
        """The contact with that e-mail, compared case-insensitively."""
        ...

    def find_contacts(self, query: ContactQuery) -> Sequence[Contact]:
        """The contacts the query matches, by e-mail.

        Used to find whom to notify, so it must see this transaction's own writes.
        """
        ...
