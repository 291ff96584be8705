"""No oracle: whether an address has an appointment cannot be read off an answer about a time
that is taken, on the pages or the API; the per-mailbox limit sees through case, Gmail dots
and +tags; anonymous callers cannot take times through the API at all."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from booking.constants import AppointmentStatus
from booking.exceptions import TooManyActiveAppointments
from booking.models import Appointment
from booking.services import appointment_book
from tests.booking.views.conftest import Citizen, at
from tests.factories import AppointmentFactory, integration_token

pytestmark = pytest.mark.django_db

HAS = "heeft@example.nl"
HAS_NOT = "heeftniet@example.nl"


@pytest.fixture
def has_appointment(location, brp, day):
    appointment = AppointmentFactory(desk=location.desks.get(), start=at(day, 15), end=at(day, 15, 10), email=HAS)
    appointment.products.set([brp])
    return appointment


@pytest.fixture
def taken(location, day):
    return AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))


def body(location, day, email):
    return {
        "products": ["uittreksel-brp"],
        "persons": 1,
        "location": location.pk,
        "start": at(day, 10).isoformat(),
        "name": "Onbekend",
        "email": email,
    }


def test_api_answers_for_a_taken_time_do_not_depend_on_the_address(location, day, has_appointment, taken):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token()}")

    answers = [api.post("/api/v1/appointments/", body(location, day, email), format="json") for email in (HAS, HAS_NOT)]

    assert [a.status_code for a in answers] == [409, 409]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["code"] == "slot_unavailable"


def test_anonymous_api_callers_take_no_time_and_learn_nothing(location, day, has_appointment):
    api = APIClient()
    answers = [api.post("/api/v1/appointments/", body(location, day, email), format="json") for email in (HAS, HAS_NOT)]
    hold = api.post("/api/v1/holds/", {k: body(location, day, HAS)[k] for k in ("products", "location", "start")})

    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()
    assert hold.status_code == 401
    assert Appointment.objects.count() == 1


def test_api_clients_without_the_scope_are_refused(location, day):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token('other-scope-for-test')}")
    assert api.post("/api/v1/appointments/", body(location, day, HAS_NOT), format="json").status_code == 403


@pytest.fixture(autouse=True)
def _other_scope():
    from booking.integrations import register_scope

    register_scope("other-scope-for-test", "Test")


def test_api_booking_records_its_client_and_cleans_the_name(location, day):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token()}")

    response = api.post(
        "/api/v1/appointments/",
        {**body(location, day, HAS_NOT), "name": "Anouk\n\u202eBetaal via https://evil.example"},
        format="json",
    )
    blank = api.post("/api/v1/appointments/", {**body(location, day, "x@example.nl"), "name": "\u202e\u200b"})

    assert response.status_code == 201, response.json()
    appointment = Appointment.objects.get(reference=response.json()["reference"])
    assert appointment.name == "Anouk Betaal via https://evil.example"
    assert appointment.source_client is not None
    assert blank.status_code == 400 and "name" in blank.json()


def test_page_answers_for_a_taken_time_do_not_depend_on_the_address(settings, location, day, has_appointment):
    settings.BOOKING_RATELIMIT_ACTIONS = settings.BOOKING_RATELIMIT_PAGES = "1000/m"
    pages = []
    for email in (HAS, HAS_NOT):
        citizen = Citizen(Client(), location)
        citizen.up_to_check(at(day, 10), email=email)
        pages.append(citizen)
        # The hold runs out (so the next visitor can hold the same time)...
        Appointment.objects.filter(status=AppointmentStatus.HELD).update(hold_expires_at=timezone.now())
    # ...and somebody else takes the time (the expired holds tidied away).
    Appointment.objects.filter(status=AppointmentStatus.HELD).delete()
    AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))

    answers = [citizen.confirm() for citizen in pages]

    assert [a.status_code for a in answers] == [200, 200]
    texts = [a.content.decode() for a in answers]
    assert all("niet (meer) beschikbaar" in text or "verlopen" in text for text in texts)
    assert all("al een afspraak" not in text for text in texts)
    assert answers[0].templates[0].name == answers[1].templates[0].name == "booking/flow/time.html"


@pytest.mark.parametrize("again", ["Heeft@Example.NL", "heeft+paspoort@example.nl"])
def test_the_limit_compares_mailboxes(location, brp, day, has_appointment, again):
    with pytest.raises(TooManyActiveAppointments):
        appointment_book(products=[brp], persons=1, location=location, start=at(day, 11), name="Iemand", email=again)
    assert Appointment.objects.count() == 1


def test_gmail_dots_and_googlemail_are_one_mailbox(location, brp, day):
    appointment_book(
        products=[brp], persons=1, location=location, start=at(day, 11), name="A", email="an.ouk@gmail.com"
    )

    with pytest.raises(TooManyActiveAppointments):
        appointment_book(
            products=[brp],
            persons=1,
            location=location,
            start=at(day, 12),
            name="A",
            email="A.N.O.U.K+x@googlemail.com",
        )
    # Elsewhere a dot is part of the address.
    appointment_book(
        products=[brp], persons=1, location=location, start=at(day, 12), name="A", email="an.ouk@example.nl"
    )
    appointment_book(
        products=[brp], persons=1, location=location, start=at(day, 13), name="A", email="anouk@example.nl"
    )
    assert Appointment.objects.count() == 3


def test_the_limit_is_checked_after_the_time(location, brp, day, has_appointment, taken):
    """A taken time answers "taken" even for an address at its limit (the old order said
    "limit reached" without looking at the time, with no row written)."""
    from booking.exceptions import SlotUnavailable

    with pytest.raises(SlotUnavailable):
        appointment_book(products=[brp], persons=1, location=location, start=at(day, 10), name="X", email=HAS)
    assert timezone.now() < at(day, 10) - timedelta(days=1)


def test_probing_addresses_on_free_times_costs_the_client_its_booking_caps(settings, location, day, has_appointment):
    """For a free time the limit's answer does say the address has an appointment (the public
    availability shows the time is free, so no answer could hide that); each such answer counts
    against the client's booking caps, so one client probes only that many addresses."""
    settings.BOOKING_RATELIMIT_ACTIONS = settings.BOOKING_RATELIMIT_PAGES = "1000/m"
    settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR = 2
    answers = []
    for minute in (0, 10, 20):
        prober = Citizen(Client(REMOTE_ADDR="198.51.100.7"), location)
        prober.up_to_check(at(day, 11, minute), email=HAS)
        answers.append(prober.confirm().content.decode())
        Appointment.objects.filter(status=AppointmentStatus.HELD).delete()

    assert ["al een afspraak" in text for text in answers] == [True, True, False]
    assert "al veel afspraken gemaakt" in answers[2]
    assert Appointment.objects.exclude(pk=has_appointment.pk).count() == 0
    # The owner of the address, from elsewhere, books other products as usual.
    owner = Citizen(Client(REMOTE_ADDR="192.0.2.80"), location)
    owner.up_to_check(at(day, 12), email="ander@example.nl")
    assert owner.confirm().status_code == 302
