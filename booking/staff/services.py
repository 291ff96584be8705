"""Write side of the staff pages: desk actions, walk-ins, bookings by phone, schedules,
closures, holidays and products.

Every service owns its transaction, records who did what on each appointment it touches
(``booking.audit.record_event`` with ``actor``), tells listeners about status changes
(``booking.hooks``) and, where availability changes, bumps its cache after commit. Locks are
taken in the project's fixed order: appointment rows, then the contact, then desks in
ascending id (``booking.locks``). Domain errors are ``booking.exceptions``; the views map them
to form errors.

Public: ``appointment_check_in``, ``appointment_mark_served``, ``appointment_mark_no_show``,
``appointment_undo_status``, ``walk_in_register``, ``phone_appointment_book``,
``phone_appointment_reschedule``, ``phone_appointment_cancel``,
``closure_create_with_cancellations``, ``closure_delete``, ``holiday_open``, ``holiday_close``,
``opening_hours_add``, ``opening_hours_end``, ``opening_hours_delete``, ``desk_products_set``,
``product_price_problems``, ``product_save``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import hooks, services
from booking.audit import record_event
from booking.availability import (
    appointment_duration,
    blocking_appointments_q,
    eligible_desks,
    free_desks_for_period,
    invalidate_availability,
    local_tz,
    public_holidays,
)
from booking.constants import (
    ACTIVE_STATUSES,
    AppointmentAction,
    AppointmentStatus,
    CancelReason,
    Channel,
    OnlinePossible,
    OnlineReason,
)
from booking.exceptions import (
    AffectedAppointmentsChanged,
    InvalidRequest,
    InvalidStateTransition,
    ScheduleConflict,
    SlotUnavailable,
)
from booking.locks import lock_desk
from booking.models import Appointment, Closure, Desk, HolidayOpening, Location, OpeningHours, Product
from booking.services import EXCLUSION_VIOLATION, new_token

from . import selectors

logger = logging.getLogger(__name__)

CHANNELS = ("counter", "online", "phone", "post")


def _today(now: datetime) -> date:
    return now.astimezone(local_tz()).date()


def _local_date(moment: datetime) -> date:
    return moment.astimezone(local_tz()).date()


def _invalidate_on_commit(location_id: int | None) -> None:
    transaction.on_commit(lambda: invalidate_availability(location_id))


def _status_changed(appointment: Appointment) -> None:
    hooks.emit(hooks.APPOINTMENT_STATUS_CHANGED, appointment.pk)
    _invalidate_on_commit(appointment.desk.location_id)


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update(of=("self",)).select_related("desk").get(pk=appointment.pk)


def _save_fields(appointment: Appointment, fields: list[str]) -> None:
    """Save; a status that occupies the desk again may collide with another appointment."""
    try:
        with transaction.atomic():
            appointment.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotUnavailable(
                _("Deze tijd aan de balie is inmiddels door een andere afspraak bezet."), field="start"
            ) from exc
        raise


def _ensure_free(appointment: Appointment, now: datetime) -> None:
    """Before an appointment occupies its desk again: lock the desk and check nothing else does."""
    lock_desk(appointment.desk_id)
    overlapping = Appointment.objects.filter(
        desk_id=appointment.desk_id, start__lt=appointment.end, end__gt=appointment.start
    ).exclude(pk=appointment.pk)
    # An expired hold no longer blocks, but its row would still trip the constraint.
    overlapping.filter(status=AppointmentStatus.HELD, hold_expires_at__lte=now).delete()
    if overlapping.filter(blocking_appointments_q(now)).exists():
        raise SlotUnavailable(_("Deze tijd aan de balie is inmiddels door een andere afspraak bezet."), field="start")


# --- desk actions ---------------------------------------------------------------------------


def appointment_check_in(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """The citizen has arrived. Checking in twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == AppointmentStatus.CHECKED_IN:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition(_("Alleen een geboekte afspraak kan worden aangemeld."))
        if _local_date(current.start) != _today(now):
            raise InvalidStateTransition(_("Aanmelden kan alleen op de dag van de afspraak."))
        current.status = AppointmentStatus.CHECKED_IN
        current.checked_in_at = now
        current.save(update_fields=["status", "checked_in_at", "updated_at"])
        record_event(
            current,
            AppointmentAction.CHECKED_IN,
            actor=actor,
            channel=Channel.COUNTER,
            changes={"status": [AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]},
        )
        _status_changed(current)
    logger.info("Appointment %s checked in", current.reference)
    return current


def _clean_online_tag(online_possible: str, online_reason: str, *, required: bool) -> tuple[str, str]:
    online_possible, online_reason = (online_possible or "").strip(), (online_reason or "").strip()
    if not online_possible:
        if required:
            raise InvalidRequest(_("Kies of dit bezoek online had gekund."), field="online_possible")
        if online_reason:
            raise InvalidRequest(_("Kies eerst of dit bezoek online had gekund."), field="online_possible")
        return "", ""
    if online_possible not in OnlinePossible.values:
        raise InvalidRequest(_("Kies ja, gedeeltelijk of nee."), field="online_possible")
    if online_reason and online_reason not in OnlineReason.values:
        raise InvalidRequest(_("Kies een reden uit de lijst."), field="online_reason")
    return online_possible, online_reason


def appointment_mark_served(
    *,
    appointment: Appointment,
    actor: Any,
    online_possible: str,
    online_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """The visit is done; with the desk's judgement whether it could have been done online."""
    now = now or timezone.now()
    online_possible, online_reason = _clean_online_tag(online_possible, online_reason, required=True)
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == AppointmentStatus.SERVED:
            return current
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN):
            raise InvalidStateTransition(_("Alleen een geboekte of aangemelde afspraak kan worden afgerond."))
        if _local_date(current.start) > _today(now):
            raise InvalidStateTransition(_("Een afspraak op een latere dag kan nog niet worden afgerond."))
        old_status = current.status
        current.status = AppointmentStatus.SERVED
        current.handled_at = now
        current.online_possible, current.online_reason = online_possible, online_reason
        current.save(update_fields=["status", "handled_at", "online_possible", "online_reason", "updated_at"])
        record_event(
            current,
            AppointmentAction.SERVED,
            actor=actor,
            channel=Channel.COUNTER,
            changes={
                "status": [old_status, AppointmentStatus.SERVED],
                "online_possible": ["", online_possible],
                "online_reason": ["", online_reason],
            },
        )
        _status_changed(current)
    logger.info("Appointment %s served", current.reference)
    return current


def appointment_mark_no_show(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """The citizen did not come. Only once the appointment's time has begun."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == AppointmentStatus.NO_SHOW:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition(_("Alleen een geboekte afspraak kan als niet verschenen worden gemeld."))
        if current.start > now:
            raise InvalidStateTransition(_("Niet verschenen kan pas vanaf de begintijd van de afspraak."))
        current.status = AppointmentStatus.NO_SHOW
        current.handled_at = now
        current.save(update_fields=["status", "handled_at", "updated_at"])
        record_event(
            current,
            AppointmentAction.NO_SHOW,
            actor=actor,
            channel=Channel.COUNTER,
            changes={"status": [AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW]},
        )
        _status_changed(current)
    logger.info("Appointment %s marked no-show", current.reference)
    return current


def appointment_undo_status(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """Take back the last desk action (check-in, served or no-show) after a mistake."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        old_status = current.status
        fields = ["status"]
        changes: dict[str, list] = {}
        if old_status == AppointmentStatus.CHECKED_IN:
            new_status = AppointmentStatus.BOOKED
            changes["checked_in_at"] = [current.checked_in_at, None]
            current.checked_in_at = None
            fields.append("checked_in_at")
        elif old_status == AppointmentStatus.SERVED:
            new_status = AppointmentStatus.CHECKED_IN if current.checked_in_at else AppointmentStatus.BOOKED
            changes["online_possible"] = [current.online_possible, ""]
            changes["online_reason"] = [current.online_reason, ""]
            current.handled_at, current.online_possible, current.online_reason = None, "", ""
            fields += ["handled_at", "online_possible", "online_reason"]
        elif old_status == AppointmentStatus.NO_SHOW:
            new_status = AppointmentStatus.BOOKED
            current.handled_at = None
            fields.append("handled_at")
        else:
            raise InvalidStateTransition(_("Er is hier geen balie-actie om terug te draaien."))
        if new_status in ACTIVE_STATUSES and old_status not in ACTIVE_STATUSES:
            # Served and no-show visits free their desk time; taking it back must not double-book.
            _ensure_free(current, now)
        current.status = new_status
        _save_fields(current, fields)
        changes = {"status": [old_status, new_status], **changes}
        record_event(current, AppointmentAction.UNDONE, actor=actor, channel=Channel.COUNTER, changes=changes)
        _status_changed(current)
    logger.info("Appointment %s: desk action undone (%s -> %s)", current.reference, old_status, new_status)
    return current


# --- walk-ins -------------------------------------------------------------------------------


def _walk_in_desks(*, products: Sequence[Product], persons: int, location: Location, desk: Desk | None) -> list[Desk]:
    if not products:
        raise InvalidRequest(_("Kies een product."), field="product")
    if not 1 <= persons <= settings.BOOKING_MAX_PERSONS:
        raise InvalidRequest(
            _("Het aantal personen moet tussen 1 en %(max)s liggen.") % {"max": settings.BOOKING_MAX_PERSONS},
            field="persons",
        )
    desks = eligible_desks(products, location.pk)
    if desk is not None:
        desks = [d for d in desks if d.pk == desk.pk]
    if not desks:
        raise InvalidRequest(
            _("Geen balie hier behandelt dit product.")
            if desk is None
            else _("Deze balie behandelt dit product niet."),
            field="desk" if desk is not None else "product",
        )
    return desks


def walk_in_register(
    *,
    actor: Any,
    location: Location,
    products: Sequence[Product],
    persons: int = 1,
    name: str = "",
    served: bool = False,
    online_possible: str = "",
    online_reason: str = "",
    desk: Desk | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Register a visitor without an appointment (channel counter).

    Placed at the first free desk time from now, on the location's grid, at a desk that serves
    the products (checked in: the visitor is here); or, with ``served``, recorded as a visit
    that has just been handled (it no longer occupies the desk).
    """
    now = now or timezone.now()
    products = list(products)
    desks = _walk_in_desks(products=products, persons=persons, location=location, desk=desk)
    online_possible, online_reason = _clean_online_tag(online_possible, online_reason, required=False)
    duration = appointment_duration(products, persons)
    base = {
        "persons": persons,
        "channel": Channel.COUNTER,
        "name": " ".join((name or "").split())[:150],
        "booked_at": now,
        "manage_token": new_token(),
    }
    if served:
        end = now.astimezone(UTC).replace(second=0, microsecond=0)
        with transaction.atomic():
            appointment = services.appointment_insert(
                Appointment(
                    desk=desks[0],
                    start=end - duration,
                    end=end,
                    status=AppointmentStatus.SERVED,
                    checked_in_at=now,
                    handled_at=now,
                    online_possible=online_possible,
                    online_reason=online_reason,
                    **base,
                ),
                products,
            )
            _record_walk_in(appointment, actor)
        logger.info("Walk-in %s recorded as served", appointment.reference)
        return appointment

    for _attempt in range(3):
        found = selectors.walk_in_next_start(
            products=products, persons=persons, location=location, now=now, desks=desks
        )
        if found is None:
            break
        chosen, start = found
        end = start + duration
        try:
            with transaction.atomic():
                lock_desk(chosen.pk)
                # An expired hold no longer blocks, but its row would still trip the constraint.
                Appointment.objects.filter(
                    desk=chosen, start__lt=end, end__gt=start, status=AppointmentStatus.HELD, hold_expires_at__lte=now
                ).delete()
                free = free_desks_for_period(products=products, location_id=location.pk, start=start, end=end, now=now)
                if chosen.pk not in {d.pk for d in free}:
                    raise SlotUnavailable(field="start")  # taken since we looked: look again
                appointment = services.appointment_insert(
                    Appointment(
                        desk=chosen,
                        start=start,
                        end=end,
                        status=AppointmentStatus.CHECKED_IN,
                        checked_in_at=now,
                        online_possible=online_possible,
                        online_reason=online_reason,
                        **base,
                    ),
                    products,
                )
                _record_walk_in(appointment, actor)
        except SlotUnavailable:
            continue
        logger.info("Walk-in %s placed on desk %s", appointment.reference, chosen.pk)
        return appointment
    raise SlotUnavailable(
        _("Vandaag is er geen vrije balietijd meer voor dit product. Registreer het bezoek als direct geholpen."),
        field="product",
    )


def _record_walk_in(appointment: Appointment, actor: Any) -> None:
    record_event(
        appointment,
        AppointmentAction.WALK_IN,
        actor=actor,
        channel=Channel.COUNTER,
        changes={
            "status": [None, appointment.status],
            "desk": [None, appointment.desk.name],
            "start": [None, appointment.start],
            "online_possible": [None, appointment.online_possible],
        },
    )
    _status_changed(appointment)


# --- bookings by phone ----------------------------------------------------------------------
# The booking services do the work (the same rules as online, channel phone); phone bookings
# never pass the citizen flow, so a caller is never nudged.


def phone_appointment_book(
    *,
    actor: Any,
    products: Sequence[Product],
    persons: int,
    location: Location,
    start: datetime,
    name: str,
    email: str,
    phone: str = "",
    language: str = "nl",
    remind_by_email: bool = True,
    now: datetime | None = None,
) -> Appointment:
    """Book on a caller's behalf (channel phone) and e-mail the confirmation."""
    return services.appointment_book(
        actor=actor,
        products=products,
        persons=persons,
        location=location,
        start=start,
        name=name,
        email=email,
        phone=phone,
        channel=Channel.PHONE,
        language=language,
        remind_by_email=remind_by_email,
        send_confirmation=True,
        now=now,
    )


def phone_appointment_reschedule(
    *, actor: Any, appointment: Appointment, start: datetime, location: Location | None = None, now=None
) -> Appointment:
    """Move an appointment for a caller and e-mail the new confirmation."""
    return services.appointment_reschedule(
        actor=actor,
        channel=Channel.PHONE,
        appointment=appointment,
        start=start,
        location=location,
        send_confirmation=True,
        now=now,
    )


def phone_appointment_cancel(*, actor: Any, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """Cancel an appointment for a caller."""
    return services.appointment_cancel(appointment=appointment, actor=actor, channel=Channel.PHONE, now=now)


# --- closures and holidays ------------------------------------------------------------------


@dataclass
class ClosureResult:
    closure: Closure
    cancelled: list[Appointment]
    kept: list[Appointment]


def _validate_closure(
    *, location: Location, desk: Desk | None, starts_at: datetime, ends_at: datetime, reason: str, now: datetime
) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidRequest(_("Geef een reden op; die staat in het bericht aan de inwoners."), field="reason")
    if len(reason) > 200:
        raise InvalidRequest(_("Houd de reden korter dan 200 tekens."), field="reason")
    if desk is not None and desk.location_id != location.pk:
        raise InvalidRequest(_("Deze balie hoort niet bij deze vestiging."), field="desk")
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidRequest(_("Geef de tijden met tijdzone op."), field="starts_at")
    if ends_at <= starts_at:
        raise InvalidRequest(_("Het einde moet na het begin liggen."), field="ends_at")
    if ends_at <= now:
        raise InvalidRequest(_("Deze periode ligt al helemaal in het verleden."), field="ends_at")
    return reason


def closure_create_with_cancellations(
    *,
    actor: Any,
    location: Location,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    desk: Desk | None = None,
    expected_appointment_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ClosureResult:
    """Close the location (or one desk) for [starts_at, ends_at), and in the same transaction
    cancel every booked appointment in that period that has not begun, e-mailing each citizen
    an apology with a link to book again.

    ``expected_appointment_ids`` are the appointments the planner was shown; if others have
    been booked in the period since, nothing happens (``AffectedAppointmentsChanged``) so the
    planner sees them first. Checked-in visits and ones already under way are kept.
    """
    now = now or timezone.now()
    reason = _validate_closure(
        location=location, desk=desk, starts_at=starts_at, ends_at=ends_at, reason=reason, now=now
    )
    with transaction.atomic():
        affected_qs = selectors.closure_affected_appointments(
            location=location, desk=desk, starts_at=starts_at, ends_at=ends_at
        )
        # Appointment rows first, then desks: the order appointment_reschedule takes them in.
        list(
            Appointment.objects.select_for_update(of=("self",))
            .filter(pk__in=list(affected_qs.values_list("pk", flat=True)))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        desk_ids = [desk.pk] if desk is not None else sorted(location.desks.values_list("pk", flat=True))
        for desk_id in desk_ids:
            lock_desk(desk_id)
        # A live hold in the period could still be confirmed into the closure: release it.
        Appointment.objects.filter(
            desk_id__in=desk_ids, status=AppointmentStatus.HELD, start__lt=ends_at, end__gt=starts_at
        ).delete()
        affected = list(affected_qs)
        if expected_appointment_ids is not None and {a.pk for a in affected} - set(expected_appointment_ids):
            raise AffectedAppointmentsChanged()
        closure = Closure.objects.create(
            location=location, desk=desk, starts_at=starts_at, ends_at=ends_at, reason=reason
        )
        cancelled, kept = [], []
        for appointment in affected:
            if not selectors.cancellable_by_closure(appointment, now):
                kept.append(appointment)
                continue
            # The municipality's doing, through no citizen channel: the event's channel stays empty.
            services.appointment_cancel(
                appointment=appointment, actor=actor, channel="", reason=CancelReason.CLOSURE, now=now
            )
            cancelled.append(appointment)
        _invalidate_on_commit(location.pk)
    logger.info(
        "Closure %s at location %s: %s appointments cancelled, %s kept",
        closure.pk,
        location.pk,
        len(cancelled),
        len(kept),
    )
    return ClosureResult(closure=closure, cancelled=cancelled, kept=kept)


def closure_delete(*, actor: Any, closure: Closure) -> None:
    """Reopen: the period becomes bookable again (appointments cancelled for it stay cancelled)."""
    location_id = closure.location_id
    with transaction.atomic():
        closure.delete()
        _invalidate_on_commit(location_id)
    logger.info("Closure removed at location %s by user %s", location_id, getattr(actor, "pk", None))


def holiday_open(*, actor: Any, location: Location, day: date, note: str = "") -> HolidayOpening:
    """Open the location on a Dutch public holiday after all (its desks' usual hours apply)."""
    if day not in public_holidays(day, day):
        raise InvalidRequest(_("Deze dag is geen feestdag."), field="day")
    with transaction.atomic():
        opening, _created = HolidayOpening.objects.update_or_create(
            location=location, date=day, defaults={"note": " ".join((note or "").split())[:200]}
        )
        _invalidate_on_commit(location.pk)
    logger.info("Location %s opens on holiday %s (user %s)", location.pk, day, getattr(actor, "pk", None))
    return opening


def holiday_close(*, actor: Any, location: Location, day: date, now: datetime | None = None) -> None:
    """Close the location again on a holiday; refused while appointments are booked that day."""
    now = now or timezone.now()
    day_start, day_end = selectors.local_day_bounds(day)
    with transaction.atomic():
        for desk_id in sorted(location.desks.values_list("pk", flat=True)):
            lock_desk(desk_id)
        booked = Appointment.objects.filter(
            desk__location=location,
            start__lt=day_end,
            end__gt=day_start,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
        ).count()
        if booked:
            raise ScheduleConflict(
                _(
                    "Er staan %(count)s afspraken op deze dag. Sluit de dag met een sluiting: "
                    "dan worden ze geannuleerd en krijgen de inwoners bericht."
                )
                % {"count": booked},
                field="day",
            )
        HolidayOpening.objects.filter(location=location, date=day).delete()
        _invalidate_on_commit(location.pk)
    logger.info("Location %s closed again on holiday %s (user %s)", location.pk, day, getattr(actor, "pk", None))


# --- opening hours and desk products --------------------------------------------------------


def _check_hours(*, opens: time, closes: time, valid_from: date, valid_until: date | None) -> None:
    if opens >= closes:
        raise InvalidRequest(_("De sluitingstijd moet na de openingstijd liggen."), field="closes")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidRequest(_("'Geldig tot en met' mag niet voor 'geldig vanaf' liggen."), field="valid_until")


def _stranded(desk: Desk, *, now: datetime, weekday: int | None = None) -> list[Appointment]:
    """Booked appointments at the desk that no longer lie inside its opening hours."""
    upcoming = list(
        Appointment.objects.filter(
            desk=desk, end__gt=now, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]
        ).order_by("start")
    )
    if weekday is not None:
        upcoming = [a for a in upcoming if _local_date(a.start).weekday() == weekday]
    if not upcoming:
        return []
    # Hours only: an appointment kept inside a closure is not stranded by an hours change.
    intervals = selectors.open_intervals_for_desks(
        [desk], _local_date(upcoming[0].start), _local_date(upcoming[-1].end), subtract_closures=False
    ).get(desk.pk, [])
    return [a for a in upcoming if not any(x <= a.start and a.end <= y for x, y in intervals)]


def _refuse_if_stranded(desk: Desk, *, now: datetime, weekday: int | None = None) -> None:
    stranded = _stranded(desk, now=now, weekday=weekday)
    if stranded:
        raise ScheduleConflict(
            _(
                "Dan vallen %(count)s geboekte afspraken buiten de openingstijden (de eerste: %(reference)s). "
                "Sluit die periode eerst met een sluiting: dan worden ze geannuleerd en krijgen de inwoners bericht."
            )
            % {"count": len(stranded), "reference": stranded[0].reference},
        )


def opening_hours_add(
    *,
    actor: Any,
    desk: Desk,
    weekday: int,
    opens: time,
    closes: time,
    valid_from: date,
    valid_until: date | None = None,
) -> OpeningHours:
    """Add weekly opening hours to a desk. Hours may not overlap hours the desk already has."""
    if weekday not in range(7):
        raise InvalidRequest(_("Kies een weekdag."), field="weekday")
    _check_hours(opens=opens, closes=closes, valid_from=valid_from, valid_until=valid_until)
    with transaction.atomic():
        lock_desk(desk.pk)
        overlapping = OpeningHours.objects.filter(desk=desk, weekday=weekday, opens__lt=closes, closes__gt=opens)
        if valid_until is not None:
            overlapping = overlapping.filter(valid_from__lte=valid_until)
        overlapping = overlapping.exclude(valid_until__lt=valid_from)
        if overlapping.exists():
            raise InvalidRequest(
                _("Deze balie heeft in die periode op die dag al openingstijden die hiermee overlappen."),
                field="opens",
            )
        hours = OpeningHours.objects.create(
            desk=desk, weekday=weekday, opens=opens, closes=closes, valid_from=valid_from, valid_until=valid_until
        )
        _invalidate_on_commit(desk.location_id)
    logger.info("Opening hours %s added to desk %s (user %s)", hours.pk, desk.pk, getattr(actor, "pk", None))
    return hours


def opening_hours_end(
    *, actor: Any, hours: OpeningHours, valid_until: date, now: datetime | None = None
) -> OpeningHours:
    """Let opening hours end on a date (inclusive); refused if booked appointments fall outside."""
    now = now or timezone.now()
    _check_hours(opens=hours.opens, closes=hours.closes, valid_from=hours.valid_from, valid_until=valid_until)
    previous = hours.valid_until
    try:
        with transaction.atomic():
            lock_desk(hours.desk_id)
            hours.valid_until = valid_until
            hours.save(update_fields=["valid_until"])
            _refuse_if_stranded(hours.desk, now=now, weekday=hours.weekday)
            _invalidate_on_commit(hours.desk.location_id)
    except ScheduleConflict:
        hours.valid_until = previous
        raise
    return hours


def opening_hours_delete(*, actor: Any, hours: OpeningHours, now: datetime | None = None) -> None:
    """Remove opening hours; refused if booked appointments would fall outside the hours left."""
    now = now or timezone.now()
    desk, weekday = hours.desk, hours.weekday
    with transaction.atomic():
        lock_desk(desk.pk)
        OpeningHours.objects.filter(pk=hours.pk).delete()  # the instance stays usable if refused
        _refuse_if_stranded(desk, now=now, weekday=weekday)
        _invalidate_on_commit(desk.location_id)
    logger.info("Opening hours removed from desk %s (user %s)", desk.pk, getattr(actor, "pk", None))


def desk_products_set(
    *, actor: Any, desk: Desk, products: Sequence[Product], now: datetime | None = None
) -> list[Product]:
    """Set which products a desk serves; refused while booked appointments need a product taken away."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_desk(desk.pk)
        removed = set(desk.products.values_list("pk", flat=True)) - {p.pk for p in products}
        if removed:
            waiting = (
                Appointment.objects.filter(
                    desk=desk,
                    end__gt=now,
                    status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
                    products__in=removed,
                )
                .distinct()
                .count()
            )
            if waiting:
                raise ScheduleConflict(
                    _(
                        "Er staan nog %(count)s afspraken aan deze balie voor een product dat u weghaalt. "
                        "Verzet of annuleer die eerst."
                    )
                    % {"count": waiting},
                    field="products",
                )
        desk.products.set(products)
        _invalidate_on_commit(desk.location_id)
    logger.info("Desk %s now serves %s products (user %s)", desk.pk, len(products), getattr(actor, "pk", None))
    return list(products)


# --- products -------------------------------------------------------------------------------


def product_price_problems(values: dict[str, Any]) -> dict[str, str]:
    """Field → message for every price rule the values break (leges are cost recovery: no fee
    above its cost price; the online fee not above the counter fee)."""
    problems: dict[str, str] = {}
    for channel in CHANNELS:
        fee, cost = values.get(f"fee_{channel}"), values.get(f"cost_{channel}")
        if fee is not None and cost is None:
            problems[f"cost_{channel}"] = _("Vul de kostprijs in: de leges mogen die niet overschrijden.")
        elif fee is not None and cost is not None and Decimal(fee) > Decimal(cost):
            problems[f"fee_{channel}"] = _("De leges mogen niet hoger zijn dan de kostprijs (€ %(cost)s).") % {
                "cost": cost
            }
    fee_online, fee_counter = values.get("fee_online"), values.get("fee_counter")
    if (
        fee_online is not None
        and fee_counter is not None
        and Decimal(fee_online) > Decimal(fee_counter)
        and "fee_online" not in problems
    ):
        problems["fee_online"] = _("De online leges mogen niet hoger zijn dan de leges aan de balie (€ %(fee)s).") % {
            "fee": fee_counter
        }
    return problems


def product_save(*, actor: Any, product: Product | None = None, values: dict[str, Any]) -> Product:
    """Create or change a product (times, leges and cost prices per channel, online alternative)."""
    problems = product_price_problems(values)
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidRequest(message, field=field, problems=problems)
    product = product or Product()
    for name, value in values.items():
        setattr(product, name, value)
    try:
        with transaction.atomic():
            product.save()
            _invalidate_on_commit(None)
    except IntegrityError as exc:
        # The check constraints say the same as product_price_problems; a unique code may clash.
        if Product.objects.filter(code=product.code).exclude(pk=product.pk).exists():
            raise InvalidRequest(_("Er bestaat al een product met deze code."), field="code") from exc
        raise InvalidRequest(_("De leges en kostprijzen passen niet bij elkaar."), field="fee_counter") from exc
    logger.info("Product %s saved (user %s)", product.code, getattr(actor, "pk", None))
    return product
