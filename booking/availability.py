"""The availability engine (read side).

Free time at a desk = its opening hours on that local date (unless the date is a Dutch public
holiday the planner did not open) minus closures minus blocking appointments (booked,
checked in, or held and not yet expired: an expired hold stops blocking the moment it
expires). A start time is offered when it lies on the location's grid in *local wall time*
and the whole appointment fits in one free interval of at least one desk that serves every
chosen product. All interval arithmetic is done in UTC, so a day with a daylight-saving
change is neither an hour short nor an hour long.

Public: ``Slot``, ``appointment_duration``, ``public_holidays``, ``eligible_desks``,
``availability_for_products``, ``availability_snapshot``, ``availability_versions``,
``free_desks_for_period``, ``is_on_grid``, ``invalidate_availability``, ``local_days``; for staff
overviews ``open_intervals``, ``free_intervals`` and ``at_local``.

Size (over 400 lines): the interval arithmetic, the grid and its cache change together.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time as _time
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import holidays
from cachetools import TLRUCache
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from .constants import ACTIVE_STATUSES, MAX_APPOINTMENT_DURATION_MINUTES, AppointmentStatus
from .models import Appointment, Closure, Desk, HolidayOpening, OpeningHours, Product

Interval = tuple[datetime, datetime]
# The interval arithmetic works on aware datetimes and on integer microseconds alike.
_Moment = TypeVar("_Moment", datetime, int)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    location_id: int


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def appointment_duration(products: Iterable[Product], persons: int) -> timedelta:
    products = list(products)
    minutes = persons * sum(p.minutes_per_person for p in products)
    minutes += max((p.buffer_minutes for p in products), default=0)
    return timedelta(minutes=minutes)


@lru_cache(maxsize=32)
def _holidays_in_year(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year, language="nl"))


def public_holidays(date_from: date, date_to: date) -> dict[date, str]:
    """Dutch public holidays between the two dates (inclusive), from the holidays library."""
    found: dict[date, str] = {}
    for year in range(date_from.year, date_to.year + 1):
        for day, name in _holidays_in_year(settings.BOOKING_HOLIDAY_COUNTRY, year).items():
            if date_from <= day <= date_to:
                found[day] = name
    return found


def blocking_appointments_q(now: datetime) -> Q:
    return Q(status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]) | Q(
        status=AppointmentStatus.HELD, hold_expires_at__gt=now
    )


def overlapping_appointments(desk_ids: Sequence[int], start: datetime, end: datetime):
    """Appointments (any status) on these desks that overlap [start, end).

    The lower bound on ``start`` is implied by the maximum duration; it lets PostgreSQL use the
    (desk, start) index instead of reading every past appointment of the desk.
    """
    return Appointment.objects.filter(
        desk_id__in=desk_ids,
        start__lt=end,
        start__gt=start - timedelta(minutes=MAX_APPOINTMENT_DURATION_MINUTES),
        end__gt=start,
    )


def eligible_desks(products: Sequence[Product], location_id: int | None = None) -> list[Desk]:
    """Active desks at active locations that serve every one of the products."""
    codes = {p.pk for p in products}
    qs = Desk.objects.filter(is_active=True, location__is_active=True)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    qs = qs.annotate(n_served=Count("products", filter=Q(products__in=codes), distinct=True)).filter(
        n_served=len(codes)
    )
    return list(qs.select_related("location").order_by("location_id", "pk"))


def is_on_grid(start: datetime, grid_minutes: int) -> bool:
    local = start.astimezone(local_tz())
    return local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % grid_minutes == 0


def _local_days(window_start: datetime, window_end: datetime) -> list[date]:
    tz = local_tz()
    first = window_start.astimezone(tz).date()
    last = (window_end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def at_local(day: date, clock: time) -> datetime:
    """The instant (UTC) of a local wall-clock time on a day."""
    return datetime.combine(day, clock, tzinfo=local_tz()).astimezone(UTC)


def _subtract(
    intervals: list[tuple[_Moment, _Moment]], blocks: list[tuple[_Moment, _Moment]]
) -> list[tuple[_Moment, _Moment]]:
    """Remove the (sorted or not) blocks from sorted, non-overlapping intervals.

    Linear after sorting: merged, the blocks are ordered by start and by end alike, so one
    pointer walks them once for all intervals (six weeks of a busy desk is thousands of
    blocks; rescanning them per interval was the main cost of an uncached availability read).
    """
    result: list[tuple[_Moment, _Moment]] = []
    blocks = _merge(blocks)
    first, n = 0, len(blocks)
    for a, b in intervals:
        while first < n and blocks[first][1] <= a:
            first += 1  # ends before this interval, so before every later one too
        cursor = a
        i = first
        while i < n and blocks[i][0] < b:
            c, d = blocks[i]
            if c > cursor:
                result.append((cursor, c))
            cursor = max(cursor, d)
            if cursor >= b:
                break
            i += 1
        if cursor < b:
            result.append((cursor, b))
    return result


def _merge(intervals: list[tuple[_Moment, _Moment]]) -> list[tuple[_Moment, _Moment]]:
    merged: list[tuple[_Moment, _Moment]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], b if b > merged[-1][1] else merged[-1][1])
        else:
            merged.append((a, b))
    return merged


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000
# Times inside the engine are integer microseconds since the epoch (UTC): a six-week answer is
# thousands of interval and grid operations, and ints cost a fraction of aware datetimes.
UsInterval = tuple[int, int]


def _to_us(moment: datetime) -> int:
    return (moment - _UNIX_EPOCH) // timedelta(microseconds=1)


def _from_us(microseconds: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=microseconds)


# ``overlapping_appointments`` and ``blocking_appointments_q`` in SQL, for the raw queries of
# the hot paths (here and in ``booking.locks``), with their parameters from ``overlap_params``.
# BLOCKING_SQL names the active statuses first and tests a hold's expiry second (rather than
# "booked or checked in, or an unexpired hold"): the same rows, but the first clause is the
# condition of the index ``appointment_active_desk_start`` and everything else is in it, so
# PostgreSQL answers from that index alone (booking.models, issue 14).
OVERLAP_SQL = 'desk_id = ANY(%(desks)s) AND start < %(until)s AND start > %(since)s AND "end" > %(from)s'
BLOCKING_SQL = "(status = ANY(%(active)s) AND (status <> %(held)s OR hold_expires_at > %(now)s))"


def overlap_params(
    desk_ids: Sequence[int], start: datetime, end: datetime, *, now: datetime, exclude_appointment_id: int | None
) -> dict[str, Any]:
    """The parameters of ``OVERLAP_SQL`` and ``BLOCKING_SQL`` (and ``%(exclude)s``: an
    appointment id to leave out, or 0)."""
    return {
        "desks": list(desk_ids),
        "until": end,
        "since": start - timedelta(minutes=MAX_APPOINTMENT_DURATION_MINUTES),
        "from": start,
        "active": [status.value for status in ACTIVE_STATUSES],
        "held": AppointmentStatus.HELD.value,
        "now": now,
        "exclude": exclude_appointment_id or 0,
    }


# The blocking appointments of some desks in a span, each desk's merged by PostgreSQL
# (range_agg) and sent as integers: the same rows as ``overlapping_appointments(...)
# .filter(blocking_appointments_q(now))``, without compiling an ORM query on every read and with
# a fraction of the rows to load (back-to-back appointments arrive as one block).
_BUSY_SQL = f"""
SELECT desk_id, (EXTRACT(EPOCH FROM lower(busy)) * 1000000)::bigint, (EXTRACT(EPOCH FROM upper(busy)) * 1000000)::bigint
FROM (
    SELECT desk_id, unnest(range_agg(tstzrange(start, "end"))) AS busy
    FROM booking_appointment
    WHERE {OVERLAP_SQL} AND {BLOCKING_SQL} AND id <> %(exclude)s
    GROUP BY desk_id
) AS merged
"""  # noqa: S608 (constants only)


def _busy(
    desk_ids: Sequence[int], start: datetime, end: datetime, *, now: datetime, exclude_appointment_id: int | None
) -> dict[int, list[UsInterval]]:
    """Blocking appointments that overlap [start, end), as (start, end) in microseconds per
    desk id (one query)."""
    busy: dict[int, list[UsInterval]] = defaultdict(list)
    if connection.vendor != "postgresql":
        appointments = overlapping_appointments(desk_ids, start, end).filter(blocking_appointments_q(now))
        for desk_id, a, b in appointments.exclude(pk=exclude_appointment_id).values_list("desk_id", "start", "end"):
            busy[desk_id].append((_to_us(a), _to_us(b)))
        return busy
    params = overlap_params(desk_ids, start, end, now=now, exclude_appointment_id=exclude_appointment_id)
    with connection.cursor() as cursor:
        cursor.execute(_BUSY_SQL, params)
        for desk_id, a, b in cursor.fetchall():
            busy[desk_id].append((a, b))
    return busy


@dataclass
class _Schedule:
    """Opening hours, closures and opened holidays of some desks as read from the database
    (three queries), and each desk-day's open intervals worked out from them on demand."""

    hours: dict[int, list[tuple]]
    closures_by_location: dict[int, list[UsInterval]]
    closures_by_desk: dict[int, list[UsInterval]]
    opened_holidays: set[tuple[int, date]]
    first: date
    last: date
    open_days: dict[tuple[int, date], list[UsInterval]] = field(default_factory=dict)
    eligible: dict[tuple, list[Desk]] = field(default_factory=dict)

    @classmethod
    def load(cls, location_ids: Iterable[int] | None, first: date, last: date, *, closures: bool = True) -> _Schedule:
        """The facts for the local days first..last at these locations (None: all)."""
        span_start, span_end = at_local(first, time.min), at_local(last + timedelta(days=1), time.min)
        located = Q() if location_ids is None else Q(desk__location_id__in=list(location_ids))
        hours: dict[int, list[tuple]] = defaultdict(list)
        for desk_id, weekday, opens, closes, valid_from, valid_until in (
            OpeningHours.objects.filter(located, valid_from__lte=last)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
            .values_list("desk_id", "weekday", "opens", "closes", "valid_from", "valid_until")
        ):
            hours[desk_id].append((weekday, opens, closes, valid_from, valid_until))
        by_location: dict[int, list[UsInterval]] = defaultdict(list)
        by_desk: dict[int, list[UsInterval]] = defaultdict(list)
        if closures:
            at = Q() if location_ids is None else Q(location_id__in=list(location_ids))
            for location_id, desk_id, starts_at, ends_at in Closure.objects.filter(
                at, starts_at__lt=span_end, ends_at__gt=span_start
            ).values_list("location_id", "desk_id", "starts_at", "ends_at"):
                target = by_location[location_id] if desk_id is None else by_desk[desk_id]
                target.append((_to_us(starts_at), _to_us(ends_at)))
        in_span = public_holidays(first, last)
        at = Q() if location_ids is None else Q(location_id__in=list(location_ids))
        opened = (
            set(HolidayOpening.objects.filter(at, date__in=list(in_span)).values_list("location_id", "date"))
            if in_span
            else set()
        )
        return cls(
            hours=hours,
            closures_by_location=by_location,
            closures_by_desk=by_desk,
            opened_holidays=opened,
            first=first,
            last=last,
        )

    def eligible_desks(self, products: Sequence[Product], location_id: int | None) -> list[Desk]:
        key = (location_id, frozenset(p.pk for p in products))
        found = self.eligible.get(key)
        if found is None:
            found = self.eligible[key] = eligible_desks(products, location_id)
        return found

    def open_on(self, desk: Desk, day: date) -> list[UsInterval]:
        """The desk's open intervals on a local day: its opening hours, unless the day is a
        public holiday its location did not open, minus closures."""
        key = (desk.pk, day)
        found = self.open_days.get(key)
        if found is None:
            found = []
            if day not in public_holidays(day, day) or (desk.location_id, day) in self.opened_holidays:
                weekday = day.weekday()
                found = _merge(
                    [
                        (_to_us(at_local(day, opens)), _to_us(at_local(day, closes)))
                        for wd, opens, closes, valid_from, valid_until in self.hours.get(desk.pk, ())
                        if wd == weekday and valid_from <= day and (valid_until is None or day <= valid_until)
                    ]
                )
                closed = self.closures_by_location.get(desk.location_id, []) + self.closures_by_desk.get(desk.pk, [])
                if found and closed:
                    found = _subtract(found, closed)
            self.open_days[key] = found
        return found

    def open_in(self, desk: Desk, days: Iterable[date]) -> list[UsInterval]:
        return [interval for day in days for interval in self.open_on(desk, day)]


def _as_datetimes(intervals: dict[int, list[UsInterval]]) -> dict[int, list[Interval]]:
    return {desk_id: [(_from_us(a), _from_us(b)) for a, b in found] for desk_id, found in intervals.items()}


def open_intervals(
    desks: Sequence[Desk], window_start: datetime, window_end: datetime, *, subtract_closures: bool = True
) -> dict[int, list[Interval]]:
    """Open UTC intervals per desk id on the local days the window touches: opening hours on
    days that are not unopened public holidays, minus closures (three queries)."""
    if not desks:
        return {}
    days = _local_days(window_start, window_end)
    schedule = _Schedule.load({d.location_id for d in desks}, days[0], days[-1], closures=subtract_closures)
    return _as_datetimes({desk.pk: schedule.open_in(desk, days) for desk in desks})


def _free(
    desks: Sequence[Desk],
    days: Sequence[date],
    schedule: _Schedule,
    *,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> dict[int, list[UsInterval]]:
    """Free intervals per desk id on the days: open minus blocking appointments (one query)."""
    span_start = at_local(days[0], time.min)
    span_end = at_local(days[-1] + timedelta(days=1), time.min)
    busy = _busy([d.pk for d in desks], span_start, span_end, now=now, exclude_appointment_id=exclude_appointment_id)
    return {desk.pk: _subtract(schedule.open_in(desk, days), busy.get(desk.pk, [])) for desk in desks}


def free_intervals(
    desks: Sequence[Desk],
    window_start: datetime,
    window_end: datetime,
    *,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> dict[int, list[Interval]]:
    """Free UTC intervals per desk id on the local days the window touches: open intervals
    minus blocking appointments (four queries)."""
    if not desks:
        return {}
    days = _local_days(window_start, window_end)
    schedule = _Schedule.load({d.location_id for d in desks}, days[0], days[-1])
    return _as_datetimes(_free(desks, days, schedule, now=now, exclude_appointment_id=exclude_appointment_id))


# Two daylight-saving changes are months apart: an interval this short with the same UTC offset
# at both ends has none inside it.
_NO_TRANSITION_SPAN = 2 * _DAY_US
# More than any daylight-saving shift (at most two hours anywhere).
_DST_MARGIN = 3 * 60 * _MINUTE_US


@lru_cache(maxsize=8192)
def _utc_offset(minute: int) -> tuple[int, str]:
    """The local UTC offset at a UTC minute (microseconds) and as ISO 8601 writes it."""
    moment = _from_us(minute * _MINUTE_US).astimezone(local_tz())
    return (moment.utcoffset() or timedelta(0)) // timedelta(microseconds=1), moment.isoformat()[-6:]


@lru_cache(maxsize=4096)
def _iso_day(day_number: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day_number)).isoformat()


def _iso_local(us: int) -> str:
    """Local time with its offset, as ``datetime.astimezone(tz).isoformat()`` writes it."""
    if us % _MINUTE_US:
        return _from_us(us).astimezone(local_tz()).isoformat()
    return _iso_minute(us // _MINUTE_US)


@lru_cache(maxsize=65536)
def _iso_minute(minute: int) -> str:
    """A UTC minute as local ISO 8601 (slots start and end on whole minutes, and the same few
    thousand recur in every answer: rendering them was most of a computed answer's time)."""
    offset, suffix = _utc_offset(minute)
    day_number, rest = divmod(minute * _MINUTE_US + offset, _DAY_US)
    minutes = rest // _MINUTE_US
    return "%sT%02d:%02d:00%s" % (_iso_day(day_number), minutes // 60, minutes % 60, suffix)  # noqa: UP031


def _grid_starts(first: int, last: int, grid_minutes: int) -> Iterable[int]:
    """Start times on the local wall-clock grid from ``first`` to ``last`` (inclusive)."""
    offset = _utc_offset(first // _MINUTE_US)[0]
    step = grid_minutes * _MINUTE_US
    if last - first <= _NO_TRANSITION_SPAN and all(
        _utc_offset(t // _MINUTE_US)[0] == offset for t in (first - _DST_MARGIN, last, last + _DST_MARGIN)
    ):
        # Fast path: the UTC offset is the same from a few hours before the range to a few hours
        # after it, so no daylight-saving change (nor a repeated wall-clock hour) touches it and
        # the wall-clock grid is a plain step in UTC.
        local = first + offset
        midnight = local - local % _DAY_US  # the grid counts from local midnight
        start = midnight + -(-(local - midnight) // step) * step - offset
        return range(start, last + 1, step)
    return [_to_us(s) for s in _grid_starts_across_a_change(_from_us(first), _from_us(last), grid_minutes)]


def _grid_starts_across_a_change(first: datetime, last: datetime, grid_minutes: int) -> Iterable[datetime]:
    """The grid in local wall time, from ``first`` to ``last``, near a daylight-saving change."""
    tz = local_tz()
    local = first.astimezone(tz).replace(tzinfo=None)
    minute_of_day = local.hour * 60 + local.minute
    offset = (-minute_of_day) % grid_minutes
    if offset == 0 and (local.second or local.microsecond):
        offset = grid_minutes
    wall = local.replace(second=0, microsecond=0) + timedelta(minutes=offset)
    step = timedelta(minutes=grid_minutes)
    while True:
        start = wall.replace(tzinfo=tz).astimezone(UTC)
        # Skip wall times that do not exist (the spring-forward gap) before the end check: read
        # with the winter offset they lie after the first start past the gap, and would end
        # the range early. A repeated wall time is offered once (its first occurrence).
        if start.astimezone(tz).replace(tzinfo=None) != wall:
            wall += step
            continue
        if start > last:
            return
        if start >= first:
            yield start
        wall += step


def _compute_starts(
    desks: Sequence[Desk], duration: timedelta, days: Sequence[date], schedule: _Schedule, *, now: datetime
) -> list[tuple[int, int]]:
    """(start, location id) of every offered slot on the consecutive days, in order."""
    free = _free(desks, days, schedule, now=now)
    length = duration // timedelta(microseconds=1)
    # A start time is offered when it lies in [a, b - duration] for a free interval [a, b) of
    # some desk. Merging those ranges per location first yields each grid time once, instead
    # of once per desk followed by a de-duplicating set.
    start_ranges: dict[int, list[UsInterval]] = defaultdict(list)
    grid: dict[int, int] = {}
    for desk in desks:
        grid[desk.location_id] = desk.location.grid_minutes
        for a, b in free.get(desk.pk, ()):
            if b - a >= length:
                start_ranges[desk.location_id].append((a, b - length))
    starts = [
        (start, location_id)
        for location_id, ranges in start_ranges.items()
        for first, last in _merge(ranges)
        for start in _grid_starts(first, last, grid[location_id])
    ]
    if len(start_ranges) > 1:
        starts.sort()
    return starts


# --- Caching ----------------------------------------------------------------------------------
# Answers are cached per local day: a day's slots for one query (products, persons, location or
# all locations) are a "day part", and a range joins its days' parts. A part's key holds three
# versions: the schedule's (global: products, holidays, admin edits), the location's (its
# opening hours, closures, desks and skills) and that location-day's, which every booking,
# cancellation, hold or move bumps after commit for the days it touches. A query over all
# locations reads the "*" versions, which are bumped together with every location's. So a
# booking makes one day's part stale, not the location's weeks, and a range that was read
# before is rebuilt by computing that one day. Parts also expire after
# BOOKING_AVAILABILITY_CACHE_SECONDS, which bounds how long an expired hold stays hidden.
# A stale part is never a safety problem: booking re-checks under a lock.

_SCHEDULE_VERSION_KEY = "availability:v:global"


def _location_version_key(location_id: int | str | None) -> str:
    return f"availability:v:loc:{location_id or '*'}"


def _day_version_key(location_id: int | str | None, day: date) -> str:
    return f"availability:v:day:{location_id or '*'}:{day.isoformat()}"


def local_days(start: datetime, end: datetime) -> list[date]:
    """The local dates a period [start, end) touches."""
    return _local_days(start, end)


def invalidate_availability(location_id: int | None = None, days: Iterable[date] | None = None) -> None:
    """Make cached answers stale (call after commit): with no location every answer (a schedule
    change), with a location all of its days, with days only those days at that location."""
    if location_id is None:
        keys = [_SCHEDULE_VERSION_KEY]
    elif days is None:
        keys = [_location_version_key(location_id), _location_version_key(None)]
    else:
        keys = [key for day in set(days) for key in (_day_version_key(location_id, day), _day_version_key(None, day))]
    # A fresh random value rather than a counter: one round trip for all keys, no read.
    cache.set_many(dict.fromkeys(keys, secrets.token_hex(6)), timeout=None)
    if location_id is None:  # this process sees its own schedule change at once
        _forget_schedule_version()


# The schedule version as this process last read it, (monotonic time, version), for readers
# that may lag a schedule change by a moment (booking.selectors' catalogue). One tuple, replaced
# whole: no lock needed.
_schedule_version_read: tuple[float, str] | None = None


def schedule_version(*, max_age: float = 0.0) -> str:
    """The schedule's (global) version: products, holidays, admin edits. With ``max_age`` the
    version this process read less than that many seconds ago, without a cache round trip."""
    global _schedule_version_read
    now = _time.monotonic()
    read = _schedule_version_read
    if read is not None and now - read[0] < max_age:
        return read[1]
    version = availability_versions(None, [])[0]
    _schedule_version_read = (now, version)
    return version


def _forget_schedule_version() -> None:
    global _schedule_version_read
    _schedule_version_read = None


def availability_versions(location_id: int | str | None, days: Sequence[date]) -> list[str]:
    """The versions an answer for this location (or all locations) on these days depends on:
    the schedule's, the location's, then one per day (one cache round trip)."""
    keys = [_SCHEDULE_VERSION_KEY, _location_version_key(location_id)]
    keys += [_day_version_key(location_id, day) for day in days]
    found = cache.get_many(keys)
    if len(found) < len(keys):
        # Never seen (or evicted, or the cache was flushed): a new random version, so nothing
        # cached under an earlier value of the key can be read again.
        missing = dict.fromkeys((key for key in keys if key not in found), secrets.token_hex(6))
        cache.set_many(missing, timeout=None)
        found.update(missing)
    return [found[key] for key in keys]


@dataclass(frozen=True)
class _SlotTable:
    """What the cache holds for one day (and what a range joins), compact so a hit unpickles
    little: each slot as (start, end) in integer microseconds since the epoch plus its
    location, and the slots as API JSON in one ASCII byte string with each slot's offset in it.
    ``starts`` (a flat array) serves bisecting at the minimum notice."""

    rows: list[tuple[int, int, int]]
    starts: array
    json: bytes
    offsets: array

    @classmethod
    def build(cls, starts: Sequence[tuple[int, int]], length: int) -> _SlotTable:
        """From (start, location id) pairs in order and the appointment's length (µs)."""
        rows = [(start, start + length, location_id) for start, location_id in starts]
        items = [
            '{"start":"%s","end":"%s","location":%d}' % (_iso_local(a), _iso_local(b), loc)  # noqa: UP031 - hot path
            for a, b, loc in rows
        ]
        offsets, position = array("q"), 0
        for item in items:
            offsets.append(position)
            position += len(item) + 1  # the comma after it
        body = ",".join(items).encode("ascii")
        return cls(rows=rows, starts=array("q", (row[0] for row in rows)), json=body, offsets=offsets)

    @classmethod
    def join(cls, parts: Sequence[_SlotTable]) -> _SlotTable:
        """Consecutive days' tables as one (their slots are already in order)."""
        parts = [p for p in parts if p.rows]
        if len(parts) == 1:
            return parts[0]
        rows: list[tuple[int, int, int]] = []
        starts, offsets, base = array("q"), array("q"), 0
        for part in parts:
            rows += part.rows
            starts += part.starts
            offsets.extend([offset + base for offset in part.offsets])
            base += len(part.json) + 1
        return cls(rows=rows, starts=starts, json=b",".join(p.json for p in parts), offsets=offsets)

    def slots(self, first: int) -> list[Slot]:
        return [Slot(start=_from_us(a), end=_from_us(b), location_id=loc) for a, b, loc in self.rows[first:]]


_EMPTY_TABLE = _SlotTable(rows=[], starts=array("q"), json=b"", offsets=array("q"))


def _day_tables(
    products: Sequence[Product],
    persons: int,
    location_id: int | None,
    days: Sequence[date],
    now: datetime,
    schedule: _Schedule | None = None,
) -> dict[date, _SlotTable]:
    """Compute the tables of these days: one engine run per stretch of consecutive days.
    Without a (cached) schedule it is read from the database."""
    if schedule is None:
        schedule = _Schedule.load(None if location_id is None else [location_id], min(days), max(days))
    desks = schedule.eligible_desks(products, location_id)
    if not desks:
        return dict.fromkeys(days, _EMPTY_TABLE)
    duration = appointment_duration(products, persons)
    length = duration // timedelta(microseconds=1)
    tables: dict[date, _SlotTable] = {}
    stretches: list[list[date]] = []
    for day in sorted(days):
        if stretches and (day - stretches[-1][-1]).days == 1:
            stretches[-1].append(day)
        else:
            stretches.append([day])
    for stretch in stretches:
        starts = _compute_starts(desks, duration, stretch, schedule, now=now)
        i = 0
        for day in stretch:
            day_end = _to_us(at_local(day + timedelta(days=1), time.min))
            j = bisect_left(starts, (day_end, 0), lo=i)
            tables[day] = _SlotTable.build(starts[i:j], length)
            i = j
    return tables


# Parts already fetched or computed by this process, for the rest of their lifetime: a range
# rebuilt after a booking then reads one new part instead of all of them from the cache server.
_LOCAL_PARTS_MAX = 4096
_local_parts: TLRUCache = TLRUCache(maxsize=_LOCAL_PARTS_MAX, ttu=lambda key, entry, now: entry[0], timer=_time.time)
_local_lock = threading.Lock()


def local_parts_clear() -> None:
    """Forget this process's copies (tests; the shared cache was flushed)."""
    with _local_lock:
        _local_parts.clear()
        _local_schedules.clear()
    _forget_schedule_version()


# Each process keeps the schedule it read (opening hours, closures, opened holidays, eligible
# desks) per location until a schedule change there bumps a version it is keyed by, for at most
# this long; then a missing day costs one query (its appointments) and the arithmetic.
_SCHEDULE_SECONDS = 60
_SCHEDULE_DAYS = 400
_local_schedules: TLRUCache = TLRUCache(
    maxsize=64, ttu=lambda key, value, now: now + _SCHEDULE_SECONDS, timer=_time.time
)


def _read_schedule(location_id: int | None, versions: Sequence[str], days: Sequence[date]) -> _Schedule:
    today = timezone.localdate()
    key = (location_id, *versions, today)
    with _local_lock:
        schedule = _local_schedules.get(key)
    if schedule is None or max(days) > schedule.last:
        last = max(today + timedelta(days=_SCHEDULE_DAYS), max(days))
        schedule = _Schedule.load(None if location_id is None else [location_id], min(today, min(days)), last)
        with _local_lock:
            _local_schedules[key] = schedule
    return schedule


def _cached_day_tables(
    products: Sequence[Product],
    persons: int,
    location_id: int | None,
    days: Sequence[date],
    now: datetime,
    versions: Sequence[str],
    schedule: _Schedule,
) -> list[_SlotTable]:
    head = "|".join([",".join(sorted(p.code for p in products)), str(persons), str(location_id or "*"), *versions[:2]])
    keys = [
        "availability:day:v3:" + hashlib.sha256(f"{head}|{day.isoformat()}|{version}".encode()).hexdigest()
        for day, version in zip(days, versions[2:], strict=True)
    ]
    found: dict[str, _SlotTable] = {}
    with _local_lock:
        for key in keys:
            entry = _local_parts.get(key)
            if entry is not None:
                found[key] = entry[1]
    lifetime = settings.BOOKING_AVAILABILITY_CACHE_SECONDS
    fetched = cache.get_many([key for key in keys if key not in found]) if len(found) < len(keys) else {}
    missing = [day for day, key in zip(days, keys, strict=True) if key not in found and key not in fetched]
    computed = _day_tables(products, persons, location_id, missing, now, schedule) if missing else {}
    fresh = {key: computed[day] for day, key in zip(days, keys, strict=True) if day in computed}
    if fresh:
        cache.set_many(fresh, timeout=lifetime)
    # The local copy must not outlive the shared one; a fetched part lives at most this long.
    expires = _time.time() + lifetime
    with _local_lock:
        for key, table in (fetched | fresh).items():
            _local_parts[key] = (expires, table)
    found.update(fetched)
    found.update(fresh)
    return [found[key] for key in keys]


def _slot_table(
    *,
    products: Sequence[Product],
    persons: int,
    date_from: date,
    date_to: date,
    location_id: int | None,
    now: datetime,
    use_cache: bool,
) -> tuple[_SlotTable, int] | None:
    """The slot table and the index of the first slot after the minimum notice."""
    today = now.astimezone(local_tz()).date()
    horizon_end = today + timedelta(days=min(p.booking_horizon_days for p in products))
    earliest = now + timedelta(minutes=max(p.min_notice_minutes for p in products))
    date_from = max(date_from, today)
    date_to = min(date_to, horizon_end)
    if date_from > date_to:
        return None
    days = [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    if not use_cache:
        computed = _day_tables(products, persons, location_id, days, now)
        parts = [computed[day] for day in days]
    elif settings.BOOKING_AVAILABILITY_CACHE_SECONDS:
        versions = availability_versions(location_id, days)
        schedule = _read_schedule(location_id, versions[:2], days)
        parts = _cached_day_tables(products, persons, location_id, days, now, versions, schedule)
    else:  # answers not cached (the schedule still is, by its versions)
        schedule = _read_schedule(location_id, availability_versions(location_id, []), days)
        computed = _day_tables(products, persons, location_id, days, now, schedule)
        parts = [computed[day] for day in days]
    table = _SlotTable.join(parts) if parts else _EMPTY_TABLE
    return table, bisect_left(table.starts, _to_us(earliest))


def availability_for_products(
    *,
    products: Sequence[Product],
    persons: int,
    date_from: date,
    date_to: date,
    location_id: int | None = None,
    now: datetime | None = None,
    use_cache: bool = True,
) -> list[Slot]:
    """Free start times for the products and persons, sorted by time then location.

    Applies each product's minimum notice and booking horizon (the strictest of the chosen
    products wins).
    """
    found = _slot_table(
        products=products,
        persons=persons,
        date_from=date_from,
        date_to=date_to,
        location_id=location_id,
        now=now or timezone.now(),
        use_cache=use_cache,
    )
    if found is None:
        return []
    table, first = found
    return table.slots(first)


@dataclass(frozen=True)
class AvailabilitySnapshot:
    """A query's slots as the API's JSON, ready to be cached as a whole (see the API's
    request-level cache): only bytes and two flat arrays, cheap to unpickle.
    ``json(now)`` drops the slots inside the minimum notice at ``now``."""

    starts: array
    body: bytes
    offsets: array
    notice: timedelta

    def json(self, now: datetime) -> bytes:
        """``{"slots": [{"start", "end", "location"}]}``, times local with offset (ASCII)."""
        first = bisect_left(self.starts, _to_us(now + self.notice))
        if first >= len(self.offsets):
            return b'{"slots":[]}'
        return b'{"slots":[' + self.body[self.offsets[first] :] + b"]}"


def availability_snapshot(
    *,
    products: Sequence[Product],
    persons: int,
    date_from: date,
    date_to: date,
    location_id: int | None = None,
    now: datetime | None = None,
) -> AvailabilitySnapshot:
    """The same slots as ``availability_for_products``, pre-rendered as API JSON.

    The hot read path: on a cache hit only strings are joined.
    """
    found = _slot_table(
        products=products,
        persons=persons,
        date_from=date_from,
        date_to=date_to,
        location_id=location_id,
        now=now or timezone.now(),
        use_cache=True,
    )
    notice = timedelta(minutes=max(p.min_notice_minutes for p in products))
    if found is None:
        return AvailabilitySnapshot(starts=array("q"), body=b"", offsets=array("q"), notice=notice)
    table = found[0]
    return AvailabilitySnapshot(starts=table.starts, body=table.json, offsets=table.offsets, notice=notice)


def free_desks_for_period(
    *,
    products: Sequence[Product],
    location_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> list[Desk]:
    """Desks at the location that serve the products and are open and free for [start, end).

    Read before any lock, to choose the desks to try: the schedule comes from this process's
    copy (as for availability reads; its versions are bumped after every schedule change), the
    appointments from the database (one query). Whoever takes the desk re-checks under its lock.
    """
    days = _local_days(start, end)
    schedule = _read_schedule(location_id, availability_versions(location_id, []), days)
    desks = schedule.eligible_desks(products, location_id)
    if not desks:
        return []
    free = _free(desks, days, schedule, now=now, exclude_appointment_id=exclude_appointment_id)
    first, last = _to_us(start), _to_us(end)
    return [d for d in desks if any(a <= first and last <= b for a, b in free.get(d.pk, ()))]
