"""Demo data for the waiting list (called by ``nudges.demo.seed_nudges``; idempotent)."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.demo import DEMO_EMAIL_DOMAIN
from booking.exceptions import BookingError
from booking.selectors import location_list, products_by_codes
from nudges.exceptions import NudgeError
from nudges.models import WaitlistEntry
from nudges.waitlist.services import waitlist_entry_confirm, waitlist_join

# Waiting for an earlier time: (products, location name or None for any, days they still accept).
WAITLIST = [
    (["paspoort"], None, None),
    (["uittreksel-brp"], "Stadhuis", None),
    (["id-kaart"], None, 30),
    (["rijbewijs"], None, None),
    (["paspoort"], "Wijkkantoor Noord", None),
    (["verhuizing"], None, None),
]


def seed_waitlist(*, now: datetime) -> int:
    """A few people on the waiting list, so a demo visitor who cancels an appointment sees the
    freed time offered to them (the offer e-mails appear in the outbox and the mail backend).
    Demo people have confirmed their address (double opt-in), so their entries are active."""
    if WaitlistEntry.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).exists():
        return 0
    locations = {loc.name: loc for loc in location_list()}
    created = 0
    for i, (codes, location_name, days) in enumerate(WAITLIST, start=1):
        joined = now - timedelta(days=len(WAITLIST) - i)  # one after the other
        try:
            entry = waitlist_join(
                products=products_by_codes(codes),
                persons=1,
                location=locations.get(location_name) if location_name else None,
                name=f"Demo Wachtende {i}",
                email=f"wachtlijst{i}@{DEMO_EMAIL_DOMAIN}",
                language="en" if i % 3 == 0 else "nl",
                wanted_before=now + timedelta(days=days) if days else None,
                now=joined,
            )
        except (NudgeError, BookingError):
            continue
        if entry is not None:
            # Confirmed right after joining (the unsent confirmation e-mail is then dropped).
            waitlist_entry_confirm(entry=entry, now=joined)
            created += 1
    return created
