"""Reminder wording as an experiment (touchpoint REMINDER): which sentence a reminder e-mail
carries, and logging that it went out.

Public:

- ``reminder_wording(appointment=, products=, now=)``: the wording of this appointment's
  reminder e-mail. Nothing extra without a running reminder experiment or in its control group;
  otherwise the assigned variant's sentence with its figures filled in from data, or nothing
  (``fallback``) when the figure is unknown or too thin to say honestly. Pure read.
- ``reminder_exposure_log(appointment_id=, notes=, now=)``: once the e-mail has gone out, log
  the exposure. One per appointment: the 5-day and the 1-day reminder are one exposure, and
  assignment is deterministic, so both carry the same variant.
- ``appointment_counter_cost``, ``reminder_demand``: the two figures.

The unit is the appointment itself (``selectors.reminder_unit_hash``: kept through a
waiting-list move), so citizens who
booked by phone take part too. A reminder never steers away from the counter, so nobody is
exempt. Only the e-mail carries the wording; the SMS stays the short plain reminder and is
not an exposure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from booking.models import Appointment, Product
from booking.selectors import appointments_made_count, product_get
from nudges.constants import REMINDER_KINDS, ContentKind, ExperimentStatus, Touchpoint
from nudges.experiments import logs, selectors
from nudges.experiments.content import euro, placeholders_fill
from nudges.models import Experiment, Exposure, Variant


@dataclass(frozen=True)
class ReminderWording:
    experiment: Experiment | None = None
    variant: Variant | None = None
    product: Product | None = None
    headline: str = ""
    message: str = ""
    # The variant's figure was unknown or too thin: its sentence was left out.
    fallback: bool = False

    @property
    def shown(self) -> bool:
        return bool(self.headline or self.message)

    def notes(self) -> dict[str, Any]:
        """What was rendered, for the outbox's after-sent step (``reminder_exposure_log``)."""
        if self.experiment is None or self.variant is None or self.product is None:
            return {}
        return {
            "experiment_id": self.experiment.pk,
            "variant_id": self.variant.pk,
            "product_id": self.product.pk,
            "fallback": self.fallback,
        }


def appointment_counter_cost(*, products: Sequence[Product], persons: int) -> Decimal | None:
    """What the visit costs the municipality at the counter: the products' counter cost prices
    (per person, like the fees) times the persons. None when any of them is unknown: a partial
    sum would understate it."""
    costs = [product.cost_counter for product in products]
    known = [cost for cost in costs if cost is not None]
    if not costs or len(known) < len(costs):
        return None
    return sum(known, Decimal(0)) * persons


@dataclass(frozen=True)
class Demand:
    """Other appointments for a product made at a location in the last ``period_days`` days."""

    bookings: int
    period_days: int
    min_bookings: int

    @property
    def enough(self) -> bool:
        return self.bookings >= max(self.min_bookings, 1)


def reminder_demand(*, appointment: Appointment, product: Product, now: datetime) -> Demand:
    """Appointments (online or by phone; walk-ins are not appointments made in advance) for
    ``product`` at the appointment's location made in the last ``NUDGES_REMINDER_DEMAND_DAYS``
    days, this one left out. Whatever happened to them since, each was someone looking for a
    time."""
    days = settings.NUDGES_REMINDER_DEMAND_DAYS
    since = now - timedelta(days=days)
    bookings = appointments_made_count(
        location_id=appointment.desk.location_id,
        product_id=product.pk,
        since=since,
        until=now,
        exclude_appointment_id=appointment.pk,
    )
    return Demand(bookings=bookings, period_days=days, min_bookings=settings.NUDGES_REMINDER_DEMAND_MIN)


def reminder_wording(*, appointment: Appointment, products: Sequence[Product], now: datetime) -> ReminderWording:
    """The wording for this appointment's reminder e-mail, in the active language."""
    found = selectors.running_experiment_for(products=products, touchpoint=Touchpoint.REMINDER)
    if found is None:
        return ReminderWording()
    experiment, product = found
    variant = selectors.assigned_variant(experiment, selectors.reminder_unit_hash(appointment.pk))
    arm = ReminderWording(experiment=experiment, variant=variant, product=product)
    intervention = variant.intervention
    if intervention is None:
        return arm
    if intervention.kind not in REMINDER_KINDS:
        # Cannot happen in a started experiment (start_problems refuses it); say nothing.
        return replace(arm, fallback=True)
    values = {"product": product.name, "location": appointment.desk.location.name}
    if intervention.kind == ContentKind.REMINDER_COST:
        cost = appointment_counter_cost(products=products, persons=appointment.persons)
        if cost is None:
            return replace(arm, fallback=True)
        values["cost"] = euro(cost)
    else:
        demand = reminder_demand(appointment=appointment, product=product, now=now)
        if not demand.enough:
            return replace(arm, fallback=True)
        values.update(bookings=str(demand.bookings), period_days=str(demand.period_days))
    return replace(
        arm,
        headline=placeholders_fill(intervention.headline, values),
        message=placeholders_fill(intervention.message, values),
    )


def reminder_exposure_log(*, appointment_id: int, notes: Mapping[str, Any], now: datetime) -> Exposure | None:
    """The reminder e-mail described by ``notes`` went out: log the appointment's exposure
    (once). None without an experiment, or when it stopped running while the e-mail was being
    sent (exposures are only logged in a running experiment)."""
    if not notes.get("experiment_id"):
        return None
    experiment = Experiment.objects.filter(pk=notes["experiment_id"], status=ExperimentStatus.RUNNING).first()
    if experiment is None:
        return None
    exposure, _created = logs.exposure_log(
        experiment=experiment,
        variant=Variant.objects.get(pk=notes["variant_id"]),
        unit_hash=selectors.reminder_unit_hash(appointment_id),
        product=product_get(notes["product_id"]),
        fallback=bool(notes.get("fallback")),
        now=now,
    )
    return exposure
