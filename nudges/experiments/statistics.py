"""Honest numbers for an experiment, from per-arm counts (see ``results.experiment_counts``).

Everything is computed with maintained libraries (statsmodels, scipy), except Holm and the
power equation, written out below because the libraries' versions cost a tenth of a second each:

- per arm: the rate with a 95% Wilson interval;
- per treatment arm against control: the difference with a Newcombe (hybrid score) 95%
  interval and a two-sided p-value: the pooled two-proportion z-test, or Fisher's exact test
  when an expected cell count is below 5;
- Holm–Bonferroni over the comparisons with control (family-wise error 5%);
- the sample-ratio-mismatch check: chi-square goodness of fit of the arm sizes against the
  weights (flagged below p = NUDGES_SRM_ALPHA, default 0.001);
- power: the minimal detectable effect (80% power, alpha split over the comparisons) at the
  planned and the current sample, and the sample a typical 1.4-point effect would need, both in
  the metric's desirable direction (downwards for lower-is-better metrics such as no-shows);
- a verdict per metric (``VERDICTS``): a fixed-horizon design. Tests count only in the one
  final analysis, once every arm has its planned sample (``final``: the caller says whether
  this is that analysis, see ``results.experiment_results``). Before that the analysis is
  provisional: rates and intervals per arm, but no p-values, difference intervals or
  significance. A treatment significantly better than control (after Holm) is a ``winner``;
  one significantly worse in the undesirable direction is ``worse`` (harm is called harm); a
  sample-ratio mismatch overrides everything (``srm``).

Display: ``ArmResult.rate_exact`` and ``diff_exact`` are exact fractions, rounded half up by
``round_half_up`` (binary floats would show 23/80 as 28,7%).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from scipy import stats as scipy_stats
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

ALPHA = 0.05
POWER = 0.8
# Average effect of government nudges across 126 trials (DellaVigna & Linos 2022): +1.4 points.
TYPICAL_EFFECT = 0.014
# Below this many units in control, its rate is too unsteady to plan with; 50% is the
# conservative (largest-variance) assumption instead.
MIN_BASELINE_N = 100

NO_DATA, COLLECTING, SRM, WINNER, WORSE, NO_DIFFERENCE = (
    "no_data",
    "collecting",
    "srm",
    "winner",
    "worse",
    "no_difference",
)
VERDICTS = (NO_DATA, COLLECTING, SRM, WINNER, WORSE, NO_DIFFERENCE)
# Per treatment arm in a final analysis
BETTER, ARM_WORSE, ARM_NO_DIFFERENCE = "better", "worse", "no_difference"


def round_half_up(value: Fraction, decimals: int) -> Decimal:
    """``value`` rounded half away from zero to ``decimals`` places, exactly (integer
    arithmetic on the fraction: no binary float in between)."""
    scale = 10**decimals
    rounded = (2 * abs(value.numerator) * scale + value.denominator) // (2 * value.denominator)
    return Decimal(-rounded if value < 0 else rounded).scaleb(-decimals)


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
    # better | worse | no_difference: treatment arms in a final analysis only
    verdict: str | None = None

    @property
    def rate_exact(self) -> Fraction | None:
        return Fraction(self.conversions, self.n) if self.n else None


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
    verdict: str  # one of VERDICTS
    # True only in the one final analysis; before it nothing is tested (see the module doc).
    final: bool = False
    worse: list[str] = field(default_factory=list)  # arms significantly worse than control

    @property
    def control(self) -> ArmResult | None:
        return next((a for a in self.arms if a.is_control), None)

    @property
    def provisional(self) -> bool:
        return not self.final

    def diff_exact(self, arm: ArmResult) -> Fraction | None:
        control = self.control
        if arm.is_control or control is None or not arm.n or not control.n:
            return None
        return Fraction(arm.conversions, arm.n) - Fraction(control.conversions, control.n)


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
    """Holm's step-down adjustment (Holm 1979): the same figures as statsmodels'
    ``multipletests(method="holm")``, which runs a full garbage collection on every call."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted, [p <= alpha for p in adjusted]


def _power(h: float, n_treatment: float, ratio: float, alpha: float) -> float:
    """Two-sided power of the normal test on Cohen's h (statsmodels' ``NormalIndPower``)."""
    scale = h * math.sqrt(n_treatment / (1 + 1 / ratio))
    crit = -float(ndtri(alpha / 2))
    return float(ndtr(scale - crit) + ndtr(-crit - scale))


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


def _absolute_from_h(baseline: float, h: float, *, lower_is_better: bool = False) -> float:
    """Cohen's h back to percentage points from the baseline, in the desirable direction
    (downwards for lower-is-better metrics); the other way only where that one has no room."""
    phi = 2 * math.asin(math.sqrt(baseline))
    up, down = phi + h, phi - h
    if (lower_is_better and down >= 0) or up > math.pi:
        return baseline - math.sin(down / 2) ** 2
    return math.sin(up / 2) ** 2 - baseline


def minimal_detectable_effect(
    *,
    baseline: float,
    n_treatment: int,
    n_control: int,
    alpha: float,
    power: float = POWER,
    lower_is_better: bool = False,
) -> float | None:
    """Smallest absolute difference detectable with this power (two-sided) at these sizes, in
    the metric's desirable direction."""
    if n_treatment < 2 or n_control < 2:
        return None
    ratio = n_control / n_treatment
    h = brentq(lambda x: _power(x, n_treatment, ratio, alpha) - power, 1e-9, 10.0, xtol=1e-12)
    return _absolute_from_h(baseline, float(h), lower_is_better=lower_is_better)


def sample_size_for_effect(
    *,
    baseline: float,
    effect: float,
    alpha: float,
    power: float = POWER,
    ratio: float = 1.0,
    lower_is_better: bool = False,
) -> int:
    """Units per treatment arm to detect ``effect`` (absolute) from ``baseline`` in the
    metric's desirable direction."""
    target = baseline - effect if lower_is_better else baseline + effect
    if not 0.0 <= target <= 1.0:
        target = baseline + effect if lower_is_better else baseline - effect
    h = abs(2 * math.asin(math.sqrt(target)) - 2 * math.asin(math.sqrt(baseline)))
    n = brentq(lambda x: _power(h, x, ratio, alpha) - power, 1e-6, 1e12, xtol=1e-9)
    return math.ceil(float(n))


def analyse(
    arms: Sequence[ArmCounts],
    *,
    planned_per_arm: int | None,
    lower_is_better: bool,
    comparable: bool = True,
    alpha: float = ALPHA,
    srm_alpha: float = 0.001,
    final: bool | None = None,
    srm: Srm | None = None,
) -> Analysis:
    """The full analysis of one metric. ``comparable=False`` (a metric only nudge groups can
    produce) gives rates and intervals but no tests against control. ``final=False``: this is
    not the experiment's one analysis moment, so nothing is tested even if the sample is
    there (``None``: final as soon as every arm has its planned sample). ``srm``: the sample-ratio check when the arms' denominators are not the exposed
    units (per-booker metrics); by default it is computed from these arms."""
    results = [
        ArmResult(key=a.key, is_control=a.is_control, weight=a.weight, n=a.n, conversions=a.conversions) for a in arms
    ]
    for result in results:
        if result.n > 0:
            result.rate = result.conversions / result.n
            result.ci_low, result.ci_high = wilson_interval(result.conversions, result.n, alpha)
        result.sample_reached = bool(planned_per_arm and result.n >= planned_per_arm)

    srm = srm if srm is not None else sample_ratio_check(arms, alpha=srm_alpha)
    sample_reached = bool(results) and all(r.sample_reached for r in results)
    total = sum(r.n for r in results)
    # A broken split (sample-ratio mismatch) is never tested either: no conclusion from it.
    final = (sample_reached if final is None else final) and total > 0 and not srm.mismatch

    control = next((r for r in results if r.is_control), None)
    treatments = [r for r in results if not r.is_control]
    comparisons = max(len(treatments), 1)
    tested: list[tuple[ArmResult, float, float]] = []  # (arm, difference, p-value)
    if final and comparable and control is not None and control.n > 0:
        for result in treatments:
            if result.n == 0:
                continue
            diff, low, high, p_value, test = compare(
                result.conversions, result.n, control.conversions, control.n, alpha
            )
            result.diff, result.diff_ci_low, result.diff_ci_high = diff, low, high
            result.p_value, result.test = p_value, test
            tested.append((result, diff, p_value))
    elif control is not None and control.n > 0:
        # Provisional: the point estimate only; an interval or p-value would invite a verdict.
        for result in treatments:
            if result.n > 0:
                result.diff = result.conversions / result.n - control.conversions / control.n
    adjusted, rejected = holm([p_value for _arm, _diff, p_value in tested], alpha)
    for (result, diff, _p), p_adj, reject in zip(tested, adjusted, rejected, strict=True):
        result.p_adjusted, result.significant = p_adj, reject
        better = (diff < 0) if lower_is_better else (diff > 0)
        result.verdict = ARM_NO_DIFFERENCE if not reject else (BETTER if better else ARM_WORSE)

    if control is None or control.n < MIN_BASELINE_N:
        baseline, baseline_assumed = 0.5, True
    else:
        baseline, baseline_assumed = control.conversions / control.n, False
    # Plan with the same baseline but never exactly 0 or 1 (no variance to detect anything).
    baseline = min(max(baseline, 0.01), 0.99)
    alpha_each = alpha / comparisons  # Holm's first step; conservative for the others
    direction = {"lower_is_better": lower_is_better}
    mde_planned = (
        minimal_detectable_effect(
            baseline=baseline, n_treatment=planned_per_arm, n_control=planned_per_arm, alpha=alpha_each, **direction
        )
        if planned_per_arm
        else None
    )
    smallest_treatment = min((r.n for r in treatments), default=0)
    mde_now = minimal_detectable_effect(
        baseline=baseline,
        n_treatment=smallest_treatment,
        n_control=control.n if control else 0,
        alpha=alpha_each,
        **direction,
    )
    n_typical = sample_size_for_effect(baseline=baseline, effect=TYPICAL_EFFECT, alpha=alpha_each, **direction)

    winner = None
    worse = [r.key for r, _diff, _p in tested if r.verdict == ARM_WORSE]
    if total == 0:
        verdict = NO_DATA
    elif srm.mismatch:
        verdict = SRM
    elif not final:
        verdict = COLLECTING
    else:
        good = [(r, diff) for r, diff, _p in tested if r.verdict == BETTER]
        if good:
            best, _diff = min(good, key=lambda g: g[1]) if lower_is_better else max(good, key=lambda g: g[1])
            winner, verdict = best.key, WINNER
        elif worse:
            verdict = WORSE
        else:
            verdict = NO_DIFFERENCE
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
        final=final,
        worse=worse,
    )
