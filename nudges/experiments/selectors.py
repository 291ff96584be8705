"""Read side of experiments: who is in one and what they see. Public: ``running_experiment_for``,
``arms``, ``assigned_variant``, ``decide``, ``social_norm``, ``primary_metric_problem``, ``start_problems``,
``register_experiments``, ``experiment_list``, ``experiment_get``, ``attributable_exposures``,
``reminder_unit_hash``. Counting and analysing what was logged is in ``results``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.constants import Channel
from booking.models import Product
from booking.selectors import appointment_attribution_parts, counter_visits_count
from nudges.constants import (
    COLLECTING_STATUSES,
    KCC_SCRIPT_ONLY_METRICS,
    METRICS,
    REMINDER_KINDS,
    REMINDER_METRICS,
    ContentKind,
    ExemptionReason,
    ExperimentStatus,
    Touchpoint,
)
from nudges.exceptions import NotFound
from nudges.experiments.assignment import appointment_unit_hash, assign
from nudges.experiments.content import Content, SocialFigure, build_content, fee_problems
from nudges.models import Exemption, Experiment, Exposure, MovedAppointment, OnlineCompletion, UnitAppointment, Variant

# --- experiments and assignment ---------------------------------------------------------


def experiment_list() -> QuerySet[Experiment]:
    return Experiment.objects.prefetch_related("products", "variants__intervention").order_by("-created_at")


def experiment_get(experiment_id: int | str) -> Experiment:
    try:
        return experiment_list().get(pk=int(experiment_id))
    except (Experiment.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Dit experiment bestaat niet.")) from None


def arms(experiment: Experiment) -> list[Variant]:
    """The variants in their fixed order (creation order): the order assignment relies on."""
    return sorted(experiment.variants.all(), key=lambda v: v.pk)


def assigned_variant(experiment: Experiment, unit_hash: str) -> Variant:
    variants = arms(experiment)
    key = assign(salt=experiment.salt, unit_hash=unit_hash, arms=[(v.key, v.weight) for v in variants])
    return next(v for v in variants if v.key == key)


def running_experiment_for(*, products: Sequence[Product], touchpoint: str) -> tuple[Experiment, Product] | None:
    """The running experiment at this touchpoint for the first chosen product it covers."""
    ids = [p.pk for p in products]
    candidates = list(
        Experiment.objects.filter(status=ExperimentStatus.RUNNING, touchpoint=touchpoint, products__in=ids)
        .prefetch_related(
            "products", Prefetch("variants", queryset=Variant.objects.select_related("intervention").order_by("pk"))
        )
        .distinct()
        .order_by("started_at", "pk")
    )
    for product in products:
        for experiment in candidates:
            if any(p.pk == product.pk for p in experiment.products.all()):
                return experiment, product
    return None


# --- attribution: which experiments an outcome counts in --------------------------------


def reminder_unit_hash(appointment_id: int) -> str:
    """The reminder experiments' unit of an appointment: the appointment itself, or the one it
    replaced (a waiting-list move keeps the unit, see ``MovedAppointment``)."""
    original = (
        MovedAppointment.objects.filter(appointment_id=appointment_id)
        .values_list("original_appointment_id", flat=True)
        .first()
    )
    return appointment_unit_hash(original or appointment_id)


def attributable_exposures(
    *,
    appointment_id: int,
    at: datetime,
    unit_hash: str | None = None,
    exposed_before_booking: bool = True,
    online_only: bool = False,
) -> list[Exposure]:
    """The exposures an outcome of this appointment at ``at`` counts for, in one query. All of:

    - the experiment's products overlap the appointment's products;
    - the unit was exposed in that experiment before the booking (``exposed_before_booking``;
      a reminder experiment's unit is exposed after the booking, so there: before ``at``);
    - ``at`` lies in the experiment's running window (started, still collecting).

    ``unit_hash``: the visitor's unit; by default the unit linked to the appointment when it
    was booked (``UnitAppointment``: online, or by phone during a KCC call). ``online_only``: nothing for a phone or desk booking."""
    booked_at, appointment_products = appointment_attribution_parts(appointment_id, online_only=online_only)
    unit = (
        unit_hash
        if unit_hash is not None
        else Subquery(UnitAppointment.objects.filter(appointment_id=appointment_id).values("unit_hash")[:1])
    )
    overlaps = Exists(
        Experiment.products.through.objects.filter(
            experiment_id=OuterRef("experiment_id"), product_id__in=appointment_products
        )
    )
    exposures = Exposure.objects.filter(
        overlaps,
        unit_hash=unit,
        experiment__status__in=COLLECTING_STATUSES,
        experiment__started_at__lte=at,
        exposed_at__lte=at,
    )
    if exposed_before_booking:
        exposures = exposures.filter(exposed_at__lte=booked_at)
    return list(exposures.select_related("experiment"))


# --- the social-norm figure -------------------------------------------------------------


def social_norm(*, product: Product, now: datetime | None = None) -> SocialFigure:
    """Online completions vs counter visits for this product in the last NUDGES_SOCIAL_PERIOD_DAYS
    days, from the app's own data: never typed in."""
    now = now or timezone.now()
    days = settings.NUDGES_SOCIAL_PERIOD_DAYS
    since = now - timedelta(days=days)
    online = OnlineCompletion.objects.filter(product=product, completed_at__gte=since, completed_at__lt=now).count()
    counter = counter_visits_count(product_id=product.pk, since=since, until=now)
    return SocialFigure(
        online_cases=online,
        counter_cases=counter,
        period_days=days,
        since=timezone.localdate(since),
        until=timezone.localdate(now),
        min_cases=settings.NUDGES_SOCIAL_MIN_CASES,
    )


# --- the decision -------------------------------------------------------------------------


@dataclass
class Decision:
    experiment: Experiment | None = None
    variant: Variant | None = None
    product: Product | None = None
    exempt_reason: str | None = None
    content: Content | None = None

    @property
    def exempt(self) -> bool:
        return self.exempt_reason is not None

    @property
    def shows_nudge(self) -> bool:
        return self.content is not None


def unit_needs_help(unit_hash: str) -> bool:
    """The visitor once said they need help or cannot do this online: never nudge them again."""
    return Exemption.objects.filter(unit_hash=unit_hash, reason=ExemptionReason.NEEDS_HELP).exists()


def decide(
    *,
    products: Sequence[Product],
    unit_hash: str,
    touchpoint: str = Touchpoint.PRODUCT_CHOICE,
    channel: str = Channel.ONLINE,
    needs_help: bool = False,
    now: datetime | None = None,
) -> Decision:
    """Which experiment and variant applies to this unit, or why it is exempt. Pure read:
    logging the exposure or exemption is ``services``' job."""
    if touchpoint == Touchpoint.REMINDER:
        return Decision()  # a reminder's wording is decided per appointment by nudges.reminders.wording
    found = running_experiment_for(products=products, touchpoint=touchpoint)
    if found is None:
        return Decision()
    experiment, product = found
    decision = Decision(experiment=experiment, product=product)
    if channel != Channel.ONLINE:
        decision.exempt_reason = ExemptionReason.CHANNEL
    elif needs_help or unit_needs_help(unit_hash):
        decision.exempt_reason = ExemptionReason.NEEDS_HELP
    elif any(p.requires_presence or not p.has_online_alternative for p in products):
        decision.exempt_reason = ExemptionReason.PRESENCE_REQUIRED
    if decision.exempt:
        return decision
    decision.variant = assigned_variant(experiment, unit_hash)
    intervention = decision.variant.intervention
    if intervention is not None:
        figure = social_norm(product=product, now=now) if intervention.kind == ContentKind.SOCIAL_NORM else None
        decision.content = build_content(intervention=intervention, product=product, figure=figure)
    return decision


# --- governance: what stops an experiment from starting ----------------------------------


def primary_metric_problem(*, touchpoint: str, metric: str) -> str | None:
    """Why ``metric`` cannot be the primary metric at ``touchpoint`` whatever else is set, else
    None: at the KCC call, an outcome only the script arm can produce."""
    if touchpoint == Touchpoint.KCC_CALL and metric in KCC_SCRIPT_ONLY_METRICS:
        return _(
            "Bij de werkinstructie KCC ontstaat deze uitkomst alleen in de scriptgroep (de controlegroep ziet "
            "geen script en krijgt geen link). Kies een maat die in beide groepen te meten is, zoals "
            "'Balieafspraak geboekt' in het gesprek."
        )
    return None


def start_problems(experiment: Experiment, *, now: datetime | None = None) -> list[str]:
    problems: list[str] = []
    # A reminder's wording never steers away from the counter and shows no fees: the rules
    # about presence and fees are for the nudges after the product choice.
    reminder = experiment.touchpoint == Touchpoint.REMINDER
    if not experiment.hypothesis.strip():
        problems.append(_("Schrijf een hypothese."))
    script_only = primary_metric_problem(touchpoint=experiment.touchpoint, metric=experiment.primary_metric)
    if not experiment.primary_metric:
        problems.append(_("Kies een primaire maat."))
    elif script_only:
        problems.append(script_only)
    elif not METRICS[experiment.primary_metric].comparable:
        problems.append(_("De primaire maat moet in elke groep, ook de controlegroep, te meten zijn."))
    elif reminder and experiment.primary_metric not in REMINDER_METRICS:
        problems.append(
            _("Kies bij een herinnering als primaire maat: niet verschenen, vooraf geannuleerd of verschenen.")
        )
    if not experiment.planned_sample_per_variant:
        problems.append(_("Geef de geplande steekproef per variant op."))
    if not experiment.purpose_nl.strip():
        problems.append(_("Beschrijf het doel voor het openbare register."))

    variants = arms(experiment)
    controls = [v for v in variants if v.is_control]
    treatments = [v for v in variants if not v.is_control]
    if len(controls) != 1:
        problems.append(_("Een experiment heeft precies één controlegroep (variant zonder interventie)."))
    if not treatments:
        problems.append(_("Voeg ten minste één variant met een interventie toe."))

    products = list(experiment.products.all())
    if not products:
        problems.append(_("Kies ten minste één product."))
    for product in [] if reminder else products:
        if product.requires_presence:
            problems.append(
                _("%(product)s vraagt persoonlijk verschijnen: nooit nudgen.") % {"product": product.name_nl}
            )
        if experiment.touchpoint == Touchpoint.PRODUCT_CHOICE and not product.has_online_alternative:
            problems.append(_("%(product)s heeft geen online alternatief.") % {"product": product.name_nl})
        problems.extend(fee_problems(product))
    for variant in treatments:
        intervention = variant.intervention
        if intervention is None:  # never for a treatment: a control is the arm without one
            continue
        if intervention.touchpoint != experiment.touchpoint:
            problems.append(_("Interventie %(name)s hoort bij een ander moment.") % {"name": intervention.name})
        elif reminder != (intervention.kind in REMINDER_KINDS):
            problems.append(
                _("Interventie %(name)s: deze soort inhoud past niet bij dit moment.") % {"name": intervention.name}
            )
        covered = {p.pk for p in intervention.products.all()}
        missing = [p.name_nl for p in products if p.pk not in covered]
        if missing:
            problems.append(
                _("Interventie %(name)s is niet bedoeld voor: %(products)s.")
                % {"name": intervention.name, "products": ", ".join(missing)}
            )
        if intervention.kind == ContentKind.SOCIAL_NORM:
            for product in products:
                figure = social_norm(product=product, now=now)
                if not figure.enough:
                    problems.append(
                        _("Het sociale cijfer voor %(product)s steunt op %(cases)s gevallen; minimaal %(min)s nodig.")
                        % {"product": product.name_nl, "cases": figure.cases, "min": figure.min_cases}
                    )
    overlapping = (
        Experiment.objects.filter(
            status__in=COLLECTING_STATUSES, touchpoint=experiment.touchpoint, products__in=[p.pk for p in products]
        )
        .exclude(pk=experiment.pk)
        .distinct()
    )
    for other in overlapping:
        problems.append(
            _("Experiment '%(name)s' loopt al op dit moment voor dezelfde producten.") % {"name": other.name}
        )
    return problems


# --- the public register ------------------------------------------------------------------


def register_experiments() -> list[Experiment]:
    """Every experiment that runs, ran or is paused: the public register."""
    return list(
        Experiment.objects.exclude(status=ExperimentStatus.DRAFT)
        .prefetch_related(
            "products", Prefetch("variants", queryset=Variant.objects.select_related("intervention").order_by("pk"))
        )
        .order_by("status", "-started_at")
    )
