"""The SQL activity log: entries appended under their ticket's row lock, numbered in the insert."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import sqlalchemy as sa

from ..._errors import NotFound
from ..._models import Activity, ActivityEntry, ActivityKind, Role, SearchKind
from . import rows
from ._transaction import Repository
from .schema import activities, contacts, tickets

# Appends to one ticket queue on its row; FOR NO KEY UPDATE, unlike FOR
# UPDATE, leaves the row free for the key-share locks foreign keys take.
# SQLite renders no lock: BEGIN IMMEDIATE already admits one writer.
LOCK_TICKET = (
    sa.select(tickets.c.id)
    .where(tickets.c.id == sa.bindparam("log_ticket_id"))
    .with_for_update(key_share=True)
)
APPEND_ACTIVITY = (
    activities.insert()
    .values(
        seq=sa.select(sa.func.coalesce(sa.func.max(activities.c.seq), 0) + 1)
        .where(activities.c.ticket_id == sa.bindparam("log_ticket_id"))
        .scalar_subquery()
    )
    .returning(activities.c.seq)
)
# Each entry with its actor as the directory names them now; no actor (the
# system), or none stored, leaves the outer join's columns empty.
LIST_ACTIVITIES = (
    sa.select(
        activities,
        contacts.c.full_name.label("actor_name"),
        contacts.c.role.label("actor_role"),
    )
    .select_from(activities.outerjoin(contacts, contacts.c.id == activities.c.actor_id))
    .where(activities.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(activities.c.seq)
)
LIST_PUBLIC_ACTIVITIES = LIST_ACTIVITIES.where(activities.c.internal == sa.false())


class SqlActivityLog(Repository):
    """The activity log in SQL; bodies of updates and notes indexed for search."""

    def add(self, activity: Activity) -> Activity:
        lock = {"log_ticket_id": activity.ticket_id}
        if activity.ticket_id not in self._tx.held:
            if self._tx.execute(LOCK_TICKET, lock).first() is None:
                raise NotFound("ticket", activity.ticket_id)
            self._tx.held.add(activity.ticket_id)
        row = rows.ACTIVITIES.row(activity)
        del row["seq"]
        seq = self._tx.execute(APPEND_ACTIVITY, {**row, **lock}).scalar_one()
        if activity.body and activity.kind is not ActivityKind.CREATED:
            # The creation entry repeats the description, which is indexed already.
            field = rows.Searchable(
                f"activity:{activity.id}", activity.body, internal=activity.internal
            )
            self._tx.index(SearchKind.TICKET, activity.ticket_id, field)
        return attrs.evolve(activity, seq=seq)

    def list_entries(self, ticket_id: str, *, include_internal: bool) -> Sequence[ActivityEntry]:
        statement = LIST_ACTIVITIES if include_internal else LIST_PUBLIC_ACTIVITIES
        return [
            ActivityEntry.of(
                rows.ACTIVITIES.model(row),
                row["actor_name"],
                None if row["actor_role"] is None else Role(row["actor_role"]),
            )
            for row in self._tx.execute(statement, {"ticket_id": ticket_id}).mappings()
        ]
