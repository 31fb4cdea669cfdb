"""Time for supportdesk: the injected clock and the calendars timer durations count in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where supportdesk reads the current time; always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: for tests and demos."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if start.utcoffset() is None:
            raise ValueError(f"FakeClock needs a timezone-aware start, got {start!r}")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The time the clock was set or advanced to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"a clock only moves forward; got {delta}")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Move the clock to ``when``, which may not be earlier than now."""
        if when.utcoffset() is None:
            raise ValueError(f"FakeClock needs a timezone-aware time, got {when!r}")
        self.advance(when - self._now)


class Calendar(Protocol):
    """Counts durations: around the clock, or in working time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of counted time after ``start``, in UTC."""
        ...


class AlwaysOpen:
    """A 24x7 calendar: every second counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """``start + duration``."""
        return start + duration


ALWAYS_OPEN = AlwaysOpen()
"""The default calendar: 24 hours a day, 7 days a week."""
