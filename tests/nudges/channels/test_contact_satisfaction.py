"""The satisfaction question after a phone, e-mail or other non-counter contact: only with the
citizen's consent, the address kept on the survey only until the e-mail has gone, the same
answer page and one-answer rule, counted under the contact's channel on the manager page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from booking.retention import personal_data_erase_expired
from nudges.constants import MessageKind, MessageStatus
from nudges.models import Contact, SatisfactionSurvey, ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.satisfaction import selectors as satisfaction_selectors
from nudges.satisfaction import services as satisfaction

pytestmark = pytest.mark.django_db

ADDRESS = "inwoner@example.org"


def register(client, **extra):
    data = {"product": "uittreksel-brp", "outcome": "answered", "channel": "telefoon", **extra}
    return client.post(reverse("contacts:register"), data)


def test_an_address_without_the_consent_box_is_a_field_error(client, phone_user, brp):
    client.force_login(phone_user)

    response = register(client, survey_email=ADDRESS)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_survey_consent_error"' in page
    assert "Vink aan dat de inwoner de tevredenheidsvraag wil" in page
    assert not Contact.objects.exists() and not SatisfactionSurvey.objects.exists()


def test_the_box_without_an_address_or_on_the_counter_is_a_field_error(client, phone_user, brp):
    client.force_login(phone_user)

    without_address = register(client, survey_consent="on")
    on_the_counter = register(client, survey_consent="on", survey_email=ADDRESS, channel="balie")

    assert without_address.status_code == on_the_counter.status_code == 400
    assert 'id="id_survey_email_error"' in without_address.content.decode()
    assert "Na een baliebezoek volgt de vraag via de afspraak" in on_the_counter.content.decode()
    assert not Contact.objects.exists() and not SatisfactionSurvey.objects.exists()


def test_without_consent_no_question_is_planned(client, phone_user, brp):
    client.force_login(phone_user)

    assert register(client).status_code == 302

    contact = Contact.objects.get()
    assert not contact.survey_consent
    assert not SatisfactionSurvey.objects.exists()
    assert not ScheduledMessage.objects.filter(kind=MessageKind.SATISFACTION).exists()


def test_consent_is_recorded_and_the_question_planned_after_the_delay(client, phone_user, brp):
    client.force_login(phone_user)
    before = timezone.now()

    assert register(client, survey_consent="on", survey_email=f"  {ADDRESS} ").status_code == 302

    contact = Contact.objects.get()
    survey = SatisfactionSurvey.objects.get()
    assert contact.survey_consent
    assert (survey.contact, survey.appointment_id, survey.channel) == (contact, None, "")
    assert (survey.consent_by, survey.consent_channel, survey.address) == (phone_user, "telefoon", ADDRESS)
    assert before <= survey.consent_at <= timezone.now()
    message = ScheduledMessage.objects.get(kind=MessageKind.SATISFACTION)
    assert (message.survey, message.appointment_id, message.status) == (survey, None, MessageStatus.PENDING)
    assert message.due_at == survey.consent_at + timedelta(minutes=settings.NUDGES_SATISFACTION_DELAY_MINUTES)


def test_a_survey_follows_exactly_one_appointment_or_contact(phone_user, brp):
    contact = Contact.objects.create(
        channel_id=1, moment=timezone.now(), day=timezone.localdate(), outcome="answered", source="staff"
    )
    now = timezone.now()
    for fields in ({}, {"appointment_id": 1, "contact": contact}, {"contact": contact}):
        with pytest.raises(IntegrityError), transaction.atomic():
            SatisfactionSurvey.objects.create(token=f"t{len(fields)}", **fields)
    SatisfactionSurvey.objects.create(token="ok", contact=contact, consent_at=now, consent_channel="telefoon")


def test_the_address_is_erased_once_sent_and_the_answer_counts_under_the_contact_channel(
    client, phone_user, manager_user, brp
):
    client.force_login(phone_user)
    register(client, survey_consent="on", survey_email=ADDRESS)
    survey = SatisfactionSurvey.objects.get()

    assert messages_dispatch_due(now=timezone.now()) == 0  # not due yet
    sent = messages_dispatch_due(now=timezone.now() + timedelta(minutes=settings.NUDGES_SATISFACTION_DELAY_MINUTES + 1))

    assert sent == 1
    assert [m.to for m in mail.outbox] == [[ADDRESS]]
    assert mail.outbox[0].subject == "Hoe tevreden bent u over uw contact met de gemeente?"
    assert survey.token in mail.outbox[0].body
    survey.refresh_from_db()
    assert survey.address == ""
    assert not SatisfactionSurvey.objects.exclude(address="").exists()

    client.logout()
    page = client.get(reverse("nudges:satisfaction", args=[survey.token])).content.decode()
    assert "Hoe tevreden bent u over uw contact met de gemeente?" in page
    assert client.post(reverse("nudges:satisfaction", args=[survey.token]), {"score": "4"}).status_code == 302
    second = client.post(reverse("nudges:satisfaction", args=[survey.token]), {"score": "1"})
    assert "Bedankt voor uw antwoord" in second.content.decode()
    survey.refresh_from_db()
    assert survey.score == 4  # one answer per question

    rows = [r for r in satisfaction_selectors.satisfaction_per_channel() if r.answers]
    assert [(r.after, r.channel, r.label, r.sent, r.answers, r.distribution) for r in rows] == [
        ("contact", "telefoon", "Telefoon", 1, 1, (0, 0, 0, 1, 0))
    ]
    client.force_login(manager_user)
    manager_page = client.get(reverse("nudges:manager-satisfaction")).content.decode()
    row = manager_page.split('<th scope="row">Telefoon</th>\n      <td>Na contact</td>')[1].split("</tr>")[0]
    assert "<td>1</td>" in row and "4,00" in row


def test_retention_erases_comments_and_addresses_that_never_went_out(client, phone_user, brp):
    client.force_login(phone_user)
    register(client, survey_consent="on", survey_email=ADDRESS)
    survey = SatisfactionSurvey.objects.get()
    satisfaction.satisfaction_answer(survey=survey, score=2, comment="Lang gewacht aan de telefoon")
    # The e-mail never went out (the outbox failed) and the answer is past the retention period.
    ScheduledMessage.objects.filter(survey=survey).update(status=MessageStatus.FAILED)
    long_ago = timezone.now() - timedelta(days=settings.BOOKING_RETENTION_DAYS + 2)
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(created_at=long_ago, answered_at=long_ago)

    report = personal_data_erase_expired()

    survey.refresh_from_db()
    assert (survey.comment, survey.address, survey.score) == ("", "", 2)
    assert report.steps["contact_survey_addresses"] == 1
    assert report.steps["satisfaction_comments"] == 1
    assert personal_data_erase_expired().steps["contact_survey_addresses"] == 0  # idempotent


def test_a_recent_unsent_address_is_kept_for_the_outbox(client, phone_user, brp):
    client.force_login(phone_user)
    register(client, survey_consent="on", survey_email=ADDRESS)

    assert personal_data_erase_expired().steps["contact_survey_addresses"] == 0
    assert SatisfactionSurvey.objects.get().address == ADDRESS


def test_the_form_labels_its_consent_fields_and_the_panel_prefixes_them(client, phone_user, brp):
    client.force_login(phone_user)

    page = client.get(reverse("contacts:register")).content.decode()

    assert '<label for="id_survey_consent">' in page and 'id="id_survey_consent"' in page
    assert '<label class="label" for="id_survey_email">' in page and 'type="email" name="survey_email"' in page


def test_the_question_goes_out_in_english_when_asked_so(phone_user, brp):
    from nudges.models import ContactChannel

    contact = Contact.objects.create(
        channel=ContactChannel.objects.get(code="e-mail"),
        moment=timezone.now(),
        day=timezone.localdate(),
        outcome="answered",
        source="staff",
    )
    satisfaction.contact_survey_plan(contact=contact, address=ADDRESS, consented_by=phone_user, language="en")

    messages_dispatch_due(now=timezone.now() + timedelta(days=1))

    assert mail.outbox[0].subject == "How satisfied are you with your contact with the municipality?"
    assert "(E-mail). You agreed to be asked one question afterwards." in mail.outbox[0].body
