"""Read side of an experiment's results: per-arm counts in one query (``experiment_counts``),
their analysis per metric with ``statistics`` (primary, guardrails, descriptive), the verdict, and the analysis moment (fixed horizon: the frozen look or the
finish). Public: ``analysis_moment``, ``experiment_counts``, ``experiment_counts_as_analysed``,
``experiment_results`` (``ExperimentResults``, ``MetricResult``), ``experiment_sample_reached``.

Who is in an experiment and what they see is in ``selectors``; this module only counts and
analyses what was logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from nudges.constants import (
    KCC_SCRIPT_ONLY_METRICS,
    METRICS,
    Metric,
    OutcomeKind,
    Touchpoint,
    metric_spec,
    metrics_for,
)
from nudges.experiments import statistics
from nudges.experiments.selectors import arms
from nudges.models import Experiment, Exposure, Outcome, Variant

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


def _counts_sql() -> str:
    """One pass over an experiment's exposures, each joined to its outcomes gathered per unit
    (at most one row per unit and kind, so ``min`` is that outcome's moment). Index lookups per
    exposure and outcome kind (an ``EXISTS`` each) took minutes at a million exposures; this is
    one scan of each table and a join. Column names come from ``OutcomeKind``, not from input."""
    per_kind = ",\n".join(
        f"min(occurred_at) FILTER (WHERE kind = '{kind.value}') AS {kind.value}" for kind in OutcomeKind
    )
    counted = ",\n".join(
        [f"count(o.{kind.value}) AS {kind.value}" for kind in OutcomeKind]
        + [f"count(o.booked) FILTER (WHERE o.{kind} IS NOT NULL) AS booked_{kind}" for kind in APPOINTMENT_METRICS]
    )
    return f"""
        SELECT e.variant_id,
               count(*) AS n,
               count(*) FILTER (WHERE e.exposed_at <= %(matured_before)s) AS matured,
               count(*) FILTER (WHERE e.fallback) AS fallbacks,
               count(*) FILTER (
                   WHERE e.exposed_at <= %(matured_before)s
                     AND NOT coalesce(o.booked <= e.exposed_at + %(window_seconds)s * interval '1 second', false)
                     AND NOT coalesce(o.chose_online <= e.exposed_at + %(window_seconds)s * interval '1 second', false)
               ) AS abandoned,
               {counted}
        FROM {Exposure._meta.db_table} e
        LEFT JOIN (
            SELECT unit_hash, {per_kind}
            FROM {Outcome._meta.db_table}
            WHERE experiment_id = %(experiment)s AND (%(until)s::timestamptz IS NULL OR occurred_at <= %(until)s)
            GROUP BY unit_hash
        ) o ON o.unit_hash = e.unit_hash
        WHERE e.experiment_id = %(experiment)s AND (%(until)s::timestamptz IS NULL OR e.exposed_at <= %(until)s)
        GROUP BY e.variant_id
    """  # noqa: S608


def experiment_counts(
    experiment: Experiment, *, now: datetime | None = None, until: datetime | None = None
) -> dict[int, dict[str, int]]:
    """Per variant id: exposed units (``n``), units past the abandonment window at ``now``
    (``matured``), fallbacks, units with each outcome, ``booked_<kind>`` (bookers with that
    appointment outcome) and ``abandoned`` (past the window with neither a counter booking
    nor an online choice within it: one window for both). ``until``: only exposures and
    outcomes up to this moment (a stored analysis moment). One query: in one pass on
    PostgreSQL; elsewhere (SQLite for a first look on a laptop) with a lookup per exposure."""
    now = now or until or timezone.now()
    if connection.vendor != "postgresql":
        return _counts_per_unit(experiment, now=now, until=until)
    window = timedelta(hours=settings.NUDGES_ABANDON_AFTER_HOURS)
    params = {
        "experiment": experiment.pk,
        "until": until,
        "matured_before": now - window,
        "window_seconds": int(window.total_seconds()),
    }
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(), params)
        names = [column.name for column in cursor.description][1:]
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}


def _has_outcome(kind: str, *, until: datetime | None, within: timedelta | None = None) -> Exists:
    outcomes = Outcome.objects.filter(experiment=OuterRef("experiment"), unit_hash=OuterRef("unit_hash"), kind=kind)
    if until is not None:
        outcomes = outcomes.filter(occurred_at__lte=until)
    if within is not None:
        outcomes = outcomes.filter(occurred_at__lte=OuterRef("exposed_at") + within)
    return Exists(outcomes)


def _counts_per_unit(experiment: Experiment, *, now: datetime, until: datetime | None) -> dict[int, dict[str, int]]:
    """``experiment_counts`` in portable SQL: an ``EXISTS`` per exposure and outcome kind."""
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

    # Outcomes only one arm can produce are described, never analysed against control.
    one_arm = set(KCC_SCRIPT_ONLY_METRICS) if experiment.touchpoint == Touchpoint.KCC_CALL else set()
    primary_metric = experiment.primary_metric if experiment.primary_metric not in one_arm else ""
    primary = result(primary_metric, "primary") if primary_metric else None
    guardrail_metrics = [m for m in experiment.guardrail_metrics if m in METRICS and m not in one_arm]
    guardrails = [result(m, "guardrail") for m in guardrail_metrics if m != primary_metric]
    shown = {primary_metric, *guardrail_metrics}
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
