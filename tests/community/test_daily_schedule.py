"""When the prompt of the day is due, across time zones, DST changes, midnight and downtime."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.community.daily_schedule import (
    DailyTime,
    next_post,
    parse_time,
    parse_zone,
    post_time,
    still_due,
    zone_names,
)
from bot.errors import InvalidRequest


def at(hhmm: str, zone: str) -> DailyTime:
    return DailyTime(parse_time(hhmm), parse_zone(zone))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_post_is_at_local_time_in_each_zone():
    berlin, tokyo = at("09:00", "Europe/Berlin"), at("09:00", "Asia/Tokyo")
    assert post_time(berlin, date(2026, 1, 15)) == utc(2026, 1, 15, 8, 0)  # CET, UTC+1
    assert post_time(berlin, date(2026, 7, 15)) == utc(2026, 7, 15, 7, 0)  # CEST, UTC+2
    assert post_time(tokyo, date(2026, 7, 15)) == utc(2026, 7, 15, 0, 0)


def test_dst_keeps_the_local_time_in_both_directions():
    new_york = at("08:30", "America/New_York")
    # 8 March 2026: clocks go forward; 1 November 2026: back.
    before, after = date(2026, 3, 7), date(2026, 3, 8)
    assert post_time(new_york, before) == utc(2026, 3, 7, 13, 30)
    assert post_time(new_york, after) == utc(2026, 3, 8, 12, 30)
    assert post_time(new_york, date(2026, 10, 31)) == utc(2026, 10, 31, 12, 30)
    assert post_time(new_york, date(2026, 11, 1)) == utc(2026, 11, 1, 13, 30)


def test_a_time_skipped_by_spring_forward_posts_right_after_the_gap():
    skipped = at("02:30", "Europe/Berlin")  # 29 March 2026 jumps from 02:00 to 03:00
    due = post_time(skipped, date(2026, 3, 29))
    assert due == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the first moment after the gap
    assert post_time(skipped, date(2026, 3, 30)) == utc(2026, 3, 30, 0, 30)


def test_a_time_repeated_by_fall_back_posts_at_its_first_occurrence():
    repeated = at("02:30", "Europe/Berlin")  # 25 October 2026 repeats 02:00-03:00
    assert post_time(repeated, date(2026, 10, 25)) == utc(2026, 10, 25, 0, 30)


def test_next_post_today_tomorrow_and_a_missed_post_still_today():
    sydney = at("07:00", "Australia/Sydney")
    # 20:00 UTC on 1 March is 07:00 on 2 March in Sydney (UTC+11).
    just_before = utc(2026, 3, 1, 19, 59)
    assert next_post(sydney, None, just_before).local_date == date(2026, 3, 2)
    assert next_post(sydney, None, just_before).due_at == utc(2026, 3, 1, 20, 0)
    # Downtime over the post time, but still that day there: post at once.
    late = utc(2026, 3, 2, 5, 0)  # 16:00 in Sydney
    missed = next_post(sydney, date(2026, 3, 1), late)
    assert missed.local_date == date(2026, 3, 2) and missed.due_at == late
    # Once posted, the next is tomorrow's.
    assert next_post(sydney, date(2026, 3, 2), late).local_date == date(2026, 3, 3)


def test_downtime_longer_than_a_day_skips_the_older_days():
    berlin = at("09:00", "Europe/Berlin")
    back = utc(2026, 5, 10, 12, 0)  # after three days down, at 14:00 local
    due = next_post(berlin, date(2026, 5, 6), back)
    assert due.local_date == date(2026, 5, 10) and due.due_at == back
    # A timer planned for a day that is over is not posted.
    assert not still_due(berlin, date(2026, 5, 7), back)
    assert still_due(berlin, date(2026, 5, 10), back)


def test_midnight_is_per_zone():
    # 23:30 UTC on 31 December: already 1 January in Berlin, still 31 December in New York.
    now = utc(2026, 12, 31, 23, 30)
    berlin, new_york = at("00:15", "Europe/Berlin"), at("23:45", "America/New_York")
    assert next_post(berlin, None, now).local_date == date(2027, 1, 1)
    assert next_post(berlin, None, now).due_at == now  # 00:15 local has passed: at once
    assert next_post(new_york, None, now).local_date == date(2026, 12, 31)
    assert next_post(new_york, None, now).due_at == utc(2027, 1, 1, 4, 45)


def test_every_day_of_a_year_has_exactly_one_post_in_order():
    schedule = at("02:30", "Europe/Berlin")  # inside both the spring gap and the autumn repeat
    posted: date | None = None
    now = utc(2026, 1, 1)
    days = []
    while now < utc(2027, 1, 1):
        due = next_post(schedule, posted, now)
        assert due.due_at >= now
        now, posted = due.due_at, due.local_date
        days.append(posted)
    assert days == sorted(set(days))
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))


@pytest.mark.parametrize("bad", ["9", "24:00", "12:60", "noon", "7pm"])
def test_bad_times_and_zones_are_refused_kindly(bad):
    with pytest.raises(InvalidRequest, match="HH:MM"):
        parse_time(bad)
    with pytest.raises(InvalidRequest, match="IANA"):
        parse_zone("Mars/Olympus")


def test_zone_autocomplete():
    assert zone_names("europe/ber")[0] == "Europe/Berlin"
    assert "America/New_York" in zone_names("new york")
    assert len(zone_names("")) == 25
    assert parse_time("7:05") == time(7, 5)
