"""Satisfaction: one question (1–5) by e-mail after a served visit, compared per channel.

Public:

- ``satisfaction_plan``: booking hook (status changed, run inside the desk's transaction, so
  the outbox row commits with "served" or not at all); when a visit is served, plans the one
  e-mail through the outbox (``NUDGES_SATISFACTION_DELAY_MINUTES`` later);
- ``satisfaction_build``: the outbox builder for ``MessageKind.SATISFACTION`` rows;
- ``survey_get_by_token`` (selector) and ``satisfaction_answer`` (service): the citizen's page;
- ``satisfaction_per_channel`` (selector): the manager's comparison;
- ``satisfaction_comments_erase_expired``: the retention step (``booking.retention``).

One question per appointment and one answer: a second answer is refused (the first stays),
so every appointment weighs the same in the figures. Undoing "served" before the e-mail goes
cancels it (the builder finds the visit no longer served); serving again never plans a
second one. Nothing personal is stored here: the appointment id, the channel, the score and
an optional comment, which is erased after the retention period because free text may hold
personal data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from scipy import stats as scipy_stats

from booking.constants import AppointmentStatus, Channel
from booking.models import Appointment
from booking.selectors import appointment_facts
from booking.services import new_token
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.exceptions import InvalidInput, NudgeError
from nudges.models import SatisfactionSurvey, ScheduledMessage
from nudges.outbox.dispatch import Outgoing, email_from_templates, message_enqueue
from nudges.outbox.selectors import messages_exist, sent_for_appointment

logger = logging.getLogger(__name__)

EMAIL_TEMPLATE = "nudges/satisfaction/email/satisfaction"
SCORES = (1, 2, 3, 4, 5)
SCORE_LABELS = {
    1: _("Zeer ontevreden"),
    2: _("Ontevreden"),
    3: _("Neutraal"),
    4: _("Tevreden"),
    5: _("Zeer tevreden"),
}
# Below this many answers a channel's mean is shown with a warning: it is still unsteady.
FEW_ANSWERS = 30
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


def satisfaction_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: the question in the citizen's language, or None when it is no longer
    wanted (the visit is no longer served, its data was erased, or it was answered already)."""
    appointment = (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=message.appointment_id)
        .first()
    )
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


def survey_get_by_token(token: str) -> SatisfactionSurvey | None:
    if not token or len(token) > 64:
        return None
    return SatisfactionSurvey.objects.filter(token=token).first()


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
    logger.info("Satisfaction answered for appointment id %s", survey.appointment_id)
    survey.refresh_from_db()
    return survey


# --- the manager's figures ------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSatisfaction:
    channel: str
    label: str
    sent: int
    answers: int
    distribution: tuple[int, ...]  # number of answers with score 1, 2, 3, 4, 5
    mean: float | None
    ci_low: float | None  # 95% t-interval of the mean
    ci_high: float | None

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.sent if self.sent else None

    @property
    def response_percent(self) -> float | None:
        rate = self.response_rate
        return None if rate is None else rate * 100

    @property
    def few_answers(self) -> bool:
        return self.answers < FEW_ANSWERS

    @property
    def distribution_rows(self) -> list[tuple[int, int, float | None]]:
        """(score, answers, percentage of answers) for 1 to 5."""
        return [
            (s, n, 100 * n / self.answers if self.answers else None)
            for s, n in zip(SCORES, self.distribution, strict=True)
        ]


def _mean_interval(distribution: tuple[int, ...]) -> tuple[float | None, float | None, float | None]:
    n = sum(distribution)
    if n == 0:
        return None, None, None
    mean = sum(s * k for s, k in zip(SCORES, distribution, strict=True)) / n
    if n < 2:
        return mean, None, None
    variance = sum(k * (s - mean) ** 2 for s, k in zip(SCORES, distribution, strict=True)) / (n - 1)
    if variance == 0:
        return mean, mean, mean
    low, high = scipy_stats.t.interval(0.95, df=n - 1, loc=mean, scale=math.sqrt(variance / n))
    return mean, max(1.0, float(low)), min(5.0, float(high))


def satisfaction_per_channel(*, since: datetime | None = None) -> list[ChannelSatisfaction]:
    """Per booking channel: questions sent, answers, the distribution of scores 1–5, the mean
    with its 95% interval. "Sent" counts e-mails the outbox delivered, plus any question that
    was answered (its e-mail evidently arrived, even if the outbox could not confirm it), so
    the response rate never exceeds 100%. ``since``: only visits served since then."""
    surveys = SatisfactionSurvey.objects.annotate(was_sent=sent_for_appointment(kind=MessageKind.SATISFACTION))
    if since is not None:
        surveys = surveys.filter(created_at__gte=since)
    counts = {
        row["channel"]: row
        for row in surveys.values("channel").annotate(
            sent=Count("pk", filter=Q(was_sent=True) | Q(answered_at__isnull=False)),
            answers=Count("pk", filter=Q(answered_at__isnull=False)),
            **{f"score_{s}": Count("pk", filter=Q(score=s)) for s in SCORES},
        )
    }
    result = []
    for channel, label in Channel.choices:
        row = counts.get(channel, {})
        distribution = tuple(row.get(f"score_{s}", 0) for s in SCORES)
        mean, low, high = _mean_interval(distribution)
        result.append(
            ChannelSatisfaction(
                channel=channel,
                label=str(label),
                sent=row.get("sent", 0),
                answers=row.get("answers", 0),
                distribution=distribution,
                mean=mean,
                ci_low=low,
                ci_high=high,
            )
        )
    return result


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
