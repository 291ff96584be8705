"""The KCC work instruction ("werkinstructie"): when a caller asks for a product that can be
done online and is not exempt, the agent's screen shows the script — what the online route
takes and the digital discount, from the product knowledge base — and the agent records the
answer once: will do it online / wants the counter anyway / cannot do it online.

Whether the script is shown can be a randomised experiment at touchpoint ``kcc_call`` with
the call as unit (a random id per call in the agent's session, stored only as a keyed hash).
The call is exposed in both arms at the same moment: when the page for the asked-for product
opens, before the arm changes what the agent sees. The outcome both arms can produce is the
call's counter appointment: a phone booking made while the call is open is "booked" for the
call's unit (``call_appointment_booked``), and its later cancellation, visit or no-show follow
it. The script's answers and an online completion through the link the script sends arise
in the script arm only: descriptive, never the primary metric
(``constants.KCC_SCRIPT_ONLY_METRICS``). Without a running experiment the script is shown for
every eligible call. "Cannot do it online" is logged as a needs-help exemption of the call:
never asked again in that call, counted apart from exposures. "Will do it online" can send the caller the tracked online link; the online form
reports completion with its ``kw_ref`` and the phone contact shows the completion
(``selectors.contacts_with_online_completion``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.constants import Channel
from booking.knowledge import ProductKnowledge, product_knowledge
from booking.models import Product
from booking.phones import phone_normalise
from booking.selectors import appointment_facts
from nudges.constants import (
    REFERENCE_PARAM,
    ExemptionReason,
    MessageChannel,
    MessageKind,
    OutcomeKind,
    Source,
    Touchpoint,
)
from nudges.exceptions import InvalidInput
from nudges.experiments import logs as nudge_logs
from nudges.experiments import selectors as nudge_selectors
from nudges.experiments.assignment import unit_hash as hash_unit
from nudges.experiments.unit import current_session
from nudges.models import (
    Contact,
    ContactChannel,
    ContactOutcome,
    Experiment,
    OnlineLink,
    ScheduledMessage,
    ScriptAnswer,
    Variant,
)
from nudges.outbox.dispatch import Outgoing, email_from_templates, message_enqueue

from . import services

PHONE_CHANNEL = "telefoon"
# The agent's session holds the open call: {"unit", "answered", "online_url"}.
CALL_SESSION_KEY = "kcc_call"

ANSWER_OUTCOMES: dict[str, ContactOutcome] = {
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
    nudge_logs.exposure_log(
        experiment=experiment, variant=variant, unit_hash=unit, product=product, source=Source.KCC, now=now
    )
    return Script(
        product=product, knowledge=knowledge, show=not variant.is_control, experiment=experiment, variant=variant
    )


def current_call_unit_hash() -> str | None:
    """The unit of the call open in the agent's session of the request being served, else None."""
    session = current_session()
    if session is None:
        return None
    unit = (session.get(CALL_SESSION_KEY) or {}).get("unit")
    return hash_unit(unit) if unit else None


def call_appointment_booked(appointment_id: int) -> None:
    """After a booking commits, inside the agent's request: a phone booking made while a call is
    open is that call's "booked" outcome, in whichever arm the call is (the control arm's panel
    shows nothing, so this is the outcome both arms can produce). Counts only where the call
    was exposed for one of the appointment's products before the booking, in a running KCC
    experiment (``attributable_exposures``)."""
    unit = current_call_unit_hash()
    if unit is None:
        return
    facts = appointment_facts(appointment_id)
    if facts is None or facts.channel != Channel.PHONE:
        return
    now = timezone.now()
    exposures = [
        e
        for e in nudge_selectors.attributable_exposures(appointment_id=appointment_id, unit_hash=unit, at=now)
        if e.experiment.touchpoint == Touchpoint.KCC_CALL
    ]
    nudge_logs.booking_link_record(
        appointment_id=appointment_id, unit_hash=unit, exposures=exposures, source=Source.KCC, now=now
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
                nudge_logs.outcome_record(
                    experiment=experiment, unit_hash=unit, kind=OutcomeKind.CHOSE_ONLINE, source=Source.KCC, now=now
                )
            elif answer == ScriptAnswer.WANTS_COUNTER:
                nudge_logs.outcome_record(
                    experiment=experiment,
                    unit_hash=unit,
                    kind=OutcomeKind.CONTINUED_TO_COUNTER,
                    source=Source.KCC,
                    now=now,
                )
        if answer == ScriptAnswer.CANNOT_ONLINE and experiment is not None:
            nudge_logs.exemption_log(
                experiment=experiment, unit_hash=unit, reason=ExemptionReason.NEEDS_HELP, source=Source.KCC, now=now
            )
        if answer == ScriptAnswer.WILL_DO_ONLINE:
            online_url = nudge_logs.online_url_for(experiment=experiment, unit_hash=unit, product=product)
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


# --- sending the online link (the outbox) ---------------------------------------------------


def address_check(*, channel: str, address: str) -> str:
    """The address to send the link to, normalised; InvalidInput when it cannot be used."""
    if channel == MessageChannel.EMAIL:
        try:
            validate_email(address.strip())
        except ValidationError:
            raise InvalidInput(_("Vul een geldig e-mailadres in."), field="address") from None
        return address.strip()
    if channel == MessageChannel.SMS:
        number = phone_normalise(address, mobile_only=True)
        if not number:
            raise InvalidInput(_("Vul een geldig mobiel nummer in."), field="address")
        return number
    raise InvalidInput(_("Kies e-mail of sms."), field="send")


def online_link_send(
    *, contact: Contact, online_url: str, channel: str, address: str, language: str = "nl", now: datetime | None = None
) -> OnlineLink:
    """Queue the online link for the caller by e-mail or SMS, through the outbox, in the same
    transaction as the row that holds the address until it has gone out."""
    now = now or timezone.now()
    if not online_url:
        raise InvalidInput(_("Er is geen online link om te sturen."), field="send")
    to = address_check(channel=channel, address=address)
    with transaction.atomic():
        link = OnlineLink.objects.create(
            contact=contact, channel=channel, address=to, language=language, online_url=online_url
        )
        message_enqueue(kind=MessageKind.ONLINE_LINK, due_at=now, online_link_id=link.pk, channel=channel)
    return link


def online_link_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    if message.online_link_id is None:
        return None
    link = OnlineLink.objects.select_related("contact").filter(pk=message.online_link_id).first()
    if link is None or not link.address:
        return None
    product = link.contact.products.first()
    with translation.override(link.language):
        context = {"online_url": link.online_url, "product": product}
        if message.channel == MessageChannel.SMS:
            text = " ".join(render_to_string("nudges/channels/sms/online_link.txt", context).split())
            return Outgoing(to=link.address, text=text)
        return email_from_templates(
            to=link.address,
            template_prefix="nudges/channels/email/online_link",
            context=context,
            language=link.language,
        )


def online_link_sent(message: ScheduledMessage, outgoing: Outgoing, now: datetime) -> None:
    """Sent: the address has done its job and goes."""
    if message.online_link_id is not None:
        OnlineLink.objects.filter(pk=message.online_link_id).update(address="", sent_at=now)


def online_links_erase_expired(*, cutoff: datetime, dry_run: bool = False) -> int:
    """Retention step: addresses of links that never went out (failed) are erased too; a
    link is a one-off, so anything older than a day is done with."""
    expired = OnlineLink.objects.filter(created_at__lt=min(cutoff, timezone.now() - timedelta(days=1))).exclude(
        address=""
    )
    return expired.count() if dry_run else expired.update(address="")
