"""Cached availability: a booking, cancellation or hold makes only its own day stale; a range
is rebuilt from per-day parts, so after a booking one day is computed again (one query), and
schedule changes still reach every answer.

The after-commit invalidation runs through ``django_capture_on_commit_callbacks``.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking.availability import availability_for_products, availability_versions, invalidate_availability
from booking.services import appointment_book, appointment_cancel, appointment_hold
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)  # Monday
MONDAY = date(2027, 3, 1)
WEDNESDAY = date(2027, 3, 3)
FRIDAY = date(2027, 3, 5)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def starts(product, date_from, date_to, location=None):
    return [
        s.start
        for s in availability_for_products(
            products=[product],
            persons=1,
            date_from=date_from,
            date_to=date_to,
            location_id=location.pk if location else None,
            now=NOW,
        )
    ]


def book(product, location, start, captured):
    with captured(execute=True):
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=start,
            name="Jan",
            email=f"jan-{start:%d%H%M}@example.nl",
            now=NOW,
        )


def test_a_booking_makes_only_its_own_day_stale(desk, product, location, django_capture_on_commit_callbacks):
    before = availability_versions(location.pk, [WEDNESDAY, FRIDAY])
    everywhere = availability_versions(None, [WEDNESDAY, FRIDAY])

    book(product, location, at(WEDNESDAY, 10), django_capture_on_commit_callbacks)

    after = availability_versions(location.pk, [WEDNESDAY, FRIDAY])
    assert after[:2] == before[:2]  # the schedule's and the location's versions stand
    assert after[2] != before[2]  # Wednesday
    assert after[3] == before[3]  # Friday
    after_everywhere = availability_versions(None, [WEDNESDAY, FRIDAY])
    assert after_everywhere[2] != everywhere[2]
    assert after_everywhere[3] == everywhere[3]


def test_after_a_booking_a_week_is_rebuilt_by_computing_one_day(
    desk, product, location, django_capture_on_commit_callbacks, django_assert_num_queries
):
    assert at(WEDNESDAY, 10) in starts(product, MONDAY, FRIDAY, location)
    assert at(WEDNESDAY, 10) in starts(product, MONDAY, FRIDAY)
    with django_assert_num_queries(0):
        starts(product, MONDAY, FRIDAY, location)
        starts(product, MONDAY, FRIDAY)

    book(product, location, at(WEDNESDAY, 10), django_capture_on_commit_callbacks)

    with django_assert_num_queries(1):  # Wednesday's appointments: the rest and the schedule are cached
        found = starts(product, MONDAY, FRIDAY, location)
    assert at(WEDNESDAY, 10) not in found
    assert at(WEDNESDAY, 10, 10) in found
    assert at(FRIDAY, 10) in found
    with django_assert_num_queries(1):  # over all locations: also just Wednesday
        assert at(WEDNESDAY, 10) not in starts(product, MONDAY, FRIDAY)


def test_a_cancellation_offers_the_time_again_at_once(desk, product, location, django_capture_on_commit_callbacks):
    appointment = book(product, location, at(FRIDAY, 11), django_capture_on_commit_callbacks)
    assert at(FRIDAY, 11) not in starts(product, MONDAY, FRIDAY, location)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, now=NOW)

    assert at(FRIDAY, 11) in starts(product, MONDAY, FRIDAY, location)


def test_moving_a_hold_offers_the_released_time_again(desk, product, location, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hold = appointment_hold(products=[product], persons=1, location=location, start=at(WEDNESDAY, 9), now=NOW)
    assert at(WEDNESDAY, 9) not in starts(product, MONDAY, FRIDAY, location)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_hold(
            products=[product],
            persons=1,
            location=location,
            start=at(FRIDAY, 9),
            release_hold_token=hold.manage_token,
            now=NOW,
        )

    found = starts(product, MONDAY, FRIDAY, location)
    assert at(WEDNESDAY, 9) in found
    assert at(FRIDAY, 9) not in found


def test_a_schedule_change_still_reaches_every_cached_day(desk, product, location):
    assert at(FRIDAY, 16, 50) in starts(product, MONDAY, FRIDAY, location)
    desk.opening_hours.filter(weekday=4).update(closes=time(12))

    assert at(FRIDAY, 16, 50) in starts(product, MONDAY, FRIDAY, location)  # cached, as before
    invalidate_availability(location.pk)  # what the planning services do after commit

    found = starts(product, MONDAY, FRIDAY, location)
    assert at(FRIDAY, 16, 50) not in found
    assert at(FRIDAY, 11, 50) in found
    assert at(WEDNESDAY, 16, 50) in found


def test_the_parts_of_one_query_do_not_answer_another(desk, product, location):
    short = starts(product, WEDNESDAY, WEDNESDAY, location)
    longer = ProductFactory(minutes_per_person=30, min_notice_minutes=0, booking_horizon_days=120)
    desk.products.add(longer)
    invalidate_availability()  # what the planning services do after a change of skills

    assert starts(longer, WEDNESDAY, WEDNESDAY, location)[-1] == at(WEDNESDAY, 16, 30)
    assert short[-1] == at(WEDNESDAY, 16, 50)
    assert starts(product, MONDAY, FRIDAY, location)[: len(short) * 2] != short
    assert [s for s in starts(product, MONDAY, FRIDAY, location) if s.astimezone(AMS).date() == WEDNESDAY] == short
