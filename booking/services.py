"""Write side of booking: hold, book (also a held time in place of an appointment:
``appointment_book_held_time``), cancel, reschedule, and the citizen's "I'm coming".

Every service owns its transaction. The sequence for taking a time is always: validate the
request, then take ``booking.locks`` in the order written there (the contact for
anti-hoarding, desks in ascending id each claimed with ``desk_period_claim``, then the
appointment rows), insert or update. PostgreSQL's exclusion constraint is the last word; a
violation becomes ``SlotUnavailable`` (HTTP 409) with the nearest free alternatives, never a 500.

Size (over 400 lines on purpose): these services share the validation, the desk-taking and
the insert, and read best next to each other; the staff's write side is in ``booking.staff.services``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import hooks
from .audit import record_event
from .availability import (
    appointment_duration,
    availability_for_products,
    free_desks_for_period,
    invalidate_availability,
    is_on_grid,
    local_days,
    local_tz,
)
from .cleaning import clean_name, email_key
from .constants import (
    MAX_APPOINTMENT_DURATION_MINUTES,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    TOKEN_BYTES,
    UPCOMING_STATUSES,
    AppointmentAction,
    AppointmentStatus,
    CancelReason,
    Channel,
)
from .exceptions import (
    HoldExpired,
    HoldMismatch,
    InvalidRequest,
    InvalidStateTransition,
    SlotUnavailable,
    TooManyActiveAppointments,
    TooManyHolds,
)
from .limits import Holder
from .locks import desk_period_claim, lock_appointment, lock_appointments, lock_contact, lock_desk_time, lock_holder
from .models import Appointment, Desk, IntegrationClient, Location, Product
from .phones import phone_normalise
from .selectors import appointment_facts_known

logger = logging.getLogger(__name__)

EXCLUSION_VIOLATION = "23P01"


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# --- validation ---------------------------------------------------------------------------


def _validate_request(
    *, products: Sequence[Product], persons: int, location: Location, start: datetime, now: datetime
) -> datetime:
    """Check what does not depend on other appointments; return the end of the period."""
    if not products:
        raise InvalidRequest(_("Kies ten minste één product."), field="products")
    if not 1 <= persons <= settings.BOOKING_MAX_PERSONS:
        raise InvalidRequest(
            _("Het aantal personen moet tussen 1 en %(max)s liggen.") % {"max": settings.BOOKING_MAX_PERSONS},
            field="persons",
        )
    if timezone.is_naive(start):
        raise InvalidRequest(_("Geef de begintijd met tijdzone op."), field="start")
    if not is_on_grid(start, location.grid_minutes):
        raise InvalidRequest(
            _("Afspraken beginnen op een veelvoud van %(grid)s minuten.") % {"grid": location.grid_minutes},
            field="start",
        )
    duration = appointment_duration(products, persons)
    if duration > timedelta(minutes=MAX_APPOINTMENT_DURATION_MINUTES):
        raise InvalidRequest(_("Deze afspraak wordt te lang; maak er meerdere."), field="persons")
    earliest = now + timedelta(minutes=max(p.min_notice_minutes for p in products))
    if start < earliest:
        raise InvalidRequest(_("Deze tijd ligt te dichtbij of in het verleden."), field="start")
    last_day = now.astimezone(local_tz()).date() + timedelta(days=min(p.booking_horizon_days for p in products))
    if start.astimezone(local_tz()).date() > last_day:
        raise InvalidRequest(
            _("U kunt tot en met %(day)s een afspraak maken.") % {"day": date_format(last_day, "j F Y")},
            field="start",
        )
    # In UTC: aware arithmetic in a zone with DST is wall-clock arithmetic, which would make
    # a period that spans a clock change an hour too short or too long.
    return start.astimezone(UTC) + appointment_duration(products, persons)


def _normalise_contact(name: str, email: str, phone: str) -> tuple[str, str, str]:
    name, email, phone = clean_name(name), (email or "").strip().lower(), (phone or "").strip()
    if not name:
        raise InvalidRequest(_("Vul uw naam in."), field="name")
    if not email:
        raise InvalidRequest(_("Vul uw e-mailadres in."), field="email")
    return name, email, phone


# Upcoming appointments per product on one mailbox, in one query for all the request's products
# (raw: on every booking, inside its transaction, where compiling the ORM's join per product
# cost more than running it). Plain IN lists, so the demo's SQLite runs it too.
_ACTIVE_PER_PRODUCT_SQL = f"""
    SELECT link.product_id, count(*)
    FROM {Appointment._meta.db_table} AS appointment
    JOIN {Appointment.products.through._meta.db_table} AS link ON link.appointment_id = appointment.id
    WHERE appointment.email_key = %(key)s AND link.product_id IN ({{products}})
      AND appointment.status IN ({{statuses}}) AND appointment."end" > %(now)s AND appointment.id <> %(exclude)s
    GROUP BY link.product_id
"""  # noqa: S608 (table names from the models; values are parameters)


def _check_active_limit(
    *, email: str, products: Sequence[Product], now: datetime, exclude_appointment_id: int | None = None
) -> None:
    """The per-mailbox limit (``email_key``: case, Gmail dots and +tags compare equal). Called
    under ``lock_contact`` and after the time has been claimed, so a taken time answers the same
    whether or not the address has an appointment: no oracle for who has one."""
    limit = settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT
    if limit <= 0:
        return
    now_value = connection.ops.adapt_datetimefield_value(now)  # SQLite compares stored text
    params: dict[str, Any] = {"key": email_key(email), "now": now_value, "exclude": exclude_appointment_id or 0}
    params |= {f"p{i}": product.pk for i, product in enumerate(products)}
    params |= {f"s{i}": str(status) for i, status in enumerate(UPCOMING_STATUSES)}
    sql = _ACTIVE_PER_PRODUCT_SQL.format(
        products=", ".join(f"%(p{i})s" for i in range(len(products))),
        statuses=", ".join(f"%(s{i})s" for i in range(len(UPCOMING_STATUSES))),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        active = dict(cursor.fetchall())
    for product in products:  # the first over the limit, in the order asked
        if active.get(product.pk, 0) >= limit:
            raise TooManyActiveAppointments(field="email", product=product.code)


# --- placing a period on a desk -----------------------------------------------------------


def _take_desk(
    *,
    products: Sequence[Product],
    location: Location,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> Desk:
    """Lock and return a desk on which [start, end) is free; SlotUnavailable if none is.
    Candidates in ascending id (booking.locks' order), each claimed under its lock."""
    for desk in free_desks_for_period(
        products=products,
        location_id=location.pk,
        start=start,
        end=end,
        now=now,
        exclude_appointment_id=exclude_appointment_id,
    ):
        if desk_period_claim(desk, start, end, now=now, exclude_appointment_id=exclude_appointment_id):
            return desk
    raise SlotUnavailable(field="start")


def appointment_insert(appointment: Appointment, products: Sequence[Product]) -> Appointment:
    """Insert a new appointment (desk already taken under its lock) with a fresh reference and
    its products; a violated no-overlap constraint becomes ``SlotUnavailable``. For services
    only (booking's and the staff's), inside their transaction."""
    for _attempt in range(5):
        appointment.reference = new_reference()
        try:
            with transaction.atomic():
                appointment.save(force_insert=True)
        except IntegrityError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
                raise SlotUnavailable(field="start") from exc
            if Appointment.objects.filter(reference=appointment.reference).exists():
                appointment.pk = None
                continue  # a reference collision: draw again
            raise
        # One INSERT for the links (products.set() would first read the, empty, current set).
        Appointment.products.through.objects.bulk_create(
            [Appointment.products.through(appointment=appointment, product=p) for p in products]
        )
        return appointment
    raise RuntimeError("Could not draw a unique appointment reference")


def nearest_alternatives(
    *,
    products: Sequence[Product],
    persons: int,
    location: Location,
    start: datetime,
    limit: int = 3,
    now: datetime | None = None,
) -> list:
    """Up to ``limit`` free slots at the location closest in time to ``start``, judged at the
    same ``now`` as the request (notice, horizon and hold expiry).

    Read through the availability cache: the booking that won the time bumped the location's
    version on commit, so the first loser recomputes and a crowd of losers (a burst on newly
    opened times) shares that one computation instead of each recomputing weeks of slots.
    """
    day = start.astimezone(local_tz()).date()
    slots = availability_for_products(
        products=products,
        persons=persons,
        location_id=location.pk,
        date_from=day - timedelta(days=2),
        date_to=day + timedelta(days=7),
        now=now,
    )
    slots = [s for s in slots if s.start != start]
    slots.sort(key=lambda s: abs((s.start - start).total_seconds()))
    return sorted(slots[:limit], key=lambda s: s.start)


def _with_alternatives(exc: SlotUnavailable, *, now: datetime, **request) -> SlotUnavailable:
    exc.alternatives = nearest_alternatives(now=now, **request)
    return exc


def _invalidate_on_commit(location_id: int, start: datetime, end: datetime) -> None:
    """After commit, make stale the cached availability of the days [start, end) touches at
    the location, and nothing else."""
    days = local_days(start, end)
    transaction.on_commit(lambda: invalidate_availability(location_id, days))


def _changed(event: str, appointment: Appointment, *periods: tuple[int, datetime, datetime]) -> None:
    """Tell listeners, and invalidate each (location, start, end) the change freed or took."""
    for location_id, start, end in set(periods):
        _invalidate_on_commit(location_id, start, end)
    hooks.emit(event, appointment.pk)


# --- public services ----------------------------------------------------------------------


@contextmanager
def contact_serialised(email: str) -> Iterator[None]:
    """A transaction in which nobody else books or joins anything for this e-mail address:
    booking's contact lock (the first step of the order in ``booking.locks``). For other apps'
    per-address checks (e.g. "one waiting-list entry per address and product")."""
    with transaction.atomic():
        lock_contact(email)
        yield


def appointment_hold(
    *,
    products: Sequence[Product],
    persons: int,
    location: Location,
    start: datetime,
    channel: str = Channel.ONLINE,
    release_hold_token: str | None = None,
    hold_minutes: int | None = None,
    holder: Holder | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Reserve a time for a short while (BOOKING_HOLD_MINUTES) while details are filled in.

    ``release_hold_token`` lets a visitor move their one hold: the old hold is released in
    the same transaction. ``hold_minutes``: another lifetime than BOOKING_HOLD_MINUTES (a
    freed time offered to a waiting list is held while the offers are out). ``holder``: the
    visitor's session and client (``booking.limits.holder_for``): a session has at most one
    live hold (a new one replaces it) and a client at most ``BOOKING_MAX_HOLDS_PER_CLIENT``
    (``TooManyHolds``, before any desk is looked at).
    """
    now = now or timezone.now()
    end = _validate_request(products=products, persons=persons, location=location, start=start, now=now)
    request = {"products": products, "persons": persons, "location": location, "start": start}
    holder = holder or Holder()
    try:
        with transaction.atomic():
            lock_holder(holder.client)
            if release_hold_token:
                released = Appointment.objects.filter(manage_token=release_hold_token, status=AppointmentStatus.HELD)
                for location_id, old_start, old_end in released.values_list("desk__location_id", "start", "end"):
                    _invalidate_on_commit(location_id, old_start, old_end)
                released.delete()
            if holder.session:
                # The session's one hold (whatever its draft says): a new one replaces it.
                previous = Appointment.objects.filter(hold_session=holder.session, status=AppointmentStatus.HELD)
                for location_id, old_start, old_end in previous.values_list("desk__location_id", "start", "end"):
                    _invalidate_on_commit(location_id, old_start, old_end)
                previous.delete()
            cap = settings.BOOKING_MAX_HOLDS_PER_CLIENT
            if holder.client and cap > 0:
                live = Appointment.objects.filter(
                    hold_client=holder.client, status=AppointmentStatus.HELD, hold_expires_at__gt=now
                )
                if live.count() >= cap:
                    raise TooManyHolds(field="start")
            desk = _take_desk(products=products, location=location, start=start, end=end, now=now)
            hold = appointment_insert(
                Appointment(
                    desk=desk,
                    start=start,
                    end=end,
                    persons=persons,
                    channel=channel,
                    status=AppointmentStatus.HELD,
                    hold_expires_at=now + timedelta(minutes=hold_minutes or settings.BOOKING_HOLD_MINUTES),
                    manage_token=new_token(),
                    hold_session=holder.session,
                    hold_client=holder.client,
                ),
                products,
            )
            _invalidate_on_commit(location.pk, start, end)
    except SlotUnavailable as exc:
        raise _with_alternatives(exc, now=now, **request) from None
    logger.info("Hold %s placed on desk %s", hold.reference, desk.pk)
    return hold


def appointment_book(
    *,
    products: Sequence[Product],
    persons: int,
    location: Location,
    start: datetime,
    name: str,
    email: str,
    phone: str = "",
    channel: str = Channel.ONLINE,
    hold_token: str | None = None,
    language: str = "nl",
    remind_by_email: bool = True,
    remind_by_sms: bool = False,
    actor: Any = None,
    source_client: IntegrationClient | None = None,
    send_confirmation: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Book a time, either by confirming the visitor's hold or by taking the time directly.

    ``actor`` is the staff user booking on someone's behalf (None: the citizen); it goes into
    the audit trail with the channel. ``source_client``: the integration client whose API call
    books it (kept on the appointment and in the audit trail). ``send_confirmation``: e-mail the citizen a confirmation
    (our own pages and the phone do; an API client confirms to its own users).

    ``language`` is the language of messages to the citizen; an SMS reminder needs a phone
    number.
    """
    now = now or timezone.now()
    end = _validate_request(products=products, persons=persons, location=location, start=start, now=now)
    name, email, phone = _normalise_contact(name, email, phone)
    if remind_by_sms and not phone:
        raise InvalidRequest(_("Vul uw telefoonnummer in als u een herinnering per sms wilt."), field="phone")
    if remind_by_sms and phone_normalise(phone, mobile_only=True) is None:
        raise InvalidRequest(
            _("Voor een herinnering per sms hebben we een mobiel nummer nodig, bijvoorbeeld 06 12345678."),
            field="phone",
        )
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    request = {"products": products, "persons": persons, "location": location, "start": start}
    mailbox = email_key(email)
    contact = {
        "name": name,
        "email": email,
        "email_key": mailbox,
        "phone": phone,
        "language": language,
        "remind_by_email": remind_by_email,
        "remind_by_sms": remind_by_sms,
        "hold_session": "",
        "hold_client": "",
    }
    try:
        with transaction.atomic():
            lock_contact(mailbox)
            hold = _confirmable_hold(hold_token, request=request, end=end, now=now) if hold_token else None
            if hold is not None:
                for field, value in contact.items():
                    setattr(hold, field, value)
                hold.status = AppointmentStatus.BOOKED
                hold.channel = channel
                hold.hold_expires_at = None
                hold.booked_at = now
                hold.source_client = source_client
                hold.manage_token = new_token()  # the hold token was handed out before the booking
                hold.save()
                appointment = hold
            else:
                desk = _take_desk(products=products, location=location, start=start, end=end, now=now)
                appointment = appointment_insert(
                    Appointment(
                        desk=desk,
                        start=start,
                        end=end,
                        persons=persons,
                        channel=channel,
                        status=AppointmentStatus.BOOKED,
                        booked_at=now,
                        manage_token=new_token(),
                        source_client=source_client,
                        **contact,
                    ),
                    products,
                )
            # After the time is ours: a taken time says so whatever the address (no oracle).
            _check_active_limit(email=email, products=products, now=now, exclude_appointment_id=appointment.pk)
            _record_booked(
                appointment,
                products=products,
                actor=actor,
                client=source_client,
                channel=channel,
                send_confirmation=send_confirmation,
            )
    except HoldExpired as exc:
        raise _with_alternatives(exc, now=now, **request) from None
    except SlotUnavailable as exc:
        if hold_token:
            raise _with_alternatives(HoldExpired(field="start"), now=now, **request) from None
        raise _with_alternatives(exc, now=now, **request) from None
    logger.info("Appointment %s booked (channel %s)", appointment.reference, channel)
    return appointment


def _record_booked(
    appointment: Appointment,
    *,
    products: Sequence[Product],
    actor: Any,
    channel: str,
    send_confirmation: bool,
    client: IntegrationClient | None = None,
) -> None:
    record_event(
        appointment,
        AppointmentAction.BOOKED,
        actor=actor,
        client=client,
        channel=channel,
        changes={"status": [None, appointment.status], "start": [None, appointment.start]},
    )
    # The listeners ask for the facts of what was just written: they get them without a read.
    with appointment_facts_known(appointment, products):
        _changed(
            hooks.APPOINTMENT_BOOKED, appointment, (appointment.desk.location_id, appointment.start, appointment.end)
        )
        if send_confirmation:
            hooks.emit(hooks.CONFIRMATION_WANTED, appointment.pk)


def appointment_book_held_time(
    *,
    hold_token: str,
    products: Sequence[Product],
    persons: int,
    name: str,
    email: str,
    phone: str = "",
    language: str = "nl",
    remind_by_email: bool = True,
    remind_by_sms: bool = False,
    replaces: Appointment | None = None,
    cancel_reason: str = CancelReason.MOVED_EARLIER,
    channel: str = Channel.ONLINE,
    send_confirmation: bool = True,
    now: datetime | None = None,
) -> Appointment:
    """Book a held time for someone, in place of the appointment they have (``replaces``).

    One transaction, in booking.locks' order (the contact, the desk, then the rows of the hold
    and of the appointment replaced, ascending): either they have the held time and the old
    appointment is cancelled (``cancel_reason``), or nothing changed. A ``replaces`` that is no
    longer booked or already begun is left as it is. The hold may have been placed for another
    request (products, persons): the time is then booked for this request on a desk that is
    free for it, and the hold goes. The held time is free for this request even if the hold
    has just expired, as long as nobody else took it. Raises ``SlotUnavailable`` when the time
    cannot be had, and the usual booking errors (limit, validation)."""
    now = now or timezone.now()
    hold = (
        Appointment.objects.select_related("desk__location")
        .filter(manage_token=hold_token, status=AppointmentStatus.HELD)
        .first()
    )
    if hold is None:
        raise SlotUnavailable(field="start")
    location, start = hold.desk.location, hold.start
    end = _validate_request(products=products, persons=persons, location=location, start=start, now=now)
    name, email, phone = _normalise_contact(name, email, phone)
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    same_request = (
        hold.persons == persons
        and hold.end == end
        and set(hold.products.values_list("pk", flat=True)) == {p.pk for p in products}
    )
    with transaction.atomic():
        lock_contact(email_key(email))
        if same_request and hold.hold_expires_at is not None and hold.hold_expires_at > now:
            desk = hold.desk
            if not desk_period_claim(desk, start, end, now=now, exclude_appointment_id=hold.pk):
                raise SlotUnavailable(field="start")
        else:
            desk = _take_desk(
                products=products, location=location, start=start, end=end, now=now, exclude_appointment_id=hold.pk
            )
        rows = lock_appointments([hold.pk, replaces.pk if replaces is not None else None])
        locked_hold = rows.get(hold.pk)  # None: it expired and was cleared under the desk's lock
        if locked_hold is not None and locked_hold.status != AppointmentStatus.HELD:
            raise SlotUnavailable(field="start")  # confirmed by its holder meanwhile
        current = rows.get(replaces.pk) if replaces is not None else None
        if current is not None and current.status == AppointmentStatus.BOOKED and current.start > now:
            # Cancelled first, so the one-appointment-per-product limit sees it gone.
            appointment_cancel(appointment=current, channel=channel, reason=cancel_reason, now=now)
        _check_active_limit(email=email, products=products, now=now)
        contact = {
            "name": name,
            "email": email,
            "email_key": email_key(email),
            "hold_session": "",
            "hold_client": "",
            "phone": phone,
            "language": language,
            "remind_by_email": remind_by_email,
            "remind_by_sms": remind_by_sms,
            "channel": channel,
            "status": AppointmentStatus.BOOKED,
            "booked_at": now,
            "manage_token": new_token(),
        }
        if locked_hold is not None and same_request and locked_hold.desk_id == desk.pk:
            for field, value in contact.items():
                setattr(locked_hold, field, value)
            locked_hold.hold_expires_at = None
            locked_hold.save()
            appointment = locked_hold
        else:
            if locked_hold is not None:
                _invalidate_on_commit(location.pk, locked_hold.start, locked_hold.end)
                locked_hold.delete()
            appointment = appointment_insert(
                Appointment(desk=desk, start=start, end=end, persons=persons, **contact), products
            )
        _record_booked(appointment, products=products, actor=None, channel=channel, send_confirmation=send_confirmation)
    logger.info("Held time booked as appointment %s", appointment.reference)
    return appointment


def _confirmable_hold(token: str, *, request: dict, end: datetime, now: datetime) -> Appointment | None:
    """The visitor's live hold for exactly this request, locked; None if it has expired or gone
    (the caller then tries to take the time afresh; that claim clears an expired hold)."""
    hold = Appointment.objects.filter(manage_token=token, status=AppointmentStatus.HELD).select_related("desk").first()
    if hold is None:
        # Unknown token or a hold already cleaned up: treat as expired, the time may still be free.
        return None
    if (
        hold.desk.location_id != request["location"].pk
        or hold.start != request["start"]
        or hold.end != end
        or hold.persons != request["persons"]
        or set(hold.products.values_list("pk", flat=True)) != {p.pk for p in request["products"]}
    ):
        raise HoldMismatch(field="hold_token")
    if hold.hold_expires_at is None or hold.hold_expires_at <= now:
        # Decided before any lock (an expiry only ever passes), so the desk taken afresh may be
        # one with a lower id than the hold's without going back in booking.locks' order.
        return None
    lock_desk_time(hold.desk_id, hold.start, hold.end)
    locked = lock_appointments([hold.pk]).get(hold.pk)
    if locked is None or locked.status != AppointmentStatus.HELD:
        # Replaced or confirmed meanwhile (the same form sent twice): not taken afresh, which
        # could mean a desk below this one, after its lock.
        raise SlotUnavailable(field="start")
    return locked


def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Any = None,
    channel: str = Channel.ONLINE,
    reason: str = "",
    client: IntegrationClient | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel a booked appointment. Cancelling twice is harmless; a visit that has started or
    been handled at the desk cannot be cancelled. ``actor``/``channel``/``client``: who asked,
    and how (``client``: through that integration client's API); ``reason``: why, when the
    citizen told us (a ``CancelReason``); all in the audit trail."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = lock_appointment(appointment.pk)
        if appointment.status == AppointmentStatus.CANCELLED:
            return appointment
        if appointment.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition()
        if appointment.start <= now:
            raise InvalidStateTransition(
                _("Deze afspraak is al begonnen of voorbij en kan niet meer worden geannuleerd.")
            )
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
        changes: dict[str, list[Any]] = {"status": [AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED]}
        if reason:
            changes["cancel_reason"] = ["", CancelReason(reason).value]
        record_event(
            appointment, AppointmentAction.CANCELLED, actor=actor, client=client, channel=channel, changes=changes
        )
        _changed(
            hooks.APPOINTMENT_CANCELLED,
            appointment,
            (appointment.desk.location_id, appointment.start, appointment.end),
        )
    logger.info("Appointment %s cancelled", appointment.reference)
    return appointment


def appointment_confirm(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """The citizen lets us know they are coming (the "I'm coming" link in the reminder).
    Confirming twice is harmless and records one event; a cancelled, handled or started
    appointment cannot be confirmed."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = lock_appointment(appointment.pk)
        if appointment.status == AppointmentStatus.BOOKED and appointment.confirmed_at is not None:
            return appointment
        if appointment.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition()
        if appointment.start <= now:
            raise InvalidStateTransition(_("Deze afspraak is al begonnen of voorbij."))
        appointment.confirmed_at = now
        appointment.save(update_fields=["confirmed_at", "updated_at"])
        record_event(appointment, AppointmentAction.CONFIRMED, channel=Channel.ONLINE)
    logger.info("Appointment %s confirmed by the citizen", appointment.reference)
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    location: Location | None = None,
    actor: Any = None,
    channel: str = Channel.ONLINE,
    send_confirmation: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment atomically: the new time is taken, or nothing changes.
    ``actor``/``channel``: who asked, and how (the audit trail); ``send_confirmation``: e-mail
    the new time."""
    now = now or timezone.now()
    current = Appointment.objects.select_related("desk__location").get(pk=appointment.pk)
    location = location or current.desk.location
    products = list(current.products.all())
    end = _validate_request(products=products, persons=current.persons, location=location, start=start, now=now)
    request = {"products": products, "persons": current.persons, "location": location, "start": start}
    _check_reschedulable(current, now)
    try:
        with transaction.atomic():
            # booking.locks' order: the new desk first, then the appointment's row.
            desk = _take_desk(
                products=products, location=location, start=start, end=end, now=now, exclude_appointment_id=current.pk
            )
            current = lock_appointment(appointment.pk)
            _check_reschedulable(current, now)
            old_location_id, old_start, old_end, old_desk = (
                current.desk.location_id,
                current.start,
                current.end,
                current.desk.name,
            )
            # A confirmation ("I'm coming") was for the old time.
            current.desk, current.start, current.end, current.confirmed_at = desk, start, end, None
            try:
                with transaction.atomic():
                    current.save(update_fields=["desk", "start", "end", "confirmed_at", "updated_at"])
            except IntegrityError as exc:
                if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
                    raise SlotUnavailable(field="start") from exc
                raise
            record_event(
                current,
                AppointmentAction.RESCHEDULED,
                actor=actor,
                channel=channel,
                changes={"start": [old_start, start], "desk": [old_desk, desk.name]},
            )
            _changed(
                hooks.APPOINTMENT_RESCHEDULED,
                current,
                (old_location_id, old_start, old_end),
                (location.pk, start, end),
            )
            if send_confirmation:
                hooks.emit(hooks.CONFIRMATION_WANTED, current.pk)
    except SlotUnavailable as exc:
        raise _with_alternatives(exc, now=now, **request) from None
    logger.info("Appointment %s rescheduled", current.reference)
    return current


def _check_reschedulable(appointment: Appointment, now: datetime) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise InvalidStateTransition()
    if appointment.start <= now:
        raise InvalidStateTransition(_("Deze afspraak is al begonnen of voorbij en kan niet meer worden verzet."))


def holds_purge_expired(*, now: datetime | None = None) -> int:
    """Delete holds that have expired. Housekeeping only: expired holds already stop
    blocking the moment they expire."""
    now = now or timezone.now()
    _total, per_model = Appointment.objects.filter(status=AppointmentStatus.HELD, hold_expires_at__lte=now).delete()
    # The total also counts the rows of the products through-table; report holds only.
    return per_model.get(Appointment._meta.label, 0)
