"""Write side of the experiment logs (booking-hook outcomes: ``listeners``).

Public:

- ``exposure_log``, ``exemption_log``, ``outcome_record``, ``outcome_report`` (integration
  clients), ``online_choice_record`` (the tracked redirect), ``counter_choice_record`` (the
  "counter anyway" button), ``online_reference_get`` and ``online_url_for`` (the opaque
  reference on the online link);
- ``booking_link_record`` (a booking linked to the unit it counts for, and its "booked");
- ``appointment_moved`` (a waiting-list move keeps the person's units: web unit and reminder
  unit).

Every row written holds a pseudonymous unit hash only. Logging is idempotent: one exposure per
unit and experiment, one outcome per unit, experiment and kind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
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
from nudges.exceptions import InvalidInput, NotFound, TooManyOutcomes
from nudges.experiments import selectors
from nudges.models import (
    Exemption,
    Experiment,
    Exposure,
    MovedAppointment,
    OnlineCompletion,
    OnlineReference,
    Outcome,
    UnitAppointment,
    Variant,
)


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


def booking_link_record(
    *, appointment_id: int, unit_hash: str, exposures: Sequence[Exposure], source: str, now: datetime
) -> None:
    """Link a booking to the unit whose ``exposures`` it counts for (a web visitor, or a phone
    call) and record "booked" there, once. Its later outcomes (cancelled, attended, no-show)
    reach the same arms through the link (``selectors.attributable_exposures``)."""
    if not exposures:
        return
    UnitAppointment.objects.bulk_create(
        [UnitAppointment(appointment_id=appointment_id, unit_hash=unit_hash, linked_at=now)], ignore_conflicts=True
    )
    _outcomes_record(exposures, kind=OutcomeKind.BOOKED, source=source, now=now)


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


def _count_unit_report(unit_hash: str, *, now: datetime) -> None:
    """One more outcome report about this unit this hour; over the limit: ``TooManyOutcomes``.
    Counted in the shared cache (a unit's hash only): a client trying units or hammering one
    cannot write outcomes faster than a real online form would."""
    limit = settings.NUDGES_OUTCOMES_PER_UNIT_HOUR
    if limit <= 0:
        return
    key = f"nudges:outcome-reports:{unit_hash}:{int(now.timestamp()) // 3600}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    if count > limit:
        raise TooManyOutcomes()


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
    completion without either (``product`` only) counts for the social-norm figure alone.
    Reports per unit are limited (``NUDGES_OUTCOMES_PER_UNIT_HOUR``, ``TooManyOutcomes``)."""
    now = now or timezone.now()
    if kind not in OutcomeKind.values:
        raise InvalidInput(_("Onbekende uitkomst. 'Afgehaakt' wordt berekend, niet gemeld."), field="kind")
    if unit_hash:
        _count_unit_report(unit_hash, now=now)
    if reference:
        ref = OnlineReference.objects.select_related("experiment", "product").filter(reference=reference).first()
        if ref is None:
            raise NotFound(_("Onbekende referentie."))
        _count_unit_report(ref.unit_hash, now=now)
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
