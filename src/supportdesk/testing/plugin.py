"""A pytest plugin for hosts' test suites: a fake clock and an in-memory desk as fixtures.

Installed with supportdesk and loaded by pytest automatically::

    def test_my_view(support_desk, fake_clock):
        ...
"""

from __future__ import annotations

import pytest

from ..clock import FakeClock
from ..desk import SupportDesk


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that stands still until the test advances it."""
    return FakeClock()


@pytest.fixture
def support_desk(fake_clock: FakeClock) -> SupportDesk:
    """An empty desk on the in-memory store, reading time from :func:`fake_clock`."""
    return SupportDesk.in_memory(clock=fake_clock)
