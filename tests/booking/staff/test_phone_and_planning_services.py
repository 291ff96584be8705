"""Bookings by phone, closures with mass cancellation, holidays, opening hours, desk products
and product prices."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from booking.availability import availability_for_products
from booking.constants import AppointmentAction, AppointmentStatus, Channel
from booking.exceptions import AffectedAppointmentsChanged, InvalidRequest, ScheduleConflict
from booking.models import AppointmentEvent, Closure, HolidayOpening, OpeningHours
from booking.staff import services
from tests.factories import AppointmentFactory, DeskFactory

from .conftest import NOW, WEDNESDAY, at

pytestmark = pytest.mark.django_db


def slots(product, location, day=WEDNESDAY, now=NOW):
    return {
        s.start
        for s in availability_for_products(
            products=[product], persons=1, location_id=location.pk, date_from=day, date_to=day, now=now, use_cache=False
        )
    }


# --- phone ----------------------------------------------------------------------------------


def test_phone_booking_has_channel_phone_an_audit_event_and_a_confirmation(
    desk, product, location, phone_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.phone_appointment_book(
            actor=phone_user,
            products=[product],
            persons=1,
            location=location,
            start=at(14),
            name="Jan Jansen",
            email="jan@example.nl",
            language="en",
            now=NOW,
        )

    assert appointment.channel == Channel.PHONE
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.language == "en"
    booked = AppointmentEvent.objects.get(appointment=appointment, action=AppointmentAction.BOOKED)
    assert booked.actor == phone_user
    assert [m.to for m in mail.outbox] == [["jan@example.nl"]]


def test_phone_move_and_cancel_are_recorded_with_the_agent(desk, product, location, phone_user):
    appointment = AppointmentFactory(desk=desk, start=at(11), end=at(11, 15), products=[product])

    moved = services.phone_appointment_reschedule(actor=phone_user, appointment=appointment, start=at(15), now=NOW)
    assert (moved.start, moved.channel) == (at(15), Channel.ONLINE)  # the booking's channel stays
    services.phone_appointment_cancel(actor=phone_user, appointment=moved, now=NOW)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    actions = list(
        AppointmentEvent.objects.filter(appointment=appointment).values_list("action", "actor__username", "channel")
    )
    assert actions == [
        (AppointmentAction.RESCHEDULED, "kcc", Channel.PHONE),
        (AppointmentAction.CANCELLED, "kcc", Channel.PHONE),
    ]


# --- closures -------------------------------------------------------------------------------


@pytest.fixture
def day_of_appointments(desk, product, location):
    second = DeskFactory(location=location, name="Balie 2", products=[product])
    return {
        "morning": AppointmentFactory(desk=desk, start=at(11), end=at(11, 15), products=[product], language="en"),
        "afternoon": AppointmentFactory(desk=second, start=at(14), end=at(14, 15), products=[product]),
        "checked_in": AppointmentFactory(
            desk=desk, start=at(10, 30), end=at(10, 45), products=[product], status=AppointmentStatus.CHECKED_IN
        ),
        "outside": AppointmentFactory(desk=desk, start=at(16, 30), end=at(16, 45), products=[product]),
        "cancelled": AppointmentFactory(desk=desk, start=at(12), end=at(12, 15), products=[product], cancelled=True),
    }


def test_a_closure_cancels_and_notifies_in_one_action(
    day_of_appointments, location, product, planner_user, django_capture_on_commit_callbacks
):
    a = day_of_appointments
    assert at(11, 30) in slots(product, location)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.closure_create_with_cancellations(
            actor=planner_user,
            location=location,
            starts_at=at(10),
            ends_at=at(16),
            reason="Storing in het reisdocumentensysteem",
            expected_appointment_ids=[a["morning"].pk, a["afternoon"].pk, a["checked_in"].pk],
            now=NOW,
        )

    assert {x.pk for x in result.cancelled} == {a["morning"].pk, a["afternoon"].pk}
    assert [x.pk for x in result.kept] == [a["checked_in"].pk]
    for key, status in [
        ("morning", AppointmentStatus.CANCELLED),
        ("afternoon", AppointmentStatus.CANCELLED),
        ("checked_in", AppointmentStatus.CHECKED_IN),
        ("outside", AppointmentStatus.BOOKED),
    ]:
        a[key].refresh_from_db()
        assert a[key].status == status, key
    # One apology each, in the citizen's language, with the reason and a link to book again.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a["morning"].email, a["afternoon"].email])
    english = next(m for m in mail.outbox if m.to == [a["morning"].email])
    dutch = next(m for m in mail.outbox if m.to == [a["afternoon"].email])
    assert "Storing in het reisdocumentensysteem" in dutch.body
    assert "http://" in dutch.body and "/" in dutch.body
    assert "gaat niet door" in dutch.subject
    assert english.alternatives and "Storing in het reisdocumentensysteem" in english.alternatives[0][0]
    # The time is gone from availability, the audit trail says who did it.
    remaining = slots(product, location)
    assert not any(at(10) <= s < at(16) for s in remaining)
    assert at(16, 0) in remaining
    cancel_event = AppointmentEvent.objects.get(appointment=a["morning"], action=AppointmentAction.CANCELLED)
    assert (cancel_event.actor, cancel_event.channel) == (planner_user, "")
    assert Closure.objects.get().reason == "Storing in het reisdocumentensysteem"


def test_a_closure_is_refused_when_new_appointments_appeared_since_the_preview(
    day_of_appointments, location, planner_user
):
    a = day_of_appointments
    with pytest.raises(AffectedAppointmentsChanged):
        services.closure_create_with_cancellations(
            actor=planner_user,
            location=location,
            starts_at=at(10),
            ends_at=at(16),
            reason="Storing",
            expected_appointment_ids=[a["morning"].pk],  # the planner never saw the afternoon one
            now=NOW,
        )
    assert not Closure.objects.exists()
    a["afternoon"].refresh_from_db()
    assert a["afternoon"].status == AppointmentStatus.BOOKED


def test_a_desk_closure_only_touches_that_desk(day_of_appointments, desk, location, planner_user):
    a = day_of_appointments
    result = services.closure_create_with_cancellations(
        actor=planner_user,
        location=location,
        desk=desk,
        starts_at=at(10),
        ends_at=at(16),
        reason="Balie 1 defect",
        expected_appointment_ids=[a["morning"].pk, a["checked_in"].pk],
        now=NOW,
    )
    assert [x.pk for x in result.cancelled] == [a["morning"].pk]
    a["afternoon"].refresh_from_db()
    assert a["afternoon"].status == AppointmentStatus.BOOKED


def test_a_closure_needs_a_reason_and_a_real_period(location, planner_user):
    with pytest.raises(InvalidRequest) as excinfo:
        services.closure_create_with_cancellations(
            actor=planner_user, location=location, starts_at=at(10), ends_at=at(16), reason="  ", now=NOW
        )
    assert excinfo.value.field == "reason"
    with pytest.raises(InvalidRequest) as excinfo:
        services.closure_create_with_cancellations(
            actor=planner_user, location=location, starts_at=at(16), ends_at=at(10), reason="Storing", now=NOW
        )
    assert excinfo.value.field == "ends_at"


# --- holidays -------------------------------------------------------------------------------

KINGS_DAY = date(2027, 4, 27)  # a Tuesday


def test_open_and_close_a_holiday(desk, product, location, planner_user):
    now = at(9, day=date(2027, 4, 20))
    assert slots(product, location, KINGS_DAY, now) == set()

    services.holiday_open(actor=planner_user, location=location, day=KINGS_DAY, note="Extra paspoortdag")
    assert at(9, day=KINGS_DAY) in slots(product, location, KINGS_DAY, now)
    assert HolidayOpening.objects.get().note == "Extra paspoortdag"

    services.holiday_close(actor=planner_user, location=location, day=KINGS_DAY, now=now)
    assert slots(product, location, KINGS_DAY, now) == set()


def test_closing_a_holiday_again_is_refused_while_appointments_are_booked(desk, product, location, planner_user):
    services.holiday_open(actor=planner_user, location=location, day=KINGS_DAY)
    AppointmentFactory(desk=desk, start=at(9, day=KINGS_DAY), end=at(9, 15, day=KINGS_DAY), products=[product])

    with pytest.raises(ScheduleConflict):
        services.holiday_close(actor=planner_user, location=location, day=KINGS_DAY, now=NOW)
    assert HolidayOpening.objects.exists()


def test_only_a_holiday_can_be_opened(location, planner_user):
    with pytest.raises(InvalidRequest):
        services.holiday_open(actor=planner_user, location=location, day=WEDNESDAY)


# --- opening hours and desk products --------------------------------------------------------


def test_add_saturday_hours_makes_saturday_bookable(desk, product, location, planner_user):
    saturday = date(2027, 3, 6)
    assert slots(product, location, saturday) == set()

    services.opening_hours_add(
        actor=planner_user, desk=desk, weekday=5, opens=time(10), closes=time(12), valid_from=saturday
    )

    assert min(slots(product, location, saturday)) == at(10, day=saturday)


def test_overlapping_hours_are_refused(desk, planner_user):
    with pytest.raises(InvalidRequest) as excinfo:
        services.opening_hours_add(
            actor=planner_user, desk=desk, weekday=2, opens=time(16), closes=time(18), valid_from=WEDNESDAY
        )
    assert excinfo.value.field == "opens"
    with pytest.raises(InvalidRequest):
        services.opening_hours_add(
            actor=planner_user, desk=desk, weekday=2, opens=time(18), closes=time(17), valid_from=WEDNESDAY
        )
    # Later the same day is fine.
    services.opening_hours_add(
        actor=planner_user, desk=desk, weekday=2, opens=time(17), closes=time(20), valid_from=WEDNESDAY
    )


def test_hours_cannot_end_under_booked_appointments(desk, product, planner_user):
    wednesday_hours = OpeningHours.objects.get(desk=desk, weekday=2)
    next_week = WEDNESDAY + timedelta(days=7)
    AppointmentFactory(desk=desk, start=at(10, day=next_week), end=at(10, 15, day=next_week), products=[product])

    with pytest.raises(ScheduleConflict):
        services.opening_hours_end(actor=planner_user, hours=wednesday_hours, valid_until=WEDNESDAY, now=NOW)
    with pytest.raises(ScheduleConflict):
        services.opening_hours_delete(actor=planner_user, hours=wednesday_hours, now=NOW)
    wednesday_hours.refresh_from_db()
    assert wednesday_hours.valid_until is None

    # Ending after the last appointment is fine.
    services.opening_hours_end(actor=planner_user, hours=wednesday_hours, valid_until=next_week, now=NOW)
    wednesday_hours.refresh_from_db()
    assert wednesday_hours.valid_until == next_week


def test_desk_products_cannot_drop_a_product_still_booked(desk, product, brp, planner_user):
    AppointmentFactory(desk=desk, start=at(11), end=at(11, 15), products=[product])

    with pytest.raises(ScheduleConflict):
        services.desk_products_set(actor=planner_user, desk=desk, products=[brp], now=NOW)
    assert set(desk.products.all()) == {product, brp}

    services.desk_products_set(actor=planner_user, desk=desk, products=[product], now=NOW)
    assert list(desk.products.all()) == [product]


# --- products -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"fee_counter": Decimal("10"), "cost_counter": Decimal("9")}, {"fee_counter"}),
        ({"fee_counter": Decimal("10"), "cost_counter": None}, {"cost_counter"}),
        (
            {
                "fee_counter": Decimal("5"),
                "cost_counter": Decimal("9"),
                "fee_online": Decimal("6"),
                "cost_online": Decimal("7"),
            },
            {"fee_online"},
        ),
        (
            {"fee_post": Decimal("3"), "cost_post": Decimal("2"), "fee_phone": Decimal("3"), "cost_phone": None},
            {"fee_post", "cost_phone"},
        ),
        (
            {
                "fee_counter": Decimal("9.40"),
                "cost_counter": Decimal("9.40"),
                "fee_online": Decimal("6.90"),
                "cost_online": Decimal("6.90"),
            },
            set(),
        ),
    ],
)
def test_product_price_rules(values, fields):
    assert set(services.product_price_problems(values)) == fields


def test_product_save_refuses_a_fee_above_cost(brp, manager_user):
    with pytest.raises(InvalidRequest) as excinfo:
        services.product_save(
            actor=manager_user, product=brp, values={"fee_online": Decimal("8.00"), "cost_online": Decimal("7.00")}
        )
    assert excinfo.value.field == "fee_online"
    brp.refresh_from_db()
    assert brp.fee_online == Decimal("6.90")
