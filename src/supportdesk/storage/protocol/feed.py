"""The feed area: each contact's in-app notifications (the bell), with read marks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ..._models import Notification


@attrs.frozen(kw_only=True)
class FeedQuery:
    """A page of one contact's feed entries, newest first.

    Ordered by ``at`` then ``id``, both descending.  ``before`` is the keyset
    position (``at``, ``id``) of the last entry of the previous page; the page
    starts strictly after it.
    """

    contact_id: str
    unread_only: bool = False
    """Only entries whose ``read_at`` is None."""
    limit: int = 25
    before: tuple[datetime, str] | None = None


class NotificationFeed(Protocol):
    """Feed entries, written in the transaction of their event; ownership is the caller's job."""

    def add(self, notifications: Collection[Notification]) -> None:
        """Store feed entries."""
        ...

    def get(self, notification_id: str) -> Notification | None:
        """The feed entry with that id, whoever it belongs to."""
        ...

    def find(self, query: FeedQuery) -> Sequence[Notification]:
        """Up to ``query.limit`` of the contact's feed entries; see :class:`FeedQuery`."""
        ...

    def count_unread(self, contact_id: str) -> int:
        """How many of the contact's feed entries are unread."""
        ...

    def mark_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        """Set ``read_at = now`` on the contact's unread entries; returns how many changed.

        ``notification_ids`` None means all of them.  Ids of other contacts'
        entries, or unknown ids, are ignored: they change nothing.
        """
        ...
