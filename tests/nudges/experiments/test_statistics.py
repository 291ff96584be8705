"""The results match independent computations: textbook values (Newcombe 1998) and formulas
written out here with scipy directly, on a known dataset stored through the real tables."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone
from scipy import stats

from nudges.constants import OutcomeKind, Touchpoint
from nudges.experiments import services, statistics
from nudges.experiments.results import experiment_counts
from nudges.models import Exposure, Outcome
from tests.nudges.conftest import build_experiment


def test_wilson_interval_matches_newcombe_textbook_example():
    # Newcombe (1998), Stat Med 17:857, example 81/263: Wilson 0.2553 to 0.3662.
    low, high = statistics.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_difference_interval_matches_newcombe_textbook_example():
    # Newcombe (1998), Stat Med 17:873, example 56/70 vs 48/80: hybrid score 0.0524 to 0.3339.
    diff, low, high, _p, _test = statistics.compare(56, 70, 48, 80)
    assert round(diff, 4) == 0.2
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def independent_z_test(k1, n1, k0, n0):
    pooled = (k1 + k0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (k1 / n1 - k0 / n0) / se
    return 2 * stats.norm.sf(abs(z))


def independent_holm(p_values):
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m, adjusted, running = len(p_values), [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# A known dataset: control 1200/2000 booked; easy 1130/2000; attractive 1175/2010; social 1198/1990.
DATASET = {"controle": (2000, 1200), "easy": (2000, 1130), "attractive": (2010, 1175), "social": (1990, 1198)}


@pytest.fixture
def known_experiment(brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
            {"key": "attractive", "intervention": interventions["attractive"], "weight": 1},
            {"key": "social", "intervention": interventions["social"], "weight": 1},
        ],
        planned=1990,
    )
    exposed_at = timezone.now() - timedelta(days=5)
    variants = {v.key: v for v in experiment.variants.all()}
    exposures, outcomes = [], []
    for key, (n, booked) in DATASET.items():
        for i in range(n):
            unit = f"{key}-{i:05d}".ljust(64, "0")
            exposures.append(
                Exposure(
                    experiment=experiment,
                    variant=variants[key],
                    unit_hash=unit,
                    touchpoint=Touchpoint.PRODUCT_CHOICE,
                    product=brp,
                    exposed_at=exposed_at,
                )
            )
            if i < booked:
                outcomes.append(
                    Outcome(
                        experiment=experiment,
                        variant=variants[key],
                        unit_hash=unit,
                        kind=OutcomeKind.BOOKED,
                        occurred_at=exposed_at + timedelta(hours=1),
                    )
                )
    Exposure.objects.bulk_create(exposures)
    Outcome.objects.bulk_create(outcomes)
    return experiment


@pytest.mark.django_db
def test_results_match_an_independent_computation(known_experiment, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        counts = experiment_counts(known_experiment)
    assert sorted((c["n"], c["booked"]) for c in counts.values()) == sorted(DATASET.values())

    results = services.experiment_look(experiment=known_experiment)
    assert results.final and known_experiment.analysis_frozen_at is not None
    analysis = results.primary.analysis
    arms = {a.key: a for a in analysis.arms}
    n0, k0 = DATASET["controle"]
    expected_p = {}
    for key, (n, k) in DATASET.items():
        arm = arms[key]
        assert arm.n == n and arm.conversions == k
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert arm.rate == pytest.approx(k / n)
        assert (arm.ci_low, arm.ci_high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))
        if key != "controle":
            assert arm.test == "z"
            assert arm.diff == pytest.approx(k / n - k0 / n0)
            expected_p[key] = independent_z_test(k, n, k0, n0)
            assert arm.p_value == pytest.approx(expected_p[key], rel=1e-9)
            assert arm.diff_ci_low < arm.diff < arm.diff_ci_high

    keys = list(expected_p)
    for key, adjusted in zip(keys, independent_holm([expected_p[k] for k in keys]), strict=True):
        assert arms[key].p_adjusted == pytest.approx(adjusted, rel=1e-9)

    # By hand: pooled 0.5825, SE 0.015595, z = -2.244: easy -3.5 pp, p = 0.0248 (Holm 0.0744): not significant.
    assert round(arms["easy"].diff * 100, 1) == -3.5
    assert round(arms["easy"].p_value, 4) == 0.0248
    assert round(arms["easy"].p_adjusted, 4) == 0.0744
    assert not any(a.significant for a in analysis.arms)

    # Sample-ratio check: chi-square against equal weights, written out.
    observed = [n for n, _k in DATASET.values()]
    mean = sum(observed) / 4
    chi2 = sum((o - mean) ** 2 / mean for o in observed)
    assert analysis.srm.statistic == pytest.approx(chi2)
    assert analysis.srm.p_value == pytest.approx(stats.chi2.sf(chi2, df=3))
    assert not analysis.srm.mismatch

    # Planned sample (1990 per arm) reached and no arm significant after Holm.
    assert analysis.sample_reached and analysis.winner is None and analysis.verdict == "no_difference"
    assert results.verdict == "no_difference"
    assert 0.03 < analysis.mde_planned < 0.06


def test_no_winner_before_the_planned_sample_even_when_significant():
    arms = [
        statistics.ArmCounts("controle", True, 1, 3000, 1800),
        statistics.ArmCounts("easy", False, 1, 3000, 1500),
    ]
    early = statistics.analyse(arms, planned_per_arm=5000, lower_is_better=True)
    assert early.winner is None and early.verdict == "collecting" and early.provisional
    # Provisional: nothing is tested, so nothing can look significant.
    assert not early.arms[1].significant and early.arms[1].p_value is None and early.arms[1].diff_ci_low is None
    done = statistics.analyse(arms, planned_per_arm=3000, lower_is_better=True)
    assert done.winner == "easy" and done.verdict == "winner"
    wrong_direction = statistics.analyse(arms, planned_per_arm=3000, lower_is_better=False)
    assert wrong_direction.winner is None


def test_sample_ratio_mismatch_blocks_a_verdict():
    arms = [
        statistics.ArmCounts("controle", True, 1, 3000, 1800),
        statistics.ArmCounts("easy", False, 1, 2500, 1250),
    ]
    analysis = statistics.analyse(arms, planned_per_arm=2500, lower_is_better=True)
    assert analysis.srm.mismatch and analysis.verdict == "srm" and analysis.winner is None


def test_small_counts_use_fishers_exact_test():
    _diff, _low, _high, p_value, test = statistics.compare(1, 20, 6, 20)
    assert test == "fisher"
    assert p_value == pytest.approx(stats.fisher_exact([[1, 19], [6, 14]]).pvalue)


def test_sample_size_for_the_typical_effect_is_large():
    # 1.4 points from 60% at 80% power, alpha 5% two-sided: about 19,000 per arm.
    n = statistics.sample_size_for_effect(baseline=0.6, effect=0.014, alpha=0.05)
    assert 18_000 < n < 20_000


def test_results_are_rounded_not_cut_off():
    from django.utils import translation

    from nudges.templatetags.nudges import pct, points

    with translation.override("nl"):
        assert pct(2 / 3) == "66,7%"
        assert pct(0.01949) == "1,9%"
        assert points(-0.03496) == "−3,5 pp"
    with translation.override("en"):
        assert pct(2 / 3) == "66.7%"
