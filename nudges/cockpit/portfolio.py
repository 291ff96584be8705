"""What the nudges achieved: every experiment with its effect on its primary measure (treatment
versus its own control, 95% interval, Holm-corrected p), translated into counter visits,
counter minutes and euros per 1,000 visitors, each with its interval.

The translation is the effect times a fixed factor, so its interval is the effect's interval
times the same factor; never a before/after difference:

- a measure of counter visits (booked, continued to the counter, attended): visits freed =
  −effect; an online measure (chose online, completed online): visits freed = +effect (each
  online route taken is taken to replace one counter visit);
- no-shows: no-shows avoided = −effect (a missed slot is counter time lost);
- minutes = visits × the products' mean minutes per person; euros = visits × the mean
  difference between the counter and the online cost price (for no-shows: × the counter cost
  price: not money saved, but counter time that can be given to someone else, valued at the
  cost price; ``PortfolioRow.euro_label`` says so next to the figure).

Counts come from ``ExperimentCountsSnapshot`` (refreshed by the roll-up job) when there is one.
The sample reached is the units exposed per arm as of that refresh, also for a running
experiment whose analysis is already fixed (the effect is then computed on fewer units than
have been reached: ``ArmEffect.n`` against ``ArmEffect.reached``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from booking import selectors as booking_selectors
from nudges.constants import COLLECTING_STATUSES, ExperimentStatus, Metric, Touchpoint
from nudges.experiments import results as nudge_results
from nudges.experiments import selectors as nudge_selectors
from nudges.experiments import services as nudge_services
from nudges.models import Experiment, ExperimentCountsSnapshot, Exposure, Outcome

PER = 1000
CACHE_SECONDS = 6 * 3600
COUNTER_METRICS = {Metric.BOOKED, Metric.CONTINUED_TO_COUNTER, Metric.ATTENDED}
ONLINE_METRICS = {Metric.CHOSE_ONLINE, Metric.COMPLETED_ONLINE}
# In a snapshot's counts per variant: units exposed up to the refresh. Equal to ``n`` unless the
# analysis is fixed while the experiment still collects (``n`` then stops at the fixed moment).
REACHED = "reached"


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        a, b = self.low * factor, self.high * factor
        return Interval(self.value * factor, min(a, b), max(a, b))


@dataclass
class ArmEffect:
    key: str
    principle: str
    n: int  # units in the analysis (its denominator)
    rate: float | None
    effect: Interval | None  # difference against control, in proportion points
    p_adjusted: float | None
    significant: bool
    verdict: str | None = None  # better | worse | no_difference, only in the final analysis
    visits: Interval | None = None  # counter visits (or no-shows) freed per 1,000
    minutes: Interval | None = None
    euros: Interval | None = None
    reached: int = 0  # units exposed to this variant so far (the sample reached)

    @property
    def effect_points(self) -> Interval | None:
        """The effect in percentage points."""
        return self.effect.scaled(100) if self.effect else None


@dataclass
class PortfolioRow:
    experiment: Experiment
    products: list[str]
    touchpoint: str
    status: str
    metric: str
    metric_label: str
    planned_per_arm: int | None
    reached_per_arm: int  # units exposed so far in the smallest arm, control included
    sample_reached: bool  # every arm had its planned sample at the analysis moment
    verdict: str | None  # only where the planned sample was reached
    winner: str | None
    control_n: int
    control_reached: int
    control_rate: float | None
    arms: list[ArmEffect] = field(default_factory=list)
    computed_at: datetime | None = None

    @property
    def principles(self) -> str:
        return ", ".join(sorted({a.principle for a in self.arms if a.principle}))

    @property
    def is_no_show(self) -> bool:
        return self.metric == Metric.NO_SHOW

    @property
    def per_label(self) -> str:
        """What the figure per 1,000 (``ArmEffect.visits``) counts, for this row's measure."""
        if self.is_no_show:
            return _("niet-verschenen vermeden per %(per)s afspraken") % {"per": PER}
        return _("baliebezoeken minder per %(per)s bezoekers") % {"per": PER}

    @property
    def euro_label(self) -> str:
        """What the euros per 1,000 (``ArmEffect.euros``) are, for this row's measure."""
        if self.is_no_show:
            return _("geen besparing: balietijd die aan een ander gegeven kan worden, gewaardeerd tegen de kostprijs")
        return _("lagere kosten: verschil in kostprijs tussen balie en online")

    @property
    def reached_share(self) -> float | None:
        """The smallest arm's sample so far as a share of the planned sample (at most 1)."""
        if not self.planned_per_arm:
            return None
        return min(self.reached_per_arm / self.planned_per_arm, 1.0)


def _exposed_per_variant(experiment: Experiment, *, now: datetime) -> dict[int, int]:
    """Units exposed per variant up to ``now`` (one grouped count on the (experiment, variant) index)."""
    return dict(
        Exposure.objects.filter(experiment=experiment, exposed_at__lte=now)
        .values("variant_id")
        .annotate(n=Count("pk"))
        .values_list("variant_id", "n")
        .order_by()
    )


def _rows_until(experiment: Experiment, until: datetime) -> int:
    """Exposure and outcome rows of the experiment up to ``until`` (two index counts)."""
    return (
        Exposure.objects.filter(experiment=experiment, exposed_at__lte=until).count()
        + Outcome.objects.filter(experiment=experiment, occurred_at__lte=until).count()
    )


def experiment_snapshots_refresh(*, now: datetime | None = None) -> int:
    """Recount every experiment that has started into its snapshot; returns how many were
    recounted. An experiment analysed as of a stored moment (frozen at its planned sample, or
    finished) is recounted only when rows up to that moment were added since its last count
    (an outcome reported late for an old exposure, say): those rows are append-only, so the
    same number of them means the same counts. So the job's work is bounded by the experiments
    still collecting their planned sample, not by every exposure ever logged."""
    now = now or timezone.now()
    snapshots = {s.experiment_id: s for s in ExperimentCountsSnapshot.objects.all()}
    done = 0
    for experiment in Experiment.objects.exclude(status=ExperimentStatus.DRAFT):
        # A look like the manager's results page: it fixes the analysis moment once the
        # planned sample is there (fixed horizon), so the cockpit and that page agree.
        experiment = nudge_services.experiment_analysis_freeze(experiment=experiment, now=now)
        as_of, stored = nudge_results.analysis_moment(experiment, now=now)
        rows = _rows_until(experiment, as_of) if stored else None
        snapshot = snapshots.get(experiment.pk)
        unchanged = bool(
            rows is not None and snapshot and (snapshot.analysed_until, snapshot.rows_counted) == (as_of, rows)
        )
        # Still collecting after the analysis was fixed: the sample reached goes on growing.
        still_collecting = experiment.analysis_frozen_at is not None and experiment.status in COLLECTING_STATUSES
        if unchanged and not still_collecting:
            continue
        recount = not unchanged or snapshot is None
        if unchanged and snapshot is not None:  # only the sample reached is refreshed
            counts = {int(k): v for k, v in snapshot.counts.items()}
        else:
            counts = nudge_results.experiment_counts_as_analysed(experiment, now=now)
        if still_collecting:
            for variant_id, exposed in _exposed_per_variant(experiment, now=now).items():
                counts.setdefault(variant_id, {})[REACHED] = exposed
        for row in counts.values():
            row.setdefault(REACHED, row.get("n", 0))
        fields: dict[str, object] = {
            "counts": {str(k): v for k, v in counts.items()},
            "analysed_until": as_of if stored else None,
            "rows_counted": rows,
        }
        if recount:
            fields["computed_at"] = now
            done += 1
        with transaction.atomic():
            ExperimentCountsSnapshot.objects.update_or_create(experiment=experiment, defaults=fields)
    return done


def _factors(product_codes: set[str]) -> tuple[float | None, float | None, float | None]:
    """Mean minutes per person, mean counter−online cost difference, mean counter cost."""
    facts = [p for p in booking_selectors.product_facts() if p.code in product_codes]
    if not facts:
        return None, None, None
    minutes = sum(p.minutes_per_person for p in facts) / len(facts)
    diffs = [
        float(cost_counter - cost_online)
        for p in facts
        if (cost_counter := p.costs.get("counter")) is not None and (cost_online := p.costs.get("online")) is not None
    ]
    counter = [float(cost) for p in facts if (cost := p.costs.get("counter")) is not None]
    return (
        minutes,
        sum(diffs) / len(diffs) if diffs else None,
        sum(counter) / len(counter) if counter else None,
    )


def _translate(
    arm: ArmEffect,
    metric: str,
    touchpoint: str,
    minutes: float | None,
    saving: float | None,
    counter_cost: float | None,
) -> None:
    if arm.effect is None or (touchpoint == Touchpoint.REMINDER and metric != Metric.NO_SHOW):
        return
    if metric in COUNTER_METRICS or metric == Metric.NO_SHOW:
        arm.visits = arm.effect.scaled(-PER)
    elif metric in ONLINE_METRICS:
        arm.visits = arm.effect.scaled(PER)
    else:
        return
    if minutes is not None:
        arm.minutes = arm.visits.scaled(minutes)
    euro_factor = counter_cost if metric == Metric.NO_SHOW else saving
    if euro_factor is not None:
        arm.euros = arm.visits.scaled(euro_factor)


def portfolio(*, metric_override: str | None = None) -> list[PortfolioRow]:
    """Every experiment that has started, newest first. ``metric_override``: analyse this
    measure instead of each experiment's primary one (the no-show view of reminder wordings)."""
    snapshots = {s.experiment_id: s for s in ExperimentCountsSnapshot.objects.all()}
    rows = []
    experiments = nudge_selectors.experiment_list().exclude(status=ExperimentStatus.DRAFT)
    if metric_override == Metric.NO_SHOW:
        experiments = experiments.filter(touchpoint=Touchpoint.REMINDER)
    for experiment in experiments:
        snapshot = snapshots.get(experiment.pk)
        counts = {int(k): v for k, v in snapshot.counts.items()} if snapshot else None
        metric = metric_override or experiment.primary_metric
        analysed = {experiment.primary_metric, *experiment.guardrail_metrics}
        results = nudge_results.experiment_results(experiment, counts=counts, descriptive=metric not in analysed)
        found = [
            m
            for m in (results.primary, *results.guardrails, *results.descriptive)
            if m is not None and m.metric == metric
        ]
        if not found:
            continue
        analysis = found[0].analysis
        principles = {
            v.key: (v.intervention.get_principle_display() if v.intervention else "") for v in results.variants
        }
        codes = {p.code for p in experiment.products.all()}
        minutes, saving, counter_cost = _factors(codes)
        arms = []
        for arm in analysis.arms:
            if arm.is_control:
                continue
            effect = (
                Interval(arm.diff, arm.diff_ci_low, arm.diff_ci_high)
                if arm.diff is not None and arm.diff_ci_low is not None and arm.diff_ci_high is not None
                else None
            )
            item = ArmEffect(
                key=arm.key,
                principle=str(principles.get(arm.key, "")),
                n=arm.n,
                rate=arm.rate,
                effect=effect,
                p_adjusted=arm.p_adjusted,
                significant=arm.significant,
                verdict=arm.verdict if results.final else None,
            )
            _translate(item, metric, experiment.touchpoint, minutes, saving, counter_cost)
            arms.append(item)
        reached = _reached(results.variants, results.counts)
        for item in arms:
            item.reached = reached.get(item.key, 0)
        control = analysis.control
        control_key = next((v.key for v in results.variants if v.is_control), None)
        rows.append(
            PortfolioRow(
                experiment=experiment,
                products=sorted(p.name for p in experiment.products.all()),
                touchpoint=experiment.get_touchpoint_display(),
                status=experiment.get_status_display(),
                metric=metric,
                metric_label=str(Metric(metric).label),
                planned_per_arm=analysis.planned_per_arm,
                reached_per_arm=min(reached.values(), default=0),
                sample_reached=analysis.sample_reached,
                # Only the final (fixed-horizon) analysis gives a verdict, guardrails included.
                verdict=results.verdict if results.final else None,
                winner=results.winner if results.final else None,
                control_n=control.n if control else 0,
                control_reached=reached.get(control_key, 0) if control_key else 0,
                control_rate=control.rate if control else None,
                arms=arms,
                computed_at=snapshot.computed_at if snapshot else results.computed_at,
            )
        )
    return rows


def _reached(variants, counts: dict[int, dict[str, int]]) -> dict[str, int]:
    """Units exposed per variant key so far: the snapshot's ``reached``, else the counted ``n``
    (live counts, or a snapshot from before ``reached`` was kept)."""
    return {v.key: counts.get(v.pk, {}).get(REACHED, counts.get(v.pk, {}).get("n", 0)) for v in variants}


@dataclass(frozen=True)
class VerdictSummary:
    """How many experiments work, show no demonstrable difference, do harm, or have no verdict yet."""

    works: int
    no_difference: int
    worse: int
    pending: int


def verdict_summary(rows: list[PortfolioRow]) -> VerdictSummary:
    verdicts = [row.verdict for row in rows]
    return VerdictSummary(
        works=verdicts.count("winner"),
        no_difference=verdicts.count("no_difference"),
        worse=verdicts.count("worse"),
        pending=sum(v not in ("winner", "no_difference", "worse") for v in verdicts),
    )


def arm_verdict_label(row: PortfolioRow, arm: ArmEffect) -> str:
    """The verdict on one variant in the words of the page's portfolio table."""
    if arm.verdict == "better":
        label = _("Werkt: beter dan controle")
        return f"{label} ({_('niet de beste')})" if row.winner and row.winner != arm.key else label
    if arm.verdict == "worse":
        return _("Slechter dan controle")
    if arm.verdict == "no_difference":
        return _("Geen aantoonbaar verschil")
    if row.verdict == "srm":
        return _("Verdeling klopt niet: niet te beoordelen")
    if row.sample_reached:
        return _("Nog geen oordeel: analyse nog niet vastgelegd")
    return _("Nog geen oordeel: geplande steekproef niet bereikt")


def forest_rows(rows: list[PortfolioRow]) -> list[tuple[str, float, float, float]]:
    """(label, effect, low, high) in percentage points, for the forest plot."""
    return [
        (
            f"{Truncator(row.experiment.name).words(6)}: {arm.key}",
            arm.effect.value * 100,
            arm.effect.low * 100,
            arm.effect.high * 100,
        )
        for row in rows
        for arm in row.arms
        if arm.effect is not None
    ]


def as_decimal(value: float | None, places: str = "0.1") -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


def _cache_key(metric_override: str | None) -> str:
    """Changes whenever a snapshot is refreshed or an experiment changes state, so a cached
    portfolio is never stale against its counts."""
    state = list(ExperimentCountsSnapshot.objects.order_by("experiment_id").values_list("experiment_id", "computed_at"))
    experiments = list(
        Experiment.objects.order_by("pk").values_list("pk", "status", "analysis_frozen_at", "finished_at")
    )
    digest = hashlib.sha256(repr((state, experiments)).encode()).hexdigest()[:32]
    return f"cockpit:portfolio:{metric_override or 'primary'}:{digest}"


def portfolio_cached(*, metric_override: str | None = None) -> list[PortfolioRow]:
    """``portfolio`` from the cache when nothing changed since it was computed (the statistics
    per experiment cost tens of milliseconds each; the roll-up job warms this after each refresh)."""
    key = _cache_key(metric_override)
    rows = cache.get(key)
    if rows is None:
        rows = portfolio(metric_override=metric_override)
        cache.set(key, rows, timeout=CACHE_SECONDS)
    return rows
