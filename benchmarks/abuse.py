"""Abuse benchmark: how many holds and bookings can ONE client take of a location's day?

One attacker, one TCP address (127.0.0.1), a fresh session (no cookies) for every request and a
different ``X-Forwarded-For`` header on every request, against a location with one desk open
09:00–17:00 on a 10-minute grid (48 free times on the day). Both doors are tried, each on a
fresh copy of the day:

- **API**: ``POST /api/v1/holds/`` for every free time, then ``POST /api/v1/appointments/`` for
  every free time with a throwaway address per booking (``+tag`` and Gmail dots on one mailbox);
- **pages**: the citizen booking flow (products → location → time) for every free time, then
  the same to the end (details, confirm) with a ``+tag`` address per booking, and once more
  with a different throwaway mailbox per booking.

Runs in-process with Django's test client on a throwaway PostgreSQL database
(``test_kw_abuse_bench``), with the settings the app has by default (``config.settings.local``:
throttles and page rate limits on, default values). The clock is not advanced: every figure is
what one client gets within one minute, the time a hoarder would need. Prints one Markdown table.

Usage: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/kw_abuse_bench .venv/bin/python benchmarks/abuse.py``
(run it on another commit, e.g. main, for the "before" figures; it needs nothing from this branch).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kw_abuse_bench")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

TIMES = 48


def seed():
    from booking.availability import local_tz, public_holidays
    from booking.models import Appointment, Desk, Location, OpeningHours, Product

    Appointment.objects.all().delete()
    Desk.objects.all().delete()
    Location.objects.all().delete()
    Product.objects.filter(code="uittreksel-brp").delete()
    product = Product.objects.create(
        code="uittreksel-brp", name_nl="Uittreksel BRP", name_en="BRP extract", minutes_per_person=10
    )
    location = Location.objects.create(name="Stadhuis", street="Markt 1", postcode="1234 AB", city="X", grid_minutes=10)
    desk = Desk.objects.create(location=location, name="Balie 1")
    desk.products.set([product])
    day = timezone.localdate() + timedelta(days=7)
    while day.weekday() >= 5 or day in public_holidays(day, day):
        day += timedelta(days=1)
    OpeningHours.objects.create(
        desk=desk, weekday=day.weekday(), opens=time(9), closes=time(17), valid_from=day - timedelta(days=30)
    )
    starts = [datetime.combine(day, time(9), tzinfo=local_tz()) + timedelta(minutes=10 * i) for i in range(TIMES)]
    return location, starts


def reset(location):
    from booking.models import Appointment

    Appointment.objects.all().delete()
    cache.clear()


def spoofed(i: int) -> dict:
    return {"HTTP_X_FORWARDED_FOR": f"198.51.{i // 250}.{i % 250 + 1}"}


def live(status):
    from booking.models import Appointment

    qs = Appointment.objects.filter(status=status)
    if status == "held":
        qs = qs.filter(hold_expires_at__gt=timezone.now())
    return qs.count()


def api_holds(location, starts):
    for i, start in enumerate(starts):
        Client().post(
            "/api/v1/holds/",
            {"products": ["uittreksel-brp"], "persons": 1, "location": location.pk, "start": start.isoformat()},
            content_type="application/json",
            **spoofed(i),
        )
    return live("held")


def api_bookings(location, starts):
    for i, start in enumerate(starts):
        local = "h.o.a.r.d.e.r" if i % 2 else "hoarder"
        Client().post(
            "/api/v1/appointments/",
            {
                "products": ["uittreksel-brp"],
                "persons": 1,
                "location": location.pk,
                "start": start.isoformat(),
                "name": "X",
                "email": f"{local}+{i}@gmail.com",
            },
            content_type="application/json",
            **spoofed(i),
        )
    return live("booked")


def page_flow(location, starts, *, book: bool, address: str = "hoarder+{i}@example.nl"):
    for i, start in enumerate(starts):
        client = Client(**spoofed(i))
        client.post("/afspraak-maken/", {"products": ["uittreksel-brp"], "persons": 1})
        client.post("/afspraak-maken/vestiging/", {"location": location.pk})
        client.post("/afspraak-maken/tijd/", {"start": start.isoformat()})
        if book:
            client.post(
                "/afspraak-maken/gegevens/",
                {"name": "X", "email": address.format(i=i), "phone": "", "remind_by_email": "on"},
            )
            client.post("/afspraak-maken/controleren/")
    return live("booked" if book else "held")


def main() -> int:
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        location, starts = seed()
        rows = []
        for label, run in [
            ("API holds (anonymous)", lambda: api_holds(location, starts)),
            ("API bookings (anonymous, +tag/dot addresses)", lambda: api_bookings(location, starts)),
            ("page holds (fresh session each)", lambda: page_flow(location, starts, book=False)),
            ("page bookings (fresh session, +tag addresses)", lambda: page_flow(location, starts, book=True)),
            (
                "page bookings (fresh session, a new mailbox each)",
                lambda: page_flow(location, starts, book=True, address="wegwerp{i}@example.nl"),
            ),
        ]:
            reset(location)
            rows.append((label, run()))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"| one client, rotating X-Forwarded-For, {TIMES} free times | taken |")
    print("|---|---|")
    for label, taken in rows:
        print(f"| {label} | {taken} of {TIMES} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
