"""Satisfaction data: one question (1–5) after a served visit."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.constants import Channel


class SatisfactionSurvey(models.Model):
    """The satisfaction question for one served appointment, and its answer (at most one).

    Pseudonymous: the appointment's id and the channel it was booked through, never a name or
    an address. ``token`` is the secret in the e-mailed link (192 bits). ``comment`` is free
    text and may hold personal data, so it is erased ``BOOKING_RETENTION_DAYS`` after it was
    given; the score and the channel stay for the statistics (``nudges.satisfaction``)."""

    COMMENT_MAX_LENGTH = 1000

    appointment_id = models.BigIntegerField(_("afspraak"), unique=True)
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices)
    # The appointment's language: the page opens in it unless the visitor chose another.
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES, default="nl")
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("toelichting"), max_length=COMMENT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    answered_at = models.DateTimeField(_("beantwoord op"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("tevredenheidsvraag")
        verbose_name_plural = _("tevredenheidsvragen")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5), name="satisfaction_score_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True, answered_at__isnull=True)
                | Q(score__isnull=False, answered_at__isnull=False),
                name="satisfaction_answered_with_score",
            ),
        ]
        indexes = [models.Index(fields=["channel", "answered_at"])]

    def __str__(self) -> str:
        return f"appointment {self.appointment_id} ({self.channel})"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
