"""Booking's selectors for other apps: rows with their place, counts, facts and the contact
lock as a service. Each is checked against appointments that should and should not count."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from booking.constants import AppointmentStatus, Channel
from booking.selectors import (
    appointment_attribution_parts,
    appointment_booked_starts,
    appointment_facts,
    appointment_facts_known,
    appointment_get,
    appointment_ids_wanting_reminders,
    appointment_upcoming,
    appointments_made_count,
    counter_visits_count,
    product_find,
    product_get,
    product_ids_by_code,
    products_by_ids,
    products_not_served_at_desk,
)
from booking.services import appointment_book, contact_serialised
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(second=0, microsecond=0)


def test_appointment_get_returns_any_status_with_its_place_and_products(django_assert_num_queries):
    product = ProductFactory()
    cancelled = AppointmentFactory(cancelled=True, products=[product])

    with django_assert_num_queries(2):
        found = appointment_get(cancelled.pk)
        assert (found.status, found.desk.location.name) == (AppointmentStatus.CANCELLED, cancelled.desk.location.name)
        assert list(found.products.all()) == [product]
    assert appointment_get(None) is None
    assert appointment_get(cancelled.pk + 1000) is None


def test_appointment_upcoming_only_for_a_booked_one_not_yet_started(now):
    ahead = AppointmentFactory(start=now + timedelta(hours=2))
    begun = AppointmentFactory(start=now - timedelta(minutes=5))
    cancelled = AppointmentFactory(start=now + timedelta(hours=3), cancelled=True)

    assert appointment_upcoming(ahead.pk, now=now) == ahead
    assert appointment_upcoming(begun.pk, now=now) is None
    assert appointment_upcoming(cancelled.pk, now=now) is None
    assert appointment_upcoming(None, now=now) is None


def test_appointment_booked_starts_leaves_out_the_ones_not_booked(now):
    booked = AppointmentFactory(start=now + timedelta(days=2))
    cancelled = AppointmentFactory(start=now + timedelta(days=3), cancelled=True)

    assert appointment_booked_starts([booked.pk, cancelled.pk, 0]) == {booked.pk: booked.start}
    assert appointment_booked_starts([]) == {}


def test_appointment_ids_wanting_reminders(now):
    wants_email = AppointmentFactory(start=now + timedelta(days=2))
    wants_sms = AppointmentFactory(
        start=now + timedelta(days=2), remind_by_email=False, remind_by_sms=True, phone="+31612345678"
    )
    AppointmentFactory(start=now + timedelta(days=2), remind_by_email=False, remind_by_sms=True, phone="")
    AppointmentFactory(start=now + timedelta(days=2), remind_by_email=False)
    AppointmentFactory(start=now - timedelta(hours=1))
    AppointmentFactory(start=now + timedelta(days=2), cancelled=True)
    excluded = AppointmentFactory(start=now + timedelta(days=2))

    found = set(appointment_ids_wanting_reminders(now=now, exclude_ids=[excluded.pk]))

    assert found == {wants_email.pk, wants_sms.pk}


def test_appointments_made_count_counts_advance_bookings_for_the_product_at_the_location(now):
    product, other_product = ProductFactory(), ProductFactory()
    desk = DeskFactory(products=[product, other_product])
    elsewhere = DeskFactory(products=[product])
    start = now + timedelta(days=3)

    def made(**kwargs):
        nonlocal start
        start += timedelta(minutes=30)
        defaults = {"desk": desk, "start": start, "booked_at": now - timedelta(days=1), "products": [product]}
        return AppointmentFactory(**{**defaults, **kwargs})

    this_one = made()
    made()
    made(channel=Channel.PHONE)
    made(status=AppointmentStatus.CANCELLED)  # cancelled since: still someone who looked
    made(channel=Channel.COUNTER)  # a walk-in, not made in advance
    made(held=True)
    made(products=[other_product])
    made(desk=elsewhere)
    made(booked_at=now - timedelta(days=40))

    count = appointments_made_count(
        location_id=desk.location_id,
        product_id=product.pk,
        since=now - timedelta(days=30),
        until=now,
        exclude_appointment_id=this_one.pk,
    )

    assert count == 3


def test_counter_visits_count_counts_visits_that_happened_or_will(now):
    product = ProductFactory()
    desk = DeskFactory(products=[product])
    for hours, status in enumerate(
        [
            AppointmentStatus.BOOKED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.SERVED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NO_SHOW,
        ],
        start=1,
    ):
        AppointmentFactory(desk=desk, start=now - timedelta(hours=hours), status=status, products=[product])
    AppointmentFactory(desk=desk, start=now - timedelta(days=40), products=[product])
    AppointmentFactory(desk=desk, start=now - timedelta(hours=8), products=[ProductFactory()])

    assert counter_visits_count(product_id=product.pk, since=now - timedelta(days=30), until=now) == 3


def test_product_get_and_products_not_served_at_desk():
    served, not_served = ProductFactory(), ProductFactory(is_active=False)
    desk = DeskFactory(products=[served])

    assert product_get(not_served.pk) == not_served
    assert not_served in products_not_served_at_desk(desk.pk)
    assert served not in products_not_served_at_desk(desk.pk)


@pytest.mark.django_db(transaction=True)
def test_contact_serialised_takes_the_contact_lock_for_the_transaction():
    LocationFactory()  # any write, so the transaction is real
    with contact_serialised("Iemand@Example.nl"):
        assert connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0


def test_product_lookups_for_other_apps_skip_inactive_products():
    active = ProductFactory(code="actief")
    inactive = ProductFactory(code="oud", is_active=False)

    assert product_find("actief") == active
    assert product_find("oud") is None
    assert product_find("bestaat-niet") is None
    assert product_ids_by_code(["actief", "oud", "bestaat-niet"]) == {"actief": active.pk}
    assert {p.pk for p in products_by_ids([active.pk, inactive.pk])} == {active.pk, inactive.pk}


def test_attribution_parts_give_the_booking_moment_and_products_inside_one_query():
    from booking.models import Appointment

    product = ProductFactory()
    online = AppointmentFactory(products=[product], channel=Channel.ONLINE)
    phone = AppointmentFactory(products=[product], channel=Channel.PHONE)

    booked_at, product_ids = appointment_attribution_parts(online.pk)
    row = Appointment.objects.annotate(at=booked_at).filter(pk=phone.pk).values("at").get()
    assert row["at"] == (online.booked_at or online.created_at)
    assert list(product_ids.values_list("product_id", flat=True)) == [product.pk]
    phone_at, _ = appointment_attribution_parts(phone.pk, online_only=True)
    assert Appointment.objects.annotate(at=phone_at).filter(pk=phone.pk).values("at").get()["at"] is None


def test_the_facts_a_booking_hands_its_listeners_are_the_facts_read_back(django_assert_num_queries):
    paspoort, brp = ProductFactory(name_nl="Paspoort"), ProductFactory(name_nl="Uittreksel BRP")
    location = LocationFactory()
    DeskFactory(location=location, products=[paspoort, brp])
    day = timezone.localdate() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(10), ZoneInfo("Europe/Amsterdam"))
    products = [brp, paspoort]  # not in the model's order
    appointment = appointment_book(
        products=products, persons=1, location=location, start=start, name="An", email="an@example.nl"
    )

    with appointment_facts_known(appointment, products), django_assert_num_queries(0):
        known = appointment_facts(appointment.pk)
    with django_assert_num_queries(2):
        read_back = appointment_facts(appointment.pk)

    assert known == read_back
    assert known.start.tzinfo == read_back.start.tzinfo
    assert [p.pk for p in known.products] == [paspoort.pk, brp.pk]
