"""A pytest plugin for hosts' test suites: a fake clock and an in-memory desk as fixtures.

Installed with supportdesk and loaded by pytest automatically::

    def test_my_view(supportdesk_desk, supportdesk_clock):
        supportdesk_clock.advance(timedelta(days=5))
        ...

The fixtures carry a ``supportdesk_`` prefix so that they never shadow a
host's own; the unprefixed names of 0.1 (``fake_clock``, ``support_desk``)
still work for this release and warn.
"""

from __future__ import annotations

import warnings

import pytest

from ..clock import FakeClock
from ..desk import SupportDesk


@pytest.fixture
def supportdesk_clock() -> FakeClock:
    """A clock that stands still until the test advances it."""
    return FakeClock()


@pytest.fixture
def supportdesk_desk(supportdesk_clock: FakeClock) -> SupportDesk:
    """An empty desk on the in-memory store, reading time from ``supportdesk_clock``."""
    return SupportDesk.in_memory(clock=supportdesk_clock)


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"the {old} fixture is now {new}; {old} goes in the next release",
        DeprecationWarning,
        stacklevel=3,
    )


@pytest.fixture
def fake_clock(supportdesk_clock: FakeClock) -> FakeClock:
    """Deprecated: ``supportdesk_clock``."""
    _renamed("fake_clock", "supportdesk_clock")
    return supportdesk_clock


@pytest.fixture
def support_desk(supportdesk_desk: SupportDesk) -> SupportDesk:
    """Deprecated: ``supportdesk_desk``."""
    _renamed("support_desk", "supportdesk_desk")
    return supportdesk_desk
