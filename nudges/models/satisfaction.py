"""Satisfaction data: one question (1–5) after a served visit."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.constants import Channel


class SatisfactionSurvey(models.Model):
    """The satisfaction question for one served appointment or one contact, and its answer
    (at most one).

    Pseudonymous: the appointment's id and the channel it was booked through, or the contact
    (its channel is the contact's), never a name. A contact's question needs the citizen's
    consent, recorded here (when, by whom, on which contact channel); ``address`` is the
    e-mail address to ask it at, kept only until the message has gone out (the outbox's
    ``sent`` callback and the retention step empty it), so the contact never holds it. ``token`` is the secret in the e-mailed link (192 bits). ``comment`` is free
    text and may hold personal data, so it is erased ``BOOKING_RETENTION_DAYS`` after it was
    given; the score and the channel stay for the statistics (``nudges.satisfaction``)."""

    COMMENT_MAX_LENGTH = 1000

    appointment_id = models.BigIntegerField(_("afspraak"), unique=True, null=True, blank=True)
    contact = models.OneToOneField(
        "Contact",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="satisfaction_survey",
        verbose_name=_("contact"),
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    # The booking channel; empty for a contact's question (its channel is the contact's).
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices, blank=True)
    address = models.EmailField(_("e-mailadres"), max_length=254, blank=True)
    consent_at = models.DateTimeField(_("toestemming gegeven op"), null=True, blank=True)
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("toestemming vastgelegd door"),
    )
    consent_channel = models.CharField(_("toestemming via kanaal"), max_length=30, blank=True)
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
            # Exactly one of them: the question follows an appointment or a contact.
            models.CheckConstraint(
                condition=Q(appointment_id__isnull=False, contact__isnull=True)
                | Q(appointment_id__isnull=True, contact__isnull=False),
                name="satisfaction_appointment_or_contact",
            ),
            # A contact's question only with the citizen's recorded consent.
            models.CheckConstraint(
                condition=Q(contact__isnull=True) | Q(consent_at__isnull=False, consent_channel__gt=""),
                name="satisfaction_contact_with_consent",
            ),
        ]
        indexes = [models.Index(fields=["channel", "answered_at"])]

    def __str__(self) -> str:
        if self.contact_id:
            return f"contact {self.contact_id} ({self.consent_channel})"
        return f"appointment {self.appointment_id} ({self.channel})"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
