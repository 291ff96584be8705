"""appointment_book_held_time: a held time booked in place of someone's appointment, in one
transaction (the waiting list's accept uses it)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.constants import AppointmentStatus, CancelReason
from booking.exceptions import SlotUnavailable, TooManyActiveAppointments
from booking.models import Appointment, AppointmentEvent
from booking.services import appointment_book, appointment_book_held_time, appointment_hold
from tests.factories import ClosureFactory, DeskFactory, LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)  # Monday
WEDNESDAY = date(2027, 3, 3)


def at(hour, minute=0, day=WEDNESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture(autouse=True)
def _booking_settings(settings):
    settings.BOOKING_HOLD_MINUTES = 10
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = 1


@pytest.fixture
def location():
    return LocationFactory(grid_minutes=10)


@pytest.fixture
def product():
    return ProductFactory(minutes_per_person=10, min_notice_minutes=60, booking_horizon_days=30)


@pytest.fixture
def desk(location, product):
    return DeskFactory(location=location, products=[product])


def held(product, location, start, persons=1, **kwargs):
    return appointment_hold(products=[product], persons=persons, location=location, start=start, now=NOW, **kwargs)


def book_held(hold, product, *, persons=1, replaces=None, now=NOW, email="an@example.nl"):
    return appointment_book_held_time(
        hold_token=hold.manage_token,
        products=[product],
        persons=persons,
        name="An Jansen",
        email=email,
        replaces=replaces,
        now=now,
    )


def test_the_held_time_becomes_the_booking_and_the_old_appointment_is_cancelled(desk, product, location):
    old = appointment_book(
        products=[product], persons=1, location=location, start=at(15), name="An", email="an@example.nl", now=NOW
    )
    hold = held(product, location, at(10))

    appointment = book_held(hold, product, replaces=old)

    assert appointment.pk == hold.pk  # the hold itself became the booking
    row = Appointment.objects.get(pk=appointment.pk)
    assert (row.status, row.start, row.email, row.hold_expires_at) == (
        AppointmentStatus.BOOKED,
        at(10),
        "an@example.nl",
        None,
    )
    assert row.manage_token != hold.manage_token
    old.refresh_from_db()
    assert old.status == AppointmentStatus.CANCELLED
    cancelled = AppointmentEvent.objects.get(appointment=old, action="cancelled")
    assert cancelled.changes["cancel_reason"] == ["", CancelReason.MOVED_EARLIER]


def test_a_hold_for_another_request_is_replaced_by_a_booking_for_this_one(desk, product, location):
    hold = held(product, location, at(10), persons=2)  # 20 minutes

    appointment = book_held(hold, product, persons=1)

    assert appointment.pk != hold.pk
    assert not Appointment.objects.filter(pk=hold.pk).exists()
    row = Appointment.objects.get(pk=appointment.pk)
    assert (row.status, row.persons, row.start, row.end) == (AppointmentStatus.BOOKED, 1, at(10), at(10, 10))


def test_an_expired_hold_still_books_the_time_when_nobody_took_it(desk, product, location):
    hold = held(product, location, at(10))

    appointment = book_held(hold, product, now=hold.hold_expires_at + timedelta(minutes=1))

    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.filter(status=AppointmentStatus.HELD).count() == 0


def test_a_closure_since_the_hold_means_nothing_changes(desk, product, location):
    old = appointment_book(
        products=[product], persons=1, location=location, start=at(15), name="An", email="an@example.nl", now=NOW
    )
    hold = held(product, location, at(10))
    ClosureFactory(location=location, starts_at=at(9), ends_at=at(12))

    with pytest.raises(SlotUnavailable):
        book_held(hold, product, replaces=old)

    old.refresh_from_db()
    assert old.status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=hold.pk).status == AppointmentStatus.HELD


def test_a_hold_gone_is_slot_unavailable(desk, product, location):
    hold = held(product, location, at(10))
    Appointment.objects.filter(pk=hold.pk).delete()

    with pytest.raises(SlotUnavailable):
        book_held(hold, product)


def test_the_limit_still_applies_to_other_appointments_and_then_nothing_changes(desk, product, location):
    other = appointment_book(
        products=[product], persons=1, location=location, start=at(15), name="An", email="an@example.nl", now=NOW
    )
    hold = held(product, location, at(10))

    with pytest.raises(TooManyActiveAppointments):
        book_held(hold, product)  # replaces nothing: the other appointment counts

    assert Appointment.objects.get(pk=other.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=hold.pk).status == AppointmentStatus.HELD
