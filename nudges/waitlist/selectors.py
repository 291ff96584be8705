"""Waiting list reads: an entry or offer by its token (the citizen's links), an offer's state
as it stands now (an open offer whose hold ran out is expired; computed, no periodic job), when
an offered appointment would end, and the appointment an accept would replace."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from booking.availability import appointment_duration
from booking.models import Appointment
from booking.selectors import appointment_upcoming
from nudges.models import OfferStatus, WaitlistEntry, WaitlistOffer


def waitlist_entry_get_by_token(token: str) -> WaitlistEntry | None:
    if not token or len(token) > 64:
        return None
    return WaitlistEntry.objects.select_related("location").prefetch_related("products").filter(token=token).first()


def waitlist_offer_get_by_token(token: str) -> WaitlistOffer | None:
    if not token or len(token) > 64:
        return None
    return (
        WaitlistOffer.objects.select_related("entry", "location")
        .prefetch_related("entry__products")
        .filter(token=token)
        .first()
    )


def offer_state(offer: WaitlistOffer, *, now: datetime | None = None) -> str:
    """The status as it stands now: an open offer whose hold has run out is expired."""
    now = now or timezone.now()
    if offer.status == OfferStatus.OFFERED and offer.hold_expires_at <= now:
        return OfferStatus.EXPIRED
    return offer.status


def offer_end(offer: WaitlistOffer) -> datetime:
    """When the offered appointment would end for this entry (its products and persons)."""
    return offer.start + appointment_duration(offer.entry.products.all(), offer.entry.persons)


def entry_current_appointment(entry: WaitlistEntry) -> Appointment | None:
    """The booked, upcoming appointment an accept would replace, if any."""
    return appointment_upcoming(entry.appointment_id, now=timezone.now())
