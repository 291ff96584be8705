"""Demo data for channel steering (called by ``seed_demo``; idempotent).

- Three interventions after the product choice for ``uittreksel-brp`` and ``verhuizing``:
  Easy (direct link), Attractive (digital discount), Social (share done online).
- History behind the social-norm figure: online completions and past counter appointments
  (booked through the real booking service) over the last 90 days.
- A finished pilot with synthetic results, so the public register shows what a finished
  experiment looks like.
- A running experiment on both products with the three variants and a control, started
  through the real service (so it passes every governance check).
- A running reminder-wording experiment on every product: the plain reminder (control), what a
  missed appointment costs, and "others are looking for a time". No logs are made up for it:
  its exposures come from reminders actually sent.
- A few people on the waiting list (``nudges.waitlist.demo``), so a cancelled time is offered at once.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from booking.availability import availability_for_products, local_tz
from booking.constants import Channel
from booking.demo import DEMO_EMAIL_DOMAIN
from booking.exceptions import BookingError
from booking.models import Product
from booking.selectors import location_list, product_list, products_by_codes
from booking.services import appointment_book
from nudges.constants import ContentKind, ExperimentStatus, Metric, OutcomeKind, Principle, Touchpoint
from nudges.experiments import services, statistics
from nudges.experiments.assignment import unit_hash
from nudges.models import Experiment, Exposure, Intervention, OnlineCompletion, Outcome, Variant
from nudges.roles import nudges_roles_ensure
from nudges.waitlist import demo as waitlist_demo

PRODUCT_CODES = ["uittreksel-brp", "verhuizing"]
RUNNING_NAME = "Online alternatief na de productkeuze (uittreksel BRP, verhuizing)"
PILOT_NAME = "Pilot: directe link bij uittreksel BRP"

INTERVENTIONS = [
    {
        "code": "direct-online-link",
        "name": "Easy: directe link naar het online formulier",
        "kind": ContentKind.EASY_LINK,
        "principle": Principle.EASY,
        "headline_nl": "Dit kunt u ook direct online regelen",
        "headline_en": "You can also do this online right away",
        "message_nl": "{product} regelt u online: {requirements}.",
        "message_en": "{product} can be done online: {requirements}.",
    },
    {
        "code": "digitale-korting",
        "name": "Attractive: leges naast elkaar, online als digitale korting",
        "kind": ContentKind.DIGITAL_DISCOUNT,
        "principle": Principle.ATTRACTIVE,
        "headline_nl": "Online betaalt u {fee_online} in plaats van {fee_counter}",
        "headline_en": "Online you pay {fee_online} instead of {fee_counter}",
        "message_nl": "Regelt u {product} online, dan krijgt u {discount} digitale korting. {requirements}.",
        "message_en": "Do {product} online and get a digital discount of {discount}. {requirements}.",
    },
    {
        "code": "sociale-norm-online",
        "name": "Social: aandeel inwoners dat dit online deed",
        "kind": ContentKind.SOCIAL_NORM,
        "principle": Principle.SOCIAL,
        "headline_nl": "{share} van de inwoners regelde dit online",
        "headline_en": "{share} of residents did this online",
        "message_nl": (
            "Van {since} tot en met {until} regelden {online_cases} van de {cases} inwoners {product} online."
        ),
        "message_en": "From {since} to {until}, {online_cases} of {cases} residents did {product} online.",
    },
]


def seed_interventions() -> dict[str, Intervention]:
    products = products_by_codes(PRODUCT_CODES)
    found = {}
    for spec in INTERVENTIONS:
        intervention, created = Intervention.objects.get_or_create(
            code=spec["code"], defaults={**spec, "touchpoint": Touchpoint.PRODUCT_CHOICE}
        )
        if created:
            intervention.full_clean()
            intervention.products.set(products)
        found[spec["code"]] = intervention
    return found


def seed_history(*, rng: random.Random, now: datetime) -> int:
    """Online completions and past counter appointments behind the social-norm figure."""
    if OnlineCompletion.objects.filter(reference="").exists():
        return 0
    tz = local_tz()
    created = 0
    location = min(location_list(), key=lambda loc: loc.pk)
    for code, online_per_day, counter_every in (("uittreksel-brp", 1.2, 2), ("verhuizing", 1.5, 2)):
        (product,) = products_by_codes([code])
        completions = [
            OnlineCompletion(product=product, completed_at=now - timedelta(minutes=rng.randrange(1, 88 * 24 * 60)))
            for _ in range(int(online_per_day * 88))
        ]
        OnlineCompletion.objects.bulk_create(completions)
        for days_ago in range(2, 88, counter_every):
            day = (now - timedelta(days=days_ago)).astimezone(tz).date()
            morning = datetime.combine(day, time(7), tzinfo=tz)
            slots = availability_for_products(
                products=[product],
                persons=1,
                location_id=location.pk,
                date_from=day,
                date_to=day,
                now=morning,
                use_cache=False,
            )
            for slot in rng.sample(slots, k=min(len(slots), 2)):
                try:
                    appointment_book(
                        products=[product],
                        persons=1,
                        location=location,
                        start=slot.start,
                        name="Demo Inwoner",
                        email=f"verleden{rng.randrange(10**7)}@{DEMO_EMAIL_DOMAIN}",
                        channel=rng.choice([Channel.ONLINE, Channel.ONLINE, Channel.PHONE]),
                        now=morning,
                    )
                    created += 1
                except BookingError:
                    continue
    return created


def seed_pilot(*, interventions: dict[str, Intervention], rng: random.Random, now: datetime) -> Experiment:
    """A finished two-arm pilot with synthetic logs (written directly: demo only)."""
    existing = Experiment.objects.filter(name=PILOT_NAME).first()
    if existing:
        return existing
    (brp,) = products_by_codes(["uittreksel-brp"])
    experiment = services.experiment_create(
        name=PILOT_NAME,
        purpose_nl="Nagaan of een directe link naar het online formulier minder baliebezoek voor een uittreksel geeft.",
        purpose_en="Finding out whether a direct link to the online form reduces counter visits for an extract.",
        products=[brp],
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "directe-link", "intervention": interventions["direct-online-link"], "weight": 1},
        ],
        hypothesis="Een directe link verlaagt het aandeel bezoekers dat een balieafspraak boekt.",
        primary_metric=Metric.BOOKED,
        guardrail_metrics=[Metric.NO_SHOW],
        planned_sample_per_variant=1500,
        touchpoint=Touchpoint.PRODUCT_CHOICE,
        conclusion_nl=(
            "Geen aantoonbaar verschil in baliebezoek: met 1.500 bezoekers per groep was alleen een effect van "
            "ruim 4 procentpunt zichtbaar te maken. Ook niet-verschijnen bleef gelijk (4,0% en 4,2% van wie "
            "boekte): de link doet geen schade, maar levert ook niets aantoonbaars op. Het vervolgexperiment "
            "plant een veel grotere steekproef."
        ),
        conclusion_en=(
            "No demonstrable difference in counter visits: with 1,500 visitors per group only an effect of more "
            "than 4 points could be detected. No-shows stayed the same too (4.0% and 4.2% of those who booked): "
            "the link does no harm, but it achieves nothing demonstrable either. The follow-up experiment "
            "plans a much larger sample."
        ),
    )
    started, finished = now - timedelta(days=150), now - timedelta(days=95)
    # Fixed counts, so the register's computed result and the written conclusion agree:
    # 65.5% vs 62.7% booked (-2.8 points, p = 0.11): no demonstrable difference; no-shows among
    # bookers 4.0% vs 4.2%: no difference on the guardrail either.
    synthetic_logs(
        experiment=experiment,
        product=brp,
        arms=((1526, 1000, 40), (1530, 960, 42)),
        exposed_at=lambda i: started + timedelta(minutes=rng.randrange(0, 55 * 24 * 60)),
    )
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.FINISHED, started_at=started, finished_at=finished
    )
    experiment.refresh_from_db()
    return experiment


def seed_running(*, interventions: dict[str, Intervention], now: datetime) -> Experiment:
    existing = Experiment.objects.filter(name=RUNNING_NAME).first()
    if existing:
        return existing
    products = sorted(products_by_codes(PRODUCT_CODES), key=lambda product: product.code)
    # Three comparisons with control, Holm: plan for a typical 1.4-point effect at ~60% booking.
    planned = statistics.sample_size_for_effect(
        baseline=0.6, effect=statistics.TYPICAL_EFFECT, alpha=statistics.ALPHA / 3, lower_is_better=True
    )
    experiment = services.experiment_create(
        name=RUNNING_NAME,
        purpose_nl=(
            "Inwoners die een uittreksel of verhuizing aan de balie willen regelen, wijzen op de online route. "
            "We meten welke aanpak (makkelijk, goedkoper, wat anderen doen) het baliebezoek echt verlaagt, "
            "zonder dat mensen afhaken. De balie blijft altijd open."
        ),
        purpose_en=(
            "Pointing residents who want to book a counter visit for an extract or a move to the online route, "
            "and measuring which approach (easy, cheaper, what others do) really reduces counter visits without "
            "people giving up. The counter always stays open."
        ),
        products=products,
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["direct-online-link"], "weight": 1},
            {"key": "attractive", "intervention": interventions["digitale-korting"], "weight": 1},
            {"key": "social", "intervention": interventions["sociale-norm-online"], "weight": 1},
        ],
        hypothesis=(
            "Elk van de drie nudges verlaagt het aandeel bezoekers dat een balieafspraak boekt, vergeleken met "
            "geen nudge, zonder dat het aandeel afhakers stijgt."
        ),
        primary_metric=Metric.BOOKED,
        guardrail_metrics=[Metric.NO_SHOW, Metric.CANCELLED],
        planned_sample_per_variant=planned,
        touchpoint=Touchpoint.PRODUCT_CHOICE,
        planned_start=timezone.localdate(now),
    )
    experiment = services.experiment_start(experiment=experiment, now=now - timedelta(days=3))
    seed_running_logs(experiment=experiment, now=now)
    return experiment


def seed_running_logs(*, experiment: Experiment, now: datetime) -> None:
    """Three days of synthetic logs (demo only): far below the planned sample, so the page
    shows provisional rates and differences, and nothing significant, however large they look."""
    synthetic_logs(
        experiment=experiment,
        product=products_by_codes(["uittreksel-brp"])[0],
        arms=((400, 244, 0), (396, 198, 0), (404, 226, 0), (398, 231, 0)),
        exposed_at=lambda i: now - timedelta(minutes=10 + i * 10),
    )


def synthetic_logs(*, experiment: Experiment, product: Product, arms, exposed_at) -> None:
    """Exposures and outcomes written directly (demo only). ``arms``: per variant in order,
    (exposed, booked, no-shows per mille of the booked); ``exposed_at(i)``: the i-th unit's time."""
    exposures, outcomes = [], []
    for variant, (n, booked, no_show_per_mille) in zip(experiment.variants.order_by("pk"), arms, strict=True):
        for i in range(n):
            unit = unit_hash(secrets.token_urlsafe(16))
            at = exposed_at(i)
            exposures.append(
                Exposure(
                    experiment=experiment,
                    variant=variant,
                    unit_hash=unit,
                    touchpoint=experiment.touchpoint,
                    product=product,
                    exposed_at=at,
                )
            )
            kinds = [(OutcomeKind.BOOKED, timedelta(minutes=5))] if i < booked else []
            if i < booked * no_show_per_mille // 1000:
                kinds.append((OutcomeKind.NO_SHOW, timedelta(days=7)))
            outcomes += [
                Outcome(experiment=experiment, variant=variant, unit_hash=unit, kind=kind, occurred_at=at + after)
                for kind, after in kinds
            ]
    Exposure.objects.bulk_create(exposures)
    Outcome.objects.bulk_create(outcomes)


REMINDER_NAME = "Herinnering: komen of op tijd afzeggen (alle producten)"
REMINDER_INTERVENTIONS = [
    {
        "code": "herinnering-kosten",
        "name": "Attractive: wat een gemiste afspraak kost",
        "kind": ContentKind.REMINDER_COST,
        "principle": Principle.ATTRACTIVE,
        "headline_nl": "Wat een gemiste afspraak kost",
        "headline_en": "What a missed appointment costs",
        "message_nl": (
            "Een afspraak die niet wordt gebruikt kost de gemeente {cost} en een andere inwoner een plek. "
            "Kunt u niet komen? Annuleer dan op tijd."
        ),
        "message_en": (
            "An appointment that is not used costs the municipality {cost} and another resident a place. "
            "If you cannot come, please cancel in time."
        ),
    },
    {
        "code": "herinnering-anderen-zoeken",
        "name": "Social: anderen zoeken ook een tijd",
        "kind": ContentKind.REMINDER_WAITING,
        "principle": Principle.SOCIAL,
        "headline_nl": "Anderen zoeken ook een tijd",
        "headline_en": "Others are looking for a time too",
        "message_nl": (
            "In de afgelopen {period_days} dagen zijn er {bookings} andere afspraken voor {product} gemaakt bij "
            "{location}. Kunt u niet komen? Annuleer dan, zodat iemand anders uw tijd kan gebruiken."
        ),
        "message_en": (
            "In the last {period_days} days, {bookings} other appointments for {product} were made at {location}. "
            "If you cannot come, please cancel so someone else can use your time."
        ),
    },
]


def seed_reminder_experiment(*, now: datetime) -> Experiment:
    """The reminder-wording experiment, started through the real service."""
    existing = Experiment.objects.filter(name=REMINDER_NAME).first()
    if existing:
        return existing
    products = sorted(product_list(), key=lambda product: product.code)
    interventions = {}
    for spec in REMINDER_INTERVENTIONS:
        intervention, created = Intervention.objects.get_or_create(
            code=spec["code"], defaults={**spec, "touchpoint": Touchpoint.REMINDER}
        )
        if created:
            intervention.full_clean()
            intervention.products.set(products)
        interventions[spec["code"]] = intervention
    # Two comparisons with control, Holm: plan for a typical 1.4-point effect on a no-show rate
    # of about 3% (one large city's figure).
    planned = statistics.sample_size_for_effect(
        baseline=0.03, effect=statistics.TYPICAL_EFFECT, alpha=statistics.ALPHA / 2, lower_is_better=True
    )
    experiment = services.experiment_create(
        name=REMINDER_NAME,
        purpose_nl=(
            "Minder gemiste afspraken: we testen of een herinnering die zegt wat een gemiste afspraak kost, of "
            "dat anderen ook een tijd zoeken, meer mensen laat komen of op tijd laat afzeggen dan de gewone "
            "herinnering. De cijfers in de herinnering komen uit eigen gegevens."
        ),
        purpose_en=(
            "Fewer missed appointments: we test whether a reminder that says what a missed appointment costs, or "
            "that others are looking for a time too, makes more people come or cancel in time than the plain "
            "reminder. The figures in the reminder come from the municipality's own data."
        ),
        products=products,
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "kosten", "intervention": interventions["herinnering-kosten"], "weight": 1},
            {"key": "anderen-zoeken", "intervention": interventions["herinnering-anderen-zoeken"], "weight": 1},
        ],
        hypothesis=(
            "Noemen wat een gemiste afspraak kost, of dat anderen ook een tijd zoeken, verlaagt het aandeel "
            "inwoners dat niet verschijnt, vergeleken met de gewone herinnering."
        ),
        primary_metric=Metric.NO_SHOW,
        guardrail_metrics=[Metric.CANCELLED, Metric.ATTENDED],
        planned_sample_per_variant=planned,
        touchpoint=Touchpoint.REMINDER,
        planned_start=timezone.localdate(now),
    )
    return services.experiment_start(experiment=experiment, now=now)


@transaction.atomic
def seed_nudges(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    nudges_roles_ensure()
    interventions = seed_interventions()
    past_appointments = seed_history(rng=rng, now=now)
    pilot = seed_pilot(interventions=interventions, rng=rng, now=now)
    running = seed_running(interventions=interventions, now=now)
    reminder_experiment = seed_reminder_experiment(now=now)
    waitlist_entries = waitlist_demo.seed_waitlist(now=now)
    return {
        "waitlist_entries": waitlist_entries,
        "interventions": len(interventions),
        "past_appointments": past_appointments,
        "pilot": pilot,
        "running": running,
        "variants": list(Variant.objects.filter(experiment=running).values_list("key", flat=True)),
        "reminder_experiment": reminder_experiment,
    }
