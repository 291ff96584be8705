"""Six months of plausible contacts on every channel for the demo municipality, stored through
``services.contacts_import`` (the same rules as the API and the CSV import).

Volumes: 's-Hertogenbosch's 2019 figures (docs: DESIGN.md "Figures") scaled to a
municipality of about 55,000 inhabitants: about 110 answered calls a working day at the KCC
(average 4:52), 15 questions at the desk without an appointment, a few e-mails, a growing
number of WhatsApp messages, and the online forms — about 20,000 contacts in six months, so
``seed_demo`` stays quick. Calls and desk questions about
products that can be done online slowly shift to the online forms over the six months; the
KCC work instruction is in place for the last two months (more calls end "referred online").
Idempotent: skipped when demo contacts exist.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from nudges.models import Contact, ContactOutcome

from .services import MAX_BATCH, SOURCE_DEMO, ContactInput, contacts_import

DAYS = 182
SCRIPT_DAYS = 61
ONLINE_PRODUCTS = ("uittreksel-brp", "verhuizing")
# Per working day at the start of the period: channel -> (contacts, product mix).
VOLUMES = {
    "telefoon": (
        110,
        {
            "": 40,
            "paspoort": 14,
            "id-kaart": 10,
            "rijbewijs": 8,
            "uittreksel-brp": 12,
            "verhuizing": 12,
            "geboorteaangifte": 4,
        },
    ),
    "balie": (15, {"": 45, "paspoort": 15, "id-kaart": 10, "rijbewijs": 10, "uittreksel-brp": 10, "verhuizing": 10}),
    "e-mail": (3, {"": 60, "verhuizing": 20, "uittreksel-brp": 20}),
    "whatsapp": (4, {"": 70, "paspoort": 10, "verhuizing": 10, "uittreksel-brp": 10}),
    "social-media": (1, {"": 100}),
    "post": (1, {"": 50, "verhuizing": 50}),
    "internet": (22, {"uittreksel-brp": 55, "verhuizing": 45}),
}
HANDLING = {"telefoon": 292, "balie": 360, "e-mail": 420, "whatsapp": 180, "social-media": 150, "post": 300}


def _outcome(rng: random.Random, channel: str, product: str, script: bool) -> str:
    if channel == "internet":
        return ContactOutcome.COMPLETED_ONLINE
    referred = 0.08
    if channel == "telefoon" and product in ONLINE_PRODUCTS and script:
        referred = 0.35  # the work instruction: offered once, about a third goes online
    roll = rng.random()
    if product in ONLINE_PRODUCTS and roll < referred:
        return ContactOutcome.REFERRED_ONLINE
    if roll < 0.80:
        return ContactOutcome.ANSWERED
    if roll < 0.94:
        return ContactOutcome.BACK_OFFICE
    return ContactOutcome.NOT_HANDLED


def _rows_for_day(rng: random.Random, day: date, index: int) -> list[ContactInput]:
    progress = index / DAYS  # 0 at the start, 1 today
    script = index >= DAYS - SCRIPT_DAYS
    weekend = day.weekday() >= 5
    rows = []
    for channel, (base, mix) in VOLUMES.items():
        if weekend and channel in ("telefoon", "balie", "post"):
            continue
        volume = base * (0.3 if weekend else 1.0)
        if channel == "internet":
            volume *= 1 + 0.5 * progress  # the slow shift to online
        elif channel == "whatsapp":
            volume *= 1 + 1.0 * progress  # new channels grow fast
        elif channel in ("telefoon", "balie"):
            volume *= 1 - 0.12 * progress
        products, weights = zip(*mix.items(), strict=True)
        for n in range(max(0, round(rng.gauss(volume, volume**0.5)))):
            product = rng.choices(products, weights)[0]
            if channel in ("telefoon", "balie") and product in ONLINE_PRODUCTS and rng.random() < 0.25 * progress:
                continue  # done online instead: counted on the internet channel
            start = datetime.combine(day, time(8, 30), tzinfo=timezone.get_current_timezone())
            moment = start + timedelta(seconds=rng.randrange(0, 9 * 3600))
            seconds = HANDLING.get(channel)
            rows.append(
                ContactInput(
                    channel=channel,
                    products=[product] if product else [],
                    moment=moment,
                    outcome=_outcome(rng, channel, product, script),
                    handling_seconds=max(30, round(rng.expovariate(1 / seconds))) if seconds else None,
                    external_id=f"demo-{day.isoformat()}-{channel}-{n}",
                )
            )
    return rows


def seed_contacts(*, now: datetime | None = None) -> int:
    """Six months of contacts up to yesterday; returns how many were added (0 when present)."""
    if Contact.objects.filter(source=SOURCE_DEMO).exists():
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(12)  # noqa: S311 - demo data, the same every time
    rows: list[ContactInput] = []
    created = 0
    for index in range(DAYS):
        day = today - timedelta(days=DAYS - index)
        rows += _rows_for_day(rng, day, index)
        if len(rows) >= MAX_BATCH:
            created += contacts_import(rows=rows[:MAX_BATCH], source=SOURCE_DEMO, now=now).created
            rows = rows[MAX_BATCH:]
    while rows:
        created += contacts_import(rows=rows[:MAX_BATCH], source=SOURCE_DEMO, now=now).created
        rows = rows[MAX_BATCH:]
    return created
