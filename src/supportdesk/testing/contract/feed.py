"""The feed area's contract: the in-app feed and its read marks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ...storage.protocol import FeedQuery, Store
from .base import T0, ContractBase, World, _notification


class FeedContract(ContractBase):
    """What every adapter's ``work.feed`` must do; one test per promise."""

    def test_feed_newest_first_with_unread_count(self, store: Store, world: World) -> None:
        alice, bob = world.alice, world.bob
        entries = [_notification(alice, T0 + timedelta(minutes=n)) for n in range(5)]
        with store.unit_of_work() as work:
            work.feed.add([*entries, _notification(bob, T0)])
        with store.unit_of_work() as work:
            newest = work.feed.find(FeedQuery(contact_id=alice.id, limit=2))
            assert newest == [entries[4], entries[3]]
            last = newest[-1]
            rest = work.feed.find(
                FeedQuery(contact_id=alice.id, limit=10, before=(last.at, last.id))
            )
            assert rest == [entries[2], entries[1], entries[0]]
            assert work.feed.count_unread(alice.id) == 5
            assert work.feed.get(entries[0].id) == entries[0]
            assert work.feed.get("nope") is None
        read_at = T0 + timedelta(hours=1)
        with store.unit_of_work() as work:
            assert work.feed.mark_read(alice.id, [entries[1].id, "nope"], read_at) == 1
            assert work.feed.mark_read(bob.id, [entries[2].id], read_at) == 0
        with store.unit_of_work() as work:
            assert work.feed.count_unread(alice.id) == 4
            unread = work.feed.find(FeedQuery(contact_id=alice.id, unread_only=True))
            assert entries[1].id not in {n.id for n in unread}
            stored = work.feed.get(entries[1].id)
            assert stored is not None and stored.read_at == read_at
            assert work.feed.mark_read(alice.id, None, read_at) == 4
            assert work.feed.count_unread(alice.id) == 0
            assert work.feed.count_unread(bob.id) == 1

    def test_rolled_back_feed_writes_leave_nothing(self, store: Store, world: World) -> None:
        entry = _notification(world.alice, T0)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.feed.add([entry])
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.feed.count_unread(world.alice.id) == 0
            assert work.feed.get(entry.id) is None
