"""Every figure of the results, recomputed in the test from the raw rows with plain scipy,
independently of ``nudges/statistics.py``: per metric (primary, per-booker guardrail,
descriptive) and for every verdict kind (winner, worse, no difference, collecting, SRM)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone
from scipy import stats

from nudges.constants import Metric, OutcomeKind
from nudges.experiments import services
from tests.nudges.conftest import build_experiment
from tests.nudges.experiments.measurement_data import fill

B, NS, CO = OutcomeKind.BOOKED, OutcomeKind.NO_SHOW, OutcomeKind.CHOSE_ONLINE

SCENARIOS = {
    # verdict: (planned, control, nudge)
    "winner": (400, {"n": 400, B: 240, NS: 24}, {"n": 400, B: 190, NS: 19, CO: 150}),
    "worse": (400, {"n": 400, B: 200, NS: 20}, {"n": 400, B: 250, NS: 25, CO: 40}),
    "no_difference": (400, {"n": 400, B: 200, NS: 20}, {"n": 400, B: 204, NS: 21, CO: 90}),
    "collecting": (1000, {"n": 400, B: 240, NS: 24}, {"n": 400, B: 150, NS: 15, CO: 200}),
    "srm": (300, {"n": 400, B: 200, NS: 20}, {"n": 300, B: 150, NS: 15, CO: 60}),
}


def wilson(k, n):
    z = stats.norm.isf(0.025)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def two_sided_p(k1, n1, k0, n0):
    pooled = (k1 + k0) / (n1 + n0)
    if min(n * p for n in (n1, n0) for p in (pooled, 1 - pooled)) < 5:
        return stats.fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue
    z = (k1 / n1 - k0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return 2 * stats.norm.sf(abs(z))


def expected_counts(rows, metric):
    """(n, conversions) per arm from the raw rows, by the metric's definition."""
    out = {}
    for key in ("controle", "easy"):
        units = [kinds for _unit, arm, kinds in rows if arm == key]
        if metric in (Metric.NO_SHOW, Metric.CANCELLED, Metric.ATTENDED):
            bookers = [k for k in units if B in k]
            out[key] = (len(bookers), sum(metric in k for k in bookers))
        elif metric == Metric.ABANDONED:
            out[key] = (len(units), sum(B not in k and CO not in k for k in units))
        else:
            out[key] = (len(units), sum(metric in k for k in units))
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("verdict", list(SCENARIOS))
def test_every_figure_matches_scipy_on_the_raw_rows(verdict, brp, interventions, online_history):
    planned, control, nudge = SCENARIOS[verdict]
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=planned,
    )
    rows = fill(experiment, brp, {"controle": control, "easy": nudge}, exposed_at=timezone.now() - timedelta(days=5))
    results = services.experiment_look(experiment=experiment)

    sizes = [sum(arm == key for _u, arm, _k in rows) for key in ("controle", "easy")]
    srm_p = stats.chisquare(sizes).pvalue
    final = bool(min(sizes) >= planned and srm_p >= 0.001)
    assert results.final is final

    for metric in [results.primary, *results.guardrails, *results.descriptive]:
        expected = expected_counts(rows, metric.metric)
        arms = {a.key: a for a in metric.analysis.arms}
        assert metric.analysis.srm.p_value == pytest.approx(srm_p, rel=1e-9)
        for key, (n, k) in expected.items():
            assert (arms[key].n, arms[key].conversions) == (n, k), metric.metric
            low, high = wilson(k, n)
            assert arms[key].ci_low == pytest.approx(low, abs=1e-12) and arms[key].ci_high == pytest.approx(high)
        tested = final and metric.comparable and metric.role != "descriptive"
        easy = arms["easy"]
        if not tested:
            assert easy.p_value is None and not easy.significant
            continue
        (n1, k1), (n0, k0) = expected["easy"], expected["controle"]
        p = two_sided_p(k1, n1, k0, n0)
        assert easy.p_value == pytest.approx(p, rel=1e-9) and easy.p_adjusted == pytest.approx(p, rel=1e-9)
        diff = k1 / n1 - k0 / n0
        better = diff < 0 if metric.lower_is_better else diff > 0
        arm_verdict = "no_difference" if p > 0.05 else ("better" if better else "worse")
        assert easy.verdict == arm_verdict, metric.metric

    assert results.primary.analysis.verdict == verdict
    assert results.verdict == verdict
