"""Schedule times and zones on arbitrary input, and next posts around DST edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import example, given
from hypothesis import strategies as st

from bot.community.daily_schedule import (
    DailyTime,
    local_day,
    next_post,
    parse_time,
    parse_zone,
    post_time,
)
from bot.errors import InvalidRequest
from bot.sprints.rules import MAX_DELAY, MAX_MINUTES, SprintError, plan
from tests.strategies import hostile_text

ZONES = sorted(available_timezones())
APIA = ZoneInfo("Pacific/Apia")
# Zones with awkward rules: 30-minute DST (Lord Howe), DST at midnight (Havana, Santiago,
# Beirut), DST that stops for Ramadan (Casablanca), a whole day skipped (Apia, 2011), a zone
# 14 hours ahead (Kiritimati) and the plain European and American cases.
AWKWARD = (
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Asia/Beirut",
    "Africa/Casablanca",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Europe/Berlin",
    "America/New_York",
)


@cache
def transitions() -> tuple[tuple[str, datetime], ...]:
    """UTC instants where an awkward zone's offset changes, in 2011 and 2026."""
    found = []
    for name in AWKWARD:
        zone = ZoneInfo(name)
        for year in (2011, 2026):
            moment = datetime(year, 1, 1, tzinfo=UTC)
            offset = moment.astimezone(zone).utcoffset()
            while moment.year == year:
                moment += timedelta(hours=1)
                now_offset = moment.astimezone(zone).utcoffset()
                if now_offset != offset:
                    found.append((name, moment))
                    offset = now_offset
    return tuple(found)


@st.composite
def schedules_and_nows(draw: st.DrawFn) -> tuple[DailyTime, datetime]:
    """A schedule and a moment, often within a day of a DST change at a time near it."""
    if draw(st.booleans()):
        name, edge = draw(st.sampled_from(transitions()))
        zone = ZoneInfo(name)
        now = edge + timedelta(minutes=draw(st.integers(-26 * 60, 26 * 60)))
        near = (edge + timedelta(minutes=draw(st.integers(-90, 90)))).astimezone(zone)
        at = draw(st.one_of(st.just(near.time()), st.times()))
    else:
        zone = ZoneInfo(draw(st.sampled_from(ZONES)))
        naive = draw(st.datetimes(datetime(1971, 1, 1), datetime(2099, 12, 31)))
        now = naive.replace(tzinfo=UTC)
        at = draw(st.times())
    # As parse_time gives it: whole minutes, no fold.
    return DailyTime(at.replace(second=0, microsecond=0, fold=0), zone), now


@given(text=st.one_of(hostile_text(max_size=4), st.from_regex(r"\A\s*\d{1,3}:\d{1,3}\s*\Z")))
def test_any_time_text_is_a_time_or_refused(text: str) -> None:
    try:
        parsed = parse_time(text)
    except InvalidRequest as error:
        assert "HH:MM" in error.user_message
    else:
        assert parsed.second == 0 and parsed.microsecond == 0


@given(at=st.times(), padded=st.booleans())
def test_every_wall_clock_minute_is_read_back(at: time, padded: bool) -> None:
    hour = f"{at.hour:02d}" if padded else str(at.hour)
    assert parse_time(f" {hour}:{at.minute:02d} ") == time(at.hour, at.minute)


@given(name=st.one_of(hostile_text(max_size=4), st.sampled_from(ZONES), st.just("../../etc")))
def test_any_zone_name_is_a_zone_or_refused(name: str) -> None:
    try:
        zone = parse_zone(name)
    except InvalidRequest as error:
        assert "time zone" in error.user_message
    else:
        assert zone.key == name.strip()


@given(case=schedules_and_nows(), posted=st.sampled_from([None, -3, -1, 0, 1]))
@example(  # the minute before Samoa skipped a day, already posted that day
    case=(DailyTime(time(0, 0), APIA), datetime(2011, 12, 30, 9, 59, tzinfo=UTC)), posted=0
)
def test_the_next_post_is_due_soon_never_before_now_and_never_twice_a_day(
    case: tuple[DailyTime, datetime], posted: int | None
) -> None:
    schedule, now = case
    today = local_day(schedule, now)
    last_posted = None if posted is None else today + timedelta(days=posted)
    due = next_post(schedule, last_posted, now)
    assert due.due_at.tzinfo is not None
    assert due.due_at >= now
    if last_posted is None or last_posted < today:
        # Today's post: at its time, or at once when that has passed; a day and one DST hour
        # at most away (Apia's skipped day in 2011 is the one longer wait).
        assert due.local_date == today
        assert due.due_at - now <= timedelta(hours=25)
    else:
        # Already done today (or, after a clock step back, "later"): a day not yet posted.
        assert due.local_date > last_posted
        assert due.due_at > now
        # One day per day ahead, plus a day: the schedule may have moved later after today's
        # post (posted at 09:00, moved to 23:59: the next is tomorrow night), plus DST's hour.
        ahead = (due.local_date - today).days
        assert due.due_at - now <= timedelta(days=ahead + 1, hours=1)
    if local_day(schedule, due.due_at) != due.local_date:
        # Only a day that never happened there (Apia, 30 December 2011) is due on another:
        # just after the gap, on the day after it.
        noon = datetime.combine(due.local_date, time(12)).replace(tzinfo=schedule.zone)
        assert noon.astimezone(UTC).astimezone(schedule.zone).date() != due.local_date
        assert local_day(schedule, due.due_at) == due.local_date + timedelta(days=1)
    elif due.due_at > now:
        # It is due at the scheduled wall-clock time, or just after a gap that skipped it.
        local = due.due_at.astimezone(schedule.zone)
        wanted = datetime.combine(due.local_date, schedule.at)
        late = local.replace(tzinfo=None) - wanted
        assert timedelta(0) <= late <= timedelta(hours=1)


@given(case=schedules_and_nows())
def test_each_local_day_has_its_own_post_time_in_order(case: tuple[DailyTime, datetime]) -> None:
    schedule, now = case
    today = local_day(schedule, now)
    times = [post_time(schedule, today + timedelta(days=n)) for n in range(-1, 3)]
    assert times == sorted(times)
    # Distinct, except where a day never happened (Apia skipped 30 December 2011): that day's
    # time falls just after the gap, at the next day's midnight post. It is never posted, as
    # it is never "today" there.
    assert len(set(times)) == len(times) or schedule.zone.key == "Pacific/Apia"


@given(
    now=st.floats(0, 2e9, allow_nan=False),
    minutes=st.integers(-(2**40), 2**40),
    delay=st.one_of(st.integers(-5, MAX_DELAY + 5), st.integers()),
)
def test_a_sprint_plan_starts_now_or_later_and_ends_after_it_starts(
    now: float, minutes: int, delay: int
) -> None:
    try:
        planned = plan(now, minutes, delay)
    except SprintError as error:
        assert "minutes" in error.user_message
        return
    assert now <= planned.starts_at <= now + MAX_DELAY * 60
    assert planned.starts_at < planned.ends_at <= planned.starts_at + MAX_MINUTES * 60


def test_apia_skipped_a_whole_day_and_the_next_post_is_the_day_after() -> None:
    """30 December 2011 never happened in Samoa: a schedule posted on the 29th is next due on
    the 31st's morning, not on a date that does not exist."""
    schedule = DailyTime(time(9, 0), ZoneInfo("Pacific/Apia"))
    now = datetime(2011, 12, 29, 12, 0, tzinfo=ZoneInfo("Pacific/Apia")).astimezone(UTC)
    due = next_post(schedule, date(2011, 12, 29), now)
    assert due.due_at > now
    assert due.due_at - now <= timedelta(hours=25)
