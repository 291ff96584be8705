"""Read side of nudges. Public: ``running_experiment_for``, ``arms``, ``assigned_variant``,
``decide``, ``social_norm``, ``start_problems``, ``experiment_counts``, ``experiment_results``,
``register_experiments``, ``experiment_list``, ``experiment_get``, ``analysis_moment``,
``experiment_sample_reached``, ``attributable_exposures``, ``reminder_unit_hash``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.constants import Channel
from booking.models import Product
from booking.selectors import appointment_attribution_parts, counter_visits_count
from nudges.constants import (
    COLLECTING_STATUSES,
    METRICS,
    REMINDER_KINDS,
    REMINDER_METRICS,
    ContentKind,
    ExemptionReason,
    ExperimentStatus,
    Metric,
    OutcomeKind,
    Touchpoint,
    metric_spec,
    metrics_for,
)
from nudges.exceptions import NotFound
from nudges.experiments import statistics
from nudges.experiments.assignment import appointment_unit_hash, assign
from nudges.experiments.content import Content, SocialFigure, build_content, fee_problems
from nudges.models import (
    Exemption,
    Experiment,
    Exposure,
    MovedAppointment,
    OnlineCompletion,
    Outcome,
    UnitAppointment,
    Variant,
)

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
    was booked online (``UnitAppointment``). ``online_only``: nothing for a phone or desk booking."""
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


def start_problems(experiment: Experiment, *, now: datetime | None = None) -> list[str]:
    problems: list[str] = []
    # A reminder's wording never steers away from the counter and shows no fees: the rules
    # about presence and fees are for the nudges after the product choice.
    reminder = experiment.touchpoint == Touchpoint.REMINDER
    if not experiment.hypothesis.strip():
        problems.append(_("Schrijf een hypothese."))
    if not experiment.primary_metric:
        problems.append(_("Kies een primaire maat."))
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


# --- results --------------------------------------------------------------------------------

# Outcomes of the booked appointment: after the product choice they are computed per booker
# (a nudge that cuts counter bookings must not "improve" no-shows by shrinking the
# denominator); the rate per exposed unit is shown next to them.
APPOINTMENT_METRICS = (Metric.NO_SHOW, Metric.CANCELLED, Metric.ATTENDED)


def analysis_moment(experiment: Experiment, *, now: datetime | None = None) -> tuple[datetime, bool]:
    """(as of when the experiment is analysed, whether that moment is stored). The stored
    moments are the frozen analysis (the first look at which every arm had its planned
    sample, see ``services.experiment_look``) and the finish; otherwise it is ``now`` and the
    analysis is provisional. The manager page, the API and the public register all use this."""
    if experiment.analysis_frozen_at is not None:
        return experiment.analysis_frozen_at, True
    if experiment.finished_at is not None:
        return experiment.finished_at, True
    return now or timezone.now(), False


def _has_outcome(kind: str, *, until: datetime | None, within: timedelta | None = None) -> Exists:
    outcomes = Outcome.objects.filter(experiment=OuterRef("experiment"), unit_hash=OuterRef("unit_hash"), kind=kind)
    if until is not None:
        outcomes = outcomes.filter(occurred_at__lte=until)
    if within is not None:
        outcomes = outcomes.filter(occurred_at__lte=OuterRef("exposed_at") + within)
    return Exists(outcomes)


def experiment_counts(
    experiment: Experiment, *, now: datetime | None = None, until: datetime | None = None
) -> dict[int, dict[str, int]]:
    """Per variant id: exposed units (``n``), units past the abandonment window at ``now``
    (``matured``), fallbacks, units with each outcome, ``booked_<kind>`` (bookers with that
    appointment outcome) and ``abandoned`` (past the window with neither a counter booking
    nor an online choice within it: one window for both). ``until``: only exposures and
    outcomes up to this moment (a stored analysis moment). One grouped query."""
    now = now or until or timezone.now()
    window = timedelta(hours=settings.NUDGES_ABANDON_AFTER_HOURS)
    matured = Q(exposed_at__lte=now - window)
    booked = Q(_has_outcome(OutcomeKind.BOOKED, until=until))
    exposures = Exposure.objects.filter(experiment=experiment)
    if until is not None:
        exposures = exposures.filter(exposed_at__lte=until)
    rows = (
        exposures.values("variant_id")
        .annotate(
            n=Count("pk"),
            matured=Count("pk", filter=matured),
            fallbacks=Count("pk", filter=Q(fallback=True)),
            abandoned=Count(
                "pk",
                filter=matured
                & ~Q(_has_outcome(OutcomeKind.BOOKED, until=until, within=window))
                & ~Q(_has_outcome(OutcomeKind.CHOSE_ONLINE, until=until, within=window)),
            ),
            **{kind.value: Count("pk", filter=Q(_has_outcome(kind, until=until))) for kind in OutcomeKind},
            **{
                f"booked_{kind}": Count("pk", filter=booked & Q(_has_outcome(kind, until=until)))
                for kind in APPOINTMENT_METRICS
            },
        )
        .order_by()
    )
    counts = {}
    for row in rows:
        # Every value is a count (the stubs' row type only knows the annotations named literally).
        figures = cast("dict[str, int]", dict(row))
        counts[figures.pop("variant_id")] = figures
    return counts


@dataclass
class MetricResult:
    metric: str
    label: str
    role: str  # primary | guardrail | descriptive
    comparable: bool
    lower_is_better: bool
    analysis: statistics.Analysis
    denominator: str = "exposed"  # exposed | bookers | matured
    # For per-booker metrics: the same outcome per exposed unit (rates only, never tested).
    per_exposed: statistics.Analysis | None = None


@dataclass
class ExperimentResults:
    """Everything a results page shows, as of ``computed_at`` (``analysis_moment``).

    ``verdict`` is the experiment's: ``winner`` (the primary metric's winner, unless that arm
    is significantly worse on a guardrail), ``worse`` (an arm significantly worse than control
    on the primary metric or a guardrail; ``blocked_by`` names the guardrails that stopped a
    winner), ``no_difference``, ``collecting``, ``srm`` or ``no_data``. ``final``: the
    analysis is the experiment's one test (fixed horizon); otherwise nothing is tested."""

    experiment: Experiment
    computed_at: datetime
    variants: list[Variant]
    counts: dict[int, dict[str, int]]
    primary: MetricResult | None
    guardrails: list[MetricResult] = field(default_factory=list)
    descriptive: list[MetricResult] = field(default_factory=list)
    final: bool = False
    verdict: str = statistics.NO_DATA
    winner: str | None = None
    blocked_by: list[str] = field(default_factory=list)
    harmed_on: list[str] = field(default_factory=list)  # metrics where an arm is worse than control

    @property
    def total_exposures(self) -> int:
        return sum(c["n"] for c in self.counts.values())

    @property
    def provisional(self) -> bool:
        return not self.final


def _metric_result(experiment, variants, counts, metric: str, role: str, *, final: bool) -> MetricResult:
    spec = metric_spec(metric, experiment.touchpoint)
    per_booker = metric in APPOINTMENT_METRICS and experiment.touchpoint != Touchpoint.REMINDER
    denominator = "bookers" if per_booker else ("matured" if metric == Metric.ABANDONED else "exposed")

    def arm_counts(n_key: str, conversions_key: str) -> list[statistics.ArmCounts]:
        return [
            statistics.ArmCounts(
                key=v.key,
                is_control=v.is_control,
                weight=v.weight,
                n=counts.get(v.pk, {}).get(n_key, 0),
                conversions=counts.get(v.pk, {}).get(conversions_key, 0),
            )
            for v in variants
        ]

    exposed = arm_counts("n", metric)
    # The split is checked on the exposed units, whatever the metric's denominator.
    srm = statistics.sample_ratio_check(exposed, alpha=settings.NUDGES_SRM_ALPHA)
    arms_for_metric = {
        "bookers": lambda: arm_counts(OutcomeKind.BOOKED, f"booked_{metric}"),
        "matured": lambda: arm_counts("matured", metric),
        "exposed": lambda: exposed,
    }[denominator]()
    analysis = statistics.analyse(
        arms_for_metric,
        planned_per_arm=experiment.planned_sample_per_variant,
        lower_is_better=spec.lower_is_better,
        comparable=spec.comparable and role != "descriptive",
        final=final,
        srm=srm,
    )
    per_exposed = None
    if per_booker:
        per_exposed = statistics.analyse(
            exposed,
            planned_per_arm=experiment.planned_sample_per_variant,
            lower_is_better=spec.lower_is_better,
            comparable=False,
            final=False,
            srm=srm,
        )
    return MetricResult(
        metric=metric,
        label=str(Metric(metric).label),
        role=role,
        comparable=spec.comparable,
        lower_is_better=spec.lower_is_better,
        analysis=analysis,
        denominator=denominator,
        per_exposed=per_exposed,
    )


def _planned_sample_reached(experiment: Experiment, variants, counts) -> bool:
    planned = experiment.planned_sample_per_variant
    return bool(planned and variants) and all(counts.get(v.pk, {}).get("n", 0) >= planned for v in variants)


def _experiment_verdict(primary: MetricResult | None, guardrails: list[MetricResult]) -> tuple[str, str | None, list]:
    if primary is None:
        return statistics.NO_DATA, None, []
    analysis = primary.analysis
    if analysis.verdict not in (statistics.WINNER, statistics.NO_DIFFERENCE, statistics.WORSE):
        return analysis.verdict, None, []
    if any(g.analysis.verdict == statistics.SRM for g in guardrails):
        return statistics.SRM, None, []
    harmed = {arm for g in guardrails for arm in g.analysis.worse}
    if analysis.winner is not None:
        blocked_by = [g.label for g in guardrails if analysis.winner in g.analysis.worse]
        if not blocked_by:
            return statistics.WINNER, analysis.winner, []
        return statistics.WORSE, None, blocked_by
    if analysis.worse or harmed:
        return statistics.WORSE, None, []
    return statistics.NO_DIFFERENCE, None, []


def _harmed_on(primary: MetricResult | None, guardrails: list[MetricResult]) -> list[str]:
    """The metrics on which some arm is significantly worse than control."""
    return [m.label for m in ([primary] if primary else []) + guardrails if m.analysis.worse]


def experiment_counts_as_analysed(experiment: Experiment, *, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """The counts ``experiment_results`` analyses: as of the experiment's analysis moment."""
    as_of, stored = analysis_moment(experiment, now=now)
    return experiment_counts(experiment, now=as_of, until=as_of if stored else None)


def experiment_results(
    experiment: Experiment,
    *,
    now: datetime | None = None,
    counts: dict[int, dict[str, int]] | None = None,
    descriptive: bool = True,
) -> ExperimentResults:
    """The results as of the experiment's analysis moment (``analysis_moment``); ``now`` only
    matters for an experiment that is neither frozen nor finished (a provisional look). Pure
    read: freezing the analysis at the first look is ``services.experiment_look``'s job.
    ``counts``: ``experiment_counts_as_analysed`` computed earlier (the cockpit's snapshot);
    ``descriptive=False`` leaves out the metrics that are neither primary nor guardrail."""
    as_of, stored = analysis_moment(experiment, now=now)
    variants = arms(experiment)
    counts = counts if counts is not None else experiment_counts_as_analysed(experiment, now=now)
    final = stored and _planned_sample_reached(experiment, variants, counts)

    def result(metric: str, role: str) -> MetricResult:
        return _metric_result(experiment, variants, counts, metric, role, final=final)

    primary = result(experiment.primary_metric, "primary") if experiment.primary_metric else None
    guardrails = [
        result(m, "guardrail") for m in experiment.guardrail_metrics if m in METRICS and m != experiment.primary_metric
    ]
    shown = {experiment.primary_metric, *experiment.guardrail_metrics}
    descriptive_results = (
        [result(m, "descriptive") for m in metrics_for(experiment.touchpoint) if m not in shown] if descriptive else []
    )
    verdict, winner, blocked_by = _experiment_verdict(primary, guardrails)
    return ExperimentResults(
        experiment=experiment,
        computed_at=as_of,
        variants=variants,
        counts=counts,
        primary=primary,
        guardrails=guardrails,
        descriptive=descriptive_results,
        final=final and verdict != statistics.SRM,
        verdict=verdict,
        winner=winner,
        blocked_by=blocked_by,
        harmed_on=_harmed_on(primary, guardrails),
    )


def experiment_sample_reached(experiment: Experiment, *, now: datetime) -> bool:
    """Whether every arm has its planned sample of exposed units by ``now`` (one query)."""
    variants = arms(experiment)
    counts = dict(
        Exposure.objects.filter(experiment=experiment, exposed_at__lte=now)
        .values("variant_id")
        .annotate(n=Count("pk"))
        .values_list("variant_id", "n")
        .order_by()
    )
    return _planned_sample_reached(experiment, variants, {k: {"n": v} for k, v in counts.items()})


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
