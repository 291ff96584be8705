"""Seed the benchmark database: two locations, six desks, five products, a year of appointments.

Run by ``benchmarks/run.py`` after ``migrate`` against its own database (DATABASE_URL); not
meant for a real database. Writes a JSON summary (ids, the race day, counts) to ``--out``.

What it makes
- Locations "Stadhuis" (4 desks, Mon-Fri 09:00-17:00, Thursday to 20:00) and "Stadskantoor
  Noord" (2 desks, Mon-Fri 09:00-17:00), both on a 10-minute grid. Dutch public holidays are
  closed (no appointments are seeded on them).
- Products paspoort (10 min), id-kaart (10), rijbewijs (15), uittreksel-brp (5, online
  alternative), verhuizing (10, online alternative); minimum notice 30 min, horizon 120 days.
- Appointments from ``--past-days`` ago to ``--future-days`` ahead, packed per desk and day
  without overlap (the exclusion constraint is live): past ones served (about 96.5%) or
  no-show (about 3.5%), future ones booked, with utilisation falling with distance so that
  later weeks have room for the benchmark's own bookings. The remainder up to
  ``--appointments`` are cancelled appointments (a cancelled time is typically rebooked, so
  these overlap active ones, which the constraint allows).
- An integration client with the ``appointments`` scope (taking a time through the API needs
  one), without confirmation e-mails and without its own rate; its token goes into the summary.
- The race day: a weekday about seven weeks ahead on which Noord's "Balie 1" is closed
  (a Closure), so paspoort is served by exactly one desk there: the race in part (c) must
  produce exactly one booking.

Rows go in with COPY (psycopg 3) in one transaction; a year takes a few seconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.availability import invalidate_availability, public_holidays  # noqa: E402
from booking.constants import REFERENCE_ALPHABET, REFERENCE_LENGTH  # noqa: E402
from booking.integrations import SCOPE_APPOINTMENTS, integration_client_create  # noqa: E402
from booking.models import Appointment, Closure, Desk, Location, OpeningHours, Product  # noqa: E402

TZ = ZoneInfo(settings.TIME_ZONE)

PRODUCTS = [
    # code, NL, EN, minutes, presence, counter fee, online fee, online url, weight
    ("paspoort", "Paspoort", "Passport", 10, True, "84.05", None, "", 34),
    ("id-kaart", "Identiteitskaart", "ID card", 10, True, "77.80", None, "", 24),
    ("rijbewijs", "Rijbewijs", "Driving licence", 15, True, "52.30", None, "", 20),
    ("uittreksel-brp", "Uittreksel BRP", "BRP extract", 5, False, "9.40", "6.90", "https://example.nl/uittreksel", 12),
    (
        "verhuizing",
        "Verhuizing doorgeven",
        "Report a move",
        10,
        False,
        "0.00",
        "0.00",
        "https://example.nl/verhuizen",
        10,
    ),
]
ALL = [p[0] for p in PRODUCTS]
LOCATIONS = [
    # name, street, postcode, desks: (name, product codes), open weekdays with (opens, closes)
    (
        "Stadhuis",
        "Markt 1",
        "1234 AB",
        [
            ("Balie 1", ALL),
            ("Balie 2", ALL),
            ("Balie 3", ALL),
            ("Balie 4", ["rijbewijs", "uittreksel-brp", "verhuizing"]),
        ],
        {0: (9, 17), 1: (9, 17), 2: (9, 17), 3: (9, 20), 4: (9, 17)},
    ),
    (
        "Stadskantoor Noord",
        "Noorderplein 5",
        "1235 CD",
        [
            ("Balie 1", ["paspoort", "id-kaart", "uittreksel-brp", "verhuizing"]),
            ("Balie 2", ALL),
        ],
        {0: (9, 17), 1: (9, 17), 2: (9, 17), 3: (9, 17), 4: (9, 17)},
    ),
]
GRID = 10
ACTIVE_FUTURE = "booked"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def future_utilisation(days_ahead: int) -> float:
    """Near weeks fill up, later weeks are emptier (as with a real booking curve)."""
    if days_ahead <= 14:
        return 0.75
    if days_ahead <= 35:
        return 0.45
    return 0.2


def make_catalogue(today: date) -> tuple[dict, list[dict]]:
    products = {}
    for code, nl, en, minutes, presence, fee_counter, fee_online, url, weight in PRODUCTS:
        products[code] = Product.objects.create(
            code=code,
            name_nl=nl,
            name_en=en,
            minutes_per_person=minutes,
            requires_presence=presence,
            booking_horizon_days=120,
            min_notice_minutes=30,
            fee_counter=fee_counter,
            cost_counter=fee_counter,
            fee_online=fee_online,
            cost_online=fee_online,
            fee_phone=fee_counter,
            cost_phone=fee_counter,
            online_url=url,
            online_requirements_nl="DigiD" if url else "",
            online_requirements_en="DigiD" if url else "",
        )
        products[code].weight = weight
    desks = []
    for name, street, postcode, desk_specs, hours in LOCATIONS:
        location = Location.objects.create(
            name=name, street=street, postcode=postcode, city="Kanaalstad", grid_minutes=GRID
        )
        for desk_name, codes in desk_specs:
            desk = Desk.objects.create(location=location, name=desk_name)
            desk.products.set([products[c] for c in codes])
            for weekday, (opens, closes) in hours.items():
                OpeningHours.objects.create(
                    desk=desk,
                    weekday=weekday,
                    opens=time(opens),
                    closes=time(closes),
                    valid_from=today - timedelta(days=400),
                )
            desks.append({"desk": desk, "location": location, "codes": codes, "hours": hours})
    return products, desks


def copy_default(field) -> object:
    if field.has_default():
        value = field.get_default()
        return json.dumps(value) if isinstance(value, dict | list) else value
    if field.null:
        return None
    return ""


class RowMaker:
    """Builds COPY rows; references and tokens are drawn from a seeded generator (benchmark data)."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        # Every concrete column of the model, with its default: the seed keeps working when
        # the product adds a column with a default.
        self.columns = [(f.column, copy_default(f)) for f in Appointment._meta.concrete_fields]
        self.rng = rng
        self.now = now
        self.next_id = 1
        self.references: set[str] = set()
        self.appointments: list[tuple] = []
        self.links: list[tuple] = []
        self.emails = 0

    def reference(self) -> str:
        while True:
            ref = "".join(self.rng.choices(REFERENCE_ALPHABET, k=REFERENCE_LENGTH))
            if ref not in self.references:
                self.references.add(ref)
                return ref

    def token(self) -> str:
        return base64.urlsafe_b64encode(self.rng.getrandbits(192).to_bytes(24, "big")).decode().rstrip("=")

    def add(
        self, *, desk_id: int, start: datetime, end: datetime, product_ids: list[int], persons: int, status: str
    ) -> None:
        rng = self.rng
        booked_at = start - timedelta(days=rng.randint(1, 28), minutes=rng.randint(0, 600))
        booked_at = min(booked_at, self.now - timedelta(minutes=rng.randint(1, 600)))
        cancelled_at = None
        if status == "cancelled":
            cancelled_at = booked_at + (min(start, self.now) - booked_at) * rng.random()
        channel = rng.choices(["online", "phone", "counter"], weights=[75, 15, 10])[0]
        if start < self.now - timedelta(days=30):
            name = email = ""  # personal data erased after the retention period
        else:
            self.emails += 1
            name, email = f"Inwoner {self.emails}", f"inwoner{self.emails}@example.nl"
        updated_at = cancelled_at or (end if start < self.now else booked_at)
        values = {
            "id": self.next_id,
            "desk_id": desk_id,
            "start": start.astimezone(UTC),
            "end": end.astimezone(UTC),
            "persons": persons,
            "channel": channel,
            "status": status,
            "reference": self.reference(),
            "manage_token": self.token(),
            "name": name,
            "email": email,
            "created_at": booked_at,
            "updated_at": updated_at,
            "booked_at": booked_at,
            "cancelled_at": cancelled_at,
        }
        if status in ("served", "no_show"):
            values["handled_at"] = end
        if status == "served":
            values["checked_in_at"] = start - timedelta(minutes=rng.randint(1, 15))
        if not email:
            values["anonymised_at"] = start + timedelta(days=30)
        self.appointments.append(tuple(values.get(name, default) for name, default in self.columns))
        for product_id in product_ids:
            self.links.append((self.next_id, product_id))
        self.next_id += 1


def pick_visit(rng: random.Random, products: dict, codes: list[str]) -> tuple[list, int, int]:
    """A product (sometimes two) the desk serves, a number of persons, the minutes needed."""
    served = [products[c] for c in codes]
    first = rng.choices(served, weights=[p.weight for p in served])[0]
    chosen = [first]
    if rng.random() < 0.05:
        extra = rng.choice(served)
        if extra.pk != first.pk:
            chosen.append(extra)
    persons = 1
    if first.code in ("paspoort", "id-kaart"):
        persons = rng.choices([1, 2, 3], weights=[88, 9, 3])[0]
    minutes = persons * sum(p.minutes_per_person for p in chosen)
    return chosen, persons, minutes


def seed(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    now = timezone.now()
    today = now.astimezone(TZ).date()
    first_day = today - timedelta(days=args.past_days)
    last_day = today + timedelta(days=args.future_days)
    holidays_in_span = public_holidays(first_day, last_day)

    # The race day: a working weekday about seven weeks ahead (inside the six-week window the
    # availability benchmark reads is not needed; part (c) asks for that day explicitly).
    race_day = today + timedelta(days=min(49, args.future_days - 3))
    while race_day.weekday() >= 5 or race_day in holidays_in_span:
        race_day += timedelta(days=1)

    products, desks = make_catalogue(today)
    noord = Location.objects.get(name="Stadskantoor Noord")
    stadhuis = Location.objects.get(name="Stadhuis")
    noord_balie_1 = Desk.objects.get(location=noord, name="Balie 1")
    Closure.objects.create(
        location=noord,
        desk=noord_balie_1,
        starts_at=local(race_day, 0),
        ends_at=local(race_day + timedelta(days=1), 0),
        reason="Training (benchmark race day)",
    )
    staff_day = today + timedelta(days=20)
    while staff_day.weekday() >= 5 or staff_day in holidays_in_span:
        staff_day += timedelta(days=1)
    Closure.objects.create(
        location=stadhuis, starts_at=local(staff_day, 13), ends_at=local(staff_day, 17), reason="Personeelsbijeenkomst"
    )
    past_closure_days = []
    for offset in (45, 130, 222):
        day = today - timedelta(days=offset)
        Closure.objects.create(location=stadhuis, starts_at=local(day, 9), ends_at=local(day, 12), reason="Storing")
        past_closure_days.append(day)

    rows = RowMaker(rng, now)
    desk_days = []  # (desk info, day) for the cancelled fill
    day = first_day
    while day <= last_day:
        if day.weekday() < 5 and day not in holidays_in_span:
            days_ahead = (day - today).days
            for info in desks:
                desk, codes = info["desk"], info["codes"]
                opens_h, closes_h = info["hours"][day.weekday()]
                desk_days.append((info, day))
                if day == race_day and desk.pk == noord_balie_1.pk:
                    continue  # closed that day
                blocked = []
                if info["location"].pk == stadhuis.pk:
                    if day == staff_day:
                        blocked.append((local(day, 13), local(day, 17)))
                    if day in past_closure_days:
                        blocked.append((local(day, 9), local(day, 12)))
                utilisation = 0.9 if days_ahead < 0 else future_utilisation(days_ahead)
                if day == race_day:
                    utilisation = 0.3
                cursor = local(day, opens_h)
                closes = local(day, closes_h)
                while cursor < closes:
                    if rng.random() >= utilisation or any(a <= cursor < b for a, b in blocked):
                        cursor += timedelta(minutes=GRID)
                        continue
                    chosen, persons, minutes = pick_visit(rng, products, codes)
                    end = cursor + timedelta(minutes=minutes)
                    if end > closes or any(a < end and cursor < b for a, b in blocked):
                        cursor += timedelta(minutes=GRID)
                        continue
                    if end <= now:
                        status = "no_show" if rng.random() < 0.035 else "served"
                    elif cursor <= now:
                        status = "served"  # in progress: treat as handled
                    else:
                        status = ACTIVE_FUTURE
                    rows.add(
                        desk_id=desk.pk,
                        start=cursor,
                        end=end,
                        product_ids=[p.pk for p in chosen],
                        persons=persons,
                        status=status,
                    )
                    # Next start on the grid at or after the end.
                    steps = -(-minutes // GRID)
                    cursor += timedelta(minutes=steps * GRID)
        day += timedelta(days=1)

    placed = len(rows.appointments)
    # The rest are cancellations, spread over the same desk-days (mostly in the past).
    while len(rows.appointments) < args.appointments:
        info, day = rng.choice(desk_days)
        opens_h, closes_h = info["hours"][day.weekday()]
        chosen, persons, minutes = pick_visit(rng, products, info["codes"])
        slots = ((closes_h - opens_h) * 60 - minutes) // GRID
        start = local(day, opens_h) + timedelta(minutes=GRID * rng.randint(0, max(slots, 0)))
        rows.add(
            desk_id=info["desk"].pk,
            start=start,
            end=start + timedelta(minutes=minutes),
            product_ids=[p.pk for p in chosen],
            persons=persons,
            status="cancelled",
        )

    columns = ", ".join(f'"{column}"' for column, _default in rows.columns)
    table = Appointment._meta.db_table
    link_model = Appointment.products.through
    through = link_model._meta.db_table
    from_column = link_model._meta.get_field("appointment").column
    to_column = link_model._meta.get_field("product").column
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor underneath
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows.appointments:
                copy.write_row(row)
        with raw.copy(f'COPY {through} ("{from_column}", "{to_column}") FROM STDIN') as copy:
            for row in rows.links:
                copy.write_row(row)
        # The table name comes from the model's meta, not from input.
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT status, count(*) FROM booking_appointment GROUP BY status ORDER BY status")
        by_status = dict(cursor.fetchall())
    invalidate_availability()
    _client, token = integration_client_create(
        name="Benchmark", scopes=[SCOPE_APPOINTMENTS], send_confirmation_emails=False
    )
    return {
        "integration_token": token,
        "seeded_at": now.isoformat(),
        "today": today.isoformat(),
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "appointments": len(rows.appointments),
        "placed_without_overlap": placed,
        "by_status": by_status,
        "locations": {"stadhuis": stadhuis.pk, "noord": noord.pk},
        "desks": {f"{d['location'].name} / {d['desk'].name}": d["desk"].pk for d in desks},
        "race": {
            "day": race_day.isoformat(),
            "location": noord.pk,
            "product": "paspoort",
            "open_desks_serving_product": 1,
        },
        "staff_closure_day": staff_day.isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=200_000)
    parser.add_argument("--past-days", type=int, default=300)
    parser.add_argument("--future-days", type=int, default=61)
    parser.add_argument("--seed", type=int, default=20_240_101)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time_module.perf_counter()
    summary = seed(args)
    summary["seconds"] = round(time_module.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
