"""End to end through the Qmatic facade, as Open Formulieren would use it: book, read back and
cancel over HTTP (the live server). The citizen gets the confirmation e-mail with the manage link
(unless the client switched it off), the desk sees the appointment on its day board, and the
freed time goes to the waiting list."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from booking.constants import AppointmentStatus, Channel
from booking.integrations import integration_client_create
from booking.models import Appointment
from booking.staff import roles
from nudges.models import WaitlistOffer
from nudges.waitlist.services import waitlist_entry_confirm, waitlist_join
from tests.booking.apis.qmatic.conftest import working_day
from tests.factories import DeskFactory, LocationFactory, ProductFactory
from tests.qmatic_plugin import QmaticPlugin

pytestmark = pytest.mark.django_db(transaction=True)
PREFIX = "/qmatic/calendar-backend/public/api/"


@pytest.fixture
def setup():
    location = LocationFactory(name="Stadhuis", street="Markt 1", postcode="1234 AB", city="Voorbeeldstad")
    paspoort = ProductFactory(code="paspoort", name_nl="Paspoort", minutes_per_person=15)
    desk = DeskFactory(location=location, name="Balie 1", products=[paspoort])
    return location, paspoort, desk


def desk_page(client, location, day):
    user = get_user_model().objects.create_user(username="balie", password="geheim-wachtwoord-1")
    user.groups.add(roles.roles_ensure()[roles.DESK_STAFF])
    client.force_login(user)
    return client.get(reverse("staff:board"), {"location": location.pk, "day": day.isoformat()})


def test_book_read_and_cancel_through_the_facade(live_server, client, setup):
    location, paspoort, desk = setup
    forms, token = integration_client_create(name="Open Formulieren", scopes=["appointments"])
    plugin = QmaticPlugin(live_server.url + PREFIX, token)
    day = working_day(4)
    start = plugin.times(str(location.pk), ["paspoort"], day)[2]
    mail.outbox.clear()

    public_id = plugin.book(
        str(location.pk),
        ["paspoort"],
        start,
        {"firstName": "Fatima", "lastName": "El Amrani", "email": "fatima@example.nl", "phone": ""},
    )

    appointment = Appointment.objects.get(reference=public_id)
    assert (appointment.channel, appointment.source_client, appointment.start) == (Channel.ONLINE, forms, start)
    (confirmation,) = mail.outbox
    assert confirmation.to == ["fatima@example.nl"] and public_id in confirmation.body
    assert f"/afspraak/{appointment.manage_token}/" in confirmation.body  # the same manage link as on the web
    assert plugin.details(public_id)["start_at"] == start

    board = desk_page(client, location, day)
    assert board.status_code == 200
    assert public_id in board.content.decode() and "Fatima El Amrani" in board.content.decode()

    entry = waitlist_join(products=[paspoort], persons=1, location=None, name="Wachtende", email="wacht@example.nl")
    waitlist_entry_confirm(entry=entry)
    plugin.cancel(public_id)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    history = client.get(reverse("staff:appointment", args=[public_id])).content.decode()
    assert "via koppeling Open Formulieren" in history  # the source, next to the channel
    assert history.count("Koppeling Open Formulieren") == 2  # who booked and who cancelled
    (offer,) = WaitlistOffer.objects.filter(freed_appointment_id=appointment.pk)
    assert offer.entry == entry
    assert Appointment.objects.get(status=AppointmentStatus.HELD).start == start  # the freed time, held for them


def test_no_confirmation_e_mail_when_the_client_confirms_itself(live_server, setup):
    location, _paspoort, _desk = setup
    _forms, token = integration_client_create(
        name="Formulieren met eigen bevestiging", scopes=["appointments"], send_confirmation_emails=False
    )
    plugin = QmaticPlugin(live_server.url + PREFIX, token)
    day = working_day(4)
    mail.outbox.clear()
    public_id = plugin.book(
        str(location.pk),
        ["paspoort"],
        plugin.times(str(location.pk), ["paspoort"], day)[0],
        {"firstName": "Piet", "lastName": "Pietersen", "email": "piet@example.nl"},
    )
    assert Appointment.objects.filter(reference=public_id, status=AppointmentStatus.BOOKED).exists()
    assert mail.outbox == []
