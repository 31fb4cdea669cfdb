"""Tests of the clocks and calendars: fake time, 24x7 and business days and hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.clock import ALWAYS_OPEN, AlwaysOpen, BusinessCalendar, Calendar, FakeClock

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


# Weekdays in January 2026: Monday the 5th, Friday the 9th, Monday the 12th.
UK = BusinessCalendar(timezone="Europe/London")


# --- FakeClock ------------------------------------------------------------------------


def test_fake_clock_starts_at_a_fixed_utc_time() -> None:
    assert FakeClock().now() == utc(2026, 1, 5, 9, 0)
    clock = FakeClock(new_york(2026, 1, 5, 9, 0))
    assert clock.now() == utc(2026, 1, 5, 14, 0)
    assert clock.now().tzinfo is UTC


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(utc(2026, 1, 5, 9, 0))
    assert clock.now() == clock.now() == utc(2026, 1, 5, 9, 0)
    assert clock.advance(timedelta(hours=2)) == utc(2026, 1, 5, 11, 0)
    clock.set(utc(2026, 1, 6))
    assert clock.now() == utc(2026, 1, 6)


def test_fake_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 5))
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock().set(datetime(2026, 1, 6))


def test_fake_clock_refuses_to_go_backwards() -> None:
    clock = FakeClock(utc(2026, 1, 5, 9, 0))
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="only moves forward"):
        clock.set(utc(2026, 1, 5, 8, 59))
    assert clock.now() == utc(2026, 1, 5, 9, 0)


# --- AlwaysOpen ----------------------------------------------------------------------


def test_always_open_counts_every_second() -> None:
    calendar: Calendar = ALWAYS_OPEN
    assert isinstance(ALWAYS_OPEN, AlwaysOpen)
    saturday_night = utc(2026, 1, 10, 23, 0)
    assert calendar.add(saturday_night, timedelta(days=1, hours=2)) == utc(2026, 1, 12, 1, 0)


# --- BusinessCalendar: construction ------------------------------------------------------


def test_business_calendar_satisfies_the_calendar_protocol() -> None:
    calendar: Calendar = UK
    assert calendar.add(utc(2026, 1, 5, 10, 0), timedelta(0)) == utc(2026, 1, 5, 10, 0)


def test_business_calendar_defaults_and_conversions() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/London", workdays=[0, 1], holidays=[date(2026, 1, 6)]
    )
    assert calendar.timezone == LONDON
    assert calendar.workdays == frozenset({0, 1})
    assert calendar.holidays == frozenset({date(2026, 1, 6)})
    assert UK.workdays == frozenset(range(5))
    assert (UK.opens, UK.closes) == (time(9, 0), time(17, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "Europe/London", "workdays": frozenset()}, "at least one workday"),
        ({"timezone": "Europe/London", "workdays": {5, 7}}, "0=Monday"),
        ({"timezone": "Europe/London", "opens": time(17), "closes": time(9)}, "before closes"),
        ({"timezone": "Europe/London", "opens": time(9), "closes": time(9)}, "before closes"),
        ({"timezone": "Europe/London", "opens": time(9, tzinfo=UTC)}, "naive local time"),
        ({"timezone": "Europe/London", "holidays": {datetime(2026, 1, 1)}}, "datetime.date"),
    ],
)
def test_business_calendar_refuses_bad_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_add_refuses_naive_start_and_negative_duration() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        UK.add(datetime(2026, 1, 5, 10, 0), timedelta(hours=1))
    with pytest.raises(ValueError, match="counts forward only"):
        UK.add(utc(2026, 1, 5, 10, 0), timedelta(hours=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        UK.is_working_time(datetime(2026, 1, 5, 10, 0))


# --- BusinessCalendar: working time ------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (utc(2026, 1, 5, 9, 0), True),  # opening is working time
        (utc(2026, 1, 5, 16, 59, 59), True),
        (utc(2026, 1, 5, 17, 0), False),  # closing is not
        (utc(2026, 1, 5, 8, 59), False),
        (utc(2026, 1, 10, 12, 0), False),  # Saturday
        (new_york(2026, 1, 5, 11, 30), True),  # 16:30 in London
        (new_york(2026, 1, 5, 12, 30), False),  # 17:30 in London
    ],
)
def test_is_working_time(moment: datetime, working: bool) -> None:
    assert UK.is_working_time(moment) is working


def test_holidays_are_not_working_time() -> None:
    calendar = BusinessCalendar(timezone=LONDON, holidays=frozenset({date(2026, 1, 5)}))
    assert not calendar.is_working_day(date(2026, 1, 5))
    assert not calendar.is_working_time(utc(2026, 1, 5, 12, 0))
    assert calendar.is_working_time(utc(2026, 1, 6, 12, 0))


# --- BusinessCalendar: adding days ----------------------------------------------------------


def test_business_days_skip_the_weekend() -> None:
    friday = london(2026, 1, 9, 15, 30)
    assert UK.add(friday, timedelta(days=1)) == utc(2026, 1, 12, 15, 30)
    assert UK.add(friday, timedelta(days=3)) == utc(2026, 1, 14, 15, 30)


def test_business_days_skip_holidays() -> None:
    christmas = BusinessCalendar(
        timezone=LONDON, holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)})
    )
    thursday_24th = london(2026, 12, 24, 10, 0)
    # Friday 25th and Monday 28th are holidays, Saturday and Sunday the weekend.
    assert christmas.add(thursday_24th, timedelta(days=1)) == utc(2026, 12, 29, 10, 0)
    assert christmas.add(thursday_24th, timedelta(days=2)) == utc(2026, 12, 30, 10, 0)


def test_custom_workdays() -> None:
    sunday_to_thursday = BusinessCalendar(timezone="Asia/Dubai", workdays={6, 0, 1, 2, 3})
    thursday = datetime(2026, 1, 8, 10, 0, tzinfo=ZoneInfo("Asia/Dubai"))
    assert sunday_to_thursday.add(thursday, timedelta(days=1)) == utc(2026, 1, 11, 6, 0)


# --- BusinessCalendar: adding hours ---------------------------------------------------------


def test_hours_within_the_working_day() -> None:
    assert UK.add(utc(2026, 1, 5, 9, 0), timedelta(hours=3)) == utc(2026, 1, 5, 12, 0)


def test_hours_may_end_exactly_at_closing() -> None:
    assert UK.add(utc(2026, 1, 5, 9, 0), timedelta(hours=8)) == utc(2026, 1, 5, 17, 0)


def test_hours_crossing_closing_carry_over_to_the_next_opening() -> None:
    assert UK.add(utc(2026, 1, 5, 16, 0), timedelta(hours=2)) == utc(2026, 1, 6, 10, 0)
    # From Friday afternoon the remainder continues on Monday.
    assert UK.add(utc(2026, 1, 9, 15, 0), timedelta(hours=3)) == utc(2026, 1, 12, 10, 0)


def test_days_then_hours() -> None:
    friday = utc(2026, 1, 9, 16, 0)
    # One day: Monday 16:00; then two hours: one on Monday, one on Tuesday.
    assert UK.add(friday, timedelta(days=1, hours=2)) == utc(2026, 1, 13, 10, 0)


# --- BusinessCalendar: starting outside working time -----------------------------------------


@pytest.mark.parametrize(
    ("start", "opening"),
    [
        (utc(2026, 1, 5, 7, 0), utc(2026, 1, 5, 9, 0)),  # before opening
        (utc(2026, 1, 5, 17, 0), utc(2026, 1, 6, 9, 0)),  # at closing
        (utc(2026, 1, 5, 23, 0), utc(2026, 1, 6, 9, 0)),  # at night
        (utc(2026, 1, 9, 18, 0), utc(2026, 1, 12, 9, 0)),  # Friday evening
        (utc(2026, 1, 10, 12, 0), utc(2026, 1, 12, 9, 0)),  # Saturday
    ],
)
def test_start_outside_working_time_moves_to_the_next_opening(
    start: datetime, opening: datetime
) -> None:
    assert UK.add(start, timedelta(0)) == opening
    assert UK.add(start, timedelta(hours=1)) == opening + timedelta(hours=1)
    assert UK.add(start, timedelta(days=1)) == UK.add(opening, timedelta(days=1))


# --- BusinessCalendar: time zones and daylight saving ------------------------------------------


def test_result_is_utc_whatever_the_start_zone() -> None:
    result = UK.add(new_york(2026, 1, 5, 5, 0), timedelta(hours=1))  # 10:00 in London
    assert result == utc(2026, 1, 5, 11, 0)
    assert result.tzinfo is UTC


def test_a_business_day_across_the_new_york_spring_change_keeps_wall_time() -> None:
    # Clocks go forward on Sunday 8 March 2026: Friday is UTC-5, Monday UTC-4.
    calendar = BusinessCalendar(timezone=NEW_YORK)
    friday = new_york(2026, 3, 6, 10, 0)
    assert friday == utc(2026, 3, 6, 15, 0)
    assert calendar.add(friday, timedelta(days=1)) == utc(2026, 3, 9, 14, 0)


def test_working_hours_across_the_london_autumn_change_follow_wall_time() -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is UTC+1, Monday UTC+0.
    friday = london(2026, 10, 23, 16, 0)
    assert friday == utc(2026, 10, 23, 15, 0)
    assert UK.add(friday, timedelta(hours=2)) == utc(2026, 10, 26, 10, 0)


def test_the_opening_is_found_in_local_time_across_a_change() -> None:
    # Saturday 28 March 2026, before the spring change: the next opening is
    # Monday 09:00 British Summer Time, 08:00 UTC.
    assert UK.add(utc(2026, 3, 28, 12, 0), timedelta(0)) == utc(2026, 3, 30, 8, 0)


def test_a_skipped_wall_time_resolves_with_the_offset_before_the_change() -> None:
    # Open around the clock on Sundays; 01:30 on 29 March 2026 does not exist in London.
    sundays = BusinessCalendar(timezone=LONDON, workdays={6}, opens=time(0, 0), closes=time(23, 59))
    start = london(2026, 3, 22, 1, 30)
    assert sundays.add(start, timedelta(days=1)) == utc(2026, 3, 29, 1, 30)


# --- BusinessCalendar: properties ----------------------------------------------------------------


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
spans = st.builds(
    lambda days, hours: timedelta(days=days) + hours,
    st.integers(0, 30),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=8)),
)


@given(moments, spans)
def test_added_time_is_working_time_or_a_closing(start: datetime, duration: timedelta) -> None:
    result = UK.add(start, duration)
    assert result.tzinfo is UTC
    assert result >= start
    local = result.astimezone(LONDON)
    assert UK.is_working_time(result) or (
        local.time() == UK.closes and UK.is_working_day(local.date())
    )


@given(moments, spans, spans)
def test_adding_is_monotonic(start: datetime, one: timedelta, other: timedelta) -> None:
    shorter, longer = sorted((one, other))
    assert UK.add(start, shorter) <= UK.add(start, longer)


def test_more_hours_than_a_working_day_are_refused() -> None:
    start = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert UK.add(start, timedelta(days=1, hours=8)) > UK.add(start, timedelta(days=1))
    with pytest.raises(ValueError, match="8:00:00 working day"):
        UK.add(start, timedelta(hours=8, seconds=1))


@given(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.timedeltas(timedelta(0), timedelta(hours=8))
)
def test_a_working_day_holds_eight_hours(day: date, hours: timedelta) -> None:
    midnight = datetime.combine(day, time(0), tzinfo=LONDON)
    opening = UK.add(midnight, timedelta(0))
    assert opening.astimezone(LONDON).time() == time(9, 0)
    assert UK.add(midnight, hours) == opening + hours


def test_a_repeated_wall_time_keeps_the_start_occurrence() -> None:
    # Clocks go back at 02:00 on Sunday 1 November 2026 in New York: 01:30 happens twice.
    sundays = BusinessCalendar(timezone=NEW_YORK, workdays={6}, opens=time(0), closes=time(23))
    second_half_past_one = utc(2026, 11, 1, 6, 30)  # 01:30 EST, after the change
    assert sundays.add(second_half_past_one, timedelta(0)) == second_half_past_one
    assert sundays.add(second_half_past_one, timedelta(minutes=20)) == utc(2026, 11, 1, 6, 50)
    # A week later the same wall time exists once.
    assert sundays.add(second_half_past_one, timedelta(days=1)) == utc(2026, 11, 8, 6, 30)


NEAR_DST_CHANGES = st.sampled_from([utc(2026, 3, 8, 6, 0), utc(2026, 11, 1, 5, 0)])


@given(NEAR_DST_CHANGES, st.integers(0, 240), st.timedeltas(timedelta(0), timedelta(days=2)))
def test_never_before_the_start_around_dst_changes(
    change: datetime, minutes: int, duration: timedelta
) -> None:
    around_the_clock = BusinessCalendar(
        timezone=NEW_YORK, workdays=range(7), opens=time(0), closes=time(23, 59)
    )
    start = change - timedelta(hours=2) + timedelta(minutes=minutes)
    assert around_the_clock.add(start, duration) >= start


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
    ),
    minutes=st.integers(0, 30 * 8 * 60),
)
def test_working_time_undoes_add_working_time(start: datetime, minutes: int) -> None:
    office = BusinessCalendar(
        timezone="Europe/London", opens=time(9), closes=time(17), holidays={date(2026, 4, 3)}
    )
    amount = timedelta(minutes=minutes)
    for calendar in (office, ALWAYS_OPEN):
        end = calendar.add_working_time(start, amount)
        assert calendar.working_time(start, end) == amount
        assert calendar.working_time(end, start) == timedelta(0)


def test_a_whole_working_day_ends_at_the_closing_not_the_next_opening() -> None:
    office = BusinessCalendar(timezone="Europe/London", opens=time(9), closes=time(17))
    monday_9 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert office.add_working_time(monday_9, timedelta(hours=8)) == datetime(
        2026, 1, 5, 17, 0, tzinfo=UTC
    )
    assert office.add_working_time(monday_9, timedelta(hours=16)) == datetime(
        2026, 1, 6, 17, 0, tzinfo=UTC
    )
