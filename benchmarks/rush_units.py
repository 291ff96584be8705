"""Free desk-times for the rush benchmark: every bookable (start, number of free desks) for one
product and one person at one location, from ``--after`` to the product's horizon.

Run by ``benchmarks/rush.py`` against its database (DATABASE_URL, production settings). A start
offered by the availability API with n free desks can be booked n times (the server picks the
desk); the booking that takes the last one makes the start disappear from availability, which
is what the staleness reader watches. Prints JSON: ``{"units": [[start, n], ...]}`` with
``start`` as the API writes it (local time with offset).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from booking.availability import (  # noqa: E402
    appointment_duration,
    at_local,
    availability_for_products,
    eligible_desks,
    free_intervals,
    local_tz,
)
from booking.models import Product  # noqa: E402


def units(*, product: str, location_id: int, after: datetime, days: int) -> list[tuple[str, int]]:
    products = [Product.objects.get(code=product)]
    now = timezone.now()
    today = now.astimezone(local_tz()).date()
    last = today + timedelta(days=min(days, products[0].booking_horizon_days))
    offered = []
    day = today
    while day <= last:  # the API's longest range is 62 days
        chunk_end = min(last, day + timedelta(days=55))
        offered += availability_for_products(
            products=products, persons=1, location_id=location_id, date_from=day, date_to=chunk_end, use_cache=False
        )
        day = chunk_end + timedelta(days=1)
    duration = appointment_duration(products, 1)
    desks = eligible_desks(products, location_id)
    free = free_intervals(
        desks, at_local(today, datetime.min.time()), at_local(last + timedelta(days=1), datetime.min.time()), now=now
    )
    tz = local_tz()
    result = []
    for slot in offered:
        if slot.start <= after:
            continue
        n = sum(1 for d in desks if any(a <= slot.start and slot.start + duration <= b for a, b in free.get(d.pk, ())))
        if n:
            result.append((slot.start.astimezone(tz).isoformat(), n))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--product", default="paspoort")
    parser.add_argument("--location", type=int, required=True)
    parser.add_argument("--after-hours", type=float, default=2.0, help="skip starts sooner than this")
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    after = timezone.now() + timedelta(hours=args.after_hours)
    print(json.dumps({"units": units(product=args.product, location_id=args.location, after=after, days=args.days)}))


if __name__ == "__main__":
    main()
