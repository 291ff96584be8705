"""What the nudges achieved: the cockpit's effects, intervals and their translation into
counter visits, minutes and euros equal an independent recomputation from the raw exposure and
outcome rows (scipy's Wilson intervals combined by Newcombe's method, written out here)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from scipy.stats import binomtest

from nudges.cockpit import portfolio
from nudges.constants import OutcomeKind, Touchpoint
from nudges.models import ExperimentCountsSnapshot, Exposure, Outcome
from tests.nudges.conftest import build_experiment
from tests.nudges.experiments.measurement_data import fill

pytestmark = pytest.mark.django_db

# control 600 of 1000 booked a counter visit; attractive 550 of 1000; easy 590 of 1000.
DATASET = {"controle": (1000, 600), "attractive": (1000, 550), "easy": (1000, 590)}


@pytest.fixture
def known(brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "attractive", "intervention": interventions["attractive"], "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=1000,
    )
    fill(
        experiment,
        brp,
        {key: {"n": n, OutcomeKind.BOOKED: booked} for key, (n, booked) in DATASET.items()},
        exposed_at=timezone.now() - timedelta(days=5),
    )
    return experiment


def from_raw_rows(experiment, key: str) -> tuple[float, float, float]:
    """Difference against control with Newcombe's interval, from the rows themselves."""

    def arm(k):
        exposed = set(
            Exposure.objects.filter(experiment=experiment, variant__key=k).values_list("unit_hash", flat=True)
        )
        booked = set(
            Outcome.objects.filter(experiment=experiment, kind=OutcomeKind.BOOKED, unit_hash__in=exposed).values_list(
                "unit_hash", flat=True
            )
        )
        ci = binomtest(len(booked), len(exposed)).proportion_ci(confidence_level=0.95, method="wilson")
        return len(booked) / len(exposed), ci.low, ci.high

    p1, l1, u1 = arm(key)
    p2, l2, u2 = arm("controle")
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_effects_and_what_they_freed_equal_a_recomputation_from_the_raw_rows(known, brp):
    portfolio.experiment_snapshots_refresh()
    assert ExperimentCountsSnapshot.objects.filter(experiment=known).exists()
    [row] = portfolio.portfolio()
    assert row.sample_reached and row.verdict is not None
    minutes = brp.minutes_per_person
    saving = float(brp.cost_counter - brp.cost_online)
    for arm in row.arms:
        d, low, high = from_raw_rows(known, arm.key)
        assert (arm.effect.value, arm.effect.low, arm.effect.high) == pytest.approx((d, low, high), abs=1e-9)
        # Counter visits freed per 1,000 visitors: −effect × 1,000, the interval turned around.
        assert (arm.visits.value, arm.visits.low, arm.visits.high) == pytest.approx(
            (-d * 1000, -high * 1000, -low * 1000), abs=1e-6
        )
        assert (arm.minutes.low, arm.minutes.high) == pytest.approx((-high * 1000 * minutes, -low * 1000 * minutes))
        assert (arm.euros.low, arm.euros.high) == pytest.approx((-high * 1000 * saving, -low * 1000 * saving))
    attractive = next(a for a in row.arms if a.key == "attractive")
    assert attractive.significant and row.winner == "attractive"
    assert attractive.visits.value == pytest.approx(50)


def expose(experiment, key: str, n: int, prefix: str) -> None:
    Exposure.objects.bulk_create(
        Exposure(
            experiment=experiment,
            variant=experiment.variants.get(key=key),
            unit_hash=f"{prefix}-{i}-".ljust(64, "0"),
            touchpoint=Touchpoint.PRODUCT_CHOICE,
            product=experiment.products.first(),
            exposed_at=timezone.now(),
        )
        for i in range(n)
    )


def test_the_portfolio_reads_the_snapshot_not_the_live_rows(brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=5000,
    )
    expose(experiment, "easy", 10, "first")
    portfolio.experiment_snapshots_refresh()
    expose(experiment, "easy", 10, "late")
    assert portfolio.portfolio()[0].arms[0].n == 10
    portfolio.experiment_snapshots_refresh()
    assert portfolio.portfolio()[0].arms[0].n == 20


def test_late_exposures_do_not_change_a_frozen_analysis(known):
    portfolio.experiment_snapshots_refresh()
    known.refresh_from_db()
    assert known.analysis_frozen_at is not None
    expose(known, "easy", 10, "late")
    portfolio.experiment_snapshots_refresh()
    [row] = portfolio.portfolio()
    easy = next(a for a in row.arms if a.key == "easy")
    assert easy.n == 1000
    # The sample reached goes on counting while the experiment runs; the verdict does not change.
    assert easy.reached == 1010 and row.control_reached == 1000
    assert row.winner == "attractive"


def test_a_running_experiment_shows_the_sample_reached_so_far(client, manager, brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=5000,
    )
    expose(experiment, "controle", 12, "c")
    expose(experiment, "easy", 10, "e")
    portfolio.experiment_snapshots_refresh()
    snapshot = ExperimentCountsSnapshot.objects.get(experiment=experiment)
    assert sorted(v["reached"] for v in snapshot.counts.values()) == [10, 12]

    [row] = portfolio.portfolio()
    assert (row.arms[0].reached, row.control_reached, row.reached_per_arm) == (10, 12, 10)
    assert row.planned_per_arm == 5000 and row.reached_share == pytest.approx(10 / 5000)
    assert row.verdict is None and row.arms[0].verdict is None  # no verdict before the planned sample

    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-nudges")).content.decode()
    assert "10 van 5.000" in body and "controle 12" in body
    assert "Nog geen oordeel: geplande steekproef niet bereikt" in body


def test_a_running_experiment_past_its_fixed_analysis_shows_both_samples(client, manager, known):
    portfolio.experiment_snapshots_refresh()
    expose(known, "easy", 25, "late")
    portfolio.experiment_snapshots_refresh()
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-nudges")).content.decode()
    assert "1.025 van 1.000" in body and "effect over 1.000" in body
    assert "Werkt: beter dan controle" in body


def test_no_verdict_before_the_planned_sample(brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "attractive", "intervention": interventions["attractive"], "weight": 1},
        ],
        planned=5000,
    )
    assert experiment.pk
    [row] = portfolio.portfolio()
    assert row.verdict is None and row.winner is None


def test_the_page_shows_effect_interval_and_forest_plot(client, manager, known):
    portfolio.experiment_snapshots_refresh()
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-nudges")).content.decode()
    assert 'alt="Effect per variant ten opzichte van de eigen controlegroep' in body
    assert "Werkt: beter dan controle" in body
    assert "-5,0" in body or "-5.0" in body  # the attractive effect in percentage points
