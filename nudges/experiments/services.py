"""Write side of the experiments (booking-hook outcomes: ``listeners``).

Public:

- logging: ``exposure_log``, ``exemption_log``, ``outcome_record``, ``outcome_report``
  (integration clients), ``online_choice_record`` (the tracked redirect),
  ``counter_choice_record`` (the "counter anyway" button);
- ``appointment_moved`` (a waiting-list move keeps the person's units: web unit and reminder
  unit);
- experiments: ``experiment_create``, ``experiment_update``, ``experiment_start``,
  ``experiment_pause``, ``experiment_resume``, ``experiment_finish``, and ``experiment_look``
  (a manager's look at the results: freezes the analysis at the first look where the planned
  sample is reached);
- ``integration_client_create``, ``integration_client_authenticate``.

Every row written holds a pseudonymous unit hash only. Logging is idempotent: one exposure per
unit and experiment, one outcome per unit, experiment and kind.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.models import Product
from nudges.constants import (
    COLLECTING_STATUSES,
    REFERENCE_PARAM,
    ExemptionReason,
    ExperimentStatus,
    OutcomeKind,
    Source,
)
from nudges.exceptions import CannotStart, ExperimentLocked, InvalidInput, InvalidTransition, NotFound
from nudges.experiments import selectors
from nudges.models import (
    Exemption,
    Experiment,
    Exposure,
    IntegrationClient,
    Intervention,
    MovedAppointment,
    OnlineCompletion,
    OnlineReference,
    Outcome,
    UnitAppointment,
    Variant,
)

logger = logging.getLogger(__name__)


def _insert_once(model, *, defaults: dict | None = None, **lookup):
    """get_or_create for append-only rows under a unique constraint, safe under races."""
    try:
        with transaction.atomic():
            return model.objects.get_or_create(**lookup, defaults=defaults or {})
    except IntegrityError:
        return model.objects.get(**lookup), False


# --- exposures and exemptions ---------------------------------------------------------------


def exposure_log(
    *,
    experiment: Experiment,
    variant: Variant,
    unit_hash: str,
    product: Product,
    source: str = Source.WEB,
    fallback: bool = False,
    now: datetime | None = None,
) -> tuple[Exposure, bool]:
    """Log that ``unit_hash`` saw ``variant`` (the control's page without a nudge counts).
    Refuses a variant other than the unit's assignment: the numbers must be trustworthy."""
    if experiment.status != ExperimentStatus.RUNNING:
        raise InvalidInput(_("Dit experiment loopt niet."), field="experiment")
    if variant.experiment_id != experiment.pk:
        raise InvalidInput(_("Deze variant hoort niet bij dit experiment."), field="variant")
    if selectors.assigned_variant(experiment, unit_hash).pk != variant.pk:
        raise InvalidInput(_("Deze eenheid is aan een andere variant toegewezen."), field="variant")
    return _insert_once(
        Exposure,
        experiment=experiment,
        unit_hash=unit_hash,
        defaults={
            "variant": variant,
            "touchpoint": experiment.touchpoint,
            "product": product,
            "source": source,
            "fallback": fallback,
            "exposed_at": now or timezone.now(),
        },
    )


def exemption_log(
    *, experiment: Experiment, unit_hash: str, reason: str, source: str = Source.WEB, now: datetime | None = None
) -> tuple[Exemption, bool]:
    return _insert_once(
        Exemption,
        experiment=experiment,
        unit_hash=unit_hash,
        reason=reason,
        defaults={"touchpoint": experiment.touchpoint, "source": source, "at": now or timezone.now()},
    )


# --- outcomes -------------------------------------------------------------------------------


def outcome_record(
    *,
    experiment: Experiment,
    unit_hash: str,
    kind: str,
    source: str = Source.WEB,
    now: datetime | None = None,
) -> Outcome | None:
    """Record that an exposed unit did ``kind`` (once). None when the unit was not exposed
    in this experiment or the experiment no longer collects data."""
    if experiment.status not in COLLECTING_STATUSES:
        return None
    exposure = Exposure.objects.filter(experiment=experiment, unit_hash=unit_hash).first()
    if exposure is None:
        return None
    outcome, _created = _insert_once(
        Outcome,
        experiment=experiment,
        unit_hash=unit_hash,
        kind=kind,
        defaults={"variant_id": exposure.variant_id, "source": source, "occurred_at": now or timezone.now()},
    )
    return outcome


def _outcomes_record(exposures: Iterable[Exposure], *, kind: str, source: str, now: datetime) -> list[Outcome]:
    """Record ``kind`` for each exposure's unit in its experiment (once; one insert)."""
    rows = [
        Outcome(
            experiment_id=e.experiment_id,
            variant_id=e.variant_id,
            unit_hash=e.unit_hash,
            kind=kind,
            source=source,
            occurred_at=now,
        )
        for e in exposures
    ]
    if rows:
        Outcome.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def _with_reference(url: str, reference: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != REFERENCE_PARAM]
    query.append((REFERENCE_PARAM, reference))
    return urlunsplit(parts._replace(query=urlencode(query)))


def online_reference_get(*, experiment: Experiment, unit_hash: str, product: Product, now: datetime | None = None):
    """The unit's opaque reference for this experiment and product (made once)."""
    exposure = Exposure.objects.filter(experiment=experiment, unit_hash=unit_hash).first()
    if exposure is None:
        return None
    reference, _created = _insert_once(
        OnlineReference,
        experiment=experiment,
        unit_hash=unit_hash,
        product=product,
        defaults={
            "reference": secrets.token_urlsafe(16),
            "variant_id": exposure.variant_id,
            "created_at": now or timezone.now(),
        },
    )
    return reference


def online_url_for(*, experiment: Experiment | None, unit_hash: str | None, product: Product) -> str:
    """The online form's URL, with the unit's opaque reference when it was exposed."""
    if experiment is None or unit_hash is None:
        return product.online_url
    reference = online_reference_get(experiment=experiment, unit_hash=unit_hash, product=product)
    return _with_reference(product.online_url, reference.reference) if reference else product.online_url


def online_choice_record(
    *, experiment: Experiment | None, unit_hash: str | None, product: Product, now: datetime | None = None
) -> str:
    """The visitor chose the online route: log it and return where to send them (the online
    form with the opaque reference appended). Never blocks: without an exposure it simply
    returns the plain online URL."""
    if experiment is not None and unit_hash is not None:
        outcome_record(experiment=experiment, unit_hash=unit_hash, kind=OutcomeKind.CHOSE_ONLINE, now=now)
    return online_url_for(experiment=experiment, unit_hash=unit_hash, product=product)


def counter_choice_record(
    *, experiment: Experiment | None, unit_hash: str | None, needs_help: bool = False, now: datetime | None = None
) -> None:
    """The visitor went on to the counter; with ``needs_help`` they are never nudged again."""
    if experiment is None or unit_hash is None:
        return
    outcome_record(experiment=experiment, unit_hash=unit_hash, kind=OutcomeKind.CONTINUED_TO_COUNTER, now=now)
    if needs_help:
        exemption_log(experiment=experiment, unit_hash=unit_hash, reason=ExemptionReason.NEEDS_HELP, now=now)


def _completion_counted(completion: OnlineCompletion) -> None:
    """An online completion is also a contact on the internet channel (nudges.channels)."""
    from nudges.channels.services import online_completion_recorded

    online_completion_recorded(
        completion_id=completion.pk, product_id=completion.product_id, completed_at=completion.completed_at
    )


def outcome_report(
    *,
    kind: str,
    unit_hash: str | None = None,
    reference: str | None = None,
    experiment: Experiment | None = None,
    product: Product | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """An integration client reports an outcome, by the opaque reference or by unit. A
    completion without either (``product`` only) counts for the social-norm figure alone."""
    now = now or timezone.now()
    if kind not in OutcomeKind.values:
        raise InvalidInput(_("Onbekende uitkomst. 'Afgehaakt' wordt berekend, niet gemeld."), field="kind")
    if reference:
        ref = OnlineReference.objects.select_related("experiment", "product").filter(reference=reference).first()
        if ref is None:
            raise NotFound(_("Onbekende referentie."))
        if experiment is not None and experiment.pk != ref.experiment_id:
            raise InvalidInput(_("Deze referentie hoort bij een ander experiment."), field="experiment")
        if kind == OutcomeKind.COMPLETED_ONLINE:
            completion, _created = _insert_once(
                OnlineCompletion, reference=ref.reference, defaults={"product": ref.product, "completed_at": now}
            )
            _completion_counted(completion)
        outcome = outcome_record(
            experiment=ref.experiment, unit_hash=ref.unit_hash, kind=kind, source=Source.API, now=now
        )
        return [outcome] if outcome else []
    if unit_hash:
        if experiment is None and product is None:
            raise InvalidInput(
                _(
                    "Geef bij een eenheid het experiment of het product op: een uitkomst telt alleen waar die "
                    "door een nudge veroorzaakt kan zijn."
                ),
                field="product",
            )
        # The same rule as for appointments: the experiment covers the product, the unit was
        # exposed before the outcome, and the outcome falls in the running window.
        exposures = Exposure.objects.filter(
            unit_hash=unit_hash,
            exposed_at__lte=now,
            experiment__status__in=COLLECTING_STATUSES,
            experiment__started_at__lte=now,
        )
        if experiment is not None:
            exposures = exposures.filter(experiment=experiment)
        if product is not None:
            exposures = exposures.filter(experiment__products=product)
        recorded = _outcomes_record(exposures, kind=kind, source=Source.API, now=now)
        if not recorded:
            raise NotFound(_("Deze eenheid is in geen lopend experiment blootgesteld."))
        if kind == OutcomeKind.COMPLETED_ONLINE and product is not None:
            _completion_counted(OnlineCompletion.objects.create(product=product, completed_at=now))
        return recorded
    if kind == OutcomeKind.COMPLETED_ONLINE and product is not None:
        _completion_counted(OnlineCompletion.objects.create(product=product, completed_at=now))
        return []
    raise InvalidInput(
        _("Geef een referentie, een eenheid of (bij online afgerond) een product op."), field="reference"
    )


# --- moved appointments ---------------------------------------------------------------------


def appointment_moved(*, original_id: int, appointment_id: int, now: datetime | None = None) -> None:
    """``appointment_id`` replaces ``original_id`` for the same person and request (a
    waiting-list move): it keeps the original's web unit and reminder unit, and so their
    exposures and arms. Call inside the transaction that books the replacement."""
    now = now or timezone.now()
    root = (
        MovedAppointment.objects.filter(appointment_id=original_id)
        .values_list("original_appointment_id", flat=True)
        .first()
    ) or original_id
    _insert_once(
        MovedAppointment, appointment_id=appointment_id, defaults={"original_appointment_id": root, "moved_at": now}
    )
    link = UnitAppointment.objects.filter(appointment_id=original_id).values_list("unit_hash", flat=True).first()
    if link is not None:
        _insert_once(UnitAppointment, appointment_id=appointment_id, defaults={"unit_hash": link, "linked_at": now})


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


@transaction.atomic
def experiment_create(
    *, name: str, purpose_nl: str, products: Sequence[Product], variants: Sequence[dict], owner=None, **fields
) -> Experiment:
    """A draft experiment. ``variants``: [{"key", "intervention" (None = control), "weight"}]."""
    unknown = set(fields) - set(EXPERIMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown experiment fields: {sorted(unknown)}")
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
    if selectors.experiment_sample_reached(experiment, now=now):
        # Only the first look wins, also when two managers look at once.
        Experiment.objects.filter(pk=experiment.pk, analysis_frozen_at__isnull=True).update(analysis_frozen_at=now)
        experiment.refresh_from_db(fields=["analysis_frozen_at"])
    return experiment


def experiment_look(*, experiment: Experiment, now: datetime | None = None) -> selectors.ExperimentResults:
    """A look at the results (manager page, results API): freezes the analysis when due, then
    the results as of the experiment's analysis moment."""
    experiment = experiment_analysis_freeze(experiment=experiment, now=now)
    return selectors.experiment_results(experiment, now=now)


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


# --- integration clients --------------------------------------------------------------------


def _token_hash(token: str) -> str:
    # The token is 256 random bits: a plain SHA-256 suffices (no guessing to slow down).
    return hashlib.sha256(token.encode()).hexdigest()


def integration_client_create(*, name: str) -> tuple[IntegrationClient, str]:
    """A new client and its token; the token is returned once and stored only as a hash."""
    token = secrets.token_urlsafe(32)
    client = IntegrationClient.objects.create(name=name, token_hash=_token_hash(token), token_prefix=token[:8])
    return client, token


def integration_client_authenticate(token: str) -> IntegrationClient | None:
    if not token or len(token) > 128:
        return None
    client = IntegrationClient.objects.filter(token_hash=_token_hash(token), is_active=True).first()
    if client is not None:
        IntegrationClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client
