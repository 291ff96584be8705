"""Every booking write path takes its locks in booking.locks' order (the contact, desks
ascending with each desk's time cells after its row, appointment rows ascending), read off the
SQL it sends to PostgreSQL; and which writes wait for which (a booking shares its desk row and
takes only its own cells; a closure takes the whole desk)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.constants import AppointmentStatus
from booking.services import appointment_book, appointment_cancel, appointment_hold, appointment_reschedule
from booking.staff import services as staff
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory
from tests.locking import assert_lock_order, captured_locks, desk_time

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)  # Monday
WEDNESDAY = date(2027, 3, 3)


def at(hour, minute=0, day=WEDNESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture(autouse=True)
def _booking_settings(settings):
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = 1


@pytest.fixture
def location():
    return LocationFactory(grid_minutes=10)


@pytest.fixture
def product():
    return ProductFactory(minutes_per_person=10, min_notice_minutes=60, booking_horizon_days=30)


@pytest.fixture
def desks(location, product):
    return [DeskFactory(location=location, products=[product]) for _ in range(2)]


def book(product, location, start, email="an@example.nl", **kwargs):
    return appointment_book(
        products=[product], persons=1, location=location, start=start, name="An", email=email, now=NOW, **kwargs
    )


def test_book_takes_the_contact_then_the_desk(desks, product, location):
    book(product, location, at(10), email="eerste@example.nl")  # the first desk is taken at 10:00

    with captured_locks() as locks:
        book(product, location, at(10))

    assert locks == [
        ("contact", "an@example.nl"),
        ("desk shared", desks[1].pk),
        desk_time(desks[1].pk, at(10), at(10, 10)),
    ]
    assert_lock_order(locks)


def test_book_with_a_hold_takes_the_contact_the_desk_then_the_hold(desks, product, location):
    hold = appointment_hold(products=[product], persons=1, location=location, start=at(10), now=NOW)

    with captured_locks() as locks:
        book(product, location, at(10), hold_token=hold.manage_token)

    assert locks == [
        ("contact", "an@example.nl"),
        ("desk shared", hold.desk_id),
        desk_time(hold.desk_id, at(10), at(10, 10)),
        ("appointment", hold.pk),
    ]
    assert_lock_order(locks)


def test_reschedule_takes_the_new_desk_then_the_appointment(desks, product, location):
    appointment = book(product, location, at(10))

    with captured_locks() as locks:
        appointment_reschedule(appointment=appointment, start=at(11), now=NOW)

    assert locks == [
        ("desk shared", desks[0].pk),
        desk_time(desks[0].pk, at(11), at(11, 10)),
        ("appointment", appointment.pk),
    ]
    assert_lock_order(locks)


def test_cancel_takes_the_appointment_only(desks, product, location):
    appointment = book(product, location, at(10))

    with captured_locks() as locks:
        appointment_cancel(appointment=appointment, now=NOW)

    assert locks == [("appointment", appointment.pk)]
    assert_lock_order(locks)


def test_staff_move_takes_the_new_desk_then_the_appointment(desks, product, location):
    appointment = book(product, location, at(10))
    book(product, location, at(11), email="ander@example.nl")  # the first desk is taken at 11:00

    with captured_locks() as locks:
        staff.phone_appointment_reschedule(actor=None, appointment=appointment, start=at(11), now=NOW)

    assert locks == [
        ("desk shared", desks[1].pk),
        desk_time(desks[1].pk, at(11), at(11, 10)),
        ("appointment", appointment.pk),
    ]
    assert_lock_order(locks)


def test_undoing_a_no_show_takes_the_desk_then_the_appointment(desks, product, location):
    appointment = book(product, location, at(10))
    staff.appointment_mark_no_show(appointment=appointment, actor=None, now=at(10, 5))

    with captured_locks() as locks:
        staff.appointment_undo_status(appointment=appointment, actor=None, now=at(10, 6))

    assert locks == [
        ("desk shared", appointment.desk_id),
        desk_time(appointment.desk_id, at(10), at(10, 10)),
        ("appointment", appointment.pk),
    ]
    assert_lock_order(locks)


def test_walk_in_takes_the_desk(desks, product, location):
    with captured_locks() as locks:
        walk_in = staff.walk_in_register(actor=None, location=location, products=[product], now=at(10, 3))

    assert walk_in.status == AppointmentStatus.CHECKED_IN
    assert locks == [("desk shared", walk_in.desk_id), desk_time(walk_in.desk_id, walk_in.start, walk_in.end)]
    assert_lock_order(locks)


def test_closure_takes_the_desks_then_the_appointments_each_ascending(desks, product, location):
    # The appointment with the lower id starts later: the rows are locked by id, not by time.
    later = AppointmentFactory(desk=desks[1], start=at(11), end=at(11, 10), products=[product])
    earlier = AppointmentFactory(desk=desks[0], start=at(10), end=at(10, 10), products=[product])

    with captured_locks() as locks:
        result = staff.closure_create_with_cancellations(
            actor=None, location=location, starts_at=at(9), ends_at=at(12), reason="Storing", now=NOW
        )

    assert {a.pk for a in result.cancelled} == {later.pk, earlier.pk}
    assert locks == [
        ("desk", desks[0].pk),
        ("desk", desks[1].pk),
        ("appointment", later.pk),
        ("appointment", earlier.pk),
    ]
    assert_lock_order(locks)


def test_the_check_fails_on_another_order():
    """The check itself: rows before desks, or desks out of order, are refused."""
    with pytest.raises(AssertionError):
        assert_lock_order([("appointment", 1), ("desk", 2)])
    with pytest.raises(AssertionError):
        assert_lock_order([("desk", 3), ("desk", 2)])
    with pytest.raises(AssertionError):
        assert_lock_order([("desk", 2), ("contact", "an@example.nl")])
    with pytest.raises(AssertionError):  # a desk's cells before its row
        assert_lock_order([("desk time", (2, 10, 11)), ("desk shared", 2)])
    with pytest.raises(AssertionError):  # back to a lower desk's cells
        assert_lock_order([("desk shared", 3), ("desk time", (3, 10, 11)), ("desk time", (2, 12, 13))])
    assert_lock_order([("other:x", ()), ("contact", "a"), ("desk", 2), ("desk", 3), ("appointment", 1)])
    assert_lock_order(
        [("contact", "a"), ("desk shared", 2), ("desk time", (2, 10, 11)), ("desk shared", 3), ("appointment", 1)]
    )


def test_appointments_at_the_same_desk_and_time_are_excluded_by_the_claim_in_step_with_the_constraint(
    desks, product, location
):
    """desk_period_claim refuses exactly what the exclusion constraint would refuse (after it
    clears expired holds): for every status, the claim's answer matches the insert's fate."""
    from django.db import IntegrityError, transaction

    from booking.locks import desk_period_claim
    from booking.models import Appointment

    for status in AppointmentStatus.values:
        for expired in (False, True) if status == AppointmentStatus.HELD else (False,):
            Appointment.objects.all().delete()
            AppointmentFactory(
                desk=desks[0],
                start=at(10),
                end=at(10, 10),
                status=status,
                hold_expires_at=(NOW - timedelta(minutes=1) if expired else NOW + timedelta(minutes=5))
                if status == AppointmentStatus.HELD
                else None,
            )
            with transaction.atomic():
                free = desk_period_claim(desks[0], at(10), at(10, 10), now=NOW)
                try:
                    with transaction.atomic():
                        AppointmentFactory(desk=desks[0], start=at(10), end=at(10, 10))
                    inserted = True
                except IntegrityError:
                    inserted = False
            assert free == inserted, (status, expired)
