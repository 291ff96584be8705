"""The KCC work instruction ("werkinstructie"): when a caller asks for a product that can be
done online and is not exempt, the agent's screen shows the script — what the online route
takes and the digital discount, from the product knowledge base — and the agent records the
answer once: will do it online / wants the counter anyway / cannot do it online.

Whether the script is shown can be a randomised experiment at touchpoint ``kcc_call`` with
the call as unit (a random id per call, stored only as a keyed hash). Without a running
experiment the script is shown for every eligible call. "Cannot do it online" is logged as a
needs-help exemption of the call: never asked again in that call, counted apart from
exposures. "Will do it online" can send the caller the tracked online link; the online form
reports completion with its ``kw_ref`` and the phone contact shows the completion
(``selectors.contacts_with_online_completion``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.utils import timezone

from booking.knowledge import ProductKnowledge, product_knowledge
from booking.models import Product
from nudges import selectors as nudge_selectors
from nudges import services as nudge_services
from nudges.assignment import unit_hash as hash_unit
from nudges.constants import REFERENCE_PARAM, ExemptionReason, OutcomeKind, Source, Touchpoint
from nudges.models import Contact, ContactChannel, ContactOutcome, Experiment, ScriptAnswer, Variant

from . import services

PHONE_CHANNEL = "telefoon"

ANSWER_OUTCOMES = {
    ScriptAnswer.WILL_DO_ONLINE: ContactOutcome.REFERRED_ONLINE,
    ScriptAnswer.WANTS_COUNTER: ContactOutcome.ANSWERED,
    ScriptAnswer.CANNOT_ONLINE: ContactOutcome.ANSWERED,
}


def new_call_unit() -> str:
    """A random id for one call (the experiment's unit); only its keyed hash is stored."""
    return "call-" + secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Script:
    product: Product
    knowledge: ProductKnowledge
    show: bool  # False: the control group, or exempt
    exempt_reason: str = ""
    experiment: Experiment | None = None
    variant: Variant | None = None


def script_for_call(*, products: Sequence[Product], call_unit: str, now: datetime | None = None) -> Script | None:
    """The work instruction for this call, or None when no asked-for product can be done
    online. Logs the call's exposure (both arms) or its exemption in a running experiment."""
    eligible = [p for p in products if product_knowledge(p).can_be_done_online]
    if not eligible:
        return None
    product = eligible[0]
    knowledge = product_knowledge(product)
    unit = hash_unit(call_unit)
    found = nudge_selectors.running_experiment_for(products=[product], touchpoint=Touchpoint.KCC_CALL)
    experiment = found[0] if found else None
    if nudge_selectors.unit_needs_help(unit):
        return Script(product=product, knowledge=knowledge, show=False, exempt_reason=ExemptionReason.NEEDS_HELP)
    if experiment is None:
        return Script(product=product, knowledge=knowledge, show=True)
    variant = nudge_selectors.assigned_variant(experiment, unit)
    nudge_services.exposure_log(
        experiment=experiment, variant=variant, unit_hash=unit, product=product, source=Source.KCC, now=now
    )
    return Script(
        product=product, knowledge=knowledge, show=not variant.is_control, experiment=experiment, variant=variant
    )


def _reference(url: str) -> str:
    return (parse_qs(urlsplit(url).query).get(REFERENCE_PARAM) or [""])[0]


@dataclass(frozen=True)
class ScriptResult:
    contact: Contact
    online_url: str  # with the call's kw_ref when the call took part in an experiment


def script_answer_record(
    *, user, product: Product, call_unit: str, answer: str, now: datetime | None = None
) -> ScriptResult:
    """Record the caller's answer: a phone contact with the answer and its outcome, the
    experiment's outcome for the call, and for "will do it online" the tracked online URL."""
    now = now or timezone.now()
    unit = hash_unit(call_unit)
    found = nudge_selectors.running_experiment_for(products=[product], touchpoint=Touchpoint.KCC_CALL)
    experiment = found[0] if found else None
    online_url = ""
    with transaction.atomic():
        if experiment is not None:
            if answer == ScriptAnswer.WILL_DO_ONLINE:
                nudge_services.outcome_record(
                    experiment=experiment, unit_hash=unit, kind=OutcomeKind.CHOSE_ONLINE, source=Source.KCC, now=now
                )
            elif answer == ScriptAnswer.WANTS_COUNTER:
                nudge_services.outcome_record(
                    experiment=experiment,
                    unit_hash=unit,
                    kind=OutcomeKind.CONTINUED_TO_COUNTER,
                    source=Source.KCC,
                    now=now,
                )
        if answer == ScriptAnswer.CANNOT_ONLINE and experiment is not None:
            nudge_services.exemption_log(
                experiment=experiment, unit_hash=unit, reason=ExemptionReason.NEEDS_HELP, source=Source.KCC, now=now
            )
        if answer == ScriptAnswer.WILL_DO_ONLINE:
            online_url = nudge_services.online_url_for(experiment=experiment, unit_hash=unit, product=product)
        contact = services.contact_register(
            channel=ContactChannel.objects.get(code=PHONE_CHANNEL),
            products=[product],
            outcome=ANSWER_OUTCOMES[answer],
            registered_by=user,
            moment=now,
            script_answer=answer,
            online_reference=_reference(online_url),
        )
    return ScriptResult(contact=contact, online_url=online_url)
