"""Time for supportdesk: the injected clock and the calendars timer durations count in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs


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
        """The moment ``duration`` of counted time after ``start``, in UTC.

        A timer's or an SLA target's duration reads this way (in a business
        calendar, whole days are working days).
        """
        ...

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The counted time between ``start`` and ``end``; zero unless ``end`` is later."""
        ...

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment at which ``amount`` of counted time has passed since ``start``, in UTC.

        The inverse of :meth:`working_time`: SLA clocks count with these two.
        """
        ...


def _uncountable(calendar: Calendar, durations: Iterable[tuple[str, timedelta]]) -> list[str]:
    """``"name: why"`` for each named duration ``calendar`` refuses to count, checked up front."""
    probe = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    problems = []
    for name, duration in durations:
        try:
            calendar.add(probe, duration)
        except ValueError as error:
            problems.append(f"{name}: {error}")
    return problems


class AlwaysOpen:
    """A 24x7 calendar: every second counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """``start + duration``, in UTC."""
        return (start + duration).astimezone(UTC)

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """``end - start``, or zero when ``end`` is not later."""
        return max(end - start, timedelta(0))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """``start + amount``, in UTC."""
        return self.add(start, amount)


ALWAYS_OPEN = AlwaysOpen()
"""The default calendar: 24 hours a day, 7 days a week."""


def _zone(value: ZoneInfo | str) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(
            f"unknown time zone {value!r}: give an IANA name such as 'Europe/London'"
        ) from error


def _weekdays(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _dates(value: Iterable[date]) -> frozenset[date]:
    return frozenset(value)


def _check_workdays(
    _instance: object, _attribute: attrs.Attribute[frozenset[int]], value: frozenset[int]
) -> None:
    if not value:
        raise ValueError("a BusinessCalendar needs at least one workday (0=Monday .. 6=Sunday)")
    if not value <= frozenset(range(7)):
        raise ValueError(f"workdays are weekday numbers 0=Monday .. 6=Sunday, got {set(value)!r}")


def _check_naive_time(_instance: object, attribute: attrs.Attribute[time], value: time) -> None:
    # Opening hours are local wall times; the calendar's time zone gives them meaning.
    if value.tzinfo is not None:
        raise ValueError(f"{attribute.name} must be a naive local time, got {value!r}")


def _check_holidays(
    _instance: object, _attribute: attrs.Attribute[frozenset[date]], value: frozenset[date]
) -> None:
    # A datetime never equals a date, so it would never match a day and be ignored.
    odd = [day for day in value if isinstance(day, datetime) or not isinstance(day, date)]
    if odd:
        raise ValueError(f"holidays must be datetime.date objects, got {odd!r}")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Counts durations in working days and working hours, in one time zone.

    :meth:`add` counts like this:

    1. A ``start`` outside working time first moves to the next opening.
    2. Each whole day of ``duration`` is one working day: the same local wall
       time on the next working day, skipping days not in ``workdays`` and
       ``holidays``.
    3. The remainder counts as working hours between ``opens`` and
       ``closes``, carried over to the next working day's opening when it
       does not fit; it may end exactly at ``closes``.  It may not exceed
       :attr:`working_day`, so that a longer duration never ends earlier.

    Working time is the half-open interval ``[opens, closes)`` of each working
    day, so a start at ``closes`` moves to the next opening, and a zero
    duration from outside working time also gives the next opening.

    All counting happens in local wall time, so a working day lasts from
    ``opens`` to ``closes`` whatever a daylight-saving change does to the
    offset that day; working hours on a day whose change falls inside them
    count as the wall clock shows.  A wall time that a change skips or
    repeats is read as :mod:`zoneinfo` reads ``fold=0`` (the offset in force
    before the change), except that a result reached within the start's own
    working day keeps the start's ``fold``, so it is never before the start.
    The result is timezone-aware UTC.

    :raises ValueError: for an unknown time zone, no or invalid workdays,
        ``opens`` not before ``closes``, or holidays that are not dates.
    """

    timezone: ZoneInfo = attrs.field(converter=_zone)
    """A :class:`zoneinfo.ZoneInfo`, or an IANA name such as ``"Europe/London"``."""
    workdays: frozenset[int] = attrs.field(
        default=frozenset(range(5)), converter=_weekdays, validator=_check_workdays
    )
    """Weekday numbers as :meth:`datetime.date.weekday` gives them (0 = Monday); Monday to Friday
    by default."""
    opens: time = attrs.field(default=time(9, 0), validator=_check_naive_time)
    """The naive local time working hours start; 09:00 by default."""
    closes: time = attrs.field(default=time(17, 0), validator=_check_naive_time)
    """The naive local time working hours end, after ``opens``; 17:00 by default."""
    holidays: frozenset[date] = attrs.field(
        default=frozenset(), converter=_dates, validator=_check_holidays
    )
    """Local dates that are not working days, whatever their weekday."""

    def __attrs_post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(
                f"opens ({self.opens}) must be before closes ({self.closes}); "
                "working hours may not span midnight"
            )

    @property
    def working_day(self) -> timedelta:
        """How long a working day's hours last: ``closes - opens``."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        """Whether a local date is a working day: one of ``workdays`` and not a holiday.

        :param day: a date in the calendar's time zone.
        """
        return day.weekday() in self.workdays and day not in self.holidays

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` falls within working hours of a working day, locally.

        :param moment: a timezone-aware datetime.
        :raises ValueError: if ``moment`` is naive.
        """
        _require_aware(moment, "moment")
        wall = moment.astimezone(self.timezone)
        return self.is_working_day(wall.date()) and self.opens <= wall.time() < self.closes

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``, in UTC.

        See the class docstring for how days and hours count.

        :param start: a timezone-aware datetime.
        :param duration: a non-negative duration.
        :returns: a timezone-aware datetime in UTC.
        :raises ValueError: if ``start`` is naive, ``duration`` is negative, or
            its hours beyond whole days exceed :attr:`working_day`.
        """
        _require_aware(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"a calendar counts forward only; got duration {duration}")
        hours = duration - timedelta(days=duration.days)
        if hours > self.working_day:
            # More hours than a working day holds would count past the next
            # whole day, so a longer duration could end earlier than a shorter one.
            raise ValueError(
                f"duration {duration} has {hours} beyond whole days, more than the "
                f"{self.working_day} working day; use whole days plus at most that"
            )
        wall = self._next_opening(start.astimezone(self.timezone).replace(tzinfo=None))
        for _ in range(duration.days):
            wall = datetime.combine(self._next_working_day(wall.date()), wall.time())
        wall = self._add_hours(wall, duration - timedelta(days=duration.days))
        return wall.replace(tzinfo=self.timezone).astimezone(UTC)

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """The working hours between ``start`` and ``end``, counted on the local wall clock.

        Zero when ``end`` is not later than ``start``.

        :raises ValueError: if either is naive.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return timedelta(0)
        first = start.astimezone(self.timezone).replace(tzinfo=None)
        last = end.astimezone(self.timezone).replace(tzinfo=None)
        total = timedelta(0)
        day = first.date()
        while day <= last.date():
            if self.is_working_day(day):
                since = max(first, datetime.combine(day, self.opens))
                until = min(last, datetime.combine(day, self.closes))
                total += max(until - since, timedelta(0))
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of working hours after ``start``: :meth:`working_time`'s inverse.

        :raises ValueError: if ``start`` is naive or ``amount`` negative.
        """
        days, hours = divmod(amount, self.working_day)
        if days and not hours:
            # The moment a whole working day ends is that day's closing, not the next opening.
            days, hours = days - 1, self.working_day
        return self.add(start, timedelta(days=days) + hours)

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _next_opening(self, wall: datetime) -> datetime:
        """``wall`` itself when it is working time, else the next opening (naive local)."""
        if self.is_working_day(wall.date()):
            if wall.time() < self.opens:
                return datetime.combine(wall.date(), self.opens)
            if wall.time() < self.closes:
                return wall
        return datetime.combine(self._next_working_day(wall.date()), self.opens)

    def _add_hours(self, wall: datetime, remaining: timedelta) -> datetime:
        """Add working hours to a naive local working time, day by day."""
        while True:
            left_today = datetime.combine(wall.date(), self.closes) - wall
            if remaining <= left_today:
                # Arithmetic resets fold; keep it, or a start in an hour that
                # repeats could come out an hour before itself.
                return (wall + remaining).replace(fold=wall.fold)
            remaining -= left_today
            wall = datetime.combine(self._next_working_day(wall.date()), self.opens)
