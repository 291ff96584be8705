"""The availability engine (read side).

Free time at a desk = its opening hours on that local date (unless the date is a Dutch public
holiday the planner did not open) minus closures minus blocking appointments (booked,
checked in, or held and not yet expired: an expired hold stops blocking the moment it
expires). A start time is offered when it lies on the location's grid in *local wall time*
and the whole appointment fits in one free interval of at least one desk that serves every
chosen product. All interval arithmetic is done in UTC, so a day with a daylight-saving
change is neither an hour short nor an hour long.

Public: ``Slot``, ``appointment_duration``, ``public_holidays``, ``eligible_desks``,
``availability_for_products``, ``availability_snapshot``, ``availability_version``, ``free_desks_for_period``, ``is_on_grid``,
``invalidate_availability``; for staff overviews ``open_intervals``,
``free_intervals`` and ``at_local``.

Size (over 400 lines): the interval arithmetic, the grid and its cache change together.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import BigIntegerField, Count, Func, Q
from django.utils import timezone

from .constants import MAX_APPOINTMENT_DURATION_MINUTES, AppointmentStatus
from .models import Appointment, Closure, Desk, HolidayOpening, OpeningHours, Product

Interval = tuple[datetime, datetime]


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


def _subtract(intervals: list[Interval], blocks: list[Interval]) -> list[Interval]:
    """Remove the (sorted or not) blocks from sorted, non-overlapping intervals.

    Linear after sorting: merged, the blocks are ordered by start and by end alike, so one
    pointer walks them once for all intervals (six weeks of a busy desk is thousands of
    blocks; rescanning them per interval was the main cost of an uncached availability read).
    """
    result: list[Interval] = []
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


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


class _EpochMicroseconds(Func):
    """A timestamp as integer microseconds since the Unix epoch (PostgreSQL only; exact from
    PostgreSQL 14 on, where EXTRACT returns numeric)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _periods(appointments) -> Iterable[tuple[int, datetime, datetime]]:
    """(desk id, start, end) of the appointments, in UTC.

    On PostgreSQL the times travel as integers: loading a few thousand timestamptz values
    through the driver's text loader took about half of an uncached six-week availability
    read; integers load several times faster and convert back exactly.
    """
    if connection.vendor != "postgresql":
        yield from appointments.values_list("desk_id", "start", "end")
        return
    rows = appointments.annotate(start_us=_EpochMicroseconds("start"), end_us=_EpochMicroseconds("end"))
    for desk_id, start_us, end_us in rows.values_list("desk_id", "start_us", "end_us"):
        yield desk_id, _UNIX_EPOCH + timedelta(microseconds=start_us), _UNIX_EPOCH + timedelta(microseconds=end_us)


def open_intervals(
    desks: Sequence[Desk], window_start: datetime, window_end: datetime, *, subtract_closures: bool = True
) -> dict[int, list[Interval]]:
    """Open UTC intervals per desk id on the local days the window touches: opening hours on
    days that are not unopened public holidays, minus closures (three queries)."""
    if not desks:
        return {}
    days = _local_days(window_start, window_end)
    desk_ids = [d.pk for d in desks]
    location_ids = {d.location_id for d in desks}
    span_start = at_local(days[0], time.min)
    span_end = at_local(days[-1] + timedelta(days=1), time.min)

    hours: dict[int, list[tuple]] = defaultdict(list)
    for desk_id, weekday, opens, closes, valid_from, valid_until in (
        OpeningHours.objects.filter(desk_id__in=desk_ids, valid_from__lte=days[-1])
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=days[0]))
        .values_list("desk_id", "weekday", "opens", "closes", "valid_from", "valid_until")
    ):
        hours[desk_id].append((weekday, opens, closes, valid_from, valid_until))

    closures_by_location: dict[int, list[Interval]] = defaultdict(list)
    closures_by_desk: dict[int, list[Interval]] = defaultdict(list)
    if subtract_closures:
        for location_id, desk_id, starts_at, ends_at in Closure.objects.filter(
            location_id__in=location_ids, starts_at__lt=span_end, ends_at__gt=span_start
        ).values_list("location_id", "desk_id", "starts_at", "ends_at"):
            if desk_id is None:
                closures_by_location[location_id].append((starts_at, ends_at))
            else:
                closures_by_desk[desk_id].append((starts_at, ends_at))

    holidays_in_span = public_holidays(days[0], days[-1])
    opened_holidays = set(
        HolidayOpening.objects.filter(location_id__in=location_ids, date__in=list(holidays_in_span)).values_list(
            "location_id", "date"
        )
    )

    result: dict[int, list[Interval]] = {}
    for desk in desks:
        intervals: list[Interval] = []
        for day in days:
            if day in holidays_in_span and (desk.location_id, day) not in opened_holidays:
                continue
            weekday = day.weekday()
            for wd, opens, closes, valid_from, valid_until in hours.get(desk.pk, ()):
                if wd == weekday and valid_from <= day and (valid_until is None or day <= valid_until):
                    intervals.append((at_local(day, opens), at_local(day, closes)))
        closed = closures_by_location.get(desk.location_id, []) + closures_by_desk.get(desk.pk, [])
        result[desk.pk] = _subtract(_merge(intervals), closed)
    return result


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
    span_start = at_local(days[0], time.min)
    span_end = at_local(days[-1] + timedelta(days=1), time.min)
    busy: dict[int, list[Interval]] = defaultdict(list)
    appointments = overlapping_appointments([d.pk for d in desks], span_start, span_end).filter(
        blocking_appointments_q(now)
    )
    if exclude_appointment_id is not None:
        appointments = appointments.exclude(pk=exclude_appointment_id)
    for desk_id, start, end in _periods(appointments):
        busy[desk_id].append((start, end))
    return {
        desk_id: _subtract(intervals, busy.get(desk_id, []))
        for desk_id, intervals in open_intervals(desks, window_start, window_end).items()
    }


# Two daylight-saving changes are months apart: an interval this short with the same UTC offset
# at both ends has none inside it.
_NO_TRANSITION_SPAN = timedelta(days=2)
# More than any daylight-saving shift (at most two hours anywhere).
_DST_MARGIN = timedelta(hours=3)


def _grid_starts(interval: Interval, duration: timedelta, grid_minutes: int) -> Iterable[datetime]:
    """Start times on the local wall-clock grid whose appointment fits inside the interval."""
    tz = local_tz()
    a, b = interval
    local = a.astimezone(tz).replace(tzinfo=None)
    minute_of_day = local.hour * 60 + local.minute
    offset = (-minute_of_day) % grid_minutes
    if offset == 0 and (local.second or local.microsecond):
        offset = grid_minutes
    wall = local.replace(second=0, microsecond=0) + timedelta(minutes=offset)
    step = timedelta(minutes=grid_minutes)
    utc_offset = a.astimezone(tz).utcoffset()
    assert utc_offset is not None  # an aware datetime in a real zone  # noqa: S101
    if b - a <= _NO_TRANSITION_SPAN and all(
        t.astimezone(tz).utcoffset() == utc_offset for t in (a - _DST_MARGIN, b, b + _DST_MARGIN)
    ):
        # Fast path: the UTC offset is the same from a few hours before the interval to a few
        # hours after it, so no daylight-saving change (nor a repeated wall-clock hour) touches
        # it and the wall-clock grid is a plain step in UTC.
        start = (wall - utc_offset).replace(tzinfo=UTC)
        last = b - duration
        while start <= last:
            yield start
            start += step
        return
    while True:
        aware = wall.replace(tzinfo=tz)
        start = aware.astimezone(UTC)
        # Skip wall times that do not exist (the spring-forward gap) before the end check: read
        # with the winter offset they lie after the first start past the gap, and would end
        # the interval early. A repeated wall time is offered once (its first occurrence).
        if start.astimezone(tz).replace(tzinfo=None) != wall:
            wall += step
            continue
        if start + duration > b:
            return
        if start >= a:
            yield start
        wall += step


def _compute_slots(
    desks: Sequence[Desk], duration: timedelta, date_from: date, date_to: date, *, now: datetime
) -> list[Slot]:
    window_start = at_local(date_from, time.min)
    window_end = at_local(date_to + timedelta(days=1), time.min)
    free = free_intervals(desks, window_start, window_end, now=now)
    # A start time is offered when it lies in [a, b - duration] for a free interval [a, b) of
    # some desk. Merging those ranges per location first yields each grid time once, instead
    # of once per desk followed by a de-duplicating set.
    start_ranges: dict[int, list[Interval]] = defaultdict(list)
    grid: dict[int, int] = {}
    for desk in desks:
        grid[desk.location_id] = desk.location.grid_minutes
        for a, b in free.get(desk.pk, ()):
            if b - a >= duration:
                start_ranges[desk.location_id].append((a, b - duration))
    slots = [
        Slot(start=start, end=start + duration, location_id=location_id)
        for location_id, ranges in start_ranges.items()
        for first, last in _merge(ranges)
        for start in _grid_starts((first, last + duration), duration, grid[location_id])
    ]
    slots.sort(key=lambda s: (s.start, s.location_id))
    return slots


# --- Caching ----------------------------------------------------------------------------------
# Each location has a version number in the cache; any booking change at a location bumps it
# after commit, any schedule change bumps the global one. Results also expire after
# BOOKING_AVAILABILITY_CACHE_SECONDS, which bounds how long an expired hold stays hidden.
# A stale result is never a safety problem: booking re-checks under a lock.

_GLOBAL_VERSION_KEY = "availability:v:global"
# Bumped with every location's version: what a query over all locations depends on.
_ANY_LOCATION_VERSION_KEY = "availability:v:any"


def _location_version_key(location_id: int | str) -> str:
    return f"availability:v:loc:{location_id}"


def invalidate_availability(location_id: int | None = None) -> None:
    keys = (
        [_GLOBAL_VERSION_KEY]
        if location_id is None
        else [_location_version_key(location_id), _ANY_LOCATION_VERSION_KEY]
    )
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)


def availability_version(location_id: int | str | None) -> str:
    """The cache version that answers for this location (or all locations) depend on:
    schedule data (the global version) and that location's appointments. One cache read."""
    location_key = _ANY_LOCATION_VERSION_KEY if location_id is None else _location_version_key(location_id)
    versions = cache.get_many([_GLOBAL_VERSION_KEY, location_key])
    return f"{versions.get(_GLOBAL_VERSION_KEY, 0)}.{versions.get(location_key, 0)}"


def _cache_key(
    products: Sequence[Product], persons: int, location_id: int | None, date_from: date, date_to: date
) -> str:
    raw = "|".join(
        [
            ",".join(sorted(p.code for p in products)),
            str(persons),
            str(location_id or "*"),
            date_from.isoformat(),
            date_to.isoformat(),
            availability_version(location_id),
        ]
    )
    return "availability:slots:v2:" + hashlib.sha256(raw.encode()).hexdigest()  # v2: the JSON as bytes


@dataclass(frozen=True)
class _SlotTable:
    """What the cache holds for one query, compact so a hit unpickles little: each slot as
    (start, end) in integer microseconds since the epoch plus its location, and the slots as
    API JSON in one ASCII byte string with each slot's offset in it. ``starts`` (a flat array) serves
    bisecting at the minimum notice."""

    rows: list[tuple[int, int, int]]
    starts: array
    json: bytes
    offsets: array

    @classmethod
    def build(cls, slots: list[Slot]) -> _SlotTable:
        tz = local_tz()
        rows = [(_to_us(s.start), _to_us(s.end), s.location_id) for s in slots]
        items = [
            '{"start":"%s","end":"%s","location":%d}'  # noqa: UP031 - hot path, plain %
            % (s.start.astimezone(tz).isoformat(), s.end.astimezone(tz).isoformat(), s.location_id)
            for s in slots
        ]
        offsets, position = array("q"), 0
        for item in items:
            offsets.append(position)
            position += len(item) + 1  # the comma after it
        body = ",".join(items).encode("ascii")
        return cls(rows=rows, starts=array("q", (row[0] for row in rows)), json=body, offsets=offsets)

    def slots(self, first: int) -> list[Slot]:
        return [Slot(start=_from_us(a), end=_from_us(b), location_id=loc) for a, b, loc in self.rows[first:]]


def _to_us(moment: datetime) -> int:
    return (moment - _UNIX_EPOCH) // timedelta(microseconds=1)


def _from_us(microseconds: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=microseconds)


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
    """The (cached) slot table and the index of the first slot after the minimum notice."""
    today = now.astimezone(local_tz()).date()
    horizon_end = today + timedelta(days=min(p.booking_horizon_days for p in products))
    earliest = now + timedelta(minutes=max(p.min_notice_minutes for p in products))
    date_from = max(date_from, today)
    date_to = min(date_to, horizon_end)
    if date_from > date_to:
        return None
    table = None
    key = _cache_key(products, persons, location_id, date_from, date_to) if use_cache else None
    if key:
        table = cache.get(key)
    if table is None:
        desks = eligible_desks(products, location_id)
        duration = appointment_duration(products, persons)
        slots = _compute_slots(desks, duration, date_from, date_to, now=now) if desks else []
        table = _SlotTable.build(slots)
        if key:
            cache.set(key, table, timeout=settings.BOOKING_AVAILABILITY_CACHE_SECONDS)
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
    """Desks at the location that serve the products and are open and free for [start, end)."""
    desks = eligible_desks(products, location_id)
    free = free_intervals(desks, start, end, now=now, exclude_appointment_id=exclude_appointment_id)
    return [d for d in desks if any(a <= start and end <= b for a, b in free.get(d.pk, ()))]
