"""Satisfaction: one question (1–5) by e-mail after a served visit, or after a contact when
the citizen agreed to it, compared per channel.

Public:

- ``satisfaction_plan``: booking hook (status changed, run inside the desk's transaction, so
  the outbox row commits with "served" or not at all); when a visit is served, plans the one
  e-mail through the outbox (``NUDGES_SATISFACTION_DELAY_MINUTES`` later);
- ``contact_survey_plan``: the question after a contact (phone, e-mail, …) with the citizen's
  consent; the address lives on the survey row until the e-mail has gone out;
- ``satisfaction_build`` / ``satisfaction_sent``: the outbox builder and sent callback for
  ``MessageKind.SATISFACTION`` rows;
- ``survey_get_by_token`` (selector) and ``satisfaction_answer`` (service): the citizen's page;
- ``nudges.satisfaction.selectors.satisfaction_per_channel``: the manager's comparison;
- ``satisfaction_comments_erase_expired`` and ``contact_survey_addresses_erase_expired``: the
  retention steps (``booking.retention``).

One question per appointment and one answer: a second answer is refused (the first stays),
so every appointment weighs the same in the figures. Undoing "served" before the e-mail goes
cancels it (the builder finds the visit no longer served); serving again never plans a
second one. Nothing personal is stored here: the appointment id, the channel, the score and
an optional comment, which is erased after the retention period because free text may hold
personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from booking.constants import AppointmentStatus
from booking.notifications import greeting_name
from booking.selectors import appointment_facts, appointment_get
from booking.services import new_token
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.exceptions import InvalidInput, NudgeError
from nudges.models import ChannelKind, Contact, SatisfactionSurvey, ScheduledMessage
from nudges.outbox.dispatch import Outgoing, email_from_templates, message_enqueue
from nudges.outbox.selectors import messages_exist

logger = logging.getLogger(__name__)

EMAIL_TEMPLATE = "nudges/satisfaction/email/satisfaction"
CONTACT_EMAIL_TEMPLATE = "nudges/satisfaction/email/contact_satisfaction"
SCORES = (1, 2, 3, 4, 5)
SCORE_LABELS = {
    1: _("Zeer ontevreden"),
    2: _("Ontevreden"),
    3: _("Neutraal"),
    4: _("Tevreden"),
    5: _("Zeer tevreden"),
}
# A row in these states means the question is on its way or has gone: never plan another.
_PLANNED_OR_GONE = (MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.FAILED)


class AlreadyAnswered(NudgeError):
    http_status = 409
    code = "already_answered"
    default_message = _("U heeft deze vraag al beantwoord. Per afspraak telt één antwoord.")


# --- planning and sending -------------------------------------------------------------------


def satisfaction_plan(appointment_id: int, *, now: datetime | None = None) -> bool:
    """Booking hook: plan the satisfaction e-mail when the visit has been served; returns
    whether one was planned now.

    Only for an appointment with an e-mail address whose data has not been erased. One per
    appointment: the survey row is locked while checking the outbox, so served twice, or
    undone and served again, or two hooks at once, plan one e-mail. If an earlier one was
    cancelled because "served" had been undone when it fell due, serving again plans anew.
    """
    now = now or timezone.now()
    appointment = appointment_facts(appointment_id)
    if (
        appointment is None
        or appointment.status != AppointmentStatus.SERVED
        or not appointment.email
        or appointment.anonymised_at is not None
    ):
        return False
    due_at = (appointment.handled_at or now) + timedelta(minutes=settings.NUDGES_SATISFACTION_DELAY_MINUTES)
    with transaction.atomic():
        survey, _created = SatisfactionSurvey.objects.get_or_create(
            appointment_id=appointment.id,
            defaults={"token": new_token(), "channel": appointment.channel, "language": appointment.language},
        )
        survey = SatisfactionSurvey.objects.select_for_update().get(pk=survey.pk)
        if survey.is_answered or messages_exist(
            kind=MessageKind.SATISFACTION, appointment_id=appointment.id, statuses=_PLANNED_OR_GONE
        ):
            return False
        message_enqueue(
            kind=MessageKind.SATISFACTION, due_at=due_at, appointment_id=appointment.id, channel=MessageChannel.EMAIL
        )
        planned = messages_exist(
            kind=MessageKind.SATISFACTION, appointment_id=appointment.id, statuses=[MessageStatus.PENDING]
        )
    if planned:
        logger.info("Satisfaction e-mail planned for appointment id %s", appointment.id)
    return planned


def survey_url(survey: SatisfactionSurvey, *, score: int | None = None) -> str:
    """The absolute link in the e-mail; with ``score`` the page opens with that answer chosen
    (opening it stores nothing: mail scanners follow links)."""
    url = settings.SITE_URL + reverse("nudges:satisfaction", args=[survey.token])
    return f"{url}?score={score}" if score else url


def contact_survey_plan(
    *, contact: Contact, address: str, consented_by, language: str = "nl", now: datetime | None = None
) -> SatisfactionSurvey:
    """The citizen agreed to one satisfaction question by e-mail after this contact: record
    the consent (when, by whom, on which channel) and plan the e-mail through the outbox
    ``NUDGES_SATISFACTION_DELAY_MINUTES`` from now, in one transaction. Not for counter
    contacts (a served visit gets its question through the appointment). The address is
    kept on the survey row only until the e-mail has gone out."""
    now = now or timezone.now()
    if contact.channel.kind == ChannelKind.COUNTER:
        raise InvalidInput(
            _("Na een baliebezoek volgt de vraag via de afspraak; kies een ander kanaal."), field="survey_consent"
        )
    address = (address or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(_("Vul een geldig e-mailadres in."), field="survey_email") from None
    with transaction.atomic():
        survey = SatisfactionSurvey.objects.create(
            contact=contact,
            token=new_token(),
            language=language if language in dict(settings.LANGUAGES) else "nl",
            address=address,
            consent_at=now,
            consent_by=consented_by,
            consent_channel=contact.channel.code,
        )
        message_enqueue(
            kind=MessageKind.SATISFACTION,
            due_at=now + timedelta(minutes=settings.NUDGES_SATISFACTION_DELAY_MINUTES),
            survey_id=survey.pk,
            channel=MessageChannel.EMAIL,
        )
    logger.info("Satisfaction e-mail planned for contact id %s", contact.pk)
    return survey


def _contact_build(message: ScheduledMessage) -> Outgoing | None:
    if message.survey_id is None or message.channel != MessageChannel.EMAIL:
        return None
    survey = (
        SatisfactionSurvey.objects.select_related("contact__channel")
        .filter(pk=message.survey_id, answered_at__isnull=True)
        .exclude(address="")
        .first()
    )
    if survey is None or survey.contact is None:
        return None
    with translation.override(survey.language):
        context = {
            "contact": survey.contact,
            "channel": survey.contact.channel.name,
            "survey_url": survey_url(survey),
            "score_links": [(score, SCORE_LABELS[score], survey_url(survey, score=score)) for score in SCORES],
            "retention_days": settings.BOOKING_RETENTION_DAYS,
        }
        return email_from_templates(
            to=survey.address, template_prefix=CONTACT_EMAIL_TEMPLATE, context=context, language=survey.language
        )


def satisfaction_sent(message: ScheduledMessage, outgoing: Outgoing, now: datetime) -> None:
    """Outbox ``sent`` callback: a contact's address has done its job and goes."""
    if message.survey_id:
        SatisfactionSurvey.objects.filter(pk=message.survey_id).update(address="")


def satisfaction_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: the question in the citizen's language, or None when it is no longer
    wanted (the visit is no longer served, its data was erased, or it was answered already;
    for a contact: answered, or its address already erased)."""
    if message.survey_id:
        return _contact_build(message)
    appointment = appointment_get(message.appointment_id)
    if (
        message.channel != MessageChannel.EMAIL
        or appointment is None
        or appointment.status != AppointmentStatus.SERVED
        or appointment.anonymised_at is not None
        or not appointment.email
    ):
        return None
    survey = SatisfactionSurvey.objects.filter(appointment_id=appointment.id, answered_at__isnull=True).first()
    if survey is None:
        return None
    with translation.override(appointment.language):
        context = {
            "appointment": appointment,
            "greeting_name": greeting_name(appointment),
            "location": appointment.desk.location,
            "products": list(appointment.products.all()),
            "survey_url": survey_url(survey),
            "score_links": [(score, SCORE_LABELS[score], survey_url(survey, score=score)) for score in SCORES],
            "retention_days": settings.BOOKING_RETENTION_DAYS,
        }
        return email_from_templates(
            to=appointment.email, template_prefix=EMAIL_TEMPLATE, context=context, language=appointment.language
        )


# --- answering ------------------------------------------------------------------------------


def survey_get_by_token(token: str, *, now: datetime | None = None) -> SatisfactionSurvey | None:
    """The survey behind a link, or None: unknown, or older than ``NUDGES_SATISFACTION_LINK_DAYS``
    (a link in an old mailbox opens nothing any more)."""
    if not token or len(token) > 64:
        return None
    oldest = (now or timezone.now()) - timedelta(days=settings.NUDGES_SATISFACTION_LINK_DAYS)
    return SatisfactionSurvey.objects.filter(token=token, created_at__gte=oldest).first()


def satisfaction_answer(
    *, survey: SatisfactionSurvey, score: int, comment: str = "", now: datetime | None = None
) -> SatisfactionSurvey:
    """Store the one answer: a score 1–5 and an optional comment (at most 1000 characters).
    A second answer raises ``AlreadyAnswered`` and changes nothing, also when two arrive at once."""
    now = now or timezone.now()
    if score not in SCORES:
        raise InvalidInput(_("Kies een cijfer van 1 tot 5."), field="score")
    comment = (comment or "").strip()
    if len(comment) > SatisfactionSurvey.COMMENT_MAX_LENGTH:
        raise InvalidInput(
            _("Uw toelichting is te lang: maximaal %(max)s tekens.") % {"max": SatisfactionSurvey.COMMENT_MAX_LENGTH},
            field="comment",
        )
    # One conditional UPDATE: of two answers at once exactly one finds the row unanswered.
    stored = SatisfactionSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        score=score, comment=comment, answered_at=now
    )
    if not stored:
        raise AlreadyAnswered()
    logger.info(
        "Satisfaction answered for %s id %s",
        "contact" if survey.contact_id else "appointment",
        survey.contact_id or survey.appointment_id,
    )
    survey.refresh_from_db()
    return survey


# --- retention ------------------------------------------------------------------------------


def satisfaction_comments_erase_expired(*, cutoff: datetime, dry_run: bool = False) -> int:
    """Retention step (registered with ``booking.retention``): empty the free-text comments
    given before ``cutoff``; the score and channel stay. Returns how many (would be) erased.
    Idempotent: an erased comment is empty and not counted again."""
    expired = SatisfactionSurvey.objects.filter(answered_at__lt=cutoff).exclude(comment="")
    if dry_run:
        return expired.count()
    erased = expired.update(comment="")
    if erased:
        logger.info("Erased %s satisfaction comments given before %s", erased, cutoff.isoformat())
    return erased


def contact_survey_addresses_erase_expired(*, cutoff: datetime, dry_run: bool = False) -> int:
    """Retention step: a contact's e-mail address that is still there a day after its
    question fell due (the e-mail failed or was not wanted any more) is erased too; the
    ``sent`` callback erases it as soon as the e-mail has gone. Returns how many."""
    done_before = timezone.now() - timedelta(days=1, minutes=settings.NUDGES_SATISFACTION_DELAY_MINUTES)
    expired = SatisfactionSurvey.objects.filter(created_at__lt=min(cutoff, done_before)).exclude(address="")
    return expired.count() if dry_run else expired.update(address="")
