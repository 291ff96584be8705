"""Channel-steering data: interventions, experiments with their variants, and the logs
(exposures, exemptions, outcomes, online references, appointment links).

Size (~420 lines): one model per table with its validation; nothing else lives here.

Privacy: every log row holds a pseudonymous ``unit_hash`` only (HMAC-SHA256 of a random unit
id under ``NUDGES_UNIT_HASH_KEY``); never an IP address, name, e-mail or BSN. The logs are
append-only: rows are inserted once and never changed or removed through the ORM.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.models import Product
from nudges.constants import (
    KIND_PRINCIPLE,
    PLACEHOLDERS,
    REMINDER_KINDS,
    ContentKind,
    ExemptionReason,
    ExperimentStatus,
    Metric,
    OutcomeKind,
    Principle,
    Source,
    Touchpoint,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

UNIT_HASH_LENGTH = 64  # hex SHA-256

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# "85%", "85 %", "85 procent", "85 percent": a figure typed in by hand.
_TYPED_PERCENTAGE = re.compile(r"\d\s*(%|procent|percent)", re.IGNORECASE)


def new_salt() -> str:
    return secrets.token_hex(8)


def _en() -> bool:
    return (get_language() or "nl").startswith("en")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only")


class Intervention(models.Model):
    """What is shown at a touchpoint, for which products, with its EAST principle and wording."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("naam"), max_length=120)
    touchpoint = models.CharField(_("moment"), max_length=20, choices=Touchpoint.choices)
    products = models.ManyToManyField(Product, related_name="+", verbose_name=_("producten"))
    kind = models.CharField(_("soort inhoud"), max_length=20, choices=ContentKind.choices)
    principle = models.CharField(_("EAST-principe"), max_length=12, choices=Principle.choices)
    headline_nl = models.CharField(_("kop (NL)"), max_length=150)
    headline_en = models.CharField(_("kop (EN)"), max_length=150)
    message_nl = models.TextField(
        _("tekst (NL)"),
        help_text=_(
            "Plaatshouders: {product}, {requirements}, {fee_online}, {fee_counter}, {discount}, {share}, "
            "{online_cases}, {cases}, {period_days}, {since}, {until}; in herinneringen ook {cost}, {bookings} "
            "en {location}. Typ geen cijfers of percentages: die worden berekend."
        ),
    )
    message_en = models.TextField(_("tekst (EN)"))
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("interventie")
        verbose_name_plural = _("interventies")

    WORDING_FIELDS = ("kind", "principle", "touchpoint", "headline_nl", "headline_en", "message_nl", "message_en")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Rewording a nudge inside a started experiment would change its treatment halfway.
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values(*self.WORDING_FIELDS).first()
            changed = stored and any(getattr(self, f) != stored[f] for f in self.WORDING_FIELDS)
            if changed and self.variants.exclude(experiment__status=ExperimentStatus.DRAFT).exists():
                from nudges.exceptions import ExperimentLocked

                raise ExperimentLocked()
        super().save(*args, **kwargs)

    @property
    def headline(self) -> str:
        return self.headline_en if _en() else self.headline_nl

    @property
    def message(self) -> str:
        return self.message_en if _en() else self.message_nl

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.kind and self.principle and KIND_PRINCIPLE.get(self.kind) != self.principle:
            errors["principle"] = _("Dit principe past niet bij de soort inhoud.")
        if self.kind and self.touchpoint and (self.kind in REMINDER_KINDS) != (self.touchpoint == Touchpoint.REMINDER):
            errors["kind"] = _("Deze soort inhoud past niet bij dit moment.")
        for field in ("headline_nl", "headline_en", "message_nl", "message_en"):
            text = getattr(self, field) or ""
            unknown = sorted(set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS)
            if unknown:
                errors[field] = _("Onbekende plaatshouder: %(names)s.") % {"names": ", ".join(unknown)}
            elif _TYPED_PERCENTAGE.search(text):
                errors[field] = _("Typ geen percentages: gebruik {share}, dat wordt berekend uit eigen gegevens.")
        if errors:
            raise ValidationError(errors)


class Experiment(models.Model):
    name = models.CharField(_("naam"), max_length=150)
    purpose_nl = models.TextField(_("doel (NL)"), help_text=_("Voor het openbare register: waarom dit experiment."))
    purpose_en = models.TextField(_("doel (EN)"), blank=True)
    touchpoint = models.CharField(
        _("moment"), max_length=20, choices=Touchpoint.choices, default=Touchpoint.PRODUCT_CHOICE
    )
    products = models.ManyToManyField(Product, related_name="+", verbose_name=_("producten"))
    hypothesis = models.TextField(_("hypothese"), blank=True)
    primary_metric = models.CharField(_("primaire maat"), max_length=24, choices=Metric.choices, blank=True)
    guardrail_metrics = models.JSONField(_("bewakingsmaten"), default=list, blank=True)
    planned_sample_per_variant = models.PositiveIntegerField(
        _("geplande steekproef per variant"), null=True, blank=True
    )
    salt = models.CharField(_("salt"), max_length=32, default=new_salt)
    status = models.CharField(
        _("status"), max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eigenaar"),
    )
    planned_start = models.DateField(_("geplande start"), null=True, blank=True)
    planned_end = models.DateField(_("gepland einde"), null=True, blank=True)
    started_at = models.DateTimeField(_("gestart op"), null=True, blank=True)
    finished_at = models.DateTimeField(_("afgerond op"), null=True, blank=True)
    # Fixed-horizon analysis: the first look at which every arm had its planned sample. The
    # analysis is as of this moment from then on (later page views do not re-test).
    analysis_frozen_at = models.DateTimeField(_("analyse vastgelegd op"), null=True, blank=True, editable=False)
    conclusion_nl = models.TextField(_("conclusie (NL)"), blank=True)
    conclusion_en = models.TextField(_("conclusie (EN)"), blank=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    # Frozen once the experiment has started (see services.experiment_update).
    LOCKED_FIELDS = (
        "touchpoint",
        "hypothesis",
        "primary_metric",
        "guardrail_metrics",
        "planned_sample_per_variant",
        "salt",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("experiment")
        verbose_name_plural = _("experimenten")
        permissions = [("manage_experiments", "Kan nudge-experimenten opzetten, starten, pauzeren en afronden")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Last line of defence under the service, the form and the admin.
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values("status", *self.LOCKED_FIELDS).first()
            if stored and stored["status"] != ExperimentStatus.DRAFT:
                changed = [f for f in self.LOCKED_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    from nudges.exceptions import ExperimentLocked

                    raise ExperimentLocked()
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        return self.status != ExperimentStatus.DRAFT

    @property
    def purpose(self) -> str:
        return (self.purpose_en or self.purpose_nl) if _en() else self.purpose_nl

    @property
    def conclusion(self) -> str:
        return (self.conclusion_en or self.conclusion_nl) if _en() else self.conclusion_nl


class Variant(models.Model):
    """One arm of an experiment: the control (no intervention) or an intervention, with a weight."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="variants", verbose_name=_("experiment")
    )
    key = models.SlugField(_("sleutel"), max_length=30)
    intervention = models.ForeignKey(
        Intervention,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="variants",
        verbose_name=_("interventie"),
        help_text=_("Leeg: de controlegroep (geen nudge)."),
    )
    weight = models.PositiveSmallIntegerField(_("gewicht"), default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["experiment", "pk"]
        verbose_name = _("variant")
        verbose_name_plural = _("varianten")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="variant_unique_key"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="variant_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.key

    def save(self, *args, **kwargs):
        self._refuse_if_locked()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_locked()
        return super().delete(*args, **kwargs)

    @property
    def is_control(self) -> bool:
        return self.intervention_id is None

    def _refuse_if_locked(self) -> None:
        status = Experiment.objects.filter(pk=self.experiment_id).values_list("status", flat=True).first()
        if status and status != ExperimentStatus.DRAFT:
            from nudges.exceptions import ExperimentLocked

            raise ExperimentLocked()


class Exposure(AppendOnly):
    """A unit saw its assigned variant (control included: the page without a nudge). One row
    per unit and experiment: the first exposure; repeats are not logged again."""

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="exposures")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="exposures")
    unit_hash = models.CharField(max_length=UNIT_HASH_LENGTH)
    touchpoint = models.CharField(max_length=20, choices=Touchpoint.choices)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    # The social-norm figure had too few cases behind it, so neutral wording was shown.
    fallback = models.BooleanField(default=False)
    exposed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("blootstelling")
        verbose_name_plural = _("blootstellingen")
        constraints = [models.UniqueConstraint(fields=["experiment", "unit_hash"], name="exposure_once_per_unit")]
        indexes = [models.Index(fields=["experiment", "variant"])]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant_id} {self.exposed_at:%Y-%m-%d %H:%M}"


class Exemption(AppendOnly):
    """A unit was never nudged in this experiment, and why. Not an exposure."""

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="exemptions")
    unit_hash = models.CharField(max_length=UNIT_HASH_LENGTH)
    reason = models.CharField(max_length=20, choices=ExemptionReason.choices)
    touchpoint = models.CharField(max_length=20, choices=Touchpoint.choices)
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("uitzondering")
        verbose_name_plural = _("uitzonderingen")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_hash", "reason"], name="exemption_once_per_reason")
        ]
        indexes = [models.Index(fields=["unit_hash", "reason"])]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.reason} {self.at:%Y-%m-%d %H:%M}"


class Outcome(AppendOnly):
    """What an exposed unit did. At most one row per unit, experiment and kind."""

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="outcomes")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="outcomes")
    unit_hash = models.CharField(max_length=UNIT_HASH_LENGTH)
    kind = models.CharField(max_length=24, choices=OutcomeKind.choices)
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name = _("uitkomst")
        verbose_name_plural = _("uitkomsten")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_hash", "kind"], name="outcome_once_per_kind")
        ]
        indexes = [models.Index(fields=["experiment", "kind", "unit_hash"])]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class OnlineReference(AppendOnly):
    """The opaque reference appended to the online form's URL by the tracked redirect; the
    online channel reports completion with it. Carries no personal data."""

    reference = models.CharField(max_length=32, unique=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="online_references")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="+")
    unit_hash = models.CharField(max_length=UNIT_HASH_LENGTH)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("online referentie")
        verbose_name_plural = _("online referenties")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_hash", "product"], name="online_reference_once")
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant_id} {self.product_id}"


class OnlineCompletion(AppendOnly):
    """The online channel reported this product done online (with or without a reference).
    Feeds the social-norm figure together with counter appointments."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=32, blank=True)
    completed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("online afronding")
        verbose_name_plural = _("online afrondingen")
        indexes = [models.Index(fields=["product", "completed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="online_completion_once_per_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.completed_at:%Y-%m-%d %H:%M}"


class UnitAppointment(AppendOnly):
    """Links an appointment booked online to the visitor's pseudonymous unit, or one booked by
    phone during a KCC call to the call's unit, so booking outcomes (booked, cancelled,
    attended, no-show) reach the right experiment arm."""

    appointment_id = models.BigIntegerField(unique=True)
    unit_hash = models.CharField(max_length=UNIT_HASH_LENGTH, db_index=True)
    linked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("koppeling afspraak–eenheid")
        verbose_name_plural = _("koppelingen afspraak–eenheid")

    def __str__(self) -> str:
        return f"appointment {self.appointment_id}"


class MovedAppointment(AppendOnly):
    """An appointment that replaces another for the same request (a waiting-list move books a
    new one). It keeps the original's units: the web visitor's (``UnitAppointment``) and the
    reminder experiments' unit (``selectors.reminder_unit_hash``), so one person stays one unit
    in one arm."""

    appointment_id = models.BigIntegerField(unique=True)
    original_appointment_id = models.BigIntegerField(db_index=True)
    moved_at = models.DateTimeField()

    class Meta:
        verbose_name = _("verzette afspraak")
        verbose_name_plural = _("verzette afspraken")

    def __str__(self) -> str:
        return f"appointment {self.appointment_id} (was {self.original_appointment_id})"
