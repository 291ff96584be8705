"""Outbox data: ``ScheduledMessage`` (one message to send, of any kind) and its append-only
``DeliveryAttempt`` log. Only ``nudges.outbox`` writes these rows."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from nudges.constants import AttemptOutcome, MessageChannel, MessageKind, MessageStatus
from nudges.models.experiments import AppendOnly


class ScheduledMessage(models.Model):
    """One message to send at ``due_at`` (the outbox). The dispatcher in ``nudges.outbox.dispatch``
    claims due rows with SELECT … FOR UPDATE SKIP LOCKED, so any number of workers can run it.
    The unique key makes planning idempotent. ``last_error`` holds an error class or code,
    never an address or a name."""

    # Empty for messages about something else than one appointment (a waiting-list offer).
    appointment = models.ForeignKey(
        "booking.Appointment",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("afspraak"),
        null=True,
        blank=True,
    )
    # A waiting-list offer is about a freed time, not about one appointment (nudges.waitlist).
    waitlist_offer = models.ForeignKey(
        "WaitlistOffer",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("wachtlijstaanbod"),
        null=True,
        blank=True,
    )
    # The confirmation of a waiting-list entry's address (double opt-in) is about the entry.
    waitlist_entry = models.ForeignKey(
        "WaitlistEntry",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("wachtlijstaanmelding"),
        null=True,
        blank=True,
    )
    # The online link a phone agent sends a caller (nudges.channels.kcc).
    online_link = models.ForeignKey(
        "OnlineLink",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("online link"),
        null=True,
        blank=True,
    )
    # The satisfaction question after a contact (nudges.satisfaction): about the survey row,
    # which holds the address until it has gone out.
    survey = models.ForeignKey(
        "SatisfactionSurvey",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("tevredenheidsvraag"),
        null=True,
        blank=True,
    )
    # A policy-frame breach alert to one manager (nudges.cockpit).
    breach_alert = models.ForeignKey(
        "BreachAlert",
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("kaderalarm"),
        null=True,
        blank=True,
    )
    kind = models.CharField(_("soort"), max_length=20, choices=MessageKind.choices)
    channel = models.CharField(_("kanaal"), max_length=10, choices=MessageChannel.choices)
    due_at = models.DateTimeField(_("te verzenden op"))
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    last_error = models.CharField(_("laatste fout"), max_length=200, blank=True)
    provider_id = models.CharField(_("kenmerk verzender"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("verzonden op"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("opgepakt op"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("gepland bericht")
        verbose_name_plural = _("geplande berichten")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "channel", "due_at"], name="scheduled_message_unique_per_due"
            ),
            models.UniqueConstraint(
                fields=["waitlist_offer", "kind", "channel"], name="scheduled_message_unique_per_waitlist_offer"
            ),
            models.UniqueConstraint(
                fields=["waitlist_entry", "kind", "channel"], name="scheduled_message_unique_per_waitlist_entry"
            ),
            models.UniqueConstraint(
                fields=["online_link", "kind", "channel"], name="scheduled_message_unique_per_online_link"
            ),
            models.UniqueConstraint(fields=["survey", "kind", "channel"], name="scheduled_message_unique_per_survey"),
            models.UniqueConstraint(
                fields=["breach_alert", "kind", "channel"], name="scheduled_message_unique_per_breach_alert"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            # The dispatcher's claim: the first pending row by (due_at, id). Without it every
            # claim sorted all pending rows (11.5 ms at 10,000 pending, against 0.1 ms).
            models.Index(
                fields=["due_at", "id"], condition=Q(status=MessageStatus.PENDING), name="scheduled_message_claim"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.kind}/{self.channel} {self.due_at:%Y-%m-%d %H:%M} {self.status}"


class DeliveryAttempt(AppendOnly):
    """One attempt to deliver a scheduled message, written once it has an outcome (append-only).
    ``error`` holds an error class or code only, never personal data."""

    message = models.ForeignKey(
        ScheduledMessage, on_delete=models.CASCADE, related_name="delivery_attempts", verbose_name=_("bericht")
    )
    started_at = models.DateTimeField(_("begonnen"))
    finished_at = models.DateTimeField(_("klaar"))
    outcome = models.CharField(_("uitkomst"), max_length=10, choices=AttemptOutcome.choices)
    error = models.CharField(_("fout"), max_length=200, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        verbose_name = _("verzendpoging")
        verbose_name_plural = _("verzendpogingen")

    def __str__(self) -> str:
        return f"{self.message_id} {self.outcome} {self.started_at:%Y-%m-%d %H:%M:%S}"
