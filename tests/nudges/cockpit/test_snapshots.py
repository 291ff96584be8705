"""The experiment snapshots of the cockpit: the counts equal a recount written out here from the
raw exposure and outcome rows, outcomes reported late for old exposures are counted, and a
snapshot that skips its recount (nothing added up to its analysis moment) holds the same counts
as a full recount."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from nudges.cockpit import portfolio
from nudges.cockpit.portfolio import REACHED
from nudges.constants import OutcomeKind, Touchpoint
from nudges.experiments import results
from nudges.models import ExperimentCountsSnapshot, Exposure, Outcome
from tests.nudges.conftest import build_experiment

pytestmark = pytest.mark.django_db

K = OutcomeKind
APPOINTMENT = (K.NO_SHOW, K.CANCELLED, K.ATTENDED)


@pytest.fixture
def two_arms(brp, interventions, online_history):
    return build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=30,
    )


def unit(i: int) -> str:
    return f"unit-{i:06d}".ljust(64, "-")


def expose(experiment, key: str, units: range, *, at, fallback: bool = False) -> None:
    Exposure.objects.bulk_create(
        Exposure(
            experiment=experiment,
            variant=experiment.variants.get(key=key),
            unit_hash=unit(i),
            touchpoint=Touchpoint.PRODUCT_CHOICE,
            product=experiment.products.first(),
            fallback=fallback,
            exposed_at=at,
        )
        for i in units
    )


def report(experiment, kind: str, units, *, at) -> None:
    """Outcomes as an integration client reports them: for the unit's own arm."""
    arm = dict(Exposure.objects.filter(experiment=experiment).values_list("unit_hash", "variant_id"))
    Outcome.objects.bulk_create(
        Outcome(
            experiment=experiment,
            variant_id=arm[unit(i)],
            unit_hash=unit(i),
            kind=kind,
            occurred_at=at,
        )
        for i in units
    )


def recount(experiment, *, now, until=None) -> dict[int, dict[str, int]]:
    """``experiment_counts`` by its definition, unit by unit, from the raw rows."""
    window = timedelta(hours=settings.NUDGES_ABANDON_AFTER_HOURS)
    outcomes: dict[str, dict[str, object]] = {}
    for o in Outcome.objects.filter(experiment=experiment):
        if until is None or o.occurred_at <= until:
            outcomes.setdefault(o.unit_hash, {})[o.kind] = o.occurred_at
    counts: dict[int, dict[str, int]] = {}
    for e in Exposure.objects.filter(experiment=experiment):
        if until is not None and e.exposed_at > until:
            continue
        had = outcomes.get(e.unit_hash, {})
        c = counts.setdefault(e.variant_id, {"n": 0, "matured": 0, "fallbacks": 0, "abandoned": 0})
        matured = e.exposed_at <= now - window
        within = [k for k in (K.BOOKED, K.CHOSE_ONLINE) if k in had and had[k] <= e.exposed_at + window]
        c["n"] += 1
        c["matured"] += matured
        c["fallbacks"] += e.fallback
        c["abandoned"] += matured and not within
        for kind in K:
            c[kind.value] = c.get(kind.value, 0) + (kind in had)
        for kind in APPOINTMENT:
            c[f"booked_{kind}"] = c.get(f"booked_{kind}", 0) + (K.BOOKED in had and kind in had)
    return counts


def snapshot_counts(experiment) -> dict[int, dict[str, int]]:
    """The analysed counts of the stored snapshot (the sample reached so far, stored beside them,
    is tested with the portfolio)."""
    snapshot = ExperimentCountsSnapshot.objects.get(experiment=experiment)
    return {int(k): {kind: n for kind, n in v.items() if kind != REACHED} for k, v in snapshot.counts.items()}


def test_the_counts_equal_a_recount_of_the_raw_rows(two_arms):
    now = timezone.now()
    old, recent = now - timedelta(days=10), now - timedelta(hours=2)
    window = timedelta(hours=settings.NUDGES_ABANDON_AFTER_HOURS)
    expose(two_arms, "controle", range(0, 20), at=old)
    expose(two_arms, "easy", range(20, 40), at=old, fallback=True)
    expose(two_arms, "easy", range(40, 50), at=recent)
    report(two_arms, K.BOOKED, range(0, 12), at=old + timedelta(hours=1))
    report(two_arms, K.BOOKED, range(12, 15), at=old + window + timedelta(hours=1))  # after the window
    report(two_arms, K.NO_SHOW, range(0, 4), at=old + timedelta(days=3))
    report(two_arms, K.NO_SHOW, range(15, 17), at=old + timedelta(days=3))  # a no-show without a booking
    report(two_arms, K.ATTENDED, range(4, 9), at=old + timedelta(days=3))
    report(two_arms, K.CHOSE_ONLINE, range(20, 33), at=old + timedelta(minutes=5))
    report(two_arms, K.BOOKED, range(33, 36), at=old + timedelta(minutes=5))
    report(two_arms, K.CANCELLED, range(33, 35), at=old + timedelta(days=1))
    report(two_arms, K.CHOSE_ONLINE, range(40, 45), at=recent + timedelta(minutes=1))

    until = old + timedelta(days=2)  # a stored analysis moment: later outcomes left out
    # The one-pass query of PostgreSQL, and the portable one that SQLite uses on a laptop.
    for counted in (results.experiment_counts, results._counts_per_unit):
        assert counted(two_arms, now=now, until=None) == recount(two_arms, now=now)
        assert counted(two_arms, now=until, until=until) == recount(two_arms, now=until, until=until)
    easy = results.experiment_counts(two_arms, now=now)[two_arms.variants.get(key="easy").pk]
    assert (easy["n"], easy["fallbacks"], easy["matured"], easy["abandoned"]) == (30, 20, 20, 4)


def test_an_outcome_reported_late_for_an_old_exposure_is_counted(two_arms):
    now = timezone.now()
    exposed = now - timedelta(days=20)
    expose(two_arms, "controle", range(0, 30), at=exposed)
    expose(two_arms, "easy", range(30, 60), at=exposed)
    report(two_arms, K.BOOKED, range(0, 10), at=exposed + timedelta(hours=1))
    portfolio.experiment_snapshots_refresh(now=now)
    two_arms.refresh_from_db()
    frozen = two_arms.analysis_frozen_at
    assert frozen == now  # the planned 30 per arm were there: the analysis is fixed at this look

    # The appointment system reports a no-show of two weeks ago, and a booking made before the
    # frozen moment; a booking after it stays out of the frozen analysis.
    report(two_arms, K.NO_SHOW, range(0, 3), at=exposed + timedelta(days=6))
    report(two_arms, K.BOOKED, range(30, 35), at=frozen - timedelta(minutes=1))
    report(two_arms, K.BOOKED, range(35, 38), at=frozen + timedelta(minutes=1))
    later = now + timedelta(minutes=15)
    assert portfolio.experiment_snapshots_refresh(now=later) == 1

    counts = snapshot_counts(two_arms)
    control, easy = (two_arms.variants.get(key=k).pk for k in ("controle", "easy"))
    assert (counts[control]["no_show"], counts[control]["booked_no_show"]) == (3, 3)
    assert counts[easy]["booked"] == 5
    assert counts == recount(two_arms, now=frozen, until=frozen)
    row = portfolio.portfolio()[0]
    assert row.control_n == 30 and row.control_rate == pytest.approx(10 / 30)
    assert row.arms[0].rate == pytest.approx(5 / 30)


def test_a_provisional_analysis_counts_late_outcomes_too(brp, interventions, online_history):
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        planned=5000,
    )
    now = timezone.now()
    expose(experiment, "controle", range(0, 10), at=now - timedelta(days=30))
    expose(experiment, "easy", range(10, 20), at=now - timedelta(days=30))
    portfolio.experiment_snapshots_refresh(now=now)
    report(experiment, K.BOOKED, range(10, 14), at=now - timedelta(days=29))
    later = now + timedelta(minutes=15)
    assert portfolio.experiment_snapshots_refresh(now=later) == 1
    assert snapshot_counts(experiment) == recount(experiment, now=later)
    assert snapshot_counts(experiment)[experiment.variants.get(key="easy").pk]["booked"] == 4


def test_skipping_an_unchanged_recount_gives_the_counts_of_a_full_recount(two_arms):
    now = timezone.now()
    exposed = now - timedelta(days=20)
    expose(two_arms, "controle", range(0, 30), at=exposed)
    expose(two_arms, "easy", range(30, 60), at=exposed)
    report(two_arms, K.BOOKED, range(0, 12), at=exposed + timedelta(hours=1))
    report(two_arms, K.CHOSE_ONLINE, range(30, 50), at=exposed + timedelta(hours=1))
    assert portfolio.experiment_snapshots_refresh(now=now) == 1
    two_arms.refresh_from_db()
    frozen = two_arms.analysis_frozen_at

    # Rows after the frozen moment change nothing: no recount, and the snapshot is still right.
    expose(two_arms, "easy", range(60, 70), at=frozen + timedelta(minutes=2))
    report(two_arms, K.BOOKED, range(12, 14), at=frozen + timedelta(minutes=3))
    computed_at = ExperimentCountsSnapshot.objects.get(experiment=two_arms).computed_at
    for minutes in (15, 30):
        assert portfolio.experiment_snapshots_refresh(now=now + timedelta(minutes=minutes)) == 0
    assert ExperimentCountsSnapshot.objects.get(experiment=two_arms).computed_at == computed_at
    # Still collecting: the sample reached goes on growing beside the analysed counts.
    easy = ExperimentCountsSnapshot.objects.get(experiment=two_arms).counts[str(two_arms.variants.get(key="easy").pk)]
    assert (easy[REACHED], easy["n"]) == (40, 30)
    full = results.experiment_counts_as_analysed(two_arms, now=now + timedelta(minutes=30))
    assert snapshot_counts(two_arms) == full == recount(two_arms, now=frozen, until=frozen)

    # One outcome up to the frozen moment, reported late: recounted, again equal to a full recount.
    report(two_arms, K.ATTENDED, range(0, 1), at=frozen)
    assert portfolio.experiment_snapshots_refresh(now=now + timedelta(minutes=45)) == 1
    full = results.experiment_counts_as_analysed(two_arms, now=now + timedelta(minutes=45))
    assert snapshot_counts(two_arms) == full == recount(two_arms, now=frozen, until=frozen)
    assert full[two_arms.variants.get(key="controle").pk]["booked_attended"] == 1
