"""Honest measurement (issue 15): harm is called harm, no provisional significance, one
analysis moment, exact display rounding, power in the metric's direction, one abandonment
window, per-booker guardrails. Each test names the flaw it guards against."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from scipy import stats

from nudges.constants import Metric, OutcomeKind
from nudges.experiments import services, statistics
from nudges.experiments.results import experiment_counts, experiment_results
from nudges.templatetags.nudges import p_phrase, pct
from tests.nudges.conftest import build_experiment
from tests.nudges.experiments.measurement_data import fill

TWO_ARMS = lambda interventions: [  # noqa: E731
    {"key": "controle", "intervention": None, "weight": 1},
    {"key": "easy", "intervention": interventions["easy"], "weight": 1},
]


# --- flaw 1: harm is reported as "no difference" ---------------------------------------------


def test_significantly_worse_is_called_worse_not_no_difference():
    # Counter bookings (lower is better) up from 50% to 72.5%: harm.
    arms = [statistics.ArmCounts("controle", True, 1, 200, 100), statistics.ArmCounts("easy", False, 1, 200, 145)]
    analysis = statistics.analyse(arms, planned_per_arm=200, lower_is_better=True)
    assert analysis.verdict == "worse" and analysis.worse == ["easy"] and analysis.winner is None
    assert analysis.arms[1].verdict == "worse"


@pytest.mark.django_db
def test_a_worse_guardrail_blocks_the_winner(brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=400)
    # Fewer counter bookings (primary: better), but far more no-shows among those who booked.
    fill(
        experiment,
        brp,
        {
            "controle": {"n": 400, OutcomeKind.BOOKED: 240, OutcomeKind.NO_SHOW: 12},
            "easy": {"n": 400, OutcomeKind.BOOKED: 180, OutcomeKind.NO_SHOW: 40},
        },
        exposed_at=timezone.now() - timedelta(days=5),
    )
    results = services.experiment_look(experiment=experiment)
    assert results.primary.analysis.verdict == "winner" and results.primary.analysis.winner == "easy"
    (no_show,) = results.guardrails
    assert no_show.analysis.verdict == "worse"
    assert results.verdict == "worse" and results.winner is None and results.blocked_by == [no_show.label]
    assert results.harmed_on == [no_show.label]


# --- flaw 2: repeated looks and provisional significance -------------------------------------


@pytest.mark.django_db
def test_the_analysis_freezes_at_the_first_look_with_the_planned_sample(brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=300)
    start = timezone.now() - timedelta(days=10)
    even = {OutcomeKind.BOOKED: 150}
    fill(experiment, brp, {"controle": {"n": 300, **even}, "easy": {"n": 300, **even}}, exposed_at=start)
    first = services.experiment_look(experiment=experiment, now=start + timedelta(days=1))
    assert first.final and first.verdict == "no_difference"
    frozen_at = first.computed_at

    # More data keeps coming in and would now look like a winner: later looks do not re-test.
    fill(
        experiment,
        brp,
        {"controle": {"n": 600, OutcomeKind.BOOKED: 450}, "easy": {"n": 600, OutcomeKind.BOOKED: 150}},
        exposed_at=start + timedelta(days=2),
        prefix="later",
    )
    experiment.refresh_from_db()
    later = services.experiment_look(experiment=experiment)
    assert later.computed_at == frozen_at and later.verdict == "no_difference"
    assert [a.n for a in later.primary.analysis.arms] == [300, 300]


@pytest.mark.django_db
def test_nothing_is_significant_while_collecting(client, manager_user, brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=5000)
    fill(
        experiment,
        brp,
        {"controle": {"n": 400, OutcomeKind.BOOKED: 300}, "easy": {"n": 400, OutcomeKind.BOOKED: 100}},
        exposed_at=timezone.now() - timedelta(days=3),
    )
    client.force_login(manager_user)
    body = client.get(reverse("api-experiment-results", args=[experiment.pk])).json()
    assert body["verdict"] == "collecting" and body["provisional"] and not body["final"]
    for metric in [body["primary"], *body["guardrails"], *body["descriptive"]]:
        for arm in metric["analysis"]["arms"]:
            assert arm["significant"] is False
            assert arm["p_value"] is None and arm["p_adjusted"] is None and arm["diff_ci_low"] is None
    page = client.get(reverse("nudges:manager-detail", args=[experiment.pk])).content.decode()
    assert "voorlopig" in page and "p na Holm" not in page
    assert "Nog geen oordeel" in page


# --- flaw 8: display rounding from binary floats ---------------------------------------------


def test_rates_are_rounded_half_up_from_exact_fractions_for_every_x_over_n():
    wrong = []
    for n in range(1, 2001):
        for x in range(n + 1):
            # 1000 x / n rounded half up, in integers: floor((2000 x + n) / (2 n)).
            tenths = (2000 * x + n) // (2 * n)
            got = statistics.round_half_up(Fraction(100 * x, n), 1)
            if got.scaleb(1) != tenths:
                wrong.append((x, n))
    assert wrong == []
    with translation.override("nl"):
        assert pct(Fraction(23, 80)) == "28,8%"


@pytest.mark.django_db
def test_the_results_page_shows_23_of_80_as_28_8_percent(client, manager_user, brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=80)
    fill(
        experiment,
        brp,
        {"controle": {"n": 80, OutcomeKind.BOOKED: 23}, "easy": {"n": 80, OutcomeKind.BOOKED: 23}},
        exposed_at=timezone.now() - timedelta(days=3),
    )
    client.force_login(manager_user)
    page = client.get(reverse("nudges:manager-detail", args=[experiment.pk])).content.decode()
    assert "28,8%" in page and "28,7%" not in page


def test_p_values_never_read_p_equals_less_than():
    with translation.override("nl"):
        assert p_phrase(0.0001) == "p < 0,001" and p_phrase(0.0123) == "p = 0,012"


# --- flaw 9: power in the metric's direction ---------------------------------------------------


def independent_power(p0: float, p1: float, n: int, alpha: float) -> float:
    """Two-sided power of the arcsine test with n per arm (Cohen 1988, ch. 6)."""
    h = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0)))
    z = stats.norm.ppf(1 - alpha / 2)
    return stats.norm.cdf(h * math.sqrt(n / 2) - z) + stats.norm.cdf(-h * math.sqrt(n / 2) - z)


@pytest.mark.parametrize("baseline", [0.05, 0.12, 0.6])
def test_the_mde_and_sample_size_follow_a_lower_is_better_metric(baseline):
    mde = statistics.minimal_detectable_effect(
        baseline=baseline, n_treatment=3000, n_control=3000, alpha=0.05, lower_is_better=True
    )
    assert independent_power(baseline, baseline - mde, 3000, 0.05) == pytest.approx(0.8, abs=1e-6)
    n = statistics.sample_size_for_effect(baseline=baseline, effect=0.014, alpha=0.05, lower_is_better=True)
    assert independent_power(baseline, baseline - 0.014, n, 0.05) >= 0.8
    assert independent_power(baseline, baseline - 0.014, n - 1, 0.05) < 0.8


# --- flaw 10: one abandonment window; finished experiments as of their finish --------------------


@pytest.mark.django_db
def test_abandoned_uses_one_window_for_booking_and_online_choice(brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=10)
    # Every unit chose online only after 3 days: past the 48 h window, so all abandoned.
    fill(
        experiment,
        brp,
        {"controle": {"n": 10}, "easy": {"n": 10, OutcomeKind.CHOSE_ONLINE: 10}},
        exposed_at=timezone.now() - timedelta(days=5),
        outcome_after=timedelta(days=3),
    )
    counts = experiment_counts(experiment)
    assert sorted(c["abandoned"] for c in counts.values()) == [10, 10]


@pytest.mark.django_db
def test_a_finished_experiment_reads_the_same_on_the_manager_page_and_the_register(
    client, manager_user, brp, interventions, online_history
):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=20)
    exposed = timezone.now() - timedelta(days=5)
    fill(experiment, brp, {"controle": {"n": 20}, "easy": {"n": 20}}, exposed_at=exposed)
    services.experiment_finish(experiment=experiment, now=exposed + timedelta(hours=1))
    experiment.refresh_from_db()
    manager = services.experiment_look(experiment=experiment)
    register = experiment_results(experiment)
    assert manager.computed_at == register.computed_at == experiment.finished_at
    # Finished an hour after the exposures: nobody had passed the 48 h window yet.
    assert [c["matured"] for c in manager.counts.values()] == [0, 0]


# --- flaw 11: appointment guardrails per booker --------------------------------------------------


@pytest.mark.django_db
def test_no_shows_are_computed_per_booker_with_the_per_exposed_rate_beside(brp, interventions, online_history):
    experiment = build_experiment([brp], TWO_ARMS(interventions), planned=400)
    # Same no-show rate among bookers (10%); the nudge halves bookings.
    fill(
        experiment,
        brp,
        {
            "controle": {"n": 400, OutcomeKind.BOOKED: 200, OutcomeKind.NO_SHOW: 20},
            "easy": {"n": 400, OutcomeKind.BOOKED: 100, OutcomeKind.NO_SHOW: 10},
        },
        exposed_at=timezone.now() - timedelta(days=5),
    )
    results = services.experiment_look(experiment=experiment)
    (no_show,) = results.guardrails
    assert no_show.metric == Metric.NO_SHOW and no_show.denominator == "bookers"
    assert [(a.n, a.conversions) for a in no_show.analysis.arms] == [(200, 20), (100, 10)]
    assert no_show.analysis.verdict == "no_difference"
    assert [(a.n, a.conversions) for a in no_show.per_exposed.arms] == [(400, 20), (400, 10)]
