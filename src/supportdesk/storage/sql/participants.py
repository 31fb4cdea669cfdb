"""The SQL participants: a ticket's collaborators, the contacts who muted it, and each
contact's notification settings."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from ..._models import Collaborator, Contact, EventKind, NotificationSettings
from . import dialects, rows
from ._transaction import Repository
from .schema import collaborators, contacts, email_opt_outs, muted

REMOVE_COLLABORATOR = collaborators.delete().where(
    collaborators.c.ticket_id == sa.bindparam("ticket_id"),
    collaborators.c.contact_id == sa.bindparam("contact_id"),
)
LIST_COLLABORATORS = (
    sa.select(collaborators)
    .where(collaborators.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(collaborators.c.position)
)
UNMUTE = muted.delete().where(
    muted.c.ticket_id == sa.bindparam("ticket_id"), muted.c.contact_id == sa.bindparam("contact_id")
)
MUTED_CONTACTS = sa.select(muted.c.contact_id).where(muted.c.ticket_id == sa.bindparam("ticket_id"))
LIST_COLLABORATOR_CONTACTS = (
    sa.select(contacts)
    .join(collaborators, collaborators.c.contact_id == contacts.c.id)
    .where(collaborators.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(collaborators.c.position)
)
CLEAR_SETTINGS = email_opt_outs.delete().where(
    email_opt_outs.c.contact_id == sa.bindparam("contact_id")
)
FIND_SETTINGS = sa.select(email_opt_outs.c.contact_id, email_opt_outs.c.kind).where(
    email_opt_outs.c.contact_id.in_(sa.bindparam("contact_ids", expanding=True))
)


@functools.cache
def _add_collaborator(dialect_name: str) -> Any:
    return dialects.insert_for(dialect_name)(collaborators).on_conflict_do_nothing(
        index_elements=[collaborators.c.ticket_id, collaborators.c.contact_id]
    )


@functools.cache
def _add_mute(dialect_name: str) -> Any:
    return dialects.insert_for(dialect_name)(muted).on_conflict_do_nothing()


class SqlParticipants(Repository):
    """Collaborators and mutes in SQL, one row per ticket and contact."""

    def add_collaborator(self, collaborator: Collaborator) -> None:
        statement = _add_collaborator(self._tx.dialect_name)
        self._tx.execute(statement, rows.COLLABORATORS.row(collaborator))

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        key = {"ticket_id": ticket_id, "contact_id": contact_id}
        return bool(self._tx.execute(REMOVE_COLLABORATOR, key).rowcount)

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        return self._tx.all(rows.COLLABORATORS, LIST_COLLABORATORS, ticket_id=ticket_id)

    def list_collaborator_contacts(self, ticket_id: str) -> Sequence[Contact]:
        return self._tx.all(rows.CONTACTS, LIST_COLLABORATOR_CONTACTS, ticket_id=ticket_id)

    def add_mute(self, ticket_id: str, contact_id: str) -> None:
        key = {"ticket_id": ticket_id, "contact_id": contact_id}
        self._tx.execute(_add_mute(self._tx.dialect_name), key)

    def remove_mute(self, ticket_id: str, contact_id: str) -> bool:
        key = {"ticket_id": ticket_id, "contact_id": contact_id}
        return bool(self._tx.execute(UNMUTE, key).rowcount)

    def list_muted(self, ticket_id: str) -> frozenset[str]:
        return frozenset(self._tx.execute(MUTED_CONTACTS, {"ticket_id": ticket_id}).scalars())

    def put_settings(self, settings: NotificationSettings) -> None:
        # One row per kind switched off: whom an event e-mails is one indexed read.
        self._tx.execute(CLEAR_SETTINGS, {"contact_id": settings.contact_id})
        off = [
            {"contact_id": settings.contact_id, "kind": kind.value} for kind in settings.email_off
        ]
        if off:
            self._tx.execute(email_opt_outs.insert(), off)

    def find_settings(self, contact_ids: Collection[str]) -> Sequence[NotificationSettings]:
        if not contact_ids:
            return []
        found: dict[str, set[EventKind]] = {}
        wanted = {"contact_ids": sorted(set(contact_ids))}
        for row in self._tx.execute(FIND_SETTINGS, wanted).mappings():
            found.setdefault(row["contact_id"], set()).add(EventKind(row["kind"]))
        return [
            NotificationSettings(contact_id=contact_id, email_off=frozenset(kinds))
            for contact_id, kinds in found.items()
        ]
