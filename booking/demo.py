"""Demo data for a first look: a believable municipality. Idempotent: running it again
updates the reference data in place and only tops up future appointments."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .availability import availability_for_products, invalidate_availability
from .constants import AppointmentStatus, Channel
from .exceptions import BookingError
from .models import Appointment, Desk, Location, OpeningHours, Product
from .services import appointment_book

DEMO_EMAIL_DOMAIN = "voorbeeld.nl"

PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "paspoort",
        "name_nl": "Paspoort",
        "name_en": "Passport",
        "minutes_per_person": 15,
        "requires_presence": True,
        "fee_counter": Decimal("84.70"),
        "cost_counter": Decimal("86.00"),
        "checklist_nl": "Uw huidige paspoort of identiteitskaart\nEen recente pasfoto (niet ouder dan 6 maanden)",
        "checklist_en": "Your current passport or ID card\nA recent passport photo (less than 6 months old)",
    },
    {
        "code": "id-kaart",
        "name_nl": "Identiteitskaart",
        "name_en": "Identity card",
        "minutes_per_person": 10,
        "requires_presence": True,
        "fee_counter": Decimal("77.85"),
        "cost_counter": Decimal("78.00"),
        "checklist_nl": "Uw huidige identiteitsbewijs\nEen recente pasfoto",
        "checklist_en": "Your current identity document\nA recent passport photo",
    },
    {
        "code": "rijbewijs",
        "name_nl": "Rijbewijs",
        "name_en": "Driving licence",
        "minutes_per_person": 15,
        "requires_presence": True,
        "fee_counter": Decimal("52.40"),
        "cost_counter": Decimal("55.00"),
        "checklist_nl": "Uw huidige rijbewijs\nEen recente pasfoto\nEventueel uw gezondheidsverklaring",
        "checklist_en": "Your current driving licence\nA recent passport photo\nYour health declaration, if required",
    },
    {
        "code": "uittreksel-brp",
        "name_nl": "Uittreksel BRP",
        "name_en": "BRP extract",
        "minutes_per_person": 5,
        "requires_presence": False,
        "fee_counter": Decimal("9.40"),
        "cost_counter": Decimal("9.40"),
        "fee_online": Decimal("6.90"),
        "cost_online": Decimal("6.90"),
        "fee_phone": Decimal("9.40"),
        "cost_phone": Decimal("9.40"),
        "online_url": "https://formulieren.voorbeeldstad.nl/uittreksel-brp",
        "online_requirements_nl": "2 minuten met DigiD, direct klaar als pdf",
        "online_requirements_en": "2 minutes with DigiD, ready at once as a PDF",
        "checklist_nl": "Uw identiteitsbewijs",
        "checklist_en": "Your identity document",
        "online_requires_digid": True,
        "online_requires_payment": True,
        "description_nl": "Een uittreksel uit de Basisregistratie Personen (BRP): het bewijs van waar u woont "
        "en andere gegevens, bijvoorbeeld voor een werkgever, een woningcorporatie of een visum.",
        "description_en": "An extract from the Personal Records Database (BRP): proof of where you live and "
        "other details, for an employer, a housing association or a visa.",
        "kcc_text_nl": "U kunt dit uittreksel ook meteen online aanvragen met DigiD. Dat kost € 6,90 in plaats "
        "van € 9,40 aan de balie en u hebt het direct als pdf. Zal ik u de link sturen?",
        "kcc_text_en": "You can also request this extract online right away with DigiD. It costs € 6.90 "
        "instead of € 9.40 at the counter and you get it at once as a PDF. Shall I send you the link?",
    },
    {
        "code": "verhuizing",
        "name_nl": "Verhuizing doorgeven",
        "name_en": "Registering a move",
        "minutes_per_person": 10,
        "requires_presence": False,
        "fee_counter": Decimal("0.00"),
        "cost_counter": Decimal("14.00"),
        "fee_online": Decimal("0.00"),
        "cost_online": Decimal("2.50"),
        "online_url": "https://formulieren.voorbeeldstad.nl/verhuizing",
        "online_requirements_nl": "5 minuten met DigiD; u krijgt direct een bevestiging",
        "online_requirements_en": "5 minutes with DigiD; you get a confirmation at once",
        "checklist_nl": "Uw identiteitsbewijs\nHuurcontract, koopakte of toestemming van de hoofdbewoner",
        "checklist_en": "Your identity document\nTenancy agreement, deed of sale or the main occupant's consent",
        "online_requires_digid": True,
        "description_nl": "Binnen de gemeente of naar de gemeente verhuizen: geef het door tussen vier weken "
        "voor en vijf dagen na de verhuisdatum.",
        "description_en": "Moving within or into the municipality: register it between four weeks before "
        "and five days after the moving date.",
        "kcc_text_nl": "Een verhuizing geeft u in vijf minuten online door met DigiD, u krijgt direct een "
        "bevestiging. Zal ik u de link sturen?",
        "kcc_text_en": "You can register a move online in five minutes with DigiD and get a confirmation at "
        "once. Shall I send you the link?",
    },
    {
        "code": "geboorteaangifte",
        "name_nl": "Geboorteaangifte",
        "name_en": "Registering a birth",
        "minutes_per_person": 20,
        "requires_presence": True,
        "fee_counter": Decimal("0.00"),
        "cost_counter": Decimal("25.00"),
        "checklist_nl": "Identiteitsbewijs van de aangever\nEventueel de erkenningsakte",
        "checklist_en": "Identity document of the person registering\nThe deed of acknowledgement, if any",
    },
]

LOCATIONS: list[dict[str, Any]] = [
    {
        "name": "Stadhuis",
        "street": "Markt 1",
        "postcode": "1234 AB",
        "city": "Voorbeeldstad",
        "desks": {
            "Balie 1": ["paspoort", "id-kaart", "uittreksel-brp", "verhuizing", "geboorteaangifte"],
            "Balie 2": ["paspoort", "id-kaart", "uittreksel-brp", "verhuizing", "geboorteaangifte"],
            "Balie 3": ["paspoort", "id-kaart", "rijbewijs", "uittreksel-brp"],
            "Balie 4": ["rijbewijs", "uittreksel-brp", "verhuizing"],
        },
        "late_thursday": True,
    },
    {
        "name": "Wijkkantoor Noord",
        "street": "Noorderplein 12",
        "postcode": "1235 CD",
        "city": "Voorbeeldstad",
        "desks": {
            # Balie B has the station for travel documents and licences (photo, fingerprints).
            "Balie A": ["uittreksel-brp", "verhuizing"],
            "Balie B": ["paspoort", "id-kaart", "rijbewijs", "uittreksel-brp", "verhuizing"],
        },
        "late_thursday": False,
    },
]

FIRST_NAMES = ["Anouk", "Bram", "Daan", "Emma", "Fatima", "Jan", "Lotte", "Mohamed", "Noor", "Sem", "Tess", "Yara"]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "El Amrani", "de Jong", "Meijer", "Yilmaz", "Mulder"]


@transaction.atomic
def seed_reference_data(*, valid_from: date | None = None) -> dict[str, int]:
    valid_from = valid_from or date(2024, 1, 1)
    products = {}
    for spec in PRODUCTS:
        product, _created = Product.objects.update_or_create(code=spec["code"], defaults=spec)
        products[product.code] = product
    for spec in LOCATIONS:
        location, _created = Location.objects.update_or_create(
            name=spec["name"], defaults={k: spec[k] for k in ("street", "postcode", "city")}
        )
        for desk_name, codes in spec["desks"].items():
            desk, _created = Desk.objects.get_or_create(location=location, name=desk_name)
            desk.products.set([products[c] for c in codes])
            if not desk.opening_hours.exists():
                for weekday in range(5):
                    closes = time(20) if spec["late_thursday"] and weekday == 3 else time(17)
                    OpeningHours.objects.create(
                        desk=desk, weekday=weekday, opens=time(9), closes=closes, valid_from=valid_from
                    )
    transaction.on_commit(invalidate_availability)
    return {"products": len(products), "locations": len(LOCATIONS), "desks": Desk.objects.count()}


def seed_appointments(*, days: int = 10, share: float = 0.35, rng: random.Random | None = None) -> int:
    """Book roughly ``share`` of the free times over the next ``days`` days through the real
    booking service, unless demo appointments for the future exist already."""
    now = timezone.now()
    if Appointment.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN, start__gt=now).exists():
        return 0
    rng = rng or random.Random(2026)  # noqa: S311 - demo data, not security
    products = list(Product.objects.filter(is_active=True))
    today = timezone.localdate()
    created = 0
    for location in Location.objects.filter(is_active=True):
        for day_offset in range(1, days + 1):
            day = today + timedelta(days=day_offset)
            product = rng.choice(products)
            slots = availability_for_products(
                products=[product], persons=1, location_id=location.pk, date_from=day, date_to=day, use_cache=False
            )
            for slot in rng.sample(slots, k=int(len(slots) * share)):
                product = rng.choice(products)
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                try:
                    appointment_book(
                        products=[product],
                        persons=rng.choice([1, 1, 1, 2]),
                        location=location,
                        start=slot.start,
                        name=name,
                        email=f"inwoner{rng.randrange(10**6)}@{DEMO_EMAIL_DOMAIN}",
                        channel=rng.choice([Channel.ONLINE, Channel.ONLINE, Channel.ONLINE, Channel.PHONE]),
                    )
                    created += 1
                except BookingError:
                    continue  # taken by an earlier demo booking or not served here: skip
    return created


def demo_summary() -> dict[str, int]:
    return {
        "future_appointments": Appointment.objects.filter(
            status=AppointmentStatus.BOOKED, start__gt=timezone.now()
        ).count()
    }
