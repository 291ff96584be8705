"""Honest numbers for an experiment, from per-arm counts (see ``selectors.experiment_counts``).

Everything is computed with maintained libraries (statsmodels, scipy):

- per arm: the rate with a 95% Wilson interval;
- per treatment arm against control: the difference with a Newcombe (hybrid score) 95%
  interval and a two-sided p-value: the pooled two-proportion z-test, or Fisher's exact test
  when an expected cell count is below 5;
- Holm–Bonferroni over the comparisons with control (family-wise error 5%);
- the sample-ratio-mismatch check: chi-square goodness of fit of the arm sizes against the
  weights (flagged below p = NUDGES_SRM_ALPHA, default 0.001);
- power: the minimal detectable effect (80% power, alpha split over the comparisons) at the
  planned and the current sample, and the sample a typical 1.4-point effect would need;
- a verdict: no "winner" before every arm has reached its planned sample, without a
  sample-ratio mismatch, and in the metric's desirable direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

ALPHA = 0.05
POWER = 0.8
# Average effect of government nudges across 126 trials (DellaVigna & Linos 2022): +1.4 points.
TYPICAL_EFFECT = 0.014
# Below this many units in control, its rate is too unsteady to plan with; 50% is the
# conservative (largest-variance) assumption instead.
MIN_BASELINE_N = 100


@dataclass(frozen=True)
class ArmCounts:
    key: str
    is_control: bool
    weight: int
    n: int
    conversions: int


@dataclass
class ArmResult:
    key: str
    is_control: bool
    weight: int
    n: int
    conversions: int
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    # Against control (treatment arms only)
    diff: float | None = None
    diff_ci_low: float | None = None
    diff_ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    test: str | None = None
    significant: bool = False
    sample_reached: bool = False


@dataclass
class Srm:
    checked: bool
    p_value: float | None = None
    statistic: float | None = None
    mismatch: bool = False
    expected: dict[str, float] = field(default_factory=dict)


@dataclass
class Analysis:
    arms: list[ArmResult]
    alpha: float
    srm: Srm
    planned_per_arm: int | None
    sample_reached: bool
    baseline: float
    baseline_assumed: bool
    mde_planned: float | None
    mde_now: float | None
    n_for_typical_effect: int | None
    lower_is_better: bool
    winner: str | None
    verdict: str  # "no_data" | "collecting" | "srm" | "winner" | "no_difference"

    @property
    def control(self) -> ArmResult | None:
        return next((a for a in self.arms if a.is_control), None)


def wilson_interval(conversions: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    low, high = proportion_confint(conversions, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def compare(
    conversions: int, n: int, control_conversions: int, control_n: int, alpha: float = ALPHA
) -> tuple[float, float, float, float, str]:
    """(difference, ci low, ci high, two-sided p, test name) of a treatment arm vs control."""
    diff = conversions / n - control_conversions / control_n
    low, high = confint_proportions_2indep(
        conversions, n, control_conversions, control_n, method="newcomb", compare="diff", alpha=alpha
    )
    pooled = (conversions + control_conversions) / (n + control_n)
    expected = [x * p for x in (n, control_n) for p in (pooled, 1 - pooled)]
    if min(expected) < 5:
        table = [[conversions, n - conversions], [control_conversions, control_n - control_conversions]]
        p_value = float(scipy_stats.fisher_exact(table, alternative="two-sided").pvalue)
        test = "fisher"
    else:
        _z, p_value = proportions_ztest([conversions, control_conversions], [n, control_n], alternative="two-sided")
        p_value, test = float(p_value), "z"
    return float(diff), float(low), float(high), p_value, test


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[list[float], list[bool]]:
    if not p_values:
        return [], []
    reject, adjusted, _sidak, _bonferroni = multipletests(list(p_values), alpha=alpha, method="holm")
    return [float(p) for p in adjusted], [bool(r) for r in reject]


def sample_ratio_check(arms: Sequence[ArmCounts], *, alpha: float) -> Srm:
    total = sum(a.n for a in arms)
    weight_total = sum(a.weight for a in arms)
    expected = {a.key: total * a.weight / weight_total for a in arms}
    # The chi-square approximation needs about five expected units per arm.
    if len(arms) < 2 or min(expected.values(), default=0) < 5:
        return Srm(checked=False, expected=expected)
    result = scipy_stats.chisquare([a.n for a in arms], f_exp=[expected[a.key] for a in arms])
    p_value = float(result.pvalue)
    return Srm(
        checked=True,
        p_value=p_value,
        statistic=float(result.statistic),
        mismatch=p_value < alpha,
        expected=expected,
    )


def _absolute_from_h(baseline: float, h: float) -> float:
    """Cohen's h back to percentage points around the baseline (upwards; downwards if the
    baseline is too high to go up)."""
    phi = 2 * math.asin(math.sqrt(baseline))
    up = phi + h
    if up <= math.pi:
        return math.sin(up / 2) ** 2 - baseline
    return baseline - math.sin((phi - h) / 2) ** 2


def minimal_detectable_effect(
    *, baseline: float, n_treatment: int, n_control: int, alpha: float, power: float = POWER
) -> float | None:
    """Smallest absolute difference detectable with this power (two-sided) at these sizes."""
    if n_treatment < 2 or n_control < 2:
        return None
    h = NormalIndPower().solve_power(
        effect_size=None, nobs1=n_treatment, alpha=alpha, power=power, ratio=n_control / n_treatment
    )
    return _absolute_from_h(baseline, float(h))


def sample_size_for_effect(
    *, baseline: float, effect: float, alpha: float, power: float = POWER, ratio: float = 1.0
) -> int:
    """Units per treatment arm to detect ``effect`` (absolute) from ``baseline``."""
    target = min(max(baseline + effect, 0.0), 1.0)
    if target == baseline:
        target = baseline - effect
    h = abs(2 * math.asin(math.sqrt(target)) - 2 * math.asin(math.sqrt(baseline)))
    n = NormalIndPower().solve_power(effect_size=h, nobs1=None, alpha=alpha, power=power, ratio=ratio)
    return math.ceil(float(n))


def analyse(
    arms: Sequence[ArmCounts],
    *,
    planned_per_arm: int | None,
    lower_is_better: bool,
    comparable: bool = True,
    alpha: float = ALPHA,
    srm_alpha: float = 0.001,
) -> Analysis:
    """The full analysis of one metric. ``comparable=False`` (a metric only nudge groups can
    produce) gives rates and intervals but no tests against control."""
    results = [
        ArmResult(key=a.key, is_control=a.is_control, weight=a.weight, n=a.n, conversions=a.conversions) for a in arms
    ]
    for result in results:
        if result.n > 0:
            result.rate = result.conversions / result.n
            result.ci_low, result.ci_high = wilson_interval(result.conversions, result.n, alpha)
        result.sample_reached = bool(planned_per_arm) and result.n >= planned_per_arm

    control = next((r for r in results if r.is_control), None)
    treatments = [r for r in results if not r.is_control]
    comparisons = max(len(treatments), 1)
    tested = []
    if comparable and control is not None and control.n > 0:
        for result in treatments:
            if result.n == 0:
                continue
            result.diff, result.diff_ci_low, result.diff_ci_high, result.p_value, result.test = compare(
                result.conversions, result.n, control.conversions, control.n, alpha
            )
            tested.append(result)
    adjusted, rejected = holm([r.p_value for r in tested], alpha)
    for result, p_adj, reject in zip(tested, adjusted, rejected, strict=True):
        result.p_adjusted, result.significant = p_adj, reject

    srm = sample_ratio_check(arms, alpha=srm_alpha)
    sample_reached = bool(results) and all(r.sample_reached for r in results)

    baseline_assumed = control is None or control.n < MIN_BASELINE_N
    baseline = 0.5 if baseline_assumed else control.conversions / control.n
    # Plan with the same baseline but never exactly 0 or 1 (no variance to detect anything).
    baseline = min(max(baseline, 0.01), 0.99)
    alpha_each = alpha / comparisons  # Holm's first step; conservative for the others
    mde_planned = (
        minimal_detectable_effect(
            baseline=baseline, n_treatment=planned_per_arm, n_control=planned_per_arm, alpha=alpha_each
        )
        if planned_per_arm
        else None
    )
    smallest_treatment = min((r.n for r in treatments), default=0)
    mde_now = minimal_detectable_effect(
        baseline=baseline, n_treatment=smallest_treatment, n_control=control.n if control else 0, alpha=alpha_each
    )
    n_typical = sample_size_for_effect(baseline=baseline, effect=TYPICAL_EFFECT, alpha=alpha_each)

    winner = None
    total = sum(r.n for r in results)
    if total == 0:
        verdict = "no_data"
    elif not sample_reached:
        verdict = "collecting"
    elif srm.mismatch:
        verdict = "srm"
    else:
        good = [
            r
            for r in tested
            if r.significant and ((r.diff < 0) if lower_is_better else (r.diff > 0))  # type: ignore[operator]
        ]
        if good:
            best = min(good, key=lambda r: r.diff) if lower_is_better else max(good, key=lambda r: r.diff)
            winner, verdict = best.key, "winner"
        else:
            verdict = "no_difference"
    return Analysis(
        arms=results,
        alpha=alpha,
        srm=srm,
        planned_per_arm=planned_per_arm,
        sample_reached=sample_reached,
        baseline=baseline,
        baseline_assumed=baseline_assumed,
        mde_planned=mde_planned,
        mde_now=mde_now,
        n_for_typical_effect=n_typical,
        lower_is_better=lower_is_better,
        winner=winner,
        verdict=verdict,
    )
