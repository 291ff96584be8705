"""Daily roll-ups of contacts and appointments, so the cockpit reads a few thousand rows
instead of a million. ``rollups_refresh`` rebuilds whole days (delete and insert in one
transaction), so running it twice or at the same time as another run gives the same rows.
Beat runs it for yesterday and today every ``COCKPIT_ROLLUP_MINUTES``; the demo and a backfill
call it for a longer range."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from booking import selectors as booking_selectors
from nudges.channels.selectors import contact_counts_per_day
from nudges.models import DailyAppointmentVolume, DailyContactVolume

ROLLUP_LOCK = 0x6B77_726F  # "kwro": the advisory lock key of the roll-up rebuild


def rollups_refresh(*, date_from: date | None = None, date_to: date | None = None) -> int:
    """Rebuild the roll-ups of the local days date_from..date_to (default: yesterday and
    today); returns how many rows were written."""
    today = timezone.localdate()
    date_to = date_to or today
    date_from = date_from or today - timedelta(days=1)
    contacts = [
        DailyContactVolume(
            day=c.day,
            channel=c.channel,
            product_code=c.product or "",
            outcome=c.outcome,
            contacts=c.contacts,
            handling_seconds=c.handling_seconds,
        )
        for c in contact_counts_per_day(date_from=date_from, date_to=date_to)
    ]
    appointments = [
        DailyAppointmentVolume(
            day=a.day, product_code=a.product_code, channel=a.channel, status=a.status, appointments=a.appointments
        )
        for a in booking_selectors.appointment_counts_per_day(date_from=date_from, date_to=date_to)
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two runs at once (a second beat) wait for each other instead of inserting twice.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
        DailyContactVolume.objects.filter(day__gte=date_from, day__lte=date_to).delete()
        DailyAppointmentVolume.objects.filter(day__gte=date_from, day__lte=date_to).delete()
        DailyContactVolume.objects.bulk_create(contacts, batch_size=2000)
        DailyAppointmentVolume.objects.bulk_create(appointments, batch_size=2000)
    return len(contacts) + len(appointments)
