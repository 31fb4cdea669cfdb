"""The memory store's feed: each contact's notifications, and every entry by id."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import attrs

from ..._models import Notification
from ..protocol import FeedQuery
from ._changes import Area


class FeedTables:
    """Feed entries by contact, and by id."""

    def __init__(self) -> None:
        self.by_contact: dict[str, dict[str, Notification]] = {}
        """Contact id -> notification id -> feed entry."""
        self.by_id: dict[str, Notification] = {}


class MemoryNotificationFeed(Area[FeedTables]):
    """The feed area of a :class:`~.store.MemoryUnitOfWork`."""

    def add(self, notifications: Collection[Notification]) -> None:
        for notification in notifications:
            feed = self._tables.by_contact.setdefault(notification.contact_id, {})
            self._changes.set(feed, notification.id, notification)
            self._changes.set(self._tables.by_id, notification.id, notification)

    def get(self, notification_id: str) -> Notification | None:
        return self._tables.by_id.get(notification_id)

    def find(self, query: FeedQuery) -> Sequence[Notification]:
        feed = self._tables.by_contact.get(query.contact_id, {}).values()
        found = sorted(
            (n for n in feed if n.unread or not query.unread_only),
            key=lambda n: (n.at, n.id),
            reverse=True,
        )
        if (before := query.before) is not None:
            found = [n for n in found if (n.at, n.id) < before]
        return found[: query.limit]

    def count_unread(self, contact_id: str) -> int:
        feed = self._tables.by_contact.get(contact_id, {})
        return sum(1 for notification in feed.values() if notification.unread)

    def mark_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        feed = self._tables.by_contact.get(contact_id, {})
        wanted = feed.keys() if notification_ids is None else set(notification_ids)
        changed = [n for n in list(feed.values()) if n.unread and n.id in wanted]
        for notification in changed:
            read = attrs.evolve(notification, read_at=now)
            self._changes.set(feed, notification.id, read)
            self._changes.set(self._tables.by_id, notification.id, read)
        return len(changed)
