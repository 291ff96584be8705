"""The demo tells the truth: on first run the cockpit shows a breached bound (and its alert is
queued), an Attractive variant that moved about five points online against its own control,
a pilot without a demonstrable effect on its primary measure (but harm on a guardrail), and a reminder wording that lowered no-shows."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from booking.availability import invalidate_availability
from booking.staff.services import closures
from nudges.cockpit import portfolio, selectors
from nudges.cockpit.constants import BoundStatus
from nudges.cockpit.demo import ATTRACTIVE_NAME, REMINDER_COST_NAME
from nudges.constants import MessageKind, Metric
from nudges.models import ScheduledMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closures_commit_at_once(monkeypatch):
    """In a real run the renovation's closure commits, and so invalidates the cached availability,
    before the bound check measures the lead time; inside the test's transaction that happens now."""
    monkeypatch.setattr(closures, "invalidate_on_commit", invalidate_availability)


def test_the_demo_cockpit_on_first_run():
    call_command("seed_demo", verbosity=0)
    rows = {(r.bound.kind, r.scope): r for r in selectors.bound_monitor()}
    breached = [r for r in rows.values() if r.status == BoundStatus.BREACHED]
    assert [(r.bound.product_code, r.location_name) for r in breached] == [("rijbewijs", "Wijkkantoor Noord")]
    assert ScheduledMessage.objects.filter(kind=MessageKind.BOUND_BREACH).count() == 2  # manager and beheerder

    by_name = {row.experiment.name: row for row in portfolio.portfolio()}
    attractive = by_name[ATTRACTIVE_NAME]
    assert attractive.verdict == "winner"
    [arm] = attractive.arms
    assert arm.effect.value == pytest.approx(-0.052)  # counter bookings down 5.2 points
    assert arm.visits.low > 0
    pilot = next(row for name, row in by_name.items() if name.startswith("Pilot"))
    # No demonstrable effect on its primary measure; the experiment's verdict is "worse" because
    # the direct link demonstrably raised no-shows (a guardrail), as its conclusion says.
    [pilot_arm] = pilot.arms
    assert pilot_arm.verdict == "no_difference"
    assert pilot.verdict == "worse"
    reminder = next(
        r for r in portfolio.portfolio(metric_override=Metric.NO_SHOW) if r.experiment.name == REMINDER_COST_NAME
    )
    assert reminder.arms[0].verdict == "better" and reminder.arms[0].effect.value == pytest.approx(-0.018)

    # Idempotent: a second run adds nothing and alerts nobody again.
    call_command("seed_demo", verbosity=0)
    assert ScheduledMessage.objects.filter(kind=MessageKind.BOUND_BREACH).count() == 2
