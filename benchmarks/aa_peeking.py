"""A/A peeking simulation: how often does the results page name a false winner?

Both arms have the same true rate (no effect). A manager looks every ``--look-every`` units per
arm, up to ``--max-per-arm``. Each look runs ``nudges.statistics.analyse`` exactly as the page
does, under the fixed-horizon rule of ``services.experiment_look``: the first look at which
every arm has its planned sample freezes the analysis, and later looks show that frozen
verdict. For contrast it also counts what re-testing on every look would give (the old
behaviour), and it checks that no look before the planned sample shows anything as significant.

    .venv/bin/python benchmarks/aa_peeking.py            # 1,000 runs (a few minutes)
    .venv/bin/python benchmarks/aa_peeking.py --runs 200 --seed 7

The nominal false-winner rate is alpha/2 per treatment arm (a two-sided 5% test, winners only
in the desirable direction); the Monte-Carlo error is sqrt(p(1-p)/runs).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from nudges.experiments import statistics


@dataclass
class Simulation:
    runs: int
    frozen_false_winners: int
    retest_false_winners: int
    provisional_significant_looks: int
    nominal: float

    @property
    def frozen_rate(self) -> float:
        return self.frozen_false_winners / self.runs

    @property
    def retest_rate(self) -> float:
        return self.retest_false_winners / self.runs

    @property
    def mc_error(self) -> float:
        return math.sqrt(self.nominal * (1 - self.nominal) / self.runs)


def simulate(
    *,
    runs: int,
    planned: int = 2000,
    look_every: int = 500,
    max_per_arm: int = 4000,
    rate: float = 0.6,
    seed: int = 2026,
    alpha: float = statistics.ALPHA,
) -> Simulation:
    rng = np.random.default_rng(seed)
    looks = list(range(look_every, max_per_arm + 1, look_every))
    frozen_wins = retest_wins = provisional_significant = 0
    for _run in range(runs):
        # Cumulative conversions at each look, per arm: independent binomial increments.
        steps = rng.binomial(look_every, rate, size=(2, len(looks))).cumsum(axis=1)
        frozen = None
        retest_won = False
        for index, n in enumerate(looks):
            arms = [
                statistics.ArmCounts("controle", True, 1, n, int(steps[0, index])),
                statistics.ArmCounts("nudge", False, 1, n, int(steps[1, index])),
            ]
            analysis = statistics.analyse(arms, planned_per_arm=planned, lower_is_better=True, alpha=alpha)
            if analysis.provisional and any(a.significant or a.p_value is not None for a in analysis.arms):
                provisional_significant += 1
            if analysis.final:
                frozen = frozen or analysis  # the first final look is the one that counts
                retest_won = retest_won or analysis.verdict == statistics.WINNER
        frozen_wins += frozen is not None and frozen.verdict == statistics.WINNER
        retest_wins += retest_won
    return Simulation(
        runs=runs,
        frozen_false_winners=frozen_wins,
        retest_false_winners=retest_wins,
        provisional_significant_looks=provisional_significant,
        nominal=alpha / 2,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--planned", type=int, default=2000)
    parser.add_argument("--look-every", type=int, default=500)
    parser.add_argument("--max-per-arm", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    result = simulate(
        runs=args.runs,
        planned=args.planned,
        look_every=args.look_every,
        max_per_arm=args.max_per_arm,
        seed=args.seed,
    )
    bound = result.nominal + 1.96 * result.mc_error
    print(
        f"A/A runs: {result.runs}, planned {args.planned}/arm, a look every {args.look_every} up to {args.max_per_arm}"
    )
    print(f"false winners, fixed horizon (frozen at the first final look): {result.frozen_rate:.2%}")
    print(f"false winners if every look re-tested (the old behaviour):    {result.retest_rate:.2%}")
    print(f"nominal {result.nominal:.2%}, Monte-Carlo error {result.mc_error:.2%} (95% bound {bound:.2%})")
    print(f"looks before the planned sample showing a p-value or significance: {result.provisional_significant_looks}")
    ok = result.frozen_rate <= bound and result.provisional_significant_looks == 0
    print("OK" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
