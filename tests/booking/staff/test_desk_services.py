"""Desk actions and walk-ins: state changes, the audit trail, hooks and the no-overlap rule."""

from datetime import timedelta

import pytest

from booking import hooks
from booking.availability import availability_for_products
from booking.constants import AppointmentAction, AppointmentStatus, Channel, OnlinePossible, OnlineReason
from booking.exceptions import InvalidRequest, InvalidStateTransition, SlotUnavailable
from booking.models import Appointment, AppointmentEvent
from booking.staff import services
from tests.factories import AppointmentFactory, ClosureFactory, DeskFactory

from .conftest import NOW, WEDNESDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(desk, product):
    return AppointmentFactory(desk=desk, start=at(10), end=at(10, 15), products=[product])


def events(appointment):
    return list(AppointmentEvent.objects.filter(appointment=appointment).values_list("action", "actor__username"))


@pytest.fixture
def status_changes():
    """Appointment ids reported through the booking hook (after commit)."""
    seen = []
    callback = seen.append
    hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, callback)
    yield seen
    hooks._listeners[hooks.APPOINTMENT_STATUS_CHANGED].remove(callback)


# --- check-in, served, no-show --------------------------------------------------------------


def test_check_in_records_who_and_when_and_tells_listeners(
    booked, desk_user, status_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN
    assert booked.checked_in_at == NOW
    event = AppointmentEvent.objects.get(appointment=booked)
    assert (event.action, event.actor, event.channel) == (AppointmentAction.CHECKED_IN, desk_user, Channel.COUNTER)
    assert event.changes == {"status": ["booked", "checked_in"]}
    assert status_changes == [booked.pk]


def test_checking_in_twice_is_harmless(booked, desk_user):
    services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)
    services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)

    assert events(booked) == [(AppointmentAction.CHECKED_IN, "balie")]


def test_check_in_only_on_the_day(desk, product, desk_user):
    tomorrow = AppointmentFactory(
        desk=desk, start=at(10) + timedelta(days=1), end=at(10, 15) + timedelta(days=1), products=[product]
    )
    with pytest.raises(InvalidStateTransition):
        services.appointment_check_in(appointment=tomorrow, actor=desk_user, now=NOW)
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.BOOKED


def test_a_cancelled_appointment_cannot_be_checked_in(desk, product, desk_user):
    cancelled = AppointmentFactory(desk=desk, start=at(10), end=at(10, 15), products=[product], cancelled=True)
    with pytest.raises(InvalidStateTransition):
        services.appointment_check_in(appointment=cancelled, actor=desk_user, now=NOW)


def test_served_stores_the_online_judgement(booked, desk_user):
    services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)
    services.appointment_mark_served(
        appointment=booked,
        actor=desk_user,
        online_possible=OnlinePossible.PARTLY,
        online_reason=OnlineReason.NO_DIGID,
        now=NOW + timedelta(minutes=12),
    )

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.SERVED
    assert (booked.online_possible, booked.online_reason) == ("partly", "no_digid")
    assert booked.handled_at == NOW + timedelta(minutes=12)
    served = AppointmentEvent.objects.get(appointment=booked, action=AppointmentAction.SERVED)
    assert served.changes["online_possible"] == ["", "partly"]
    assert served.changes["status"] == ["checked_in", "served"]


def test_served_needs_the_online_judgement(booked, desk_user):
    with pytest.raises(InvalidRequest) as excinfo:
        services.appointment_mark_served(appointment=booked, actor=desk_user, online_possible="", now=NOW)
    assert excinfo.value.field == "online_possible"
    with pytest.raises(InvalidRequest):
        services.appointment_mark_served(appointment=booked, actor=desk_user, online_possible="maybe", now=NOW)
    with pytest.raises(InvalidRequest) as excinfo:
        services.appointment_mark_served(
            appointment=booked, actor=desk_user, online_possible="no", online_reason="bored", now=NOW
        )
    assert excinfo.value.field == "online_reason"
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_served_frees_the_rest_of_the_desk_time(booked, desk_user, product, location):
    """A served visit leaves the desk: its time no longer blocks (for a walk-in, say)."""
    services.appointment_mark_served(appointment=booked, actor=desk_user, online_possible="no", now=NOW)

    slots = availability_for_products(
        products=[product], persons=1, location_id=location.pk, date_from=WEDNESDAY, date_to=WEDNESDAY, now=NOW
    )
    assert at(10, 10) in {s.start for s in slots}


def test_no_show_only_once_the_time_has_begun(booked, desk_user):
    with pytest.raises(InvalidStateTransition):
        services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(9, 59))

    services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(10, 5))

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.NO_SHOW
    assert events(booked) == [(AppointmentAction.NO_SHOW, "balie")]


def test_a_checked_in_citizen_is_not_a_no_show(booked, desk_user):
    services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)
    with pytest.raises(InvalidStateTransition):
        services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(10, 30))


# --- undo -----------------------------------------------------------------------------------


def test_undo_walks_back_one_step_at_a_time(booked, desk_user):
    services.appointment_check_in(appointment=booked, actor=desk_user, now=NOW)
    services.appointment_mark_served(appointment=booked, actor=desk_user, online_possible="yes", now=NOW)

    services.appointment_undo_status(appointment=booked, actor=desk_user, now=NOW)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN
    assert (booked.online_possible, booked.handled_at) == ("", None)

    services.appointment_undo_status(appointment=booked, actor=desk_user, now=NOW)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    assert booked.checked_in_at is None

    with pytest.raises(InvalidStateTransition):
        services.appointment_undo_status(appointment=booked, actor=desk_user, now=NOW)
    undone = AppointmentEvent.objects.filter(appointment=booked, action=AppointmentAction.UNDONE)
    assert [e.changes["status"] for e in undone] == [["served", "checked_in"], ["checked_in", "booked"]]


def test_undo_of_a_no_show(booked, desk_user):
    services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(10, 5))
    services.appointment_undo_status(appointment=booked, actor=desk_user, now=at(10, 6))

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    assert booked.handled_at is None


def test_undo_never_double_books(booked, desk_user, product, location):
    """A no-show freed its time and a walk-in took it: taking the no-show back is refused."""
    services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(10, 1))
    walk_in = services.walk_in_register(actor=desk_user, location=location, products=[product], now=at(10, 2))
    assert walk_in.desk == booked.desk and walk_in.start < booked.end

    with pytest.raises(SlotUnavailable):
        services.appointment_undo_status(appointment=booked, actor=desk_user, now=at(10, 3))
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.NO_SHOW


# --- walk-ins -------------------------------------------------------------------------------


def test_walk_in_takes_the_first_free_grid_time_from_now(desk, product, location, desk_user):
    AppointmentFactory(desk=desk, start=at(10, 10), end=at(10, 40), products=[product])

    walk_in = services.walk_in_register(actor=desk_user, location=location, products=[product], now=NOW)

    # 10:02 rounds up to 10:10, which is taken until 10:40.
    assert (walk_in.start, walk_in.end) == (at(10, 40), at(10, 55))
    assert walk_in.status == AppointmentStatus.CHECKED_IN
    assert walk_in.channel == Channel.COUNTER
    assert walk_in.checked_in_at == NOW
    assert events(walk_in) == [(AppointmentAction.WALK_IN, "balie")]


def test_walk_in_goes_to_the_desk_that_is_free_first(desk, product, location, desk_user):
    second = DeskFactory(location=location, name="Balie 2", products=[product])
    AppointmentFactory(desk=desk, start=at(10, 10), end=at(11), products=[product])

    walk_in = services.walk_in_register(actor=desk_user, location=location, products=[product], now=NOW)

    assert (walk_in.desk, walk_in.start) == (second, at(10, 10))


def test_walk_in_only_at_a_desk_that_serves_the_product(desk, product, brp, location, desk_user):
    DeskFactory(location=location, name="Balie 2", products=[brp])
    AppointmentFactory(desk=desk, start=at(10, 10), end=at(11), products=[product])

    walk_in = services.walk_in_register(actor=desk_user, location=location, products=[product], now=NOW)

    assert (walk_in.desk, walk_in.start) == (desk, at(11))


def test_walk_in_respects_closures_and_closing_time(desk, product, location, desk_user):
    ClosureFactory(location=location, starts_at=at(10), ends_at=at(16, 50), reason="Storing")

    with pytest.raises(SlotUnavailable) as excinfo:
        services.walk_in_register(actor=desk_user, location=location, products=[product], now=NOW)
    assert excinfo.value.field == "product"  # 16:50 + 15 minutes is after closing time
    assert not Appointment.objects.filter(channel=Channel.COUNTER).exists()


def test_walk_in_can_be_recorded_as_served_directly(desk, product, location, desk_user):
    walk_in = services.walk_in_register(
        actor=desk_user,
        location=location,
        products=[product],
        served=True,
        online_possible="yes",
        online_reason="unaware",
        name="  Sem   Bakker ",
        now=NOW,
    )

    assert walk_in.status == AppointmentStatus.SERVED
    assert walk_in.end - walk_in.start == timedelta(minutes=15)
    assert walk_in.end <= NOW
    assert (walk_in.online_possible, walk_in.online_reason, walk_in.name) == ("yes", "unaware", "Sem Bakker")
    assert walk_in.email == ""


def test_walk_in_for_a_product_nobody_here_serves(location, desk, desk_user):
    from tests.factories import ProductFactory

    other = ProductFactory(code="rijbewijs")
    with pytest.raises(InvalidRequest):
        services.walk_in_register(actor=desk_user, location=location, products=[other], now=NOW)


def test_undo_clears_an_expired_hold_that_took_the_freed_time(booked, desk_user, product):
    services.appointment_mark_no_show(appointment=booked, actor=desk_user, now=at(10, 1))
    stale = AppointmentFactory(
        desk=booked.desk, start=at(10), end=at(10, 10), products=[product], held=True, hold_expires_at=at(10, 5)
    )

    services.appointment_undo_status(appointment=booked, actor=desk_user, now=at(10, 6))

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    assert not Appointment.objects.filter(pk=stale.pk).exists()
