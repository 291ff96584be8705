"""Booking's confirmation goes through the outbox: a broker that is down loses nothing."""

import pytest
from django.core import mail

from booking.constants import AppointmentStatus
from booking.models import Appointment
from nudges.constants import MessageKind, MessageStatus
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.tasks import dispatch_due_messages
from tests.booking.views.conftest import at


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_neither_breaks_the_booking_nor_loses_the_confirmation(citizen, client, day, monkeypatch):
    """With real commits (as in production) the immediate dispatch is queued right after the
    booking commits; the confirmation itself was written in the booking's transaction."""

    def broker_down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr(dispatch_due_messages, "delay", broker_down)
    citizen.up_to_check(at(day, 10))

    response = citizen.confirm()

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.BOOKED
    assert client.get("/afspraak-maken/bevestigd/").status_code == 200
    assert not mail.outbox
    confirmation = ScheduledMessage.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.PENDING

    # The beat's dispatcher finds it once the broker is back.
    assert messages_dispatch_due() >= 1
    [sent] = [m for m in mail.outbox if appointment.reference in m.subject]
    assert sent.attachments[0][0] == f"afspraak-{appointment.reference}.ics"
