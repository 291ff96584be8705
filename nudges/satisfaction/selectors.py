"""Satisfaction figures for the manager (and the cockpit's satisfaction bounds): per channel,
questions sent, answers, the distribution of scores and the mean with its 95% interval."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from scipy import stats as scipy_stats

from booking.constants import Channel
from nudges.constants import MessageKind
from nudges.models import ChannelKind, ContactChannel, SatisfactionSurvey
from nudges.outbox.selectors import sent_for_appointment, sent_for_survey
from nudges.satisfaction.services import SCORES

# Below this many answers a channel's mean is shown with a warning: it is still unsteady.
FEW_ANSWERS = 30


@dataclass(frozen=True)
class ChannelSatisfaction:
    channel: str  # the booking channel, or the contact channel's code
    label: str
    after: str  # "appointment" (booked through ``channel``) or "contact" (on ``channel``)
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


def _channel_row(*, channel: str, label: str, after: str, row: Mapping[str, Any]) -> ChannelSatisfaction:
    distribution = tuple(row.get(f"score_{s}", 0) for s in SCORES)
    mean, low, high = _mean_interval(distribution)
    return ChannelSatisfaction(
        channel=channel,
        label=label,
        after=after,
        sent=row.get("sent", 0),
        answers=row.get("answers", 0),
        distribution=distribution,
        mean=mean,
        ci_low=low,
        ci_high=high,
    )


def satisfaction_per_channel(*, since: datetime | None = None) -> list[ChannelSatisfaction]:
    """Per channel, one table: first the booking channels (questions after a served visit),
    then the contact channels (questions after a contact, with consent; names from
    ``ContactChannel``). Each row: questions sent, answers, the distribution of scores 1–5,
    the mean with its 95% interval. "Sent" counts e-mails the outbox delivered, plus any
    question that was answered (its e-mail evidently arrived, even if the outbox could not
    confirm it), so the response rate never exceeds 100%. ``since``: only questions planned
    since then. Contact channels show when active and not the counter, or when they have
    questions."""
    surveys = SatisfactionSurvey.objects.annotate(
        sent_after_visit=sent_for_appointment(kind=MessageKind.SATISFACTION),
        sent_after_contact=sent_for_survey(kind=MessageKind.SATISFACTION),
    )
    if since is not None:
        surveys = surveys.filter(created_at__gte=since)
    # (booking channel or "", contact channel id or None) -> the counts
    counts: dict[tuple[str, int | None], Mapping[str, Any]] = {
        (row["channel"], row["contact__channel"]): row
        for row in surveys.values("channel", "contact__channel").annotate(
            sent=Count(
                "pk", filter=Q(sent_after_visit=True) | Q(sent_after_contact=True) | Q(answered_at__isnull=False)
            ),
            answers=Count("pk", filter=Q(answered_at__isnull=False)),
            **{f"score_{s}": Count("pk", filter=Q(score=s)) for s in SCORES},
        )
    }
    result = [
        _channel_row(channel=channel, label=str(label), after="appointment", row=counts.get((channel, None), {}))
        for channel, label in Channel.choices
    ]
    asked = {contact_channel for _channel, contact_channel in counts if contact_channel is not None}
    contact_channels = ContactChannel.objects.filter(
        Q(pk__in=asked) | (Q(is_active=True) & ~Q(kind=ChannelKind.COUNTER))
    )
    result += [
        _channel_row(channel=cc.code, label=cc.name, after="contact", row=counts.get(("", cc.pk), {}))
        for cc in contact_channels
    ]
    return result
