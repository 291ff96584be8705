"""Closures (with the cancellations they cause) and holiday openings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import services
from booking.availability import (
    public_holidays,
)
from booking.constants import (
    AppointmentStatus,
    CancelReason,
)
from booking.exceptions import (
    AffectedAppointmentsChanged,
    InvalidRequest,
    ScheduleConflict,
)
from booking.locks import holds_release, lock_appointments, lock_desks
from booking.models import Appointment, Closure, Desk, HolidayOpening, Location
from booking.staff import selectors
from booking.staff.services._common import invalidate_on_commit

logger = logging.getLogger(__name__)


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
        # booking.locks' order: the desks (ascending), then the appointments' rows. Under the
        # desks' locks nothing new can be booked into the period.
        desk_ids = lock_desks([desk.pk] if desk is not None else location.desks.values_list("pk", flat=True))
        # A live hold in the period could still be confirmed into the closure: release it.
        holds_release(desk_ids, starts_at, ends_at)
        lock_appointments(affected_qs.values_list("pk", flat=True))
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
        invalidate_on_commit(location.pk)
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
        invalidate_on_commit(location_id)
    logger.info("Closure removed at location %s by user %s", location_id, getattr(actor, "pk", None))


def holiday_open(*, actor: Any, location: Location, day: date, note: str = "") -> HolidayOpening:
    """Open the location on a Dutch public holiday after all (its desks' usual hours apply)."""
    if day not in public_holidays(day, day):
        raise InvalidRequest(_("Deze dag is geen feestdag."), field="day")
    with transaction.atomic():
        opening, _created = HolidayOpening.objects.update_or_create(
            location=location, date=day, defaults={"note": " ".join((note or "").split())[:200]}
        )
        invalidate_on_commit(location.pk)
    logger.info("Location %s opens on holiday %s (user %s)", location.pk, day, getattr(actor, "pk", None))
    return opening


def holiday_close(*, actor: Any, location: Location, day: date, now: datetime | None = None) -> None:
    """Close the location again on a holiday; refused while appointments are booked that day."""
    now = now or timezone.now()
    day_start, day_end = selectors.local_day_bounds(day)
    with transaction.atomic():
        lock_desks(location.desks.values_list("pk", flat=True))
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
        invalidate_on_commit(location.pk)
    logger.info("Location %s closed again on holiday %s (user %s)", location.pk, day, getattr(actor, "pk", None))
