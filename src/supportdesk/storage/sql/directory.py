"""The SQL directory: organisations, contacts and the desks each contact works on."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..._errors import Conflict
from ..._models import Contact, Organization, normalize_email
from ..protocol import ContactQuery
from . import dialects, rows
from ._transaction import Repository, by_id, upsert_by_id
from .schema import contact_desks, contacts, organizations

GET_ORGANIZATION = by_id(organizations)
GET_CONTACT = by_id(contacts)
GET_CONTACT_BY_EMAIL = sa.select(contacts).where(contacts.c.email == sa.bindparam("email"))
# The desks a contact no longer works on; an empty list of desks leaves none.
LEAVE_DESKS = contact_desks.delete().where(
    contact_desks.c.contact_id == sa.bindparam("match_contact_id"),
    contact_desks.c.desk_id.not_in(sa.bindparam("desk_ids", expanding=True)),
)


@functools.cache
def find_contacts_statement(*, by_role: bool, by_state: bool, by_desk: bool) -> sa.Select[Any]:
    """Contacts by e-mail, filtered by the binds ``roles``, ``state`` and ``desk_id`` as asked.

    Built once per combination of filters: whom an event reaches is asked on every one.
    """
    statement = sa.select(contacts).order_by(contacts.c.email, contacts.c.id)
    if by_role:
        statement = statement.where(contacts.c.role.in_(sa.bindparam("roles", expanding=True)))
    if by_state:
        statement = statement.where(contacts.c.state == sa.bindparam("state"))
    if by_desk:
        # From the desk's index of members, not a scan of every contact.
        members = sa.select(contact_desks.c.contact_id).where(
            contact_desks.c.desk_id == sa.bindparam("desk_id")
        )
        statement = statement.where(contacts.c.id.in_(members))
    return statement


@functools.cache
def _add_contact(dialect_name: str) -> Any:
    # On a known e-mail, a no-op update: the existing row comes back from the
    # same one statement, so a new address and a known one cost the same.
    contact = dialects.insert_for(dialect_name)(contacts)
    return contact.on_conflict_do_update(
        index_elements=[contacts.c.email], set_={"email": contact.excluded.email}
    ).returning(*contacts.c)


@functools.cache
def _join_desks(dialect_name: str) -> Any:
    return dialects.insert_for(dialect_name)(contact_desks).on_conflict_do_nothing()


class SqlDirectory(Repository):
    """Organisations and contacts in SQL; a contact's desks in ``contact_desks``."""

    def put_organization(self, organization: Organization) -> None:
        statement = upsert_by_id(self._tx.dialect_name, organizations)
        self._tx.execute(statement, rows.ORGANIZATIONS.row(organization))

    def get_organization(self, organization_id: str) -> Organization | None:
        return self._tx.one(rows.ORGANIZATIONS, GET_ORGANIZATION, id=organization_id)

    def put_contact(self, contact: Contact) -> None:
        conflict = Conflict("contact", contact.email, "another contact has this e-mail")
        statement = upsert_by_id(self._tx.dialect_name, contacts)
        self._tx.replace_guarded(statement, rows.CONTACTS.row(contact), conflict)
        desk_ids = sorted(contact.desk_ids)
        self._tx.execute(LEAVE_DESKS, {"match_contact_id": contact.id, "desk_ids": desk_ids})
        if desk_ids:
            members = [{"contact_id": contact.id, "desk_id": desk_id} for desk_id in desk_ids]
            self._tx.execute(_join_desks(self._tx.dialect_name), members)

    def add_contact(self, contact: Contact) -> Contact:
        if contact.desk_ids:
            raise ValueError("add_contact takes a contact without desks; use put_contact")
        added = self._tx.execute(_add_contact(self._tx.dialect_name), rows.CONTACTS.row(contact))
        return rows.CONTACTS.model(added.mappings().one())

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._tx.one(rows.CONTACTS, GET_CONTACT, id=contact_id)

    def get_contact_by_email(self, email: str) -> Contact | None:
        return self._tx.one(rows.CONTACTS, GET_CONTACT_BY_EMAIL, email=normalize_email(email))

    def find_contacts(self, query: ContactQuery) -> Sequence[Contact]:
        roles, state, desk_id = query.roles, query.state, query.desk_id
        statement = find_contacts_statement(
            by_role=roles is not None, by_state=state is not None, by_desk=desk_id is not None
        )
        parameters = {
            "roles": sorted(role.value for role in roles or ()),
            "state": None if state is None else state.value,
            "desk_id": desk_id,
        }
        return self._tx.all(rows.CONTACTS, statement, **parameters)
