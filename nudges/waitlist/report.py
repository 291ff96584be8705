"""Waiting list, the outward side: the three e-mails and the manager's figures.

Public:

- ``waitlist_confirm_build``, ``waitlist_offer_build`` and ``waitlist_taken_build``: outbox
  builders for ``MessageKind.WAITLIST_CONFIRM``, ``WAITLIST_OFFER`` and ``WAITLIST_TAKEN`` rows
  (registered in ``NudgesConfig.ready``);
- ``waitlist_confirm_url``, ``waitlist_offer_url``, ``waitlist_leave_url``: the absolute links
  in them;
- ``waitlist_figures`` (selector): per product, people waiting, offers made, accepted, gone,
  expired, the acceptance rate and the median time from offer to accept.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation

from booking.selectors import product_list
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.models import OfferStatus, ScheduledMessage, WaitlistEntry, WaitlistOffer, WaitlistStatus
from nudges.outbox.dispatch import Outgoing, email_from_templates
from nudges.outbox.selectors import messages_exist
from nudges.waitlist.selectors import entry_current_appointment, offer_end
from nudges.waitlist.services import CONFIRM_WITHIN

CONFIRM_TEMPLATE = "nudges/waitlist/email/confirm"
OFFER_TEMPLATE = "nudges/waitlist/email/offer"
TAKEN_TEMPLATE = "nudges/waitlist/email/taken"


def waitlist_offer_url(offer: WaitlistOffer) -> str:
    return settings.SITE_URL + reverse("nudges:waitlist-offer", args=[offer.token])


def waitlist_leave_url(entry: WaitlistEntry) -> str:
    return settings.SITE_URL + reverse("nudges:waitlist-leave", args=[entry.token])


def waitlist_confirm_url(entry: WaitlistEntry) -> str:
    return settings.SITE_URL + reverse("nudges:waitlist-confirm", args=[entry.token])


def waitlist_confirm_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: the double opt-in link, or None when the entry is no longer waiting
    for it (confirmed, left or expired already)."""
    if message.waitlist_entry_id is None:
        return None
    entry = (
        WaitlistEntry.objects.select_related("location")
        .prefetch_related("products")
        .filter(pk=message.waitlist_entry_id)
        .first()
    )
    if entry is None or message.channel != MessageChannel.EMAIL:
        return None
    if entry.status != WaitlistStatus.UNCONFIRMED or not entry.email:
        return None
    with translation.override(entry.language):
        context = {
            "entry": entry,
            "products": list(entry.products.all()),
            "confirm_url": waitlist_confirm_url(entry),
            "leave_url": waitlist_leave_url(entry),
            "confirm_hours": int(CONFIRM_WITHIN.total_seconds() // 3600),
        }
        return email_from_templates(
            to=entry.email, template_prefix=CONFIRM_TEMPLATE, context=context, language=entry.language
        )


def _offer_for(message: ScheduledMessage) -> WaitlistOffer | None:
    if message.waitlist_offer_id is None:
        return None
    offer = (
        WaitlistOffer.objects.select_related("entry", "location")
        .prefetch_related("entry__products")
        .filter(pk=message.waitlist_offer_id)
        .first()
    )
    if offer is None or message.channel != MessageChannel.EMAIL:
        return None
    entry = offer.entry
    if entry.status != WaitlistStatus.ACTIVE or not entry.email:
        return None
    return offer


def _render(template: str, offer: WaitlistOffer, **extra) -> Outgoing:
    entry = offer.entry
    with translation.override(entry.language):
        context = {
            "entry": entry,
            "offer": offer,
            "location": offer.location,
            "products": list(entry.products.all()),
            "end": offer_end(offer),
            "leave_url": waitlist_leave_url(entry),
            **extra,
        }
        return email_from_templates(to=entry.email, template_prefix=template, context=context, language=entry.language)


def waitlist_offer_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: the offer, or None when it can no longer be accepted (taken, expired,
    or the person has left the list)."""
    offer = _offer_for(message)
    if offer is None or offer.status != OfferStatus.OFFERED or offer.hold_expires_at <= now:
        return None
    return _render(
        OFFER_TEMPLATE,
        offer,
        accept_url=waitlist_offer_url(offer),
        current=entry_current_appointment(offer.entry),
    )


def waitlist_taken_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: "that time has gone, you stay on the list", only to someone whose offer
    e-mail actually went out (an offer taken before its e-mail was sent is never mentioned)."""
    offer = _offer_for(message)
    if offer is None or offer.status != OfferStatus.GONE:
        return None
    offered = messages_exist(kind=MessageKind.WAITLIST_OFFER, waitlist_offer_id=offer.pk, statuses=[MessageStatus.SENT])
    if not offered:
        return None
    return _render(TAKEN_TEMPLATE, offer)


# --- the manager's figures ------------------------------------------------------------------


@dataclass(frozen=True)
class WaitlistFigures:
    label: str
    waiting: int
    offers: int
    open: int
    accepted: int
    gone: int
    expired: int
    minutes_to_accept: list[float]

    @property
    def decided(self) -> int:
        return self.offers - self.open

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted of the offers that have an outcome (still open ones left out)."""
        return self.accepted / self.decided if self.decided else None

    @property
    def acceptance_percent(self) -> float | None:
        rate = self.acceptance_rate
        return None if rate is None else 100 * rate

    @property
    def median_minutes_to_accept(self) -> float | None:
        return statistics.median(self.minutes_to_accept) if self.minutes_to_accept else None


def _offer_counts(now: datetime) -> dict:
    is_open = Q(status=OfferStatus.OFFERED, hold_expires_at__gt=now)
    expired = Q(status=OfferStatus.EXPIRED) | Q(status=OfferStatus.OFFERED, hold_expires_at__lte=now)
    return {
        "offers": Count("pk", distinct=True),
        "open": Count("pk", filter=is_open, distinct=True),
        "accepted": Count("pk", filter=Q(status=OfferStatus.ACCEPTED), distinct=True),
        "gone": Count("pk", filter=Q(status=OfferStatus.GONE), distinct=True),
        "expired": Count("pk", filter=expired, distinct=True),
    }


def _minutes(rows) -> list[float]:
    return [(answered - offered).total_seconds() / 60 for offered, answered in rows]


def waitlist_figures(*, now: datetime | None = None) -> tuple[list[WaitlistFigures], WaitlistFigures]:
    """Per active product (an entry or offer for several products counts for each), and the
    total (each entry and offer once). "Expired" includes open offers whose hold has run out."""
    now = now or timezone.now()
    waiting = dict(
        WaitlistEntry.objects.filter(status=WaitlistStatus.ACTIVE)
        .values("products")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
        .values_list("products", "n")
    )
    offers: dict[int, Any] = {
        row["entry__products"]: row
        for row in WaitlistOffer.objects.values("entry__products").annotate(**_offer_counts(now)).order_by()
    }
    accepted = WaitlistOffer.objects.filter(status=OfferStatus.ACCEPTED, answered_at__isnull=False)
    times: dict[int, list] = {}
    for product_id, offered, answered in accepted.values_list("entry__products", "offered_at", "answered_at"):
        times.setdefault(product_id, []).append((offered, answered))

    rows = []
    for product in product_list():
        counts = offers.get(product.pk, {})
        rows.append(
            WaitlistFigures(
                label=product.name,
                waiting=waiting.get(product.pk, 0),
                offers=counts.get("offers", 0),
                open=counts.get("open", 0),
                accepted=counts.get("accepted", 0),
                gone=counts.get("gone", 0),
                expired=counts.get("expired", 0),
                minutes_to_accept=_minutes(times.get(product.pk, [])),
            )
        )
    total_counts = WaitlistOffer.objects.aggregate(**_offer_counts(now))
    total = WaitlistFigures(
        label="",
        waiting=WaitlistEntry.objects.filter(status=WaitlistStatus.ACTIVE).count(),
        minutes_to_accept=_minutes(accepted.values_list("offered_at", "answered_at")),
        **total_counts,
    )
    return rows, total
