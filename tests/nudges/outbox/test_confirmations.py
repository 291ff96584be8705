"""Booking's confirmations go through the outbox: written in the booking's transaction, sent
once (with the calendar file), not sent for an appointment cancelled before it went out, and
only when the caller asked for one (an API client confirms to its own users)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking.services import appointment_book, appointment_cancel
from nudges.constants import MessageKind, MessageStatus
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from tests.factories import DeskFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking_request():
    product = ProductFactory(code="id-kaart-c", booking_horizon_days=365)
    desk = DeskFactory(products=[product])
    start = (timezone.localtime() + timedelta(days=14)).replace(hour=10, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    return {
        "products": [product],
        "persons": 1,
        "location": desk.location,
        "start": start,
        "name": "Fatima Yilmaz",
        "email": "fatima@example.nl",
    }


def confirmations():
    return ScheduledMessage.objects.filter(kind=MessageKind.CONFIRMATION)


def test_the_confirmation_is_written_with_the_booking_and_sent_once(booking_request):
    appointment = appointment_book(**booking_request, send_confirmation=True)

    # No commit has happened yet in this test: the row is there already, inside the booking's transaction.
    assert list(confirmations().values_list("appointment_id", "status")) == [(appointment.pk, MessageStatus.PENDING)]
    assert messages_dispatch_due() == 1
    assert messages_dispatch_due() == 0
    [email] = mail.outbox
    assert email.to == ["fatima@example.nl"] and appointment.reference in email.subject
    assert email.attachments[0][0] == f"afspraak-{appointment.reference}.ics"
    assert "BEGIN:VCALENDAR" in email.attachments[0][1]
    assert email.extra_headers["Message-ID"] == f"<scheduled-message-{confirmations().get().pk}@kanaalwijzer>"


def test_no_confirmation_unless_asked_for(booking_request):
    appointment_book(**booking_request)
    assert not confirmations().exists()


def test_an_appointment_cancelled_before_its_confirmation_went_out_gets_none(booking_request):
    appointment = appointment_book(**booking_request, send_confirmation=True)
    appointment_cancel(appointment=appointment)

    messages_dispatch_due()

    assert not mail.outbox
    assert confirmations().get().status == MessageStatus.CANCELLED


def test_two_quick_moves_give_one_confirmation_with_the_last_time(booking_request):
    from booking.services import appointment_reschedule

    appointment = appointment_book(**booking_request, send_confirmation=True)
    first_move = appointment_reschedule(
        appointment=appointment, start=booking_request["start"] + timedelta(hours=1), send_confirmation=True
    )
    last = appointment_reschedule(
        appointment=first_move, start=booking_request["start"] + timedelta(hours=2), send_confirmation=True
    )

    assert messages_dispatch_due() == 1
    [email] = mail.outbox
    assert timezone.localtime(last.start).strftime("%H:%M") in email.body
    assert confirmations().filter(status=MessageStatus.CANCELLED).count() == 2
