"""The memory store's directory: organisations and contacts, indexed by e-mail and by desk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..._errors import Conflict
from ..._models import Contact, Organization
from ..protocol import ContactQuery
from ._changes import Area


class DirectoryTables:
    """Organisations and contacts, with the indexes that find contacts without a scan."""

    def __init__(self) -> None:
        self.organizations: dict[str, Organization] = {}
        self.contacts: dict[str, Contact] = {}
        self.contact_ids_by_email: dict[str, str] = {}
        self.contact_ids_by_desk: dict[str, dict[str, None]] = {}
        """Desk id -> ids of the contacts working on it, as an ordered set."""


class MemoryDirectory(Area[DirectoryTables]):
    """The directory area of a :class:`~.store.MemoryUnitOfWork`."""

    def put_organization(self, organization: Organization) -> None:
        self._changes.set(self._tables.organizations, organization.id, organization)

    def get_organization(self, organization_id: str) -> Organization | None:
        return self._tables.organizations.get(organization_id)

    def put_contact(self, contact: Contact) -> None:
        by_email = self._tables.contact_ids_by_email
        holder = by_email.get(contact.email)
        if holder is not None and holder != contact.id:
            raise Conflict("contact", contact.email, "another contact has this e-mail")
        previous = self._tables.contacts.get(contact.id)
        if previous is not None and previous.email != contact.email:
            self._changes.delete(by_email, previous.email)
        self._changes.set(by_email, contact.email, contact.id)
        by_desk = self._tables.contact_ids_by_desk
        for desk_id in previous.desk_ids - contact.desk_ids if previous else ():
            self._changes.unfile(by_desk, desk_id, contact.id)
        for desk_id in contact.desk_ids:
            self._changes.file(by_desk, desk_id, contact.id, None)
        self._changes.set(self._tables.contacts, contact.id, contact)

    def add_contact(self, contact: Contact) -> Contact:
        if contact.desk_ids:
            raise ValueError("add_contact takes a contact without desks; use put_contact")
        known = self.get_contact_by_email(contact.email)
        if known is not None:
            return known
        self.put_contact(contact)
        return contact

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._tables.contacts.get(contact_id)

    def get_contact_by_email(self, email: str) -> Contact | None:
        contact_id = self._tables.contact_ids_by_email.get(email.strip().lower())
        return None if contact_id is None else self._tables.contacts[contact_id]

    def find_contacts(self, query: ContactQuery) -> Sequence[Contact]:
        contacts: Iterable[Contact] = self._tables.contacts.values()
        if query.desk_id is not None:
            members = self._tables.contact_ids_by_desk.get(query.desk_id, {})
            contacts = [self._tables.contacts[contact_id] for contact_id in members]
        found = [
            contact
            for contact in contacts
            if (query.roles is None or contact.role in query.roles)
            and (query.state is None or contact.state is query.state)
        ]
        return sorted(found, key=lambda contact: (contact.email, contact.id))
