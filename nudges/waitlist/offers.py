"""Waiting list: a freed time offered to the list, and accepting an offer.

Public:

- ``waitlist_time_freed``: booking hook (an appointment was cancelled), registered in
  ``NudgesConfig.ready``; it queues the Celery task ``waitlist_offers_for_freed_time``, which
  calls ``waitlist_offers_make``;
- ``waitlist_offer_accept``: the first valid accept books the held time; ``OfferGone`` for
  every later one.

How a freed time travels. When an appointment is cancelled (and its time is still ahead,
beyond the products' minimum notice), the time is held once with booking's hold service for
``NUDGES_WAITLIST_HOLD_MINUTES`` and offered to the first ``NUDGES_WAITLIST_OFFERS_PER_SLOT``
matching entries in order of joining: every product served at the desk the hold got, that
location or any, their products and persons fit in the freed time, earlier than they asked
for, and no other open offer of theirs. One e-mail per offer goes through the outbox.

Accepting locks every offer of that hold (ascending id) and the entry, then calls booking's
``appointment_book_held_time``, which takes booking's locks in booking's order. The first
accept books the held time for the entry's contact (and, when the entry came from an appointment, cancels that one in the
same transaction: either they have the new time and the old one is cancelled, or nothing
changed); the other offers become "gone" and get a short e-mail saying so; those people stay
on the list. The cancelled old time is in turn offered to the list by the same hook.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.availability import appointment_duration, free_desks_for_period, local_tz
from booking.constants import AppointmentStatus, CancelReason, Channel
from booking.exceptions import BookingError, SlotUnavailable
from booking.models import Appointment, Location
from booking.selectors import appointment_booked_starts, appointment_get, products_not_served_at_desk
from booking.services import appointment_book_held_time, appointment_hold, new_token
from nudges import tasks
from nudges.constants import MessageChannel, MessageKind
from nudges.exceptions import NudgeError
from nudges.experiments.logs import appointment_moved
from nudges.models import OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus
from nudges.outbox.dispatch import message_enqueue
from nudges.waitlist.services import entries_end

logger = logging.getLogger(__name__)

# A hold shorter than this is not worth e-mailing about: nobody could react in time.
MIN_HOLD_MINUTES = 5
# Entries read (and locked, SKIP LOCKED) per freed time before matching in Python.
_CANDIDATES = 200


class OfferGone(NudgeError):
    """The offered time can no longer be had: someone else accepted first, the hold ran out,
    or the booking failed. Shown as a polite page; the person stays on the list."""

    http_status = 409
    code = "offer_gone"
    default_message = _("Deze tijd is helaas al vergeven of niet meer beschikbaar. U blijft op de wachtlijst.")


class OfferAlreadyAccepted(OfferGone):
    code = "offer_accepted"
    default_message = _("U heeft deze tijd al aangenomen. De bevestiging staat in uw e-mail.")


# --- a freed time ---------------------------------------------------------------------------


def waitlist_time_freed(appointment_id: int) -> None:
    """Booking hook (cancelled, after commit): queue the offers of the freed time as a Celery
    task, so neither the citizen's request nor a staff closure cancelling dozens of
    appointments waits for holds, matching and e-mails."""
    tasks.waitlist_offers_for_freed_time.delay_on_commit(appointment_id)


def _open_offer(now: datetime):
    return WaitlistOffer.objects.filter(entry=OuterRef("pk"), status=OfferStatus.OFFERED, hold_expires_at__gt=now)


def _candidates(*, location: Location, start: datetime, now: datetime):
    """Active entries that could want this time, oldest first (products, persons and notice
    are checked per entry afterwards)."""
    return (
        WaitlistEntry.objects.filter(status=WaitlistStatus.ACTIVE)
        .exclude(email="")
        .filter(Q(location__isnull=True) | Q(location=location))
        .filter(Q(wanted_before__isnull=True) | Q(wanted_before__gt=start))
        .exclude(Exists(_open_offer(now)))
        .order_by("created_at", "pk")
    )


def _fits(entry: WaitlistEntry, hold: Appointment, *, current_starts: dict[int, datetime], now: datetime) -> bool:
    products = list(entry.products.all())
    if hold.start + appointment_duration(products, entry.persons) > hold.end:
        return False
    if hold.start < now + timedelta(minutes=max(p.min_notice_minutes for p in products)):
        return False
    last_day = now.astimezone(local_tz()).date() + timedelta(days=min(p.booking_horizon_days for p in products))
    if hold.start.astimezone(local_tz()).date() > last_day:
        return False
    current = current_starts.get(entry.appointment_id) if entry.appointment_id else None
    return current is None or hold.start < current


def _pick(*, hold: Appointment, location: Location, now: datetime) -> list[WaitlistEntry]:
    """Lock and return the first matching entries. SKIP LOCKED: an entry another freed time is
    being offered to right now is passed over, never waited for or offered twice."""
    rows = list(
        _candidates(location=location, start=hold.start, now=now)
        .exclude(products__in=products_not_served_at_desk(hold.desk_id))
        .select_for_update(skip_locked=True, of=("self",))
        .prefetch_related("products")[:_CANDIDATES]
    )
    linked = [e.appointment_id for e in rows if e.appointment_id]
    current_starts = appointment_booked_starts(linked)
    fitting = [e for e in rows if _fits(e, hold, current_starts=current_starts, now=now)]
    return fitting[: settings.NUDGES_WAITLIST_OFFERS_PER_SLOT]


def waitlist_offers_make(*, freed_appointment_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Hold the time a cancelled appointment freed and offer it to the first matching entries;
    returns the offers (none when nobody matches or the time is not free or too close).

    Safe to run twice: a freed time that was offered once is not offered again, and two runs
    at once cannot both hold it (the second finds it taken)."""
    now = now or timezone.now()
    freed = appointment_get(freed_appointment_id)
    if freed is None or freed.status != AppointmentStatus.CANCELLED or freed.start <= now:
        return []
    if WaitlistOffer.objects.filter(freed_appointment_id=freed.pk).exists():
        return []
    location = freed.desk.location
    products = list(freed.products.all())
    if not products or not _candidates(location=location, start=freed.start, now=now).exists():
        return []
    notice = timedelta(minutes=max(p.min_notice_minutes for p in products))
    # The hold need not outlast the moment the time can no longer be booked.
    hold_minutes = min(settings.NUDGES_WAITLIST_HOLD_MINUTES, int((freed.start - notice - now).total_seconds() // 60))
    if hold_minutes < MIN_HOLD_MINUTES:
        return []
    # Read first, cheaply: a time freed by a closure, or already taken again, is not free.
    if not free_desks_for_period(products=products, location_id=location.pk, start=freed.start, end=freed.end, now=now):
        return []
    with transaction.atomic():
        try:
            hold = appointment_hold(
                products=products,
                persons=freed.persons,
                location=location,
                start=freed.start,
                hold_minutes=hold_minutes,
                now=now,
            )
        except BookingError:
            return []
        entries = _pick(hold=hold, location=location, now=now)
        if not entries:
            transaction.set_rollback(True)  # nobody to offer it to: no hold either
            return []
        offers = WaitlistOffer.objects.bulk_create(
            [
                WaitlistOffer(
                    entry=entry,
                    freed_appointment_id=freed.pk,
                    hold_id=hold.pk,
                    hold_token=hold.manage_token,
                    location=location,
                    start=hold.start,
                    token=new_token(),
                    offered_at=now,
                    # A held appointment always has its expiry (booking's check constraint).
                    hold_expires_at=cast(datetime, hold.hold_expires_at),
                )
                for entry in entries
            ]
        )
        for offer in offers:
            message_enqueue(
                kind=MessageKind.WAITLIST_OFFER, due_at=now, waitlist_offer_id=offer.pk, channel=MessageChannel.EMAIL
            )
    logger.info(
        "Freed time of appointment id %s held (%s) and offered to %s waitlist entries",
        freed.pk,
        hold.reference,
        len(offers),
    )
    return offers


# --- accepting ------------------------------------------------------------------------------


def _book_for(entry: WaitlistEntry, offer: WaitlistOffer, *, now: datetime) -> Appointment:
    """Inside the accept transaction: book the held time for the entry, in place of the entry's
    current appointment (if any), with booking's service (booking's locks, booking's order).
    Raises BookingError when that cannot be done."""
    current = appointment_get(entry.appointment_id)
    contact: dict[str, Any] = {"phone": "", "remind_by_email": True, "remind_by_sms": False}
    moved = (
        current if current is not None and current.status == AppointmentStatus.BOOKED and current.start > now else None
    )
    if moved is not None:
        contact = {
            "phone": moved.phone,
            "remind_by_email": moved.remind_by_email,
            "remind_by_sms": moved.remind_by_sms,
        }
    appointment = appointment_book_held_time(
        hold_token=offer.hold_token,
        products=list(entry.products.all()),
        persons=entry.persons,
        name=entry.name,
        email=entry.email,
        language=entry.language,
        replaces=current,
        cancel_reason=CancelReason.MOVED_EARLIER,
        channel=Channel.ONLINE,
        send_confirmation=True,
        now=now,
        **contact,
    )
    if moved is not None:
        # The same person and request: the new appointment keeps the old one's units and arms.
        appointment_moved(original_id=moved.pk, appointment_id=appointment.pk, now=now)
    return appointment


def waitlist_offer_accept(*, offer: WaitlistOffer, now: datetime | None = None) -> Appointment:
    """Accept an offer: the first valid accept of a hold books it for the entry; every other
    raises ``OfferGone`` (``OfferAlreadyAccepted`` for a second click on the winning one) and
    changes nothing except marking an expired hold's offers expired."""
    now = now or timezone.now()
    appointment, failure = None, None
    with transaction.atomic():
        siblings = list(WaitlistOffer.objects.select_for_update().filter(hold_id=offer.hold_id).order_by("pk"))
        mine = next((o for o in siblings if o.pk == offer.pk), None)
        if mine is None:
            raise OfferGone()
        if mine.status == OfferStatus.ACCEPTED:
            raise OfferAlreadyAccepted()
        if mine.status != OfferStatus.OFFERED or any(o.status == OfferStatus.ACCEPTED for o in siblings):
            raise OfferGone()
        if mine.hold_expires_at <= now:
            WaitlistOffer.objects.filter(hold_id=mine.hold_id, status=OfferStatus.OFFERED).update(
                status=OfferStatus.EXPIRED
            )
            failure = OfferGone()
        else:
            entry = WaitlistEntry.objects.select_for_update().get(pk=mine.entry_id)
            if not entry.is_active:
                raise OfferGone()
            try:
                with transaction.atomic():
                    appointment = _book_for(entry, mine, now=now)
            except BookingError as exc:
                logger.info("Waitlist offer %s could not be booked: %s", mine.pk, exc.code)
                message = None if isinstance(exc, SlotUnavailable) else exc.message
                failure = OfferGone(message)
            else:
                _settle(mine, siblings, entry, appointment, now=now)
    if failure is not None or appointment is None:
        raise failure or OfferGone()
    logger.info("Waitlist offer %s accepted: appointment %s", mine.pk, appointment.reference)
    return appointment


def _settle(
    mine: WaitlistOffer, siblings: list[WaitlistOffer], entry: WaitlistEntry, appointment: Appointment, *, now: datetime
) -> None:
    mine.status, mine.answered_at, mine.appointment_id = OfferStatus.ACCEPTED, now, appointment.pk
    mine.save(update_fields=["status", "answered_at", "appointment_id"])
    others = [o.pk for o in siblings if o.pk != mine.pk and o.status == OfferStatus.OFFERED]
    WaitlistOffer.objects.filter(pk__in=others).update(status=OfferStatus.GONE)
    for pk in others:
        message_enqueue(kind=MessageKind.WAITLIST_TAKEN, due_at=now, waitlist_offer_id=pk, channel=MessageChannel.EMAIL)
    # Served: the appointment now holds the contact data, the list no longer needs it.
    entries_end(WaitlistEntry.objects.filter(pk=entry.pk), WaitlistStatus.SERVED, now=now)
