"""When the prompt of the day is due: a pure function of the schedule, what was posted, and now.

A schedule says "at HH:MM, local time in this IANA zone, every day". The post for a local day
is due at that wall-clock time on that day, whatever the UTC offset is then, so a DST change
keeps the local time. A wall-clock time that a spring-forward gap skips is posted at the
first moment after the gap; one that a fall-back repeats is posted at its first occurrence.
After downtime, the missed post is still made if it is still that day where the schedule
lives; older days are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidRequest

_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class DailyTime:
    """A local wall-clock time in an IANA time zone."""

    at: time
    zone: ZoneInfo

    @property
    def timezone(self) -> str:
        """The zone's IANA name."""
        return self.zone.key


@dataclass(frozen=True)
class DuePost:
    """The next post: for which local day, and when (UTC)."""

    local_date: date
    due_at: datetime


def parse_time(text: str) -> time:
    """``HH:MM`` (24-hour) as a time; raises ``InvalidRequest`` naming the option."""
    match = _HH_MM.match(text.strip())
    if match is None:
        raise InvalidRequest(
            f"time must be HH:MM on a 24-hour clock, e.g. 09:30 or 21:00 (you gave {text!r})."
        )
    return time(int(match[1]), int(match[2]))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name; raises ``InvalidRequest`` with a hint."""
    cleaned = name.strip()
    if cleaned not in available_timezones():
        raise InvalidRequest(
            f"{cleaned!r} is not a time zone I know. Use an IANA name such as "
            "Europe/Berlin, America/New_York or Asia/Tokyo (the list autocompletes)."
        )
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"{cleaned!r} is not a time zone I know.") from None


def zone_names(typed: str, limit: int = 25) -> list[str]:
    """Time zone names matching what was typed, for autocomplete (Discord shows 25)."""
    needle = typed.strip().casefold().replace(" ", "_")
    names = sorted(available_timezones())
    starts = [n for n in names if n.casefold().startswith(needle)]
    contains = [n for n in names if needle in n.casefold() and n not in starts]
    return (starts + contains)[:limit]


def local_day(schedule: DailyTime, now: datetime) -> date:
    """Today's date where the schedule lives."""
    return now.astimezone(schedule.zone).date()


def post_time(schedule: DailyTime, day: date) -> datetime:
    """When the post for local ``day`` is due, in UTC."""
    naive = datetime.combine(day, schedule.at)
    # fold=0: in a repeated hour, the first occurrence.
    local = naive.replace(tzinfo=schedule.zone, fold=0)
    as_utc = local.astimezone(UTC)
    # A time inside a spring-forward gap does not exist: zoneinfo maps it with the offset
    # from before the gap, which lands after the gap; round-tripping shows whether it was.
    if as_utc.astimezone(schedule.zone).replace(tzinfo=None) != naive:
        return _after_gap(schedule, day)
    return as_utc


def next_post(schedule: DailyTime, last_posted: date | None, now: datetime) -> DuePost:
    """The next post due: today's if it hasn't been made (at its time, or at once if that
    time has passed today), else tomorrow's. Days before today are never posted, and no day
    is posted twice: when the last post is dated after today (the clock stepped back over
    midnight), the next is the day after it."""
    today = local_day(schedule, now)
    if last_posted is None or last_posted < today:
        due = post_time(schedule, today)
        return DuePost(today, max(due, now))
    following = max(today, last_posted) + timedelta(days=1)
    return DuePost(following, post_time(schedule, following))


def still_due(schedule: DailyTime, local_date: date, now: datetime) -> bool:
    """Whether a post planned for ``local_date`` may still be made now (it is still that day
    there, and its time has come)."""
    return local_day(schedule, now) == local_date and now >= post_time(schedule, local_date)


def _after_gap(schedule: DailyTime, day: date) -> datetime:
    """The first instant after the gap that swallowed the schedule's time on ``day``."""
    start = datetime.combine(day, schedule.at).replace(tzinfo=schedule.zone)
    probe = start.astimezone(UTC) - timedelta(hours=3)
    # Walk minute by minute from before the gap to the first local time at or past the
    # wanted one (gaps are at most a few hours; this runs once a day at most).
    for minute in range(6 * 60):
        moment = probe + timedelta(minutes=minute)
        local = moment.astimezone(schedule.zone).replace(tzinfo=None)
        if local >= datetime.combine(day, schedule.at):
            return moment
    return start.astimezone(UTC)
