"""A name typed online never reaches an e-mail (the address is unverified); the details form
cleans names; a cancelled appointment's contact data goes after a few days."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking.constants import AppointmentStatus, Channel
from booking.models import Appointment
from booking.notifications import confirmation_email
from booking.retention import appointments_anonymise_expired
from tests.booking.views.conftest import at
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

PHISH = "Uw paspoort is verlopen - betaal EUR 25 via https://evil.example/pay"


def test_online_booking_confirmation_greets_neutrally(citizen, day, django_capture_on_commit_callbacks):
    citizen.up_to_check(at(day, 10), name=PHISH + "\r\nX")
    with django_capture_on_commit_callbacks(execute=True):
        assert citizen.confirm().status_code == 302

    appointment = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert appointment.name == PHISH + " X"  # cleaned, one line
    (message,) = mail.outbox
    assert "Beste inwoner," in message.body
    assert "evil.example" not in message.body
    assert "evil.example" not in message.alternatives[0][0]


def test_staff_typed_names_are_used(location, day):
    appointment = AppointmentFactory(desk=location.desks.get(), channel=Channel.PHONE, name="Jan Jansen")
    assert "Beste Jan Jansen," in confirmation_email(appointment.pk).text


def test_details_form_cleans_the_name(citizen, client, day):
    citizen.up_to_details(at(day, 10))
    response = citizen.fill_details(name="\u202e\u200b\n")
    assert response.status_code == 200
    assert "Vul uw naam in." in response.content.decode()


def test_cancelled_contact_data_goes_after_a_few_days(settings, location):
    settings.BOOKING_RETENTION_CANCELLED_DAYS = 3
    now = timezone.now()
    future = now + timedelta(days=20)
    old = AppointmentFactory(
        desk=location.desks.get(), start=future, end=future + timedelta(minutes=10), cancelled=True
    )
    Appointment.objects.filter(pk=old.pk).update(cancelled_at=now - timedelta(days=4))
    recent = AppointmentFactory(
        desk=location.desks.get(),
        start=future + timedelta(hours=1),
        end=future + timedelta(hours=1, minutes=10),
        cancelled=True,
        cancelled_at=now - timedelta(days=1),
    )
    booked = AppointmentFactory(
        desk=location.desks.get(), start=future + timedelta(hours=2), end=future + timedelta(hours=2, minutes=10)
    )

    assert appointments_anonymise_expired(now=now) == 1

    old.refresh_from_db()
    assert (old.name, old.email, old.email_key, old.phone) == ("", "", "", "")
    assert old.anonymised_at is not None
    for untouched in (recent, booked):
        untouched.refresh_from_db()
        assert untouched.email and untouched.anonymised_at is None
