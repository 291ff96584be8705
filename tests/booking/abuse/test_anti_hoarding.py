"""Anti-hoarding on the citizen pages: one live hold per session, a cap per client address
that rotating X-Forwarded-For headers and fresh sessions do not get round, and bookings per
client per hour and per day. (The benchmark version: benchmarks/abuse.py.)"""

import pytest
from django.test import Client
from django.utils import timezone

from booking import flow
from booking.constants import AppointmentStatus
from booking.models import Appointment
from tests.booking.views.conftest import Citizen, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lax_page_limits(settings):
    # The caps under test must hold on their own, whatever the page rate limits are.
    settings.BOOKING_RATELIMIT_PAGES = settings.BOOKING_RATELIMIT_ACTIONS = "100000/m"
    settings.BOOKING_MAX_HOLDS_PER_CLIENT = 3


def live_holds():
    return Appointment.objects.filter(status=AppointmentStatus.HELD, hold_expires_at__gt=timezone.now())


def hold_from_fresh_session(location, start, **headers):
    citizen = Citizen(Client(**headers), location)
    assert citizen.choose_products("uittreksel-brp").status_code == 302
    assert citizen.choose_location().status_code == 302
    return citizen.choose_time(start)


def test_rotating_forwarded_for_and_fresh_sessions_hold_at_most_the_cap(location, day):
    statuses = [
        hold_from_fresh_session(
            location, at(day, 9 + i // 6, 10 * (i % 6)), HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(8)
    ]

    assert statuses == [302] * 3 + [200] * 5
    assert live_holds().count() == 3
    refused = hold_from_fresh_session(location, at(day, 11), HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert "te veel tijden tegelijk gereserveerd" in refused.content.decode()
    # Another client is not affected.
    assert hold_from_fresh_session(location, at(day, 11), REMOTE_ADDR="192.0.2.44").status_code == 302
    assert live_holds().count() == 4


def test_expired_or_booked_holds_free_the_cap(citizen, location, day):
    for i in range(3):
        assert hold_from_fresh_session(location, at(day, 9 + i // 6, 10 * (i % 6))).status_code == 302
    live_holds().filter(start=at(day, 9)).update(hold_expires_at=timezone.now())

    assert hold_from_fresh_session(location, at(day, 10)).status_code == 302
    assert live_holds().count() == 3


def test_a_session_has_one_live_hold_even_if_its_draft_lost_the_token(citizen, client, day):
    citizen.up_to_details(at(day, 9))
    # A second tab, or a lost session write: the draft no longer names the hold.
    session = client.session
    draft = session[flow.SESSION_KEY]
    draft["hold_token"] = None
    session[flow.SESSION_KEY] = draft
    session.save()

    assert citizen.choose_time(at(day, 10)).status_code == 302

    assert [h.start for h in live_holds()] == [at(day, 10)]


def test_bookings_per_client_per_hour_are_capped(settings, location, day):
    settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR = 2
    booked = []
    for i in range(3):
        citizen = Citizen(Client(HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"), location)
        citizen.up_to_check(at(day, 9 + i // 6, 10 * (i % 6)), email=f"iemand{i}@example.nl")
        booked.append(citizen.confirm())

    assert [r.status_code for r in booked] == [302, 302, 200]
    assert "al veel afspraken gemaakt" in booked[2].content.decode()
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 2
    # Another address books as usual.
    other = Citizen(Client(REMOTE_ADDR="192.0.2.45"), location)
    other.up_to_check(at(day, 11), email="ander@example.nl")
    assert other.confirm().status_code == 302


def test_bookings_per_client_per_day_are_capped(settings, location, day):
    settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR = 100
    settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_DAY = 1
    first = Citizen(Client(), location)
    first.up_to_check(at(day, 9), email="een@example.nl")
    second = Citizen(Client(), location)
    second.up_to_check(at(day, 10), email="twee@example.nl")

    assert first.confirm().status_code == 302
    assert second.confirm().status_code == 200
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
