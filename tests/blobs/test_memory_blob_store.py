"""MemoryBlobStore beyond the contract: times come from the injected clock."""

from __future__ import annotations

import io
from datetime import timedelta

from supportdesk.blobs import MemoryBlobStore
from supportdesk.clock import FakeClock


def test_modified_at_reads_the_injected_clock() -> None:
    """Grace periods can be tested without waiting: modified_at is the clock's time at put."""
    clock = FakeClock()
    store = MemoryBlobStore(clock=clock)
    store.put("key", io.BytesIO(b"x"))
    stored_at = clock.now()
    clock.advance(timedelta(hours=2))
    assert store.modified_at("key") == stored_at
    store.put("key", io.BytesIO(b"y"))
    assert store.modified_at("key") == stored_at + timedelta(hours=2)


def test_open_streams_are_independent() -> None:
    """Two readers of one blob do not share a position."""
    store = MemoryBlobStore()
    store.put("key", io.BytesIO(b"abcdef"))
    with store.open("key") as first, store.open("key") as second:
        assert first.read(3) == b"abc"
        assert second.read() == b"abcdef"
