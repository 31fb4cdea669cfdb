"""The SQL privacy area: a person's rows by index, redacted in bulk, history purged in batches."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..._models import Activity, ActivityKind, SearchKind
from ...access import TicketScope
from ..protocol.privacy import COPYING_KINDS, PersonalData, Redacted, event_names
from . import rows
from ._transaction import Repository
from .dialects import InSubquery
from .schema import (
    DELIVERED,
    PENDING,
    activities,
    attachments,
    collaborators,
    events,
    muted,
    notifications,
    signup_tokens,
    tickets,
    timers,
)
from .ticket_lists import scope_clause

CONTACT = sa.bindparam("contact_id", type_=sa.String)
WRITTEN_BY_THEM = activities.c.actor_id == CONTACT
SHARED_WITH_THEM = collaborators.c.contact_id == CONTACT
# Their tickets: requested by them, shared with them, or written on by them.
THEIR_TICKETS = sa.union(
    sa.select(tickets.c.id).where(tickets.c.requester_id == CONTACT),
    sa.select(collaborators.c.ticket_id).where(SHARED_WITH_THEM),
    sa.select(activities.c.ticket_id).where(WRITTEN_BY_THEM),
)
THEIR_COLLABORATIONS = (
    sa.select(collaborators)
    .where(SHARED_WITH_THEM)
    .order_by(collaborators.c.added_at, collaborators.c.ticket_id)
)
THEIR_MUTES = sa.select(muted.c.ticket_id).where(muted.c.contact_id == CONTACT)
_ENTRIES = sa.union_all(
    sa.select(activities).where(WRITTEN_BY_THEM),
    # The other arm leaves out their own entries: each entry comes once.
    sa.select(activities).where(
        activities.c.kind.in_(sorted(kind.value for kind in COPYING_KINDS)),
        activities.c.ticket_id.in_(THEIR_TICKETS),
        sa.or_(activities.c.actor_id.is_(None), activities.c.actor_id != CONTACT),
    ),
).subquery()
THEIR_ENTRIES = sa.select(_ENTRIES).order_by(_ENTRIES.c.at, _ENTRIES.c.ticket_id, _ENTRIES.c.seq)
THEIR_FILES = (
    sa.select(attachments)
    .where(attachments.c.uploader_id == CONTACT)
    .order_by(attachments.c.position)
)
# Recipients and payloads are JSON: their text holding the quoted id is a
# cheap first cut; the parsed row then decides (see find_personal_data).
_ESCAPE = "\\"
_NAMED = sa.bindparam("quoted_id", type_=sa.String)
THEIR_FEED_ENTRIES = (
    sa.select(notifications)
    .where(
        sa.or_(
            notifications.c.contact_id == CONTACT,
            InSubquery(notifications.c.ticket_id, THEIR_TICKETS.scalar_subquery()),
            sa.and_(
                notifications.c.ticket_id.is_(None),
                sa.cast(notifications.c.payload, sa.Text).like(_NAMED, escape=_ESCAPE),
            ),
        )
    )
    .order_by(notifications.c.at, notifications.c.id)
)
THEIR_EVENTS = (
    sa.select(events)
    .where(
        sa.or_(
            InSubquery(events.c.ticket_id, THEIR_TICKETS.scalar_subquery()),
            events.c.actor_id == CONTACT,
            sa.cast(events.c.recipients, sa.Text).like(_NAMED, escape=_ESCAPE),
            sa.cast(events.c.payload, sa.Text).like(_NAMED, escape=_ESCAPE),
        )
    )
    .order_by(events.c.position)
)

# In UPDATEs, binds named like a column would clash with the SET values.
REDACT_ENTRY = activities.update().where(activities.c.id == sa.bindparam("match_id"))
REDACT_FILE = attachments.update().where(attachments.c.id == sa.bindparam("match_id"))
REDACT_EVENT = events.update().where(events.c.id == sa.bindparam("match_id"))
REDACT_FEED_ENTRY = notifications.update().where(notifications.c.id == sa.bindparam("match_id"))

REMOVE_THEIR_ROWS = (
    notifications.delete().where(notifications.c.contact_id == CONTACT),
    collaborators.delete().where(SHARED_WITH_THEM),
    muted.delete().where(muted.c.contact_id == CONTACT),
    signup_tokens.delete().where(signup_tokens.c.contact_id == CONTACT),
)

BEFORE = sa.bindparam("before", type_=timers.c.done_at.type)
LIMIT = sa.bindparam("limit", type_=sa.Integer)
# Each purge deletes the oldest batch its partial index holds; Postgres skips
# rows a concurrent purge is deleting rather than waiting for them.
OLD_TIMERS = (
    sa.select(timers.c.id)
    .where(timers.c.state != PENDING, timers.c.done_at < BEFORE)
    .order_by(timers.c.done_at)
    .limit(LIMIT)
    .with_for_update(skip_locked=True)
)
OLD_EVENTS = (
    sa.select(events.c.position)
    .where(events.c.state == DELIVERED, events.c.finished_at < BEFORE)
    .order_by(events.c.finished_at)
    .limit(LIMIT)
    .with_for_update(skip_locked=True)
)
OLD_NOTIFICATIONS = (
    sa.select(notifications.c.id)
    .where(notifications.c.read_at.is_not(None), notifications.c.at < BEFORE)
    .order_by(notifications.c.at)
    .limit(LIMIT)
    .with_for_update(skip_locked=True)
)
REMOVE_FINISHED_TIMERS = timers.delete().where(timers.c.id.in_(OLD_TIMERS))
REMOVE_DELIVERED_EVENTS = events.delete().where(events.c.position.in_(OLD_EVENTS))
REMOVE_READ_NOTIFICATIONS = notifications.delete().where(notifications.c.id.in_(OLD_NOTIFICATIONS))


class SqlPrivacy(Repository):
    """The privacy area in SQL: a handful of statements per person, one per purge batch."""

    def find_personal_data(self, contact_id: str) -> PersonalData:
        mine = {"contact_id": contact_id}
        scope = TicketScope(requester_id=contact_id, collaborator_id=contact_id)
        found = sa.select(tickets).where(scope_clause(scope))
        their_tickets = self._tx.all(
            rows.TICKETS, found.order_by(tickets.c.created_at, tickets.c.id)
        )
        entries = self._tx.all(rows.ACTIVITIES, THEIR_ENTRIES, **mine)
        theirs = {t.id for t in their_tickets}
        theirs.update(entry.ticket_id for entry in entries if entry.actor_id == contact_id)
        named = {**mine, "quoted_id": _within(contact_id)}
        feed = self._tx.all(rows.NOTIFICATIONS, THEIR_FEED_ENTRIES, **named)
        outbox = self._tx.execute(THEIR_EVENTS, named)
        candidates = [rows.outbox_entry(row) for row in outbox.mappings()]
        return PersonalData(
            tickets=tuple(their_tickets),
            collaborations=tuple(self._tx.all(rows.COLLABORATORS, THEIR_COLLABORATIONS, **mine)),
            muted=frozenset(self._tx.execute(THEIR_MUTES, mine).scalars()),
            activities=tuple(entries),
            attachments=tuple(self._tx.all(rows.ATTACHMENTS, THEIR_FILES, **mine)),
            notifications=tuple(
                n
                for n in feed
                if n.ticket_id is not None
                or n.contact_id == contact_id
                or contact_id in n.payload.values()
            ),
            events=tuple(
                entry
                for entry in candidates
                if entry.event.ticket_id in theirs or event_names(entry.event, contact_id)
            ),
        )

    def mark_redacted(self, redacted: Redacted) -> int:
        changed = self._redact(
            REDACT_ENTRY,
            [{"match_id": a.id, "body": a.body, "data": dict(a.data)} for a in redacted.activities],
        )
        self._reindex(redacted.activities)
        changed += self._redact(
            REDACT_FILE,
            [
                {"match_id": a.id, "filename": a.filename, "blob_key": a.blob_key}
                for a in redacted.attachments
            ],
        )
        rows_of_events = [rows.EVENTS.row(event) for event in redacted.events]
        changed += self._redact(
            REDACT_EVENT,
            [
                {"match_id": row["id"], "payload": row["payload"], "recipients": row["recipients"]}
                for row in rows_of_events
            ],
        )
        return changed + self._redact(
            REDACT_FEED_ENTRY,
            [{"match_id": n.id, "payload": dict(n.payload)} for n in redacted.notifications],
        )

    def _redact(self, statement: Any, parameters: list[dict[str, Any]]) -> int:
        """Run ``statement`` once for every row's ``parameters``; how many rows it changed."""
        if not parameters:
            return 0
        return self._tx.execute(statement, parameters).rowcount

    def _reindex(self, entries: Collection[Activity]) -> None:
        """Index redacted bodies as the log indexes appended ones."""
        indexed = [
            (
                entry.ticket_id,
                rows.Searchable(f"activity:{entry.id}", entry.body, internal=entry.internal),
            )
            for entry in entries
            if entry.body and entry.kind is not ActivityKind.CREATED
        ]
        self._tx.index_each(SearchKind.TICKET, indexed)

    def remove_personal_rows(self, contact_id: str) -> bool:
        removed = [
            self._tx.execute(statement, {"contact_id": contact_id}).rowcount
            for statement in REMOVE_THEIR_ROWS
        ]
        return any(removed)

    def remove_finished_timers(self, before: datetime, limit: int) -> int:
        return self._purge(REMOVE_FINISHED_TIMERS, before, limit)

    def remove_delivered_events(self, before: datetime, limit: int) -> int:
        return self._purge(REMOVE_DELIVERED_EVENTS, before, limit)

    def remove_read_notifications(self, before: datetime, limit: int) -> int:
        return self._purge(REMOVE_READ_NOTIFICATIONS, before, limit)

    def _purge(self, statement: Any, before: datetime, limit: int) -> int:
        return self._tx.execute(statement, {"before": before, "limit": limit}).rowcount


def _within(contact_id: str) -> str:
    """A LIKE pattern for JSON text holding ``contact_id`` as a whole string."""
    quoted = json.dumps(contact_id)
    for special in (_ESCAPE, "%", "_"):
        quoted = quoted.replace(special, _ESCAPE + special)
    return f"%{quoted}%"
