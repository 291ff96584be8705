"""Demo data for the manager's cockpit (called by ``seed_demo``; idempotent): six months of
contacts on every channel (through the contacts service), three finished experiments whose
numbers tell something true (the Attractive variant moved about 5 points of visitors from a
counter booking to the online route, against its own control; a reminder that says what a
missed appointment costs lowered no-shows; a first round of the social norm, when few residents
did it online yet, sent more of them to the counter: harm, shown as harm), the policy frame set by the manager with an earlier
version, a renovation that closes the travel-document desk at Wijkkantoor Noord so the
passport lead time there breaks its bound (the red status and the alert e-mail on first run),
and the roll-ups built. With the pilot of ``nudges.demo`` (no effect on its primary measure nor
on its guardrail) the cockpit shows the four stories the manager's demo is for.

The experiment logs are written directly, like the demo pilot's (demo only: the experiment
services log one visitor at a time)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from booking import selectors as booking_selectors
from booking.exceptions import InvalidRequest
from booking.services import new_token
from booking.staff.services import closure_create_with_cancellations
from nudges.channels.services import SOURCE_DEMO, ContactInput, contacts_import
from nudges.constants import ExperimentStatus, Metric, OutcomeKind, Touchpoint
from nudges.experiments import services as nudge_services
from nudges.experiments.assignment import unit_hash
from nudges.models import (
    BoundVersion,
    ChannelKind,
    Contact,
    Experiment,
    Exposure,
    Intervention,
    Outcome,
    SatisfactionSurvey,
)

from . import services
from .constants import BoundKind
from .portfolio import experiment_snapshots_refresh
from .rollups import rollups_refresh

if TYPE_CHECKING:
    from booking.models import Product

HISTORY_DAYS = 182
ATTRACTIVE_NAME = "Digitale korting na de productkeuze (uittreksel BRP, verhuizing)"
REMINDER_COST_NAME = "Herinnering: wat een gemiste afspraak kost (eerste ronde)"
SOCIAL_FIRST_NAME = "Sociale norm bij verhuizing (eerste ronde, toen weinig inwoners online)"
RENOVATION = "Verbouwing balie B (demo)"
# Contacts per working day per product and channel at the start of the history; the
# internet share of the products with an online route grows over the six months.
BASE = {
    "paspoort": {"balie": 14, "telefoon": 4, "e-mail": 1},
    "id-kaart": {"balie": 8, "telefoon": 2, "e-mail": 1},
    "rijbewijs": {"balie": 6, "telefoon": 2},
    "uittreksel-brp": {"balie": 6, "internet": 5, "telefoon": 2, "e-mail": 1, "whatsapp": 1},
    "verhuizing": {"balie": 4, "internet": 6, "telefoon": 2, "e-mail": 1, "social-media": 1},
    "geboorteaangifte": {"balie": 3, "telefoon": 1},
}


def _contacts(*, rng: random.Random, now: datetime, days: int) -> int:
    if Contact.objects.filter(source=SOURCE_DEMO).exists():
        return 0
    known = {product.code for product in booking_selectors.product_list()}
    rows = []
    today = timezone.localdate(now)
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        progress = 1 - back / days  # 0 six months ago, 1 yesterday
        for code, channels in BASE.items():
            if code not in known:
                continue
            for channel, base in channels.items():
                mean = base * (1 + 0.5 * progress) if channel == "internet" else base
                for i in range(max(0, round(rng.gauss(mean, mean**0.5)))):
                    moment = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
                        hours=9, minutes=rng.randrange(0, 8 * 60)
                    )
                    outcome = "not_handled" if channel == "telefoon" and rng.random() < 0.06 else "answered"
                    rows.append(
                        ContactInput(
                            channel=channel,
                            moment=moment,
                            outcome=outcome,
                            products=[code],
                            handling_seconds=rng.randrange(120, 900) if channel != "internet" else None,
                            external_id=f"demo-{day.isoformat()}-{code}-{channel}-{i}",
                        )
                    )
    for start in range(0, len(rows), 5000):
        contacts_import(rows=rows[start : start + 5000], source=SOURCE_DEMO, now=now)
    return len(rows)


def _finished_experiment(
    *,
    name: str,
    products: list[Product],
    arms: list[tuple[str, Intervention | None, int, dict[str, int]]],
    primary: str,
    touchpoint: str,
    started: datetime,
    finished: datetime,
    rng: random.Random,
    purpose: str,
) -> Experiment:
    """A finished experiment with fixed counts per arm: (key, intervention, n, {outcome: units})."""
    existing = Experiment.objects.filter(name=name).first()
    if existing:
        return existing
    experiment = nudge_services.experiment_create(
        name=name,
        purpose_nl=purpose,
        products=products,
        variants=[{"key": key, "intervention": iv, "weight": 1} for key, iv, _n, _o in arms],
        hypothesis=purpose,
        primary_metric=primary,
        guardrail_metrics=[],
        planned_sample_per_variant=min(n for _k, _i, n, _o in arms),
        touchpoint=touchpoint,
    )
    variants = {v.key: v for v in experiment.variants.all()}
    exposures, outcomes = [], []
    span = int((finished - started).total_seconds() // 60) - 60 * 24 * 8
    for key, _iv, n, kinds in arms:
        for i in range(n):
            unit = unit_hash(f"{name}-{key}-{i}")
            at = started + timedelta(minutes=rng.randrange(0, span))
            exposures.append(
                Exposure(
                    experiment=experiment,
                    variant=variants[key],
                    unit_hash=unit,
                    touchpoint=touchpoint,
                    product=products[i % len(products)],
                    exposed_at=at,
                )
            )
            for kind, units in kinds.items():
                if i < units:
                    outcomes.append(
                        Outcome(
                            experiment=experiment,
                            variant=variants[key],
                            unit_hash=unit,
                            kind=kind,
                            occurred_at=at + timedelta(minutes=3 if kind != OutcomeKind.NO_SHOW else 60 * 24 * 7),
                        )
                    )
    Exposure.objects.bulk_create(exposures, batch_size=2000)
    Outcome.objects.bulk_create(outcomes, batch_size=2000)
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.FINISHED, started_at=started, finished_at=finished, analysis_frozen_at=finished
    )
    experiment.refresh_from_db()
    return experiment


def _products(*codes: str) -> list[Product]:
    """The demo's products in code order, or none when one is missing (a trimmed catalogue)."""
    try:
        return sorted(booking_selectors.products_by_codes(codes), key=lambda product: product.code)
    except InvalidRequest:
        return []


def _experiments(*, rng: random.Random, now: datetime) -> None:
    products = _products("uittreksel-brp", "verhuizing")
    attractive = Intervention.objects.filter(code="digitale-korting").first()
    if len(products) == 2 and attractive:
        # Counter booked 76.0% vs 70.8% (2,500 per group): 5.2 points moved to the online route
        # (0% vs 5.2% chose online: the control group sees no online link), abandoned 24% in both.
        _finished_experiment(
            name=ATTRACTIVE_NAME,
            products=products,
            arms=[
                ("controle", None, 2500, {OutcomeKind.BOOKED: 1900}),
                ("digitale-korting", attractive, 2500, {OutcomeKind.CHOSE_ONLINE: 130, OutcomeKind.BOOKED: 1770}),
            ],
            primary=Metric.BOOKED,
            touchpoint=Touchpoint.PRODUCT_CHOICE,
            started=now - timedelta(days=120),
            finished=now - timedelta(days=60),
            rng=rng,
            purpose="Nagaan of de leges naast elkaar, met online als digitale korting, minder baliebezoek geven.",
        )
    social = Intervention.objects.filter(code="sociale-norm-online").first()
    moving = _products("verhuizing")
    if social and moving:
        # Counter booked 64.0% vs 70.0% (1,500 per group): when few residents did it online yet,
        # saying how few sent 6 points more to the counter (a norm that backfires). The results
        # page and the cockpit call it what it is: worse than control.
        _finished_experiment(
            name=SOCIAL_FIRST_NAME,
            products=moving,
            arms=[
                ("controle", None, 1500, {OutcomeKind.BOOKED: 960}),
                ("sociale-norm", social, 1500, {OutcomeKind.BOOKED: 1050}),
            ],
            primary=Metric.BOOKED,
            touchpoint=Touchpoint.PRODUCT_CHOICE,
            started=now - timedelta(days=180),
            finished=now - timedelta(days=130),
            rng=rng,
            purpose="Nagaan of het aandeel inwoners dat verhuizen online doorgaf, minder baliebezoek geeft.",
        )
    cost_wording = Intervention.objects.filter(code="herinnering-kosten").first()
    passport = next(iter(_products("paspoort")), None)
    if cost_wording and passport:
        # No-shows 6.0% vs 4.2% of 3,000 reminded appointments per group.
        _finished_experiment(
            name=REMINDER_COST_NAME,
            products=[passport],
            arms=[
                ("controle", None, 3000, {OutcomeKind.NO_SHOW: 180, OutcomeKind.ATTENDED: 2700}),
                ("kosten", cost_wording, 3000, {OutcomeKind.NO_SHOW: 126, OutcomeKind.ATTENDED: 2760}),
            ],
            primary=Metric.NO_SHOW,
            touchpoint=Touchpoint.REMINDER,
            started=now - timedelta(days=170),
            finished=now - timedelta(days=100),
            rng=rng,
            purpose="Nagaan of een herinnering die zegt wat een gemiste afspraak kost, minder mensen laat wegblijven.",
        )


# Answers to the satisfaction question after a contact, per channel: scores 1..5 (counts). Means
# 3.83 to 4.20: e-mail is above the floor of 3.5 but close to it, and 0.37 below the best
# channel (WhatsApp), within the largest gap of 0.5.
SATISFACTION = {
    "telefoon": (2, 4, 8, 22, 14),  # 3.84
    "e-mail": (1, 3, 9, 18, 11),  # 3.83
    "whatsapp": (0, 2, 5, 16, 17),  # 4.20
    "internet": (1, 2, 7, 20, 16),  # 4.04
}
SATISFACTION_DAYS = 80


def _satisfaction(*, rng: random.Random, now: datetime) -> int:
    """Answered satisfaction questions after recent demo contacts (written directly, demo only:
    the service plans an e-mail per question). Consent is recorded on the contact's channel."""
    if SatisfactionSurvey.objects.filter(contact__source=SOURCE_DEMO).exists():
        return 0
    created = 0
    for code, distribution in SATISFACTION.items():
        scores = [score for score, n in enumerate(distribution, start=1) for _ in range(n)]
        contacts = list(
            Contact.objects.filter(
                source=SOURCE_DEMO,
                channel__code=code,
                moment__gte=now - timedelta(days=SATISFACTION_DAYS),
                moment__lt=now - timedelta(days=2),
            )
            .exclude(channel__kind=ChannelKind.COUNTER)
            .order_by("moment")[: len(scores) * 3 : 3]
        )
        for contact, score in zip(contacts, rng.sample(scores, len(scores)), strict=False):
            survey = SatisfactionSurvey.objects.create(
                contact=contact,
                token=new_token(),
                consent_at=contact.moment,
                consent_channel=code,
                score=score,
                answered_at=contact.moment + timedelta(days=1),
            )
            SatisfactionSurvey.objects.filter(pk=survey.pk).update(created_at=contact.moment)
            created += 1
    return created


BOUNDS: list[tuple[str, str, dict[str, Any], str]] = [
    # kind, limit, scope, note
    (BoundKind.SERVICE_PRESENCE, "5", {}, "Raadsbesluit dienstverlening: binnen 5 werkdagen aan de balie"),
    (BoundKind.SERVICE_EXEMPT, "10", {}, "Wie het online niet kan, krijgt binnen 10 werkdagen een baliebezoek"),
    (BoundKind.WALKIN_CAPACITY, "15", {}, "Minstens 15% baliecapaciteit vrij voor inloop"),
    (BoundKind.LEAD_TIME, "5", {"product_code": "uittreksel-brp"}, "Uittreksel: hooguit 5 dagen wachten"),
    (BoundKind.NOT_HANDLED, "8", {"channel": "telefoon"}, "Telefoon: hooguit 8% niet afgehandeld"),
    (BoundKind.SATISFACTION_FLOOR, "3.5", {}, "Geen kanaal onder 3,5"),
    (BoundKind.SATISFACTION_GAP, "0.5", {}, "Hooguit een halve punt onder het beste kanaal"),
    (BoundKind.COST_RULE, "0", {}, "Leges zijn kostendekkend"),
]


def _bounds(*, now: datetime) -> None:
    if BoundVersion.objects.exists():
        return
    users = get_user_model().objects.filter(username__in=["manager", "beheerder"]).in_bulk(field_name="username")
    manager, beheerder = users.get("manager"), users.get("beheerder")
    noord_b = booking_selectors.desk_by_name(location_name="Wijkkantoor Noord", name="Balie B")
    for kind, limit, scope, note in BOUNDS:
        services.bound_set(
            kind=kind, limit=Decimal(limit), user=manager, note=note, now=now - timedelta(days=90), **scope
        )
    if noord_b is not None:
        # History: the passport lead time at Noord was 14 days, tightened to 10 a month ago.
        for days, who, back, note in (
            (14, manager, 90, "Eerste kader"),
            (10, beheerder, 30, "Aangescherpt na klachten"),
        ):
            services.bound_set(
                kind=BoundKind.LEAD_TIME,
                limit=Decimal(days),
                product_code="paspoort",
                location_id=noord_b.location_id,
                user=who,
                note=note,
                now=now - timedelta(days=back),
            )


def _renovation(*, now: datetime) -> None:
    """Balie B at Wijkkantoor Noord is the only desk there for passports (and ID cards and driving
    licences): closed for three weeks, the passport lead time at Noord goes past its bound."""
    desk = booking_selectors.desk_by_name(location_name="Wijkkantoor Noord", name="Balie B")
    planner = get_user_model().objects.filter(username="planner").first()
    if desk is None or booking_selectors.desk_closed_for(desk, reason=RENOVATION):
        return
    closure_create_with_cancellations(
        actor=planner,
        location=desk.location,
        desk=desk,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=21),
        reason=RENOVATION,
        now=now,
    )


def seed_cockpit(*, now: datetime | None = None, history_days: int = HISTORY_DAYS) -> dict[str, int]:
    now = now or timezone.now()
    rng = random.Random(13)  # noqa: S311 - demo data, not security
    with transaction.atomic():
        contacts = _contacts(rng=rng, now=now, days=history_days)
        _experiments(rng=rng, now=now)
        _bounds(now=now)
        _satisfaction(rng=rng, now=now)
    _renovation(now=now)
    rows = rollups_refresh(
        date_from=timezone.localdate(now) - timedelta(days=history_days + 7), date_to=timezone.localdate(now)
    )
    experiment_snapshots_refresh(now=now)
    checked = services.bounds_check(now=now)
    return {"contacts": contacts, "rollup_rows": rows, "breaches_opened": checked.opened}
