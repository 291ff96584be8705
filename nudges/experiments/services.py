"""Write side of managing experiments: ``experiment_create``, ``experiment_update``,
``experiment_start``, ``experiment_pause``, ``experiment_resume``, ``experiment_finish``, and
``experiment_look`` (a manager's look at the results: freezes the analysis at the first look
where the planned sample is reached; ``experiment_analysis_freeze``). What units saw and did
is logged by ``logs``; booking-hook outcomes are in ``listeners``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Product
from nudges.constants import COLLECTING_STATUSES, ExperimentStatus
from nudges.exceptions import CannotStart, ExperimentLocked, InvalidInput, InvalidTransition
from nudges.experiments import results, selectors
from nudges.models import Experiment, Intervention, Variant

logger = logging.getLogger(__name__)

# --- experiments ----------------------------------------------------------------------------

EDITABLE_WHEN_LOCKED = ("name", "purpose_nl", "purpose_en", "owner", "planned_end", "conclusion_nl", "conclusion_en")
EXPERIMENT_FIELDS = (*EDITABLE_WHEN_LOCKED, *Experiment.LOCKED_FIELDS, "planned_start")


def _set_variants(experiment: Experiment, variants: Sequence[dict]) -> None:
    keys = [v["key"] for v in variants]
    if len(set(keys)) != len(keys):
        raise InvalidInput(_("Elke variant heeft een eigen sleutel."), field="variants")
    for spec in variants:
        if int(spec.get("weight") or 0) < 1:
            raise InvalidInput(_("Elk gewicht is minstens 1."), field="variants")
    experiment.variants.all().delete()
    for spec in variants:
        intervention = spec.get("intervention")
        if intervention is not None and not isinstance(intervention, Intervention):
            intervention = Intervention.objects.get(pk=intervention)
        Variant.objects.create(experiment=experiment, key=spec["key"], intervention=intervention, weight=spec["weight"])


def _primary_metric_check(*, touchpoint: str, metric: str) -> None:
    problem = selectors.primary_metric_problem(touchpoint=touchpoint, metric=metric)
    if problem:
        raise InvalidInput(problem, field="primary_metric")


@transaction.atomic
def experiment_create(
    *, name: str, purpose_nl: str, products: Sequence[Product], variants: Sequence[dict], owner=None, **fields
) -> Experiment:
    """A draft experiment. ``variants``: [{"key", "intervention" (None = control), "weight"}].
    A primary metric that cannot be compared at its touchpoint (``selectors.primary_metric_problem``:
    an outcome of the KCC script arm only) is refused with ``InvalidInput`` on ``primary_metric``."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown experiment fields: {sorted(unknown)}")
    _primary_metric_check(touchpoint=fields.get("touchpoint", ""), metric=fields.get("primary_metric", ""))
    experiment = Experiment.objects.create(name=name, purpose_nl=purpose_nl, owner=owner, **fields)
    experiment.products.set(products)
    _set_variants(experiment, variants)
    return experiment


@transaction.atomic
def experiment_update(
    *,
    experiment: Experiment,
    products: Sequence[Product] | None = None,
    variants: Sequence[dict] | None = None,
    **fields,
) -> Experiment:
    """Change an experiment. Once started, only its name, purpose, owner, planned end and
    conclusion may change: anything else raises ``ExperimentLocked``."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown experiment fields: {sorted(unknown)}")
    if experiment.is_locked:
        changed = [
            f for f, value in fields.items() if f not in EDITABLE_WHEN_LOCKED and getattr(experiment, f) != value
        ]
        if products is not None and {p.pk for p in products} != set(experiment.products.values_list("pk", flat=True)):
            changed.append("products")
        if variants is not None:
            current = [(v.key, v.intervention_id, v.weight) for v in selectors.arms(experiment)]
            wanted = [
                (v["key"], getattr(v.get("intervention"), "pk", v.get("intervention")), int(v["weight"]))
                for v in variants
            ]
            if current != wanted:
                changed.append("variants")
        if changed:
            raise ExperimentLocked()
        fields = {f: v for f, v in fields.items() if f in EDITABLE_WHEN_LOCKED}
        products = variants = None
    else:
        _primary_metric_check(
            touchpoint=fields.get("touchpoint", experiment.touchpoint),
            metric=fields.get("primary_metric", experiment.primary_metric),
        )
    for name, value in fields.items():
        setattr(experiment, name, value)
    experiment.save()
    if products is not None:
        experiment.products.set(products)
    if variants is not None:
        _set_variants(experiment, variants)
    return experiment


def _transition(experiment: Experiment, allowed_from: Sequence[str], to: str) -> Experiment:
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status not in allowed_from:
        raise InvalidTransition(
            _("Van '%(from)s' naar '%(to)s' kan niet.")
            % {"from": experiment.get_status_display(), "to": ExperimentStatus(to).label}
        )
    experiment.status = to
    return experiment


@transaction.atomic
def experiment_start(*, experiment: Experiment, now: datetime | None = None) -> Experiment:
    """Start a draft: needs a hypothesis, a primary metric, a planned sample, one control and
    at least one nudge, honest fees and figures, and no other experiment on the same spot."""
    now = now or timezone.now()
    experiment = _transition(experiment, [ExperimentStatus.DRAFT], ExperimentStatus.RUNNING)
    problems = selectors.start_problems(experiment, now=now)
    if problems:
        raise CannotStart(problems)
    experiment.started_at = now
    experiment.save(update_fields=["status", "started_at"])
    logger.info("Experiment %s started", experiment.pk)
    return experiment


@transaction.atomic
def experiment_pause(*, experiment: Experiment) -> Experiment:
    experiment = _transition(experiment, [ExperimentStatus.RUNNING], ExperimentStatus.PAUSED)
    experiment.save(update_fields=["status"])
    return experiment


@transaction.atomic
def experiment_resume(*, experiment: Experiment) -> Experiment:
    experiment = _transition(experiment, [ExperimentStatus.PAUSED], ExperimentStatus.RUNNING)
    problems = [p for p in selectors.start_problems(experiment) if p]
    if problems:
        raise CannotStart(problems)
    experiment.save(update_fields=["status"])
    return experiment


def experiment_analysis_freeze(*, experiment: Experiment, now: datetime | None = None) -> Experiment:
    """Fix the analysis moment at ``now`` if every arm has its planned sample and it is not
    fixed yet (fixed-horizon design: one test, at the first look where the sample is there)."""
    now = now or timezone.now()
    if experiment.analysis_frozen_at is not None or experiment.status not in COLLECTING_STATUSES:
        return experiment
    if results.experiment_sample_reached(experiment, now=now):
        # Only the first look wins, also when two managers look at once.
        Experiment.objects.filter(pk=experiment.pk, analysis_frozen_at__isnull=True).update(analysis_frozen_at=now)
        experiment.refresh_from_db(fields=["analysis_frozen_at"])
    return experiment


def experiment_look(*, experiment: Experiment, now: datetime | None = None) -> results.ExperimentResults:
    """A look at the results (manager page, results API): freezes the analysis when due, then
    the results as of the experiment's analysis moment."""
    experiment = experiment_analysis_freeze(experiment=experiment, now=now)
    return results.experiment_results(experiment, now=now)


@transaction.atomic
def experiment_finish(*, experiment: Experiment, conclusion_nl: str = "", now: datetime | None = None) -> Experiment:
    now = now or timezone.now()
    experiment_analysis_freeze(experiment=experiment, now=now)
    experiment = _transition(experiment, COLLECTING_STATUSES, ExperimentStatus.FINISHED)
    experiment.finished_at = now
    fields = ["status", "finished_at"]
    if conclusion_nl:
        experiment.conclusion_nl = conclusion_nl
        fields.append("conclusion_nl")
    experiment.save(update_fields=fields)
    return experiment
