"""The availability engine: opening hours, closures, holidays, notice, horizon, desk skills,
blocking statuses and the daylight-saving changes.

Every call passes a fixed ``now`` and ``use_cache=False`` (unless the cache is under test):
within a test transaction the after-commit cache invalidation never runs.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.availability import availability_for_products
from booking.constants import AppointmentStatus
from booking.models import OpeningHours
from booking.services import appointment_book
from tests.factories import (
    AppointmentFactory,
    ClosureFactory,
    DeskFactory,
    HolidayOpeningFactory,
    LocationFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)  # Monday
MONDAY = date(2027, 3, 1)
WEDNESDAY = date(2027, 3, 3)
SATURDAY = date(2027, 3, 6)
ALL_WEEK = {weekday: (time(9), time(17)) for weekday in range(7)}


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def every(first, last, minutes=10):
    """Aware datetimes from first to last inclusive, ``minutes`` apart."""
    result = []
    while first <= last:
        result.append(first)
        first += timedelta(minutes=minutes)
    return result


def slots(products, date_from, date_to=None, *, persons=1, now=NOW, location=None, use_cache=False):
    return availability_for_products(
        products=products,
        persons=persons,
        date_from=date_from,
        date_to=date_to or date_from,
        location_id=location.pk if location else None,
        now=now,
        use_cache=use_cache,
    )


def starts(*args, **kwargs):
    return [s.start for s in slots(*args, **kwargs)]


# --- opening hours and grid ---------------------------------------------------------------


def test_a_weekday_offers_every_ten_minutes_within_opening_hours(desk, product):
    found = slots([product], WEDNESDAY)

    assert [s.start for s in found] == every(at(WEDNESDAY, 9), at(WEDNESDAY, 16, 50))
    assert all(s.end - s.start == timedelta(minutes=10) for s in found)
    assert found[-1].end == at(WEDNESDAY, 17)
    assert {s.location_id for s in found} == {desk.location_id}


def test_closed_weekdays_offer_nothing(desk, product):
    assert starts([product], SATURDAY, SATURDAY + timedelta(days=1)) == []


def test_the_last_start_leaves_room_for_the_whole_appointment(desk, product, location):
    long_product = ProductFactory(minutes_per_person=25, min_notice_minutes=0)
    desk.products.add(long_product)

    assert starts([long_product], WEDNESDAY)[-1] == at(WEDNESDAY, 16, 30)  # 16:30 + 25 = 16:55
    assert starts([product], WEDNESDAY, persons=2)[-1] == at(WEDNESDAY, 16, 40)
    assert {s.end - s.start for s in slots([product], WEDNESDAY, persons=3)} == {timedelta(minutes=30)}


def test_duration_adds_the_largest_buffer_once(location):
    a = ProductFactory(minutes_per_person=10, buffer_minutes=5, min_notice_minutes=0)
    b = ProductFactory(minutes_per_person=15, buffer_minutes=10, min_notice_minutes=0)
    DeskFactory(location=location, products=[a, b])

    found = slots([a, b], WEDNESDAY, persons=2)

    assert {s.end - s.start for s in found} == {timedelta(minutes=2 * 25 + 10)}
    assert found[-1].start == at(WEDNESDAY, 16)
    assert found[-1].end == at(WEDNESDAY, 17)


def test_a_lunch_break_splits_the_day(location, product):
    desk = DeskFactory(location=location, products=[product], weekdays={2: (time(9), time(12))})
    OpeningHours.objects.create(desk=desk, weekday=2, opens=time(13), closes=time(17), valid_from=date(2020, 1, 1))
    lunch_product = ProductFactory(minutes_per_person=20, min_notice_minutes=0)
    desk.products.add(lunch_product)

    found = starts([lunch_product], WEDNESDAY)

    assert found == every(at(WEDNESDAY, 9), at(WEDNESDAY, 11, 40)) + every(at(WEDNESDAY, 13), at(WEDNESDAY, 16, 40))


def test_adjoining_opening_hours_are_one_stretch(location):
    product = ProductFactory(minutes_per_person=30, min_notice_minutes=0)
    desk = DeskFactory(location=location, products=[product], weekdays={2: (time(9), time(12))})
    OpeningHours.objects.create(desk=desk, weekday=2, opens=time(12), closes=time(17), valid_from=date(2020, 1, 1))

    assert at(WEDNESDAY, 11, 50) in starts([product], WEDNESDAY)


def test_opening_time_off_the_grid_starts_at_the_next_grid_time(location, product):
    DeskFactory(location=location, products=[product], weekdays={2: (time(9, 5), time(10, 3))})

    assert starts([product], WEDNESDAY) == every(at(WEDNESDAY, 9, 10), at(WEDNESDAY, 9, 50))


def test_grid_of_the_location_is_used(product):
    location = LocationFactory(grid_minutes=15)
    DeskFactory(location=location, products=[product], weekdays={2: (time(9), time(10))})

    assert starts([product], WEDNESDAY) == every(at(WEDNESDAY, 9), at(WEDNESDAY, 9, 45), minutes=15)


def test_opening_hours_apply_only_within_their_validity(location, product):
    # Winter hours until Friday 5 March, shorter spring hours from Saturday 6 March.
    desk = DeskFactory(location=location, products=[product], weekdays={})
    OpeningHours.objects.create(
        desk=desk, weekday=2, opens=time(9), closes=time(17), valid_from=date(2020, 1, 1), valid_until=date(2027, 3, 5)
    )
    OpeningHours.objects.create(desk=desk, weekday=2, opens=time(10), closes=time(12), valid_from=date(2027, 3, 6))

    next_wednesday = WEDNESDAY + timedelta(days=7)
    assert starts([product], WEDNESDAY) == every(at(WEDNESDAY, 9), at(WEDNESDAY, 16, 50))
    assert starts([product], next_wednesday) == every(at(next_wednesday, 10), at(next_wednesday, 11, 50))


def test_several_days_come_sorted_by_time(desk, product):
    found = starts([product], MONDAY, MONDAY + timedelta(days=6))

    assert found == sorted(found)
    assert len(found) == 5 * 48
    assert {s.astimezone(AMS).date() for s in found} == {MONDAY + timedelta(days=i) for i in range(5)}


# --- closures -----------------------------------------------------------------------------


def test_a_location_closure_removes_the_time_on_every_desk(desk, product, location):
    DeskFactory(location=location, products=[product])
    ClosureFactory(location=location, starts_at=at(WEDNESDAY, 11), ends_at=at(WEDNESDAY, 13))
    ClosureFactory(location=LocationFactory(), starts_at=at(WEDNESDAY, 9), ends_at=at(WEDNESDAY, 17))

    found = starts([product], WEDNESDAY)

    assert found == every(at(WEDNESDAY, 9), at(WEDNESDAY, 10, 50)) + every(at(WEDNESDAY, 13), at(WEDNESDAY, 16, 50))


def test_a_closure_off_the_grid_removes_every_start_it_touches(desk, product, location):
    ClosureFactory(location=location, starts_at=at(WEDNESDAY, 11, 5), ends_at=at(WEDNESDAY, 11, 15))

    found = set(starts([product], WEDNESDAY))

    assert at(WEDNESDAY, 10, 50) in found
    assert at(WEDNESDAY, 11) not in found
    assert at(WEDNESDAY, 11, 10) not in found
    assert at(WEDNESDAY, 11, 20) in found


def test_a_desk_closure_removes_only_that_desk(desk, product, location):
    other = DeskFactory(location=location, products=[product])
    ClosureFactory(location=location, desk=desk, starts_at=at(WEDNESDAY, 11), ends_at=at(WEDNESDAY, 13))

    # The other desk still serves 11:00–13:00 ...
    assert starts([product], WEDNESDAY) == every(at(WEDNESDAY, 9), at(WEDNESDAY, 16, 50))

    # ... until it closes too, from 12:00.
    ClosureFactory(location=location, desk=other, starts_at=at(WEDNESDAY, 12), ends_at=at(WEDNESDAY, 13))
    found = starts([product], WEDNESDAY)
    assert found == every(at(WEDNESDAY, 9), at(WEDNESDAY, 11, 50)) + every(at(WEDNESDAY, 13), at(WEDNESDAY, 16, 50))


def test_a_closure_over_several_days(desk, product, location):
    ClosureFactory(location=location, starts_at=at(MONDAY, 0), ends_at=at(WEDNESDAY, 12))

    found = starts([product], MONDAY, MONDAY + timedelta(days=3))

    assert found[0] == at(WEDNESDAY, 12)
    assert len(found) == 30 + 48  # Wednesday afternoon and all of Thursday


# --- public holidays ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        date(2027, 4, 27),  # Koningsdag, a Tuesday
        date(2027, 12, 25),  # Eerste kerstdag, a Saturday
        date(2027, 3, 29),  # Tweede paasdag, a Monday
        date(2027, 5, 6),  # Hemelvaartsdag, a Thursday
    ],
)
def test_public_holidays_are_closed_unless_the_planner_opens_them(location, product, holiday):
    DeskFactory(location=location, products=[product], weekdays=ALL_WEEK)
    now = at(holiday - timedelta(days=20), 8)
    week_before = holiday - timedelta(days=7)

    assert len(starts([product], week_before, now=now)) == 48  # same weekday, an ordinary day
    assert starts([product], holiday, now=now) == []

    # Opening another location changes nothing here.
    HolidayOpeningFactory(location=LocationFactory(), date=holiday)
    assert starts([product], holiday, now=now) == []

    HolidayOpeningFactory(location=location, date=holiday, note="Koopzondag")
    assert starts([product], holiday, now=now) == every(at(holiday, 9), at(holiday, 16, 50))


# --- notice and horizon -------------------------------------------------------------------


def test_no_slots_in_the_past(desk, product):
    now = at(WEDNESDAY, 12, 34)

    found = starts([product], MONDAY, WEDNESDAY, now=now)

    assert found == every(at(WEDNESDAY, 12, 40), at(WEDNESDAY, 16, 50))


def test_minimum_notice_of_the_strictest_product(desk, product, location):
    strict = ProductFactory(minutes_per_person=10, min_notice_minutes=120)
    desk.products.add(strict)
    now = at(WEDNESDAY, 9, 5)

    assert starts([product], WEDNESDAY, now=now)[0] == at(WEDNESDAY, 9, 10)
    assert starts([strict], WEDNESDAY, now=now)[0] == at(WEDNESDAY, 11, 10)
    assert starts([product, strict], WEDNESDAY, now=now)[0] == at(WEDNESDAY, 11, 10)


def test_minimum_notice_exactly_on_a_grid_time_includes_it(desk, location):
    product = ProductFactory(minutes_per_person=10, min_notice_minutes=60)
    desk.products.add(product)

    assert starts([product], WEDNESDAY, now=at(WEDNESDAY, 9))[0] == at(WEDNESDAY, 10)


def test_booking_horizon_of_the_strictest_product(desk, product):
    short = ProductFactory(minutes_per_person=10, min_notice_minutes=0, booking_horizon_days=2)
    desk.products.add(short)
    week = (MONDAY, MONDAY + timedelta(days=6))

    days_offered = {s.astimezone(AMS).date() for s in starts([short], *week)}
    assert days_offered == {MONDAY, MONDAY + timedelta(days=1), WEDNESDAY}  # today + 2 days
    days_offered = {s.astimezone(AMS).date() for s in starts([product, short], *week)}
    assert days_offered == {MONDAY, MONDAY + timedelta(days=1), WEDNESDAY}
    assert len({s.astimezone(AMS).date() for s in starts([product], *week)}) == 5


def test_horizon_zero_means_today_only(desk, location):
    product = ProductFactory(minutes_per_person=10, min_notice_minutes=0, booking_horizon_days=0)
    desk.products.add(product)

    found = starts([product], MONDAY, WEDNESDAY)

    assert {s.astimezone(AMS).date() for s in found} == {MONDAY}


# --- desk skills and locations ------------------------------------------------------------


def test_only_desks_serving_all_chosen_products(location, product):
    # Desk A serves the extract Monday–Friday, desk B serves the extract and passports on Wednesdays only.
    paspoort = ProductFactory(minutes_per_person=10, min_notice_minutes=0)
    DeskFactory(location=location, products=[product])
    DeskFactory(location=location, products=[product, paspoort], weekdays={2: (time(9), time(17))})
    # Inactive desks and desks of inactive locations do not count.
    DeskFactory(location=location, products=[product, paspoort], is_active=False)
    DeskFactory(location=LocationFactory(is_active=False), products=[product, paspoort])
    week = (MONDAY, MONDAY + timedelta(days=6))

    def days(products):
        return {s.astimezone(AMS).date() for s in starts(products, *week)}

    assert days([product]) == {MONDAY + timedelta(days=i) for i in range(5)}
    assert days([paspoort]) == {WEDNESDAY}
    assert days([product, paspoort]) == {WEDNESDAY}


def test_a_product_no_desk_serves_has_no_slots(desk):
    assert starts([ProductFactory(min_notice_minutes=0)], MONDAY, MONDAY + timedelta(days=6)) == []


def test_location_filter_and_slot_location(location, product):
    elsewhere = LocationFactory(grid_minutes=10)
    DeskFactory(location=location, products=[product], weekdays={2: (time(9), time(10))})
    DeskFactory(location=elsewhere, products=[product], weekdays={2: (time(9, 30), time(10, 30))})

    here = slots([product], WEDNESDAY, location=location)
    both = slots([product], WEDNESDAY)

    assert [s.start for s in here] == every(at(WEDNESDAY, 9), at(WEDNESDAY, 9, 50))
    assert {s.location_id for s in here} == {location.pk}
    assert len(both) == 12
    assert [(s.start, s.location_id) for s in both] == sorted((s.start, s.location_id) for s in both)
    assert {s.location_id for s in both if s.start == at(WEDNESDAY, 9, 30)} == {location.pk, elsewhere.pk}


# --- which appointments block -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "hold_expires_in", "blocks"),
    [
        (AppointmentStatus.BOOKED, None, True),
        (AppointmentStatus.CHECKED_IN, None, True),
        (AppointmentStatus.HELD, timedelta(minutes=5), True),
        (AppointmentStatus.HELD, timedelta(seconds=1), True),
        (AppointmentStatus.HELD, timedelta(0), False),  # expires exactly now
        (AppointmentStatus.HELD, -timedelta(minutes=1), False),
        (AppointmentStatus.CANCELLED, None, False),
        (AppointmentStatus.SERVED, None, False),
        (AppointmentStatus.NO_SHOW, None, False),
    ],
)
def test_which_appointments_block(desk, product, status, hold_expires_in, blocks):
    AppointmentFactory(
        desk=desk,
        start=at(WEDNESDAY, 10),
        end=at(WEDNESDAY, 10, 30),
        status=status,
        hold_expires_at=NOW + hold_expires_in if hold_expires_in is not None else None,
        products=[product],
    )

    found = set(starts([product], WEDNESDAY))

    assert {at(WEDNESDAY, 9, 50), at(WEDNESDAY, 10, 30)} <= found
    inside = {at(WEDNESDAY, 10), at(WEDNESDAY, 10, 10), at(WEDNESDAY, 10, 20)}
    assert (not inside & found) if blocks else (inside <= found)


def test_an_appointment_blocks_only_its_own_desk(desk, product, location):
    DeskFactory(location=location, products=[product])
    AppointmentFactory(desk=desk, start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 12))

    assert at(WEDNESDAY, 11) in starts([product], WEDNESDAY)


# --- daylight saving ----------------------------------------------------------------------


def assert_ordinary_day(found, day, utc_offset_hours):
    """48 starts from 09:00 to 16:50 local, ten real minutes each, at the given UTC offset."""
    assert len(found) == 48
    first, last = found[0], found[-1]
    assert first.start.astimezone(AMS).hour == 9
    assert first.start.astimezone(AMS).minute == 0
    assert first.start.astimezone(AMS).date() == day
    assert first.start.astimezone(AMS).utcoffset() == timedelta(hours=utc_offset_hours)
    assert first.start.astimezone(UTC).hour == 9 - utc_offset_hours
    assert last.start == at(day, 16, 50)
    assert last.end.astimezone(AMS).time() == time(17)
    assert {s.end - s.start for s in found} == {timedelta(minutes=10)}
    assert [s.start for s in found] == [first.start + timedelta(minutes=10 * i) for i in range(48)]


def test_spring_daylight_saving_change(location, product):
    # Clocks go from 02:00 to 03:00 on Sunday 28 March 2027 -- also Easter Sunday (and the
    # Monday is Easter Monday), so the planner opens both days explicitly.
    DeskFactory(location=location, products=[product], weekdays=ALL_WEEK)
    sunday, monday = date(2027, 3, 28), date(2027, 3, 29)
    assert starts([product], sunday) == []  # a holiday until opened

    HolidayOpeningFactory(location=location, date=sunday)
    HolidayOpeningFactory(location=location, date=monday)

    assert_ordinary_day(slots([product], date(2027, 3, 21)), date(2027, 3, 21), 1)  # a normal Sunday
    assert_ordinary_day(slots([product], date(2027, 3, 27)), date(2027, 3, 27), 1)
    assert_ordinary_day(slots([product], sunday), sunday, 2)
    assert_ordinary_day(slots([product], monday), monday, 2)
    assert len(starts([product], date(2027, 3, 27), monday)) == 3 * 48


def test_autumn_daylight_saving_change(location, product):
    # Clocks go from 03:00 back to 02:00 on Sunday 31 October 2027.
    DeskFactory(location=location, products=[product], weekdays=ALL_WEEK)
    sunday, monday = date(2027, 10, 31), date(2027, 11, 1)
    now = datetime(2027, 10, 1, 8, tzinfo=AMS)

    def day_slots(day):
        return slots([product], day, now=now)

    assert_ordinary_day(day_slots(date(2027, 10, 24)), date(2027, 10, 24), 2)  # a normal Sunday
    assert_ordinary_day(day_slots(date(2027, 10, 30)), date(2027, 10, 30), 2)
    assert_ordinary_day(day_slots(sunday), sunday, 1)
    assert_ordinary_day(day_slots(monday), monday, 1)
    assert len(starts([product], date(2027, 10, 30), monday, now=now)) == 3 * 48


def test_a_desk_open_through_the_spring_gap(location, product):
    # Open 01:00–04:00 local on the night the clocks skip 02:00–03:00: two real hours.
    DeskFactory(location=location, products=[product], weekdays={6: (time(1), time(4))})
    sunday = date(2027, 3, 28)
    HolidayOpeningFactory(location=location, date=sunday)

    found = slots([product], sunday)

    local = [s.start.astimezone(AMS) for s in found]
    assert [t.strftime("%H:%M") for t in local] == [f"{h:02}:{m:02}" for h in (1, 3) for m in range(0, 60, 10)]
    assert found[0].start == datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    assert found[-1].end == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)
    assert {s.end - s.start for s in found} == {timedelta(minutes=10)}


def test_the_spring_gap_does_not_end_the_day_early(location, product):
    # Open 01:00–03:30 local: the skipped wall times 02:00–02:50 would lie past closing if read
    # with the winter offset; the starts after the gap must still be offered.
    DeskFactory(location=location, products=[product], weekdays={6: (time(1), time(3, 30))})
    sunday = date(2027, 3, 28)
    HolidayOpeningFactory(location=location, date=sunday)

    walls = [s.astimezone(AMS).strftime("%H:%M") for s in starts([product], sunday)]

    assert walls == ["01:00", "01:10", "01:20", "01:30", "01:40", "01:50", "03:00", "03:10", "03:20"]


def test_a_desk_open_through_the_autumn_repeat(location, product):
    # Open 01:00–04:00 local on the night 02:00–03:00 happens twice: four real hours, but each
    # wall-clock time is offered once (the repeated hour is not offered a second time).
    DeskFactory(location=location, products=[product], weekdays={6: (time(1), time(4))})
    sunday = date(2027, 10, 31)

    found = slots([product], sunday, now=datetime(2027, 10, 1, tzinfo=AMS))

    walls = [s.start.astimezone(AMS).strftime("%H:%M") for s in found]
    assert walls == [f"{h:02}:{m:02}" for h in (1, 2, 3) for m in range(0, 60, 10)]
    assert found[0].start == datetime(2027, 10, 30, 23, 0, tzinfo=UTC)
    assert found[-1].end == datetime(2027, 10, 31, 3, 0, tzinfo=UTC)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


# --- cache --------------------------------------------------------------------------------


def test_a_booking_invalidates_the_cached_availability(desk, product, location, django_capture_on_commit_callbacks):
    assert at(WEDNESDAY, 10) in starts([product], WEDNESDAY, use_cache=True)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=at(WEDNESDAY, 10),
            name="Jan",
            email="j@example.nl",
            now=NOW,
        )

    assert at(WEDNESDAY, 10) not in starts([product], WEDNESDAY, use_cache=True)
    assert at(WEDNESDAY, 10, 10) in starts([product], WEDNESDAY, use_cache=True)
