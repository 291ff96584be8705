"""Abuse limits on the nudges side: reminder units no outside id can produce, outcome reports
per unit limited, daily caps on what the outbox sends, SMS to Dutch mobiles only, expiring
satisfaction links, waiting-list names cleaned and greeted neutrally, the nudge API on
booking's integration clients."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from booking.constants import Channel
from booking.exceptions import InvalidRequest
from booking.integrations import integration_client_authenticate
from booking.services import appointment_book
from nudges.constants import MessageStatus
from nudges.experiments.assignment import appointment_unit_hash, unit_hash
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.satisfaction.services import survey_get_by_token
from tests.factories import AppointmentFactory, integration_token
from tests.nudges.factories import SatisfactionSurveyFactory, ScheduledMessageFactory

pytestmark = pytest.mark.django_db


def test_no_raw_unit_equals_an_appointment_unit():
    for appointment_id in (1, 7, 123456):
        assert unit_hash(f"appointment:{appointment_id}") != appointment_unit_hash(appointment_id)
        assert unit_hash(str(appointment_id)) != appointment_unit_hash(appointment_id)
    assert appointment_unit_hash(7) == appointment_unit_hash(7)  # still deterministic


def test_outcome_reports_per_unit_are_rate_limited(settings, experiment):
    settings.NUDGES_OUTCOMES_PER_UNIT_HOUR = 3
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token('nudges')}")

    statuses = [
        api.post("/api/v1/nudges/outcomes/", {"kind": "booked", "unit": "bezoeker-aanval"}).status_code
        for _ in range(5)
    ]
    other = api.post("/api/v1/nudges/outcomes/", {"kind": "booked", "unit": "bezoeker-ander"})

    # Never exposed: refused as such until the limit, then 429 whatever the answer would be.
    assert 429 not in statuses[:3] and statuses[3:] == [429, 429]
    assert other.status_code == statuses[0]


def test_the_nudge_api_takes_booking_clients_with_the_nudges_scope_only(experiment):
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token('appointments')}")
    right = APIClient()
    right.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token('nudges')}")
    params = {"product": "uittreksel-brp", "unit": "bezoeker-42"}

    assert wrong.get("/api/v1/nudges/decision/", params).status_code == 403
    assert right.get("/api/v1/nudges/decision/", params).status_code == 200


def test_nudges_client_command_makes_a_booking_client_with_the_nudges_scope():
    out = StringIO()
    call_command("nudges_client", "Online formulieren", stdout=out)
    client = integration_client_authenticate(out.getvalue().strip().splitlines()[-1])
    assert client.name == "Online formulieren" and client.scopes == ["nudges"]


def test_emails_per_mailbox_per_day_are_capped(settings):
    settings.NUDGES_EMAILS_PER_RECIPIENT_DAY = 2
    rows = [
        ScheduledMessageFactory(appointment=AppointmentFactory(email=address), kind="confirmation")
        for address in ("doel@example.nl", "Doel+1@example.nl", "doel+2@example.nl")
    ]
    other = ScheduledMessageFactory(appointment=AppointmentFactory(email="ander@example.nl"), kind="confirmation")

    messages_dispatch_due()

    statuses = [ScheduledMessage.objects.get(pk=row.pk).status for row in rows]
    assert statuses.count(MessageStatus.SENT) == 2
    waiting = ScheduledMessage.objects.get(pk=rows[statuses.index(MessageStatus.PENDING)].pk)
    assert waiting.due_at > timezone.now() and waiting.attempts == 0  # tomorrow morning, not lost
    assert ScheduledMessage.objects.get(pk=other.pk).status == MessageStatus.SENT
    assert len(mail.outbox) == 3


def test_sms_per_day_in_all_is_capped(settings, sms_outbox):
    settings.NUDGES_SMS_PER_DAY = 1
    settings.NUDGES_SMS_QUIET_HOURS = (0, 0)
    rows = [
        ScheduledMessageFactory(
            sms=True,
            appointment=AppointmentFactory(phone=number, remind_by_sms=True, start=timezone.now() + timedelta(days=2)),
        )
        for number in ("0612345678", "0687654321")
    ]

    messages_dispatch_due()

    statuses = sorted(ScheduledMessage.objects.get(pk=row.pk).status for row in rows)
    assert statuses == [MessageStatus.PENDING, MessageStatus.SENT]
    assert len(sms_outbox) == 1


def test_sms_reminders_need_a_dutch_mobile_number(location_with_desk):
    location, product, start = location_with_desk
    with pytest.raises(InvalidRequest) as exc:
        appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=start,
            name="A",
            email="a@example.nl",
            phone="+32 470 12 34 56",
            remind_by_sms=True,
        )
    assert exc.value.field == "phone"


def test_satisfaction_links_expire_after_thirty_days(settings):
    settings.NUDGES_SATISFACTION_LINK_DAYS = 30
    survey = SatisfactionSurveyFactory()
    assert survey_get_by_token(survey.token) == survey
    assert survey_get_by_token(survey.token, now=timezone.now() + timedelta(days=31)) is None


@pytest.fixture
def location_with_desk(brp, desk):
    from tests.booking.views.conftest import at, next_working_day

    return desk.location, brp, at(next_working_day(), 10)


def test_channel_of_typed_names_decides_the_greeting():
    from booking.notifications import greeting_name

    assert greeting_name(AppointmentFactory(channel=Channel.ONLINE, name="X")) == ""
    assert greeting_name(AppointmentFactory(channel=Channel.PHONE, name="X")) == "X"
