"""The policy frame ("kaders"): bounds with an append-only history of versions (who set what
and when), a daily measurement per bound, and breaches with the alerts they caused.

Used by ``nudges.cockpit``; daily roll-ups of volumes and experiment counts live here too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from nudges.cockpit.constants import BoundKind
from nudges.models.experiments import AppendOnly


class Bound(models.Model):
    """One bound of the frame: a kind, optionally for one channel, product or location. Its
    limit lives in its versions; the latest version is the one in force."""

    kind = models.CharField(_("soort"), max_length=24, choices=BoundKind.choices)
    channel = models.CharField(_("kanaal"), max_length=20, blank=True)
    product_code = models.CharField(_("product"), max_length=40, blank=True)
    location_id = models.BigIntegerField(_("vestiging"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "channel", "product_code", "location_id"]
        verbose_name = _("kader")
        verbose_name_plural = _("kaders")
        permissions = [("manage_policy", "Kan de kaders vastleggen en de cockpit van de manager zien")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "channel", "product_code", "location_id"],
                name="bound_unique_scope",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return " / ".join(str(x) for x in (self.get_kind_display(), self.channel, self.product_code) if x)


class BoundVersion(AppendOnly):
    """A limit set for a bound by someone at some moment; never changed afterwards."""

    bound = models.ForeignKey(Bound, on_delete=models.PROTECT, related_name="versions")
    limit = models.DecimalField(_("grens"), max_digits=9, decimal_places=2)
    is_active = models.BooleanField(_("actief"), default=True)
    note = models.CharField(_("toelichting"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("door")
    )
    changed_at = models.DateTimeField(_("gewijzigd op"))

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("kaderversie")
        verbose_name_plural = _("kaderversies")


class BoundMeasurement(models.Model):
    """The value of a bound on one local day, written by the daily check (and by "measure now");
    the weekly trend is read from these rows."""

    bound = models.ForeignKey(Bound, on_delete=models.CASCADE, related_name="measurements")
    day = models.DateField(_("dag"))
    value = models.DecimalField(_("waarde"), max_digits=9, decimal_places=2, null=True)
    status = models.CharField(_("status"), max_length=10)
    detail = models.CharField(_("waar"), max_length=300, blank=True)
    measured_at = models.DateTimeField(_("gemeten op"))

    class Meta:
        ordering = ["bound", "day"]
        constraints = [models.UniqueConstraint(fields=["bound", "day"], name="bound_measurement_once_per_day")]

    def __str__(self) -> str:
        return f"{self.bound_id} {self.day}: {self.value}"


class Breach(models.Model):
    """A period in which a bound was breached: opened by the check that first saw it, closed by
    the first check that saw the bound within again. At most one open breach per bound, so a
    breach alerts once however many days it lasts."""

    bound = models.ForeignKey(Bound, on_delete=models.CASCADE, related_name="breaches")
    started_at = models.DateTimeField(_("begonnen"))
    ended_at = models.DateTimeField(_("hersteld"), null=True, blank=True)
    value = models.DecimalField(_("waarde bij begin"), max_digits=9, decimal_places=2)
    limit = models.DecimalField(_("grens bij begin"), max_digits=9, decimal_places=2)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("overschrijding")
        verbose_name_plural = _("overschrijdingen")
        constraints = [
            models.UniqueConstraint(
                fields=["bound"], condition=Q(ended_at__isnull=True), name="breach_one_open_per_bound"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bound} {self.started_at:%Y-%m-%d}"


class BreachAlert(models.Model):
    """The e-mail about one breach to one manager (sent through the outbox)."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="alerts")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "recipient"], name="breach_alert_once_per_manager")]

    def __str__(self) -> str:
        return f"{self.breach_id} → {self.recipient_id}"


# --- Daily roll-ups: what the cockpit pages read instead of scanning the raw rows ------------


class DailyContactVolume(models.Model):
    """Contacts per local day, channel, product ('' for a general question) and outcome, rebuilt
    per day from ``nudges.Contact`` by ``nudges.cockpit.rollups.rollups_refresh``."""

    day = models.DateField()
    channel = models.CharField(max_length=30)
    product_code = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=20)
    contacts = models.PositiveIntegerField()
    handling_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "product_code", "outcome"], name="daily_contact_volume_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.product_code} {self.outcome}: {self.contacts}"


class DailyAppointmentVolume(models.Model):
    """Appointments per local day of the visit, product, booking channel and status (booking's
    plain facts), rebuilt per day like the contacts."""

    day = models.DateField()
    product_code = models.CharField(max_length=40)
    channel = models.CharField(max_length=10)
    status = models.CharField(max_length=12)
    appointments = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product_code", "channel", "status"], name="daily_appointment_volume_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.product_code} {self.channel} {self.status}: {self.appointments}"


class ExperimentCountsSnapshot(models.Model):
    """Per experiment, the grouped counts per variant (``nudges.experiments.results.experiment_counts``)
    as last computed by the roll-up job, so the portfolio never scans a million exposures while
    a manager waits. The statistics are computed from these counts on the page."""

    experiment = models.OneToOneField("Experiment", on_delete=models.CASCADE, related_name="+")
    counts = models.JSONField()
    computed_at = models.DateTimeField()
    # For a stored analysis moment: that moment, and how many exposure and outcome rows up to it
    # were counted. Those rows are append-only, so the same number means the same rows and the
    # counts need not be recounted.
    analysed_until = models.DateTimeField(null=True, blank=True)
    rows_counted = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.experiment_id} @ {self.computed_at:%Y-%m-%d %H:%M}"
