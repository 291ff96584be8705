"""The booking write side: hold, book, cancel, reschedule, anti-hoarding, hold expiry.

Every test runs at a fixed ``now`` in 2027 so the outcome does not depend on today's date.
The default desk is open Monday–Friday 09:00–17:00 (Europe/Amsterdam).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.availability import availability_for_products
from booking.constants import REFERENCE_ALPHABET, AppointmentStatus, Channel
from booking.exceptions import (
    HoldExpired,
    HoldMismatch,
    InvalidRequest,
    InvalidStateTransition,
    SlotUnavailable,
    TooManyActiveAppointments,
)
from booking.models import Appointment, OpeningHours
from booking.services import (
    appointment_book,
    appointment_cancel,
    appointment_hold,
    appointment_reschedule,
    holds_purge_expired,
)
from tests.factories import (
    AppointmentFactory,
    DeskFactory,
    HolidayOpeningFactory,
    LocationFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
# Monday 1 March 2027, 08:00 local time.
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)
WEDNESDAY = date(2027, 3, 3)


def at(hour, minute=0, day=WEDNESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture(autouse=True)
def _booking_settings(settings):
    settings.BOOKING_HOLD_MINUTES = 10
    settings.BOOKING_MAX_PERSONS = 6
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = 1


@pytest.fixture
def location():
    return LocationFactory(grid_minutes=10)


@pytest.fixture
def product():
    return ProductFactory(code="uittreksel-brp", minutes_per_person=10, min_notice_minutes=60, booking_horizon_days=30)


@pytest.fixture
def desk(location, product):
    return DeskFactory(location=location, products=[product])


def hold(product, location, start, *, now=NOW, persons=1, products=None, **kwargs):
    return appointment_hold(
        products=products or [product], persons=persons, location=location, start=start, now=now, **kwargs
    )


def book(product, location, start, *, now=NOW, persons=1, products=None, email="jan@example.nl", **kwargs):
    return appointment_book(
        products=products or [product],
        persons=persons,
        location=location,
        start=start,
        name="Jan de Vries",
        email=email,
        now=now,
        **kwargs,
    )


# --- hold ---------------------------------------------------------------------------------


def test_hold_reserves_the_time_for_ten_minutes(desk, product, location):
    held = hold(product, location, at(10))

    row = Appointment.objects.get()
    assert row.pk == held.pk
    assert row.status == AppointmentStatus.HELD
    assert row.desk == desk
    assert (row.start, row.end) == (at(10), at(10, 10))
    assert row.hold_expires_at == NOW + timedelta(minutes=10)
    assert list(row.products.all()) == [product]
    assert row.email == "" and row.booked_at is None


def test_a_live_hold_blocks_another_visitor(desk, product, location):
    hold(product, location, at(10))

    with pytest.raises(SlotUnavailable):
        hold(product, location, at(10), now=NOW + timedelta(minutes=5))
    with pytest.raises(SlotUnavailable):
        book(product, location, at(10), now=NOW + timedelta(minutes=5))

    assert Appointment.objects.count() == 1


def test_hold_with_release_token_moves_the_visitors_hold(desk, product, location):
    first = hold(product, location, at(10))

    second = hold(product, location, at(11), release_hold_token=first.manage_token)

    assert list(Appointment.objects.values_list("pk", "start")) == [(second.pk, at(11))]


def test_hold_outside_opening_hours_is_unavailable(desk, product, location):
    with pytest.raises(SlotUnavailable):
        hold(product, location, at(17))  # the desk closes at 17:00
    with pytest.raises(SlotUnavailable):
        hold(product, location, at(10, day=date(2027, 3, 6)))  # Saturday

    assert not Appointment.objects.exists()


# --- book ---------------------------------------------------------------------------------


def test_book_without_hold_creates_a_booked_appointment(desk, product, location):
    appointment = appointment_book(
        products=[product],
        persons=1,
        location=location,
        start=at(10),
        name="  Jan de Vries ",
        email=" Jan@Example.NL ",
        phone="0612345678",
        channel=Channel.PHONE,
        now=NOW,
    )

    row = Appointment.objects.get()
    assert row.pk == appointment.pk
    assert row.status == AppointmentStatus.BOOKED
    assert row.desk == desk
    assert (row.start, row.end) == (at(10), at(10, 10))
    assert row.hold_expires_at is None
    assert row.booked_at == NOW
    assert row.channel == Channel.PHONE
    assert (row.name, row.email, row.phone) == ("Jan de Vries", "jan@example.nl", "0612345678")
    assert list(row.products.all()) == [product]


def test_book_with_hold_token_confirms_the_hold_and_issues_a_new_token(desk, product, location):
    held = hold(product, location, at(10))

    booked = book(product, location, at(10), hold_token=held.manage_token, now=NOW + timedelta(minutes=5))

    row = Appointment.objects.get()
    assert row.pk == held.pk == booked.pk
    assert row.status == AppointmentStatus.BOOKED
    assert row.hold_expires_at is None
    assert row.booked_at == NOW + timedelta(minutes=5)
    assert row.email == "jan@example.nl"
    # The hold token was handed out before the booking; it must not manage the appointment.
    assert row.manage_token != held.manage_token


@pytest.mark.parametrize(
    ("name", "email", "field"),
    [("", "jan@example.nl", "name"), ("   ", "jan@example.nl", "name"), ("Jan", "", "email")],
)
def test_book_requires_name_and_email(desk, product, location, name, email, field):
    with pytest.raises(InvalidRequest) as excinfo:
        appointment_book(
            products=[product], persons=1, location=location, start=at(10), name=name, email=email, now=NOW
        )

    assert excinfo.value.field == field
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("phone", "message"), [("", "telefoonnummer in"), ("020 123 4567", "mobiel nummer"), ("123", "mobiel nummer")]
)
def test_an_sms_reminder_needs_a_mobile_number(desk, product, location, phone, message):
    with pytest.raises(InvalidRequest) as excinfo:
        book(product, location, at(10), phone=phone, remind_by_sms=True)
    assert excinfo.value.field == "phone" and message in str(excinfo.value.message)
    assert not Appointment.objects.exists()
    assert book(product, location, at(10), phone="06 1234 5678", remind_by_sms=True).remind_by_sms


def test_book_on_a_time_another_visitor_booked_is_unavailable(desk, product, location):
    first = book(product, location, at(10), email="eerste@example.nl")

    with pytest.raises(SlotUnavailable):
        book(product, location, at(10), email="tweede@example.nl")

    assert list(Appointment.objects.values_list("pk", flat=True)) == [first.pk]


def test_book_uses_a_second_desk_when_the_first_is_taken(desk, product, location):
    second_desk = DeskFactory(location=location, products=[product])

    first = book(product, location, at(10), email="eerste@example.nl")
    second = book(product, location, at(10), email="tweede@example.nl")

    assert {first.desk_id, second.desk_id} == {desk.pk, second_desk.pk}
    with pytest.raises(SlotUnavailable):
        book(product, location, at(10), email="derde@example.nl")
    assert Appointment.objects.count() == 2


# --- references and tokens ----------------------------------------------------------------


def test_references_are_short_and_readable_and_tokens_unguessable_and_unique(desk, product, location):
    products = [ProductFactory(minutes_per_person=10, min_notice_minutes=0) for _ in range(12)]
    desk.products.add(*products)
    for i, extra in enumerate(products):
        book(extra, location, at(9, 0) + timedelta(minutes=10 * i), email=f"inwoner{i}@example.nl")
    held = hold(product, location, at(15))

    rows = list(Appointment.objects.all())
    assert len(rows) == 13
    for row in rows:
        assert len(row.reference) == 8
        assert set(row.reference) <= set(REFERENCE_ALPHABET)
        assert not set(row.reference) & set("01IO")  # easily confused when read aloud
        # secrets.token_urlsafe(24): 24 random bytes = 192 bits, 32 URL-safe characters.
        assert len(row.manage_token) == 32
        assert set(row.manage_token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len({r.reference for r in rows}) == 13
    assert len({r.manage_token for r in rows}) == 13
    assert held.manage_token in {r.manage_token for r in rows}


# --- cancel -------------------------------------------------------------------------------


def test_cancel_marks_cancelled_and_frees_the_time(desk, product, location):
    appointment = book(product, location, at(10))

    appointment_cancel(appointment=appointment, now=NOW + timedelta(hours=1))

    row = Appointment.objects.get(pk=appointment.pk)
    assert row.status == AppointmentStatus.CANCELLED
    assert row.cancelled_at == NOW + timedelta(hours=1)
    # The desk is free again for someone else.
    other = book(product, location, at(10), email="ander@example.nl", now=NOW + timedelta(hours=2))
    assert other.desk_id == desk.pk


def test_cancel_twice_is_harmless(desk, product, location):
    appointment = book(product, location, at(10))
    appointment_cancel(appointment=appointment, now=NOW + timedelta(hours=1))

    again = appointment_cancel(appointment=appointment, now=NOW + timedelta(hours=2))

    row = Appointment.objects.get(pk=appointment.pk)
    assert again.status == row.status == AppointmentStatus.CANCELLED
    assert row.cancelled_at == NOW + timedelta(hours=1)  # the first cancellation stands


@pytest.mark.parametrize("minutes_after_start", [0, 5, 60 * 24])
def test_cannot_cancel_once_the_appointment_has_started(desk, product, location, minutes_after_start):
    appointment = book(product, location, at(10))

    with pytest.raises(InvalidStateTransition):
        appointment_cancel(appointment=appointment, now=at(10) + timedelta(minutes=minutes_after_start))

    row = Appointment.objects.get(pk=appointment.pk)
    assert row.status == AppointmentStatus.BOOKED
    assert row.cancelled_at is None


def test_can_cancel_one_minute_before_start(desk, product, location):
    appointment = book(product, location, at(10))

    appointment_cancel(appointment=appointment, now=at(9, 59))

    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize("status", [AppointmentStatus.CHECKED_IN, AppointmentStatus.SERVED, AppointmentStatus.NO_SHOW])
def test_cannot_cancel_a_visit_handled_at_the_desk(desk, product, status):
    appointment = AppointmentFactory(desk=desk, start=at(10), end=at(10, 10), status=status, products=[product])

    with pytest.raises(InvalidStateTransition):
        appointment_cancel(appointment=appointment, now=NOW)

    assert Appointment.objects.get(pk=appointment.pk).status == status


# --- reschedule ---------------------------------------------------------------------------


def test_reschedule_moves_the_appointment_and_frees_the_old_time(desk, product, location):
    appointment = book(product, location, at(10))

    moved = appointment_reschedule(appointment=appointment, start=at(14, 30), now=NOW)

    row = Appointment.objects.get()
    assert row.pk == moved.pk == appointment.pk
    assert (row.start, row.end) == (at(14, 30), at(14, 40))
    assert row.reference == appointment.reference
    assert row.manage_token == appointment.manage_token
    assert row.status == AppointmentStatus.BOOKED
    other = book(product, location, at(10), email="ander@example.nl")
    assert other.desk_id == desk.pk


def test_reschedule_into_a_period_overlapping_its_own_old_period(desk, product, location):
    # A 30-minute visit moved ten minutes later overlaps itself; on the only desk that is fine.
    long_product = ProductFactory(minutes_per_person=30, min_notice_minutes=0)
    desk.products.add(long_product)
    appointment = book(long_product, location, at(10))

    appointment_reschedule(appointment=appointment, start=at(10, 10), now=NOW)

    row = Appointment.objects.get()
    assert (row.desk_id, row.start, row.end) == (desk.pk, at(10, 10), at(10, 40))


def test_reschedule_to_a_taken_time_changes_nothing(desk, product, location):
    # Given two desks, both taken at 11:00, and our appointment at 10:00
    second_desk = DeskFactory(location=location, products=[product])
    appointment = book(product, location, at(10))
    book(product, location, at(11), email="a@example.nl")
    book(product, location, at(11), email="b@example.nl")
    before = Appointment.objects.get(pk=appointment.pk)

    # When it is moved to 11:00
    with pytest.raises(SlotUnavailable) as excinfo:
        appointment_reschedule(appointment=appointment, start=at(11), now=NOW)

    # Then the row still holds its old desk and period
    row = Appointment.objects.get(pk=appointment.pk)
    assert (row.desk_id, row.start, row.end, row.status) == (before.desk_id, at(10), at(10, 10), "booked")
    assert row.updated_at == before.updated_at
    assert Appointment.objects.filter(start=at(11)).count() == 2
    assert {a.desk_id for a in Appointment.objects.filter(start=at(11))} == {desk.pk, second_desk.pk}
    assert excinfo.value.alternatives, "a conflict offers the nearest free times"


def test_reschedule_a_cancelled_appointment_is_refused(desk, product, location):
    appointment = book(product, location, at(10))
    appointment_cancel(appointment=appointment, now=NOW)

    with pytest.raises(InvalidStateTransition):
        appointment_reschedule(appointment=appointment, start=at(11), now=NOW)

    row = Appointment.objects.get(pk=appointment.pk)
    assert (row.start, row.status) == (at(10), AppointmentStatus.CANCELLED)


def test_reschedule_after_start_is_refused(desk, product, location):
    appointment = book(product, location, at(10))

    with pytest.raises(InvalidStateTransition):
        # The new time is valid (notice, grid, horizon); only the old one has begun.
        appointment_reschedule(appointment=appointment, start=at(14, day=date(2027, 3, 4)), now=at(10, 5))

    assert Appointment.objects.get(pk=appointment.pk).start == at(10)


# --- anti-hoarding ------------------------------------------------------------------------


def test_second_active_appointment_for_same_email_and_product_is_refused(desk, product, location):
    book(product, location, at(10), email="jan@example.nl")

    with pytest.raises(TooManyActiveAppointments) as excinfo:
        book(product, location, at(11), email="  JAN@example.nl ")

    assert excinfo.value.field == "email"
    assert Appointment.objects.count() == 1


def test_anti_hoarding_applies_when_confirming_a_hold(desk, product, location):
    book(product, location, at(10), email="jan@example.nl")
    held = hold(product, location, at(11))

    with pytest.raises(TooManyActiveAppointments):
        book(product, location, at(11), email="jan@example.nl", hold_token=held.manage_token)

    assert Appointment.objects.get(pk=held.pk).status == AppointmentStatus.HELD


def test_same_email_for_a_different_product_is_allowed(desk, product, location):
    other_product = ProductFactory(code="rijbewijs", minutes_per_person=10, min_notice_minutes=0)
    desk.products.add(other_product)
    book(product, location, at(10), email="jan@example.nl")

    book(other_product, location, at(11), email="jan@example.nl")

    assert Appointment.objects.filter(email="jan@example.nl", status=AppointmentStatus.BOOKED).count() == 2


def test_a_request_for_two_products_is_refused_for_the_one_already_booked(desk, product, location, settings):
    other_product = ProductFactory(code="rijbewijs", minutes_per_person=10, min_notice_minutes=0)
    desk.products.add(other_product)
    book(other_product, location, at(10), email="jan@example.nl")

    with pytest.raises(TooManyActiveAppointments) as excinfo:
        book(product, location, at(11), email="Jan@Example.nl", products=[product, other_product])
    assert (excinfo.value.field, excinfo.value.extra["product"]) == ("email", "rijbewijs")

    settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = 2  # the limit is the setting's
    book(product, location, at(11), email="jan@example.nl", products=[product, other_product])
    with pytest.raises(TooManyActiveAppointments) as excinfo:
        book(product, location, at(12), email="jan@example.nl", products=[product, other_product])
    assert excinfo.value.extra["product"] == "rijbewijs"
    assert Appointment.objects.filter(email_key="jan@example.nl").count() == 2


def test_after_cancelling_the_same_email_may_book_again(desk, product, location):
    first = book(product, location, at(10), email="jan@example.nl")
    appointment_cancel(appointment=first, now=NOW)

    second = book(product, location, at(11), email="jan@example.nl")

    assert Appointment.objects.get(pk=second.pk).status == AppointmentStatus.BOOKED


def test_a_past_appointment_does_not_count_towards_the_limit(desk, product, location):
    last_week = date(2027, 2, 24)
    AppointmentFactory(
        desk=desk,
        start=at(10, day=last_week),
        end=at(10, 10, day=last_week),
        email="jan@example.nl",
        products=[product],
    )

    book(product, location, at(10), email="jan@example.nl")

    assert Appointment.objects.filter(email="jan@example.nl").count() == 2


# --- validation ---------------------------------------------------------------------------


@pytest.fixture(params=["hold", "book"])
def take(request):
    """Both ways of taking a time validate the request the same way."""
    return hold if request.param == "hold" else book


@pytest.mark.parametrize("persons", [0, -1, 7])
def test_persons_out_of_range(take, desk, product, location, persons):
    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, at(10), persons=persons)

    assert excinfo.value.field == "persons"
    assert not Appointment.objects.exists()


def test_six_persons_is_the_maximum_allowed(take, desk, product, location):
    appointment = take(product, location, at(10), persons=6)

    assert Appointment.objects.get().end - appointment.start == timedelta(minutes=60)


def test_naive_start_is_refused(take, desk, product, location):
    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, datetime(2027, 3, 3, 10, 0))

    assert excinfo.value.field == "start"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("start", [at(10, 5), at(10, 0).replace(second=30), at(10, 0).replace(microsecond=1)])
def test_off_grid_start_is_refused(take, desk, product, location, start):
    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, start)

    assert excinfo.value.field == "start"
    assert not Appointment.objects.exists()


def test_grid_is_checked_in_local_time(take, product):
    # A 45-minute grid tells local and UTC apart: 09:45 local (08:45Z) is on the local grid,
    # 09:15 local (08:15Z, 495 minutes into the UTC day) only on a UTC one.
    location = LocationFactory(grid_minutes=45)
    DeskFactory(location=location, products=[product])

    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, at(9, 15).astimezone(ZoneInfo("UTC")))
    assert excinfo.value.field == "start"

    take(product, location, at(9, 45).astimezone(ZoneInfo("UTC")))
    assert Appointment.objects.get().start == at(9, 45)


def test_start_before_minimum_notice_is_refused(take, desk, product, location):
    now = at(8, 30)

    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, at(9, 20), now=now)  # 50 minutes, the product needs 60

    assert excinfo.value.field == "start"
    assert not Appointment.objects.exists()
    take(product, location, at(9, 30), now=now)  # exactly 60 minutes is enough
    assert Appointment.objects.get().start == at(9, 30)


def test_start_in_the_past_is_refused(take, desk, product, location):
    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, at(10), now=at(12))

    assert excinfo.value.field == "start"


def test_start_beyond_the_booking_horizon_is_refused(take, desk, product, location):
    # The product's horizon is 30 days: from Monday 1 March up to and including Wednesday 31 March.
    with pytest.raises(InvalidRequest) as excinfo:
        take(product, location, at(10, day=date(2027, 4, 1)))

    assert excinfo.value.field == "start"
    assert not Appointment.objects.exists()
    take(product, location, at(10, day=date(2027, 3, 31)))
    assert Appointment.objects.get().start == at(10, day=date(2027, 3, 31))


def test_no_products_is_refused(desk, location):
    with pytest.raises(InvalidRequest) as excinfo:
        appointment_hold(products=[], persons=1, location=location, start=at(10), now=NOW)
    assert excinfo.value.field == "products"

    with pytest.raises(InvalidRequest) as excinfo:
        appointment_book(
            products=[], persons=1, location=location, start=at(10), name="Jan", email="j@example.nl", now=NOW
        )
    assert excinfo.value.field == "products"

    assert not Appointment.objects.exists()


# --- several products and persons ---------------------------------------------------------


def test_multi_product_multi_person_appointment_blocks_its_whole_period(location):
    # Given a passport (15 min, 5 min buffer) and ID card (10 min, 10 min buffer) desk
    paspoort = ProductFactory(code="paspoort", minutes_per_person=15, buffer_minutes=5, min_notice_minutes=0)
    id_kaart = ProductFactory(code="id-kaart", minutes_per_person=10, buffer_minutes=10, min_notice_minutes=0)
    desk = DeskFactory(location=location, products=[paspoort, id_kaart])

    # When three persons book both products at 10:00
    appointment = appointment_book(
        products=[paspoort, id_kaart],
        persons=3,
        location=location,
        start=at(10),
        name="Fam. Jansen",
        email="jansen@example.nl",
        now=NOW,
    )

    # Then it lasts 3 × (15 + 10) + max(5, 10) = 85 minutes
    row = Appointment.objects.get()
    assert row.pk == appointment.pk
    assert (row.desk_id, row.start, row.end, row.persons) == (desk.pk, at(10), at(11, 25), 3)
    assert set(row.products.all()) == {paspoort, id_kaart}
    # and nobody else can start anywhere in it
    offered = {
        s.start
        for s in availability_for_products(
            products=[id_kaart], persons=1, date_from=WEDNESDAY, date_to=WEDNESDAY, now=NOW, use_cache=False
        )
    }
    # (an ID card alone takes 10 + 10 buffer = 20 minutes)
    assert at(9, 40) in offered  # ends at 10:00 exactly
    assert not {at(9, 50) + timedelta(minutes=m) for m in range(0, 100, 10)} & offered  # 09:50 ... 11:20
    assert at(11, 30) in offered
    with pytest.raises(SlotUnavailable):
        book(id_kaart, location, at(11, 20), email="ander@example.nl")
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("day", "start_clock", "minutes", "now"),
    [
        # Spring: 01:50 CET + 70 real minutes = 04:00 CEST (the clock skips 02:00–03:00).
        (date(2027, 3, 28), time(1, 50), 70, NOW),
        # Autumn: 02:30 CEST (the first 02:30) + 60 real minutes = 02:30 CET (the second one).
        (date(2027, 10, 31), time(2, 30), 60, datetime(2027, 10, 1, 8, tzinfo=AMS)),
    ],
)
def test_appointment_length_is_real_time_across_a_clock_change(location, day, start_clock, minutes, now):
    product = ProductFactory(minutes_per_person=minutes, min_notice_minutes=0)
    short = ProductFactory(minutes_per_person=10, min_notice_minutes=0)
    DeskFactory(location=location, products=[product, short], weekdays={6: (time(0), time(6))})
    HolidayOpeningFactory(location=location, date=day)  # 28 March 2027 is Easter Sunday
    start = datetime.combine(day, start_clock, tzinfo=AMS)  # a local time, as a form delivers it

    book(product, location, start, now=now)

    row = Appointment.objects.get()
    assert row.start == start.astimezone(UTC)  # (PEP 495: a time in the repeated hour never equals another zone's)
    assert row.end - row.start == timedelta(minutes=minutes)
    offered = availability_for_products(
        products=[short], persons=1, date_from=day, date_to=day, now=now, use_cache=False
    )
    assert not [s.start for s in offered if s.start < row.end and row.start < s.end]


# --- conflicts carry alternatives ---------------------------------------------------------


def test_slot_unavailable_offers_the_three_nearest_free_times(desk, product, location):
    book(product, location, at(10), email="eerste@example.nl")

    with pytest.raises(SlotUnavailable) as excinfo:
        book(product, location, at(10), email="tweede@example.nl")

    alternatives = [a.start for a in excinfo.value.alternatives]
    assert len(alternatives) == 3
    assert alternatives == sorted(alternatives)
    assert at(10) not in alternatives
    # 09:50 and 10:10 are ten minutes away; the third is twenty minutes away.
    assert {at(9, 50), at(10, 10)} <= set(alternatives)
    assert set(alternatives) - {at(9, 50), at(10, 10)} <= {at(9, 40), at(10, 20)}
    assert Appointment.objects.count() == 1


def test_alternatives_are_at_most_three_and_only_free_times(location, product):
    # A desk open only on one Wednesday morning from 09:00 to 09:30: three slots in all.
    desk = DeskFactory(location=location, products=[product], weekdays={})
    OpeningHours.objects.create(
        desk=desk, weekday=2, opens=time(9), closes=time(9, 30), valid_from=WEDNESDAY, valid_until=WEDNESDAY
    )
    book(product, location, at(9), email="a@example.nl")
    book(product, location, at(9, 10), email="b@example.nl")

    with pytest.raises(SlotUnavailable) as excinfo:
        book(product, location, at(9), email="c@example.nl")

    assert [a.start for a in excinfo.value.alternatives] == [at(9, 20)]


def test_no_free_time_at_all_gives_no_alternatives(location, product):
    desk = DeskFactory(location=location, products=[product], weekdays={})
    OpeningHours.objects.create(
        desk=desk, weekday=2, opens=time(9), closes=time(9, 10), valid_from=WEDNESDAY, valid_until=WEDNESDAY
    )
    book(product, location, at(9), email="a@example.nl")

    with pytest.raises(SlotUnavailable) as excinfo:
        hold(product, location, at(9))

    assert excinfo.value.alternatives == []


# --- hold expiry --------------------------------------------------------------------------


def test_an_expired_hold_stops_blocking_at_once(desk, product, location):
    first = hold(product, location, at(10))
    expiry = first.hold_expires_at

    # One second before expiry it still blocks ...
    with pytest.raises(SlotUnavailable):
        hold(product, location, at(10), now=expiry - timedelta(seconds=1))
    # ... at expiry another visitor can take the time, without any cleanup job having run.
    second = hold(product, location, at(10), now=expiry)

    rows = list(Appointment.objects.all())
    assert [r.pk for r in rows] == [second.pk]
    assert rows[0].hold_expires_at == expiry + timedelta(minutes=10)


def test_another_visitor_can_book_over_an_expired_hold(desk, product, location):
    first = hold(product, location, at(10))

    booked = book(product, location, at(10), email="ander@example.nl", now=first.hold_expires_at + timedelta(minutes=1))

    assert list(Appointment.objects.values_list("pk", "status")) == [(booked.pk, AppointmentStatus.BOOKED)]


def test_booking_with_an_expired_hold_whose_time_is_still_free_succeeds(desk, product, location):
    held = hold(product, location, at(10))

    booked = book(
        product, location, at(10), hold_token=held.manage_token, now=held.hold_expires_at + timedelta(hours=1)
    )

    row = Appointment.objects.get()
    assert row.pk == booked.pk
    assert (row.status, row.start, row.desk_id) == (AppointmentStatus.BOOKED, at(10), desk.pk)
    assert row.manage_token != held.manage_token
    assert not Appointment.objects.filter(status=AppointmentStatus.HELD).exists()


def test_booking_with_an_expired_hold_whose_time_was_taken_raises_hold_expired(desk, product, location):
    held = hold(product, location, at(10))
    later = held.hold_expires_at + timedelta(minutes=1)
    other = book(product, location, at(10), email="ander@example.nl", now=later)

    with pytest.raises(HoldExpired) as excinfo:
        book(product, location, at(10), hold_token=held.manage_token, now=later + timedelta(minutes=1))

    assert excinfo.value.alternatives
    assert list(Appointment.objects.values_list("pk", "email", "status")) == [
        (other.pk, "ander@example.nl", AppointmentStatus.BOOKED)
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"start": at(10, 30)},
        {"persons": 2},
        {"other_product": True},
        {"other_location": True},
    ],
)
def test_hold_token_for_a_different_request_is_a_mismatch(desk, product, location, change):
    held = hold(product, location, at(10))
    kwargs = {"start": at(10), "persons": 1, "products": [product], "location": location}
    if "start" in change:
        kwargs["start"] = change["start"]
    if "persons" in change:
        kwargs["persons"] = change["persons"]
    if "other_product" in change:
        other = ProductFactory(minutes_per_person=10, min_notice_minutes=0)
        desk.products.add(other)
        kwargs["products"] = [other]
    if "other_location" in change:
        kwargs["location"] = LocationFactory()
        DeskFactory(location=kwargs["location"], products=[product])

    with pytest.raises(HoldMismatch) as excinfo:
        appointment_book(name="Jan", email="jan@example.nl", hold_token=held.manage_token, now=NOW, **kwargs)

    assert excinfo.value.field == "hold_token"
    row = Appointment.objects.get()
    assert (row.pk, row.status, row.email) == (held.pk, AppointmentStatus.HELD, "")


def test_holds_purge_expired_deletes_only_expired_holds(desk, product):
    def appointment(minute, **kwargs):
        return AppointmentFactory(
            desk=desk, start=at(10, minute), end=at(10, minute + 10), products=[product], **kwargs
        )

    expired = appointment(0, held=True, hold_expires_at=NOW - timedelta(minutes=1))
    expired_exactly_now = appointment(10, held=True, hold_expires_at=NOW)
    live = appointment(20, held=True, hold_expires_at=NOW + timedelta(seconds=1))
    booked = appointment(30)
    cancelled = appointment(40, cancelled=True)

    deleted = holds_purge_expired(now=NOW)

    assert deleted == 2  # holds, not the rows of the products through-table
    assert not Appointment.objects.filter(pk__in=[expired.pk, expired_exactly_now.pk]).exists()
    assert set(Appointment.objects.values_list("pk", flat=True)) == {live.pk, booked.pk, cancelled.pk}
    assert holds_purge_expired(now=NOW) == 0


# --- audit trail ---------------------------------------------------------------------------


def test_booking_moving_and_cancelling_leave_an_audit_trail_without_contact_data(
    desk, product, location, django_user_model
):
    agent = django_user_model.objects.create_user("kcc-agent")
    appointment = book(product, location, at(10), channel=Channel.PHONE, actor=agent)

    appointment_reschedule(appointment=appointment, start=at(11), now=NOW, channel=Channel.ONLINE)
    appointment_cancel(appointment=appointment, now=NOW, actor=agent, channel=Channel.PHONE)

    events = list(appointment.events.order_by("pk").values_list("action", "actor__username", "channel", "changes"))
    assert [(action, actor, channel) for action, actor, channel, _changes in events] == [
        ("booked", "kcc-agent", "phone"),
        ("rescheduled", None, "online"),
        ("cancelled", "kcc-agent", "phone"),
    ]
    assert events[1][3]["start"] == [at(10).isoformat(), at(11).isoformat()]
    assert "jan@example.nl" not in str(events)
