"""Read side of the staff pages: the day board, finding appointments, what a closure would hit,
upcoming holidays, capacity and lead times, and where a walk-in fits.

Public: ``day_board``, ``appointment_for_staff``, ``appointment_search``,
``closure_affected_appointments``, ``cancellable_by_closure``, ``holidays_upcoming``, ``open_intervals_for_desks``, ``capacity_week``,
``next_free_counter_time``, ``walk_in_next_start``, ``ceil_to_grid``, ``local_day_bounds``.

Every selector answers in a fixed number of queries, whatever the number of appointments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from booking.availability import (
    appointment_duration,
    at_local,
    availability_for_products,
    free_intervals,
    local_tz,
    open_intervals,
    public_holidays,
)
from booking.constants import AppointmentStatus
from booking.models import Appointment, Closure, Desk, HolidayOpening, Location, OpeningHours, Product

Interval = tuple[datetime, datetime]

# On the board: everything that was or is planned for the day, except short-lived holds.
BOARD_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.SERVED,
    AppointmentStatus.NO_SHOW,
)
# Desk time that was taken (a no-show still took the slot; a cancellation freed it).
USED_STATUSES = BOARD_STATUSES


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC (23 or 25 hours on a clock-change day)."""
    return at_local(day, time.min), at_local(day + timedelta(days=1), time.min)


def ceil_to_grid(moment: datetime, grid_minutes: int) -> datetime:
    """The first start time on the location's local wall-clock grid at or after ``moment``."""
    tz = local_tz()
    local = moment.astimezone(tz)
    minute_of_day = local.hour * 60 + local.minute
    minutes = minute_of_day - minute_of_day % grid_minutes
    if minutes < minute_of_day or local.second or local.microsecond:
        minutes += grid_minutes
    wall = datetime.combine(local.date(), time.min, tzinfo=tz) + timedelta(minutes=minutes)
    return wall.astimezone(UTC)


def _products_prefetch() -> Prefetch:
    return Prefetch("products", queryset=Product.objects.order_by("name_nl"))


# --- day board ------------------------------------------------------------------------------


@dataclass
class DeskDay:
    desk: Desk
    hours: list[tuple[time, time]]
    closures: list[Closure]
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return bool(self.hours)


@dataclass
class DayBoard:
    location: Location
    day: date
    desks: list[DeskDay]
    holiday: str | None
    holiday_opened: bool
    counts: dict[str, int]

    @property
    def closed_for_holiday(self) -> bool:
        return bool(self.holiday) and not self.holiday_opened

    @property
    def appointment_count(self) -> int:
        return sum(len(d.appointments) for d in self.desks)


def day_board(*, location: Location, day: date) -> DayBoard:
    """Each desk's appointments of the day in time order, with their products (five queries)."""
    day_start, day_end = local_day_bounds(day)
    hours_today = OpeningHours.objects.filter(weekday=day.weekday(), valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    desks = list(
        Desk.objects.filter(location=location)
        .prefetch_related(Prefetch("opening_hours", queryset=hours_today.order_by("opens"), to_attr="hours_today"))
        .order_by("name")
    )
    appointments = (
        Appointment.objects.filter(
            desk__location=location, start__lt=day_end, end__gt=day_start, status__in=BOARD_STATUSES
        )
        .prefetch_related(_products_prefetch())
        .order_by("start", "pk")
    )
    closures = list(
        Closure.objects.filter(location=location, starts_at__lt=day_end, ends_at__gt=day_start).order_by("starts_at")
    )
    holiday = public_holidays(day, day).get(day)
    opened = bool(holiday) and HolidayOpening.objects.filter(location=location, date=day).exists()

    by_desk: dict[int, list[Appointment]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for appointment in appointments:
        by_desk[appointment.desk_id].append(appointment)
        counts[appointment.status] += 1
    columns = []
    for desk in desks:
        if not desk.is_active and not by_desk.get(desk.pk):
            continue
        columns.append(
            DeskDay(
                desk=desk,
                hours=[(h.opens, h.closes) for h in desk.hours_today] if desk.is_active else [],
                closures=[c for c in closures if c.desk_id in (None, desk.pk)],
                appointments=by_desk.get(desk.pk, []),
            )
        )
    return DayBoard(
        location=location, day=day, desks=columns, holiday=holiday, holiday_opened=opened, counts=dict(counts)
    )


# --- single appointments and search ---------------------------------------------------------


def appointment_for_staff(*, reference: str) -> Appointment | None:
    """An appointment (not a short-lived hold) by its public reference, with its audit trail."""
    return (
        Appointment.objects.exclude(status=AppointmentStatus.HELD)
        .select_related("desk__location")
        .prefetch_related(_products_prefetch(), Prefetch("events__actor"))
        .filter(reference=reference.strip().upper()[:12])
        .first()
    )


def appointment_search(*, query: str = "", day: date | None = None, limit: int = 50) -> list[Appointment]:
    """Appointments by reference (exact), name or e-mail address (part of it), and/or date."""
    query = " ".join((query or "").split())
    if not query and day is None:
        return []
    qs = Appointment.objects.exclude(status=AppointmentStatus.HELD).filter(anonymised_at__isnull=True)
    if query:
        qs = qs.filter(Q(reference=query.upper()) | Q(name__icontains=query) | Q(email__icontains=query))
    if day is not None:
        day_start, day_end = local_day_bounds(day)
        qs = qs.filter(start__gte=day_start, start__lt=day_end)
    return list(
        qs.select_related("desk__location").prefetch_related(_products_prefetch()).order_by("-start", "pk")[:limit]
    )


# --- closures and holidays ------------------------------------------------------------------


def closure_affected_appointments(
    *, location: Location, desk: Desk | None, starts_at: datetime, ends_at: datetime
) -> QuerySet[Appointment]:
    """Booked or checked-in appointments that a closure of the location (or one desk) would hit."""
    qs = Appointment.objects.filter(
        desk__location=location,
        start__lt=ends_at,
        end__gt=starts_at,
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
    )
    if desk is not None:
        qs = qs.filter(desk=desk)
    return qs.select_related("desk").prefetch_related(_products_prefetch()).order_by("start", "pk")


def cancellable_by_closure(appointment: Appointment, now: datetime) -> bool:
    """A closure cancels booked appointments that have not begun; checked-in visits and ones
    already under way are kept (the desk deals with them)."""
    return appointment.status == AppointmentStatus.BOOKED and appointment.start > now


@dataclass(frozen=True)
class UpcomingHoliday:
    day: date
    name: str
    opened: bool
    note: str


def holidays_upcoming(*, location: Location, today: date, days: int = 365) -> list[UpcomingHoliday]:
    """Dutch public holidays in the coming ``days`` days, with the planner's decision."""
    found = public_holidays(today, today + timedelta(days=days))
    openings = {h.date: h for h in HolidayOpening.objects.filter(location=location, date__in=list(found))}
    return [
        UpcomingHoliday(day=day, name=name, opened=day in openings, note=openings[day].note if day in openings else "")
        for day, name in sorted(found.items())
    ]


# --- capacity -------------------------------------------------------------------------------


def open_intervals_for_desks(
    desks: Sequence[Desk], date_from: date, date_to: date, *, subtract_closures: bool = True
) -> dict[int, list[Interval]]:
    """Open UTC intervals per desk on the local days date_from..date_to (the availability
    engine's rules, without subtracting appointments)."""
    span_start, _ = local_day_bounds(date_from)
    _, span_end = local_day_bounds(date_to)
    return open_intervals(desks, span_start, span_end, subtract_closures=subtract_closures)


def _minutes(intervals: Sequence[Interval]) -> int:
    return int(sum((b - a).total_seconds() for a, b in intervals) // 60)


@dataclass
class DeskCapacity:
    desk: Desk
    open_minutes: int
    booked_minutes: int

    @property
    def utilisation(self) -> float | None:
        return self.booked_minutes / self.open_minutes if self.open_minutes else None


@dataclass
class LeadTime:
    product: Product
    first_free: datetime | None
    today: date

    @property
    def days(self) -> int | None:
        """Calendar days from today to the first free time (0 = still today)."""
        if self.first_free is None:
            return None
        return (self.first_free.astimezone(local_tz()).date() - self.today).days


@dataclass
class CapacityWeek:
    location: Location
    week_start: date
    desks: list[DeskCapacity]
    lead_times: list[LeadTime]

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def open_minutes(self) -> int:
        return sum(d.open_minutes for d in self.desks)

    @property
    def booked_minutes(self) -> int:
        return sum(d.booked_minutes for d in self.desks)

    @property
    def utilisation(self) -> float | None:
        return self.booked_minutes / self.open_minutes if self.open_minutes else None


def capacity_week(*, location: Location, week_start: date, now: datetime | None = None) -> CapacityWeek:
    """Open desk minutes, booked minutes and utilisation per desk for the week (Monday–Sunday)
    starting ``week_start``, and the next free counter time per product served here."""
    now = now or timezone.now()
    today = now.astimezone(local_tz()).date()
    week_start = week_start - timedelta(days=week_start.weekday())
    week_end = week_start + timedelta(days=6)
    span_start, _ = local_day_bounds(week_start)
    _, span_end = local_day_bounds(week_end)
    desks = list(Desk.objects.filter(location=location, is_active=True).order_by("name"))
    open_by_desk = open_intervals_for_desks(desks, week_start, week_end)
    booked: dict[int, float] = defaultdict(float)
    for desk_id, start, end in Appointment.objects.filter(
        desk__location=location, start__lt=span_end, end__gt=span_start, status__in=USED_STATUSES
    ).values_list("desk_id", "start", "end"):
        booked[desk_id] += (min(end, span_end) - max(start, span_start)).total_seconds() / 60
    rows = [
        DeskCapacity(desk=d, open_minutes=_minutes(open_by_desk.get(d.pk, [])), booked_minutes=round(booked[d.pk]))
        for d in desks
    ]
    products = Product.objects.filter(is_active=True, desks__in=desks).distinct().order_by("name_nl")
    lead_times = [
        LeadTime(product=p, first_free=next_free_counter_time(product=p, location=location, now=now), today=today)
        for p in products
    ]
    return CapacityWeek(location=location, week_start=week_start, desks=rows, lead_times=lead_times)


def next_free_counter_time(
    *, product: Product, location: Location, persons: int = 1, now: datetime | None = None
) -> datetime | None:
    """The first time a citizen could book this product here (lead time), within its horizon."""
    now = now or timezone.now()
    today = now.astimezone(local_tz()).date()
    last_day = today + timedelta(days=product.booking_horizon_days)
    chunk = timedelta(days=max(1, min(14, settings.BOOKING_MAX_RANGE_DAYS)))
    day = today
    while day <= last_day:
        slots = availability_for_products(
            products=[product],
            persons=persons,
            location_id=location.pk,
            date_from=day,
            date_to=min(day + chunk - timedelta(days=1), last_day),
            now=now,
        )
        if slots:
            return slots[0].start
        day += chunk
    return None


# --- walk-ins -------------------------------------------------------------------------------


def walk_in_next_start(
    *,
    products: Sequence[Product],
    persons: int,
    location: Location,
    now: datetime,
    desks: Sequence[Desk],
) -> tuple[Desk, datetime] | None:
    """The first grid time from now, today, at which one of the desks is free for the whole
    visit; ties go to the lowest desk id. None when nothing fits today. Unlike a citizen's
    booking, no minimum notice applies: the visitor is already here."""
    if not desks:
        return None
    duration = appointment_duration(products, persons)
    earliest = ceil_to_grid(now, location.grid_minutes)
    _, day_end = local_day_bounds(now.astimezone(local_tz()).date())
    free = free_intervals(list(desks), now, day_end, now=now)
    best: tuple[datetime, int, Desk] | None = None
    for desk in desks:
        for a, b in free.get(desk.pk, ()):
            if b <= earliest:
                continue
            start = ceil_to_grid(max(a, earliest), location.grid_minutes)
            if start + duration <= b:
                if best is None or (start, desk.pk) < best[:2]:
                    best = (start, desk.pk, desk)
                break
    return (best[2], best[0]) if best else None


# --- schedules ------------------------------------------------------------------------------


@dataclass
class DeskSchedule:
    desk: Desk
    week: list[list[OpeningHours]]  # the hours in force today, per weekday (Monday first)
    hours: list[OpeningHours]  # current and future rows, to edit
    past_hours: list[OpeningHours]  # rows that ended before today


def desk_schedules(*, location: Location, today: date) -> list[DeskSchedule]:
    """Each desk of the location with its opening hours (two queries)."""
    desks = Desk.objects.filter(location=location).prefetch_related("products", "opening_hours").order_by("name")
    schedules = []
    for desk in desks:
        hours = sorted(desk.opening_hours.all(), key=lambda h: (h.weekday, h.opens, h.valid_from))
        current = [h for h in hours if h.valid_from <= today and (h.valid_until is None or h.valid_until >= today)]
        schedules.append(
            DeskSchedule(
                desk=desk,
                week=[[h for h in current if h.weekday == weekday] for weekday in range(7)],
                hours=[h for h in hours if h.valid_until is None or h.valid_until >= today],
                past_hours=[h for h in hours if h.valid_until is not None and h.valid_until < today],
            )
        )
    return schedules


def closures_upcoming(*, location: Location, now: datetime) -> QuerySet[Closure]:
    return Closure.objects.filter(location=location, ends_at__gt=now).select_related("desk").order_by("starts_at")
