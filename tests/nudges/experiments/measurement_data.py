"""Raw rows for measurement tests: exposures and outcomes written straight to the tables, so a
test can recompute every figure from these rows alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from nudges.constants import OutcomeKind
from nudges.models import Experiment, Exposure, Outcome

APPOINTMENT_KINDS = (OutcomeKind.NO_SHOW, OutcomeKind.CANCELLED, OutcomeKind.ATTENDED)


def fill(
    experiment: Experiment,
    product,
    arms: dict[str, dict[str, int]],
    *,
    exposed_at: datetime,
    outcome_after: timedelta = timedelta(hours=1),
    prefix: str = "u",
) -> list[tuple[str, str, set[str]]]:
    """``arms``: per variant key, ``n`` exposed units and per outcome kind how many of them
    had it (the first units of the arm). ``no_show``/``cancelled``/``attended`` are given to
    bookers only. Returns the raw rows: (unit, variant key, outcome kinds)."""
    variants = {v.key: v for v in experiment.variants.all()}
    exposures, outcomes, rows = [], [], []
    for key, spec in arms.items():
        booked = spec.get(OutcomeKind.BOOKED, 0)
        for i in range(spec["n"]):
            unit = f"{prefix}-{experiment.pk}-{key}-{i:06d}".ljust(64, "0")[:64]
            exposures.append(
                Exposure(
                    experiment=experiment,
                    variant=variants[key],
                    unit_hash=unit,
                    touchpoint=experiment.touchpoint,
                    product=product,
                    exposed_at=exposed_at,
                )
            )
            kinds = set()
            offset = 0  # no-show, cancelled and attended go to different bookers, in this order
            for kind in OutcomeKind:
                count = spec.get(kind, 0)
                if kind in APPOINTMENT_KINDS:
                    has = offset <= i < offset + count and i < booked
                    offset += count
                else:
                    has = i < count
                if has:
                    kinds.add(kind.value)
                    outcomes.append(
                        Outcome(
                            experiment=experiment,
                            variant=variants[key],
                            unit_hash=unit,
                            kind=kind,
                            occurred_at=exposed_at + outcome_after,
                        )
                    )
            rows.append((unit, key, kinds))
    Exposure.objects.bulk_create(exposures)
    Outcome.objects.bulk_create(outcomes)
    return rows
