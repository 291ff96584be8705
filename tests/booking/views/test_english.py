"""English, the second language: pages, error messages, the e-mail and the API."""

import icalendar
import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from booking.models import Appointment
from tests.factories import AppointmentFactory, integration_token

from .conftest import Citizen, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def english_client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_language_switch_sets_english_and_returns_to_the_same_page(client, location):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/afspraak-maken/"})

    assert response["Location"] == "/afspraak-maken/"
    html = client.get("/afspraak-maken/").content.decode()
    assert '<html lang="en">' in html
    assert "<title>Step 1 of 5: What do you need? – Book an appointment – Municipality of Voorbeeldstad" in html
    assert "Passport" in html and "About 15 minutes per person" in html
    assert 'lang="nl">Nederlands</button>' in html


def test_booking_in_english_gives_english_errors_confirmation_email_and_calendar(
    english_client, location, day, django_capture_on_commit_callbacks
):
    citizen = Citizen(english_client, location)
    errors = english_client.post("/afspraak-maken/", {"persons": 1}).content.decode()
    assert "There is a problem" in errors and "Choose at least one product." in errors
    assert "<title>Error: Step 1 of 5" in errors

    citizen.up_to_check(at(day, 10), "paspoort")
    check = english_client.get("/afspraak-maken/controleren/").content.decode()
    assert "Check your appointment" in check and "Your current passport" in check
    with django_capture_on_commit_callbacks(execute=True):
        citizen.confirm()

    appointment = Appointment.objects.get()
    assert appointment.language == "en"
    confirmed = english_client.get("/afspraak-maken/bevestigd/").content.decode()
    assert "Your appointment is booked" in confirmed
    message = mail.outbox[0]
    assert message.subject.startswith("Your appointment at Civil Affairs on")
    # A name typed online never goes into an e-mail to an unverified address.
    assert "Dear resident," in message.body and "Anouk" not in message.body
    assert "Your current passport" in message.body
    assert "84.70 per person" in message.body
    assert '<html lang="en">' in message.alternatives[0].content
    event = icalendar.Calendar.from_ical(message.attachments[0][1]).events[0]
    assert str(event["SUMMARY"]) == "Appointment at Civil Affairs: Passport"


def test_taken_time_message_in_english(english_client, location, day):
    citizen = Citizen(english_client, location)
    citizen.choose_products("uittreksel-brp")
    citizen.choose_location()
    AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))

    html = citizen.choose_time(at(day, 10)).content.decode()

    assert "This time is not (or no longer) available" in html
    assert "Free times close to your choice" in html


def test_api_answers_in_english_with_accept_language(location, day):
    AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))
    body = {
        "products": ["uittreksel-brp"],
        "persons": 1,
        "location": location.pk,
        "start": at(day, 10).isoformat(),
        "name": "Anouk",
        "email": "geen-adres",
    }

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token()}")
    bad = api.post("/api/v1/appointments/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    taken = api.post(
        "/api/v1/appointments/", {**body, "email": "a@example.nl"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert bad.status_code == 400
    assert taken.status_code == 409
    assert taken.json()["detail"] == "This time is not (or no longer) available. Please choose another time."
