"""Waiting list: a cancelled time is offered to the people waiting for an earlier one; the
first to accept gets it. This module: joining, confirming and leaving the list, and the
retention step; a freed time's offers and accepting one are in ``nudges.waitlist.offers``, the
reads in ``nudges.waitlist.selectors``, the builders of the e-mails and the manager's figures
in ``nudges.waitlist.report``.

Public: ``waitlist_join``, ``waitlist_entry_confirm`` and ``waitlist_leave`` (the citizen's
pages); ``entries_end`` (ends entries and empties their contact data, for ``offers``);
``waitlist_erase_expired``: the retention step (``booking.retention``).

Double opt-in. Anyone can type any address, so a new entry is unconfirmed: it gets no offers
until the link in its confirmation e-mail has been used (a POST; opening the link changes
nothing, mail scanners open links too). Unconfirmed entries older than ``CONFIRM_WITHIN`` are
ended with their contact data by the retention step. Joining with an address that already
waits (confirmed or not) for one of the products gets the same answer as a new join and
changes nothing, so the page never tells a visitor what someone else is waiting for.

Personal data: an entry keeps a name and an e-mail address only while it is waiting
(unconfirmed or active); both are emptied the moment it ends (a database constraint holds this). Logs name ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.cleaning import clean_name
from booking.constants import AppointmentStatus
from booking.models import Appointment, Location, Product
from booking.selectors import location_list
from booking.services import contact_serialised, new_token
from nudges.constants import MessageChannel, MessageKind
from nudges.exceptions import InvalidInput
from nudges.models import WaitlistEntry, WaitlistStatus
from nudges.outbox.dispatch import message_enqueue

logger = logging.getLogger(__name__)

# An unconfirmed entry's confirmation link works this long; then the entry and its address go.
CONFIRM_WITHIN = timedelta(hours=48)
_WAITING = (WaitlistStatus.UNCONFIRMED, WaitlistStatus.ACTIVE)


# --- joining and leaving --------------------------------------------------------------------


def waitlist_join(
    *,
    products: Sequence[Product],
    persons: int,
    location: Location | None,
    name: str,
    email: str,
    language: str = "nl",
    wanted_before: datetime | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> WaitlistEntry | None:
    """Put someone on the list, unconfirmed, and e-mail them the confirmation link.
    ``location`` None: any location. ``appointment``: the booked appointment they already
    have; offers are then only for earlier times, and accepting one moves them (products and
    persons are the appointment's).

    One waiting entry per e-mail address and product: when the address already waits
    (confirmed or not) for one of these products, nothing is created or sent and None is
    returned. The caller must answer exactly as for a new entry: whoever typed the address
    need not be its owner."""
    now = now or timezone.now()
    if appointment is not None:
        if appointment.status != AppointmentStatus.BOOKED or appointment.start <= now:
            raise InvalidInput(_("Deze afspraak kan niet meer worden gewijzigd."))
        products, persons = list(appointment.products.all()), appointment.persons
        name = name or appointment.name
        wanted_before = min(wanted_before or appointment.start, appointment.start)
    products = list(products)
    name, email = clean_name(name), (email or "").strip().lower()
    if not products:
        raise InvalidInput(_("Kies ten minste één product."), field="products")
    if not 1 <= persons <= settings.BOOKING_MAX_PERSONS:
        raise InvalidInput(
            _("Het aantal personen moet tussen 1 en %(max)s liggen.") % {"max": settings.BOOKING_MAX_PERSONS},
            field="persons",
        )
    where = location_list(products=products)
    if location is not None and not where.filter(pk=location.pk).exists():
        raise InvalidInput(
            _("Bij deze vestiging kunnen deze producten niet samen in één afspraak. Kies een andere vestiging."),
            field="location",
        )
    if location is None and not where.exists():
        raise InvalidInput(
            _("Deze producten kunnen niet samen in één afspraak. Zet u voor elk product apart op de wachtlijst."),
            field="products",
        )
    if not name:
        raise InvalidInput(_("Vul uw naam in."), field="name")
    if not email:
        raise InvalidInput(_("Vul uw e-mailadres in."), field="email")
    if wanted_before is not None and wanted_before <= now:
        raise InvalidInput(_("Kies een datum in de toekomst."), field="wanted_before")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    # One join per address at a time (booking's contact lock), so the check below cannot be raced.
    with contact_serialised(email):
        if WaitlistEntry.objects.filter(status__in=_WAITING, email=email, products__in=products).exists():
            # No second entry and no second e-mail (that would let anyone flood an inbox).
            logger.info("Waitlist join for an address that already waits: nothing changed")
            return None
        entry = WaitlistEntry.objects.create(
            token=new_token(),
            persons=persons,
            location=location,
            wanted_before=wanted_before,
            appointment_id=appointment.pk if appointment is not None else None,
            name=name,
            email=email,
            language=language,
            status=WaitlistStatus.UNCONFIRMED,
            created_at=now,
        )
        entry.products.set(products)
        message_enqueue(
            kind=MessageKind.WAITLIST_CONFIRM,
            due_at=now,
            waitlist_offer_id=None,
            waitlist_entry_id=entry.pk,
            channel=MessageChannel.EMAIL,
        )
    logger.info("Waitlist entry %s joined, unconfirmed (appointment id %s)", entry.pk, entry.appointment_id)
    return entry


def waitlist_entry_confirm(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Double opt-in: the owner of the address used the link in the confirmation e-mail, so
    the entry becomes active and gets offers. Idempotent: an active or ended entry is left as
    it is. A link used after ``CONFIRM_WITHIN`` ends the entry instead (expired, contact data
    gone), as the retention step would have."""
    now = now or timezone.now()
    unconfirmed = WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistStatus.UNCONFIRMED)
    if unconfirmed.filter(created_at__gte=now - CONFIRM_WITHIN).update(status=WaitlistStatus.ACTIVE):
        logger.info("Waitlist entry %s confirmed", entry.pk)
    elif entries_end(unconfirmed, WaitlistStatus.EXPIRED, now=now):
        logger.info("Waitlist entry %s confirmed too late: expired", entry.pk)
    entry.refresh_from_db()
    return entry


def entries_end(entries, status: str, *, now: datetime) -> int:
    """End the waiting ones of these entries (a queryset) and empty their contact data, in one
    UPDATE."""
    return entries.filter(status__in=_WAITING).update(status=status, ended_at=now, name="", email="")


def waitlist_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Take someone off the list; their name and address go at once. Leaving twice is
    harmless. An open offer of theirs can no longer be accepted (the others can)."""
    now = now or timezone.now()
    if entries_end(WaitlistEntry.objects.filter(pk=entry.pk), WaitlistStatus.LEFT, now=now):
        logger.info("Waitlist entry %s left", entry.pk)
    entry.refresh_from_db()
    return entry


# --- retention ------------------------------------------------------------------------------


def waitlist_erase_expired(
    *, cutoff: datetime | None = None, dry_run: bool = False, now: datetime | None = None
) -> int:
    """Retention step (``booking.retention``): end the waiting entries whose wish can no longer
    be met (their "earlier than" moment has passed), that have waited longer than
    ``NUDGES_WAITLIST_MAX_DAYS``, or that were never confirmed within ``CONFIRM_WITHIN``; their
    name and address are emptied with it. Returns how many (would be) ended. Idempotent.

    ``cutoff`` (the appointments' retention cutoff) is not needed: an ended entry holds no
    contact data at all (database constraint), so nothing lingers until a cutoff."""
    now = now or timezone.now()
    expired = WaitlistEntry.objects.filter(status__in=_WAITING).filter(
        Q(wanted_before__lte=now)
        | Q(created_at__lt=now - timedelta(days=settings.NUDGES_WAITLIST_MAX_DAYS))
        | Q(status=WaitlistStatus.UNCONFIRMED, created_at__lt=now - CONFIRM_WITHIN)
    )
    if dry_run:
        return expired.count()
    ended = entries_end(expired, WaitlistStatus.EXPIRED, now=now)
    if ended:
        logger.info("Ended %s waitlist entries that expired", ended)
    return ended
