"""A short A/A peeking simulation (the full 1,000 runs: ``benchmarks/aa_peeking.py``): with the
fixed-horizon rule a false winner is no more frequent than the nominal rate plus its
Monte-Carlo error, while re-testing on every look inflates it; and no look before the planned
sample shows a p-value or anything significant."""

from __future__ import annotations

import math

from benchmarks.aa_peeking import simulate


def test_a_short_aa_simulation_with_a_look_every_500_units_keeps_false_winners_nominal():
    result = simulate(runs=300, planned=1000, look_every=500, max_per_arm=3000, seed=15)
    assert result.provisional_significant_looks == 0
    assert result.frozen_rate <= result.nominal + 1.96 * math.sqrt(result.nominal * (1 - result.nominal) / 300)
    assert result.retest_rate > result.frozen_rate  # what the freeze protects against
