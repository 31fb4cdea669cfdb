"""The SQL notification feed: each contact's in-app notifications, keyset-paged, with read marks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..._models import Notification
from ..protocol import FeedQuery
from . import rows
from ._transaction import Repository, by_id
from .schema import notifications

GET_NOTIFICATION = by_id(notifications)
IS_UNREAD = notifications.c.read_at.is_(None)
COUNT_UNREAD = sa.select(sa.func.count()).where(
    notifications.c.contact_id == sa.bindparam("contact_id"), IS_UNREAD
)
MARK_ALL_READ = (
    notifications.update()
    .where(notifications.c.contact_id == sa.bindparam("match_contact_id"), IS_UNREAD)
    .values(read_at=sa.bindparam("now"))
)
MARK_READ = MARK_ALL_READ.where(
    notifications.c.id.in_(sa.bindparam("notification_ids", expanding=True))
)


class SqlNotificationFeed(Repository):
    """Feed entries in SQL, one row per notification."""

    def add(self, notifications: Collection[Notification]) -> None:
        if notifications:
            feed = [rows.NOTIFICATIONS.row(notification) for notification in notifications]
            self._tx.execute(rows.NOTIFICATIONS.table.insert(), feed)

    def get(self, notification_id: str) -> Notification | None:
        return self._tx.one(rows.NOTIFICATIONS, GET_NOTIFICATION, id=notification_id)

    def find(self, query: FeedQuery) -> Sequence[Notification]:
        feed = rows.NOTIFICATIONS.table
        statement = (
            sa.select(feed)
            .where(feed.c.contact_id == query.contact_id)
            .order_by(feed.c.at.desc(), feed.c.id.desc())
            .limit(query.limit)
        )
        if query.unread_only:
            statement = statement.where(IS_UNREAD)
        if query.before is not None:
            at, notification_id = query.before
            position = sa.tuple_(sa.literal(at, feed.c.at.type), sa.literal(notification_id))
            statement = statement.where(sa.tuple_(feed.c.at, feed.c.id) < position)
        return self._tx.all(rows.NOTIFICATIONS, statement)

    def count_unread(self, contact_id: str) -> int:
        return int(self._tx.execute(COUNT_UNREAD, {"contact_id": contact_id}).scalar_one())

    def mark_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        parameters: dict[str, Any] = {"match_contact_id": contact_id, "now": now}
        statement = MARK_ALL_READ
        if notification_ids is not None:
            statement = MARK_READ
            parameters["notification_ids"] = sorted(notification_ids)
        return self._tx.execute(statement, parameters).rowcount
