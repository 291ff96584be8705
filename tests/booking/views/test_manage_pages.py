"""Managing an appointment by its private link: opening it never changes anything; cancelling
and moving need a POST with a CSRF token."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from booking.constants import AppointmentStatus
from booking.models import Appointment
from tests.factories import AppointmentFactory

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(location, brp, day):
    return AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10), products=[brp])


def url(appointment, action=""):
    return f"/afspraak/{appointment.manage_token}/{action}"


def snapshot(appointment):
    appointment = Appointment.objects.get(pk=appointment.pk)
    return (appointment.status, appointment.start, appointment.desk_id, appointment.updated_at)


def test_manage_page_shows_the_appointment_and_is_never_cached(client, appointment):
    response = client.get(url(appointment))

    assert response.status_code == 200
    html = response.content.decode()
    assert appointment.reference in html
    assert "Stadhuis" in html and "Markt 1" in html
    assert "Uittreksel BRP" in html and "Uw identiteitsbewijs" in html
    assert '<meta name="robots" content="noindex">' in html
    assert "no-store" in response["Cache-Control"]


def test_opening_any_manage_link_changes_nothing(client, appointment):
    """Mail scanners open every link in an e-mail: GETs must be harmless."""
    before = snapshot(appointment)

    for action in ("", "annuleren/", "verzetten/", "afspraak.ics"):
        assert client.get(url(appointment, action)).status_code == 200
        assert client.head(url(appointment, action)).status_code in (200, 405)

    assert snapshot(appointment) == before


def test_cancel_needs_a_confirming_post(client, appointment):
    page = client.get(url(appointment, "annuleren/")).content.decode()
    assert "Weet u zeker dat u deze afspraak wilt annuleren?" in page
    assert 'method="post"' in page

    response = client.post(url(appointment, "annuleren/"))

    assert response.status_code == 302
    assert response["Location"] == url(appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    after = client.get(url(appointment)).content.decode()
    assert "Uw afspraak is geannuleerd." in after
    assert "Deze afspraak is geannuleerd." in after
    assert "Afspraak verzetten" not in after


def test_cancel_without_csrf_token_is_refused(appointment):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(url(appointment, "annuleren/"))

    assert response.status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_cancel_with_the_csrf_token_of_the_page_works(appointment):
    strict = Client(enforce_csrf_checks=True)
    strict.get(url(appointment, "annuleren/"))

    response = strict.post(url(appointment, "annuleren/"), {"csrfmiddlewaretoken": strict.cookies["csrftoken"].value})

    assert response.status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED


def test_a_started_appointment_cannot_be_cancelled_and_says_why(client, location, brp):
    started = AppointmentFactory(
        desk=location.desks.get(),
        start=timezone.now() - timedelta(minutes=5),
        end=timezone.now() + timedelta(minutes=5),
        products=[brp],
    )

    page = client.get(url(started)).content.decode()
    response = client.post(url(started, "annuleren/"))

    assert "kan niet meer worden gewijzigd" in page
    assert "Afspraak annuleren" not in page
    assert response.status_code == 200
    assert "al begonnen of voorbij" in response.content.decode()
    assert Appointment.objects.get(pk=started.pk).status == AppointmentStatus.BOOKED


def test_reschedule_moves_the_appointment_and_sends_a_new_confirmation(
    client, appointment, day, django_capture_on_commit_callbacks
):
    page = client.get(url(appointment, "verzetten/") + f"?week={day}&dag={day}").content.decode()
    assert f'value="{at(day, 11).isoformat()}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(appointment, "verzetten/"), {"start": at(day, 11).isoformat()})

    assert response.status_code == 302
    moved = Appointment.objects.get(pk=appointment.pk)
    assert (moved.start, moved.end, moved.status) == (at(day, 11), at(day, 11, 10), AppointmentStatus.BOOKED)
    assert "Uw afspraak is verzet." in client.get(url(appointment)).content.decode()
    assert len(mail.outbox) == 1
    event = icalendar.Calendar.from_ical(mail.outbox[0].attachments[0][1]).events[0]
    assert event.start == at(day, 11)


def test_reschedule_to_a_taken_time_keeps_the_appointment_and_offers_alternatives(client, appointment, location, day):
    AppointmentFactory(desk=location.desks.get(), start=at(day, 14), end=at(day, 14, 10))
    before = snapshot(appointment)

    response = client.post(url(appointment, "verzetten/"), {"start": at(day, 14).isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Deze tijd is niet (meer) beschikbaar" in html
    assert f'value="{at(day, 14, 10).isoformat()}"' in html
    assert snapshot(appointment) == before


def test_unknown_or_malformed_link_is_a_friendly_404(client, location):
    for token in ("bestaat-niet", "x" * 80):
        response = client.get(f"/afspraak/{token}/")
        assert response.status_code == 404
        assert "Deze link werkt niet" in response.content.decode()
    assert client.post("/afspraak/bestaat-niet/annuleren/").status_code == 404


def test_a_hold_token_is_not_a_manage_link(client, location, brp, day):
    hold = AppointmentFactory(desk=location.desks.get(), start=at(day, 12), end=at(day, 12, 10), held=True)

    assert client.get(url(hold)).status_code == 404
    assert client.post(url(hold, "annuleren/")).status_code == 404


def test_calendar_file_download(client, appointment, day):
    response = client.get(url(appointment, "afspraak.ics"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="afspraak-{appointment.reference}.ics"' in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    event = calendar.events[0]
    assert event.start == at(day, 10)
    assert str(event["LOCATION"]) == "Stadhuis, Markt 1, 1234 AB Voorbeeldstad"
    assert url(appointment) in str(event["DESCRIPTION"])
