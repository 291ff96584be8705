"""Booking outcomes for the experiments: ``booking.hooks`` callbacks (they get an appointment id
only), registered in ``NudgesConfig.ready``.

- ``appointment_booked``: after commit, inside the visitor's request; links an online booking
  to the visitor's unit (``unit.current_unit_hash``) and records "booked". A phone booking
  made during a KCC call is linked to the call by ``nudges.channels.kcc.call_appointment_booked``.
- ``appointment_cancelled``, ``appointment_status_changed``: cancelled / attended / no-show,
  for the visitor's unit of a linked booking and for the appointment's own reminder unit.

Every outcome counts only where a nudge could have caused it
(``selectors.attributable_exposures``: the experiment covers one of the appointment's
products, the unit was exposed before the booking, the outcome falls in the running window).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from booking.constants import AppointmentStatus, CancelReason
from booking.selectors import appointment_cancellation, appointment_facts
from nudges.constants import OutcomeKind, Source
from nudges.experiments import selectors
from nudges.experiments.logs import _outcomes_record, booking_link_record
from nudges.experiments.unit import current_unit_hash


def appointment_booked(appointment_id: int) -> None:
    """Runs after a booking commits, inside the visitor's request: link an online booking to
    the visitor's unit (from the unit cookie, see ``nudges.experiments.unit``) and record
    "booked" in each experiment that exposed the unit for one of the appointment's products
    before the booking (one query, whoever else was exposed)."""
    unit_hash = current_unit_hash()
    if unit_hash is None:
        return
    now = timezone.now()
    # Phone and desk bookings are never attributed to a web visitor (``online_only``).
    exposures = selectors.attributable_exposures(
        appointment_id=appointment_id, unit_hash=unit_hash, at=now, online_only=True
    )
    booking_link_record(
        appointment_id=appointment_id, unit_hash=unit_hash, exposures=exposures, source=Source.WEB, now=now
    )


def _outcome_time(appointment_id: int) -> datetime:
    """When the appointment's latest outcome happened (cancelled or handled), else now."""
    facts = appointment_facts(appointment_id)
    moments = (facts.handled_at, facts.cancelled_at) if facts is not None else ()
    return next((t for t in moments if t is not None), None) or timezone.now()


def _linked_outcome(appointment_id: int, kind: str) -> None:
    now = _outcome_time(appointment_id)
    exposures = selectors.attributable_exposures(appointment_id=appointment_id, at=now)
    _outcomes_record(exposures, kind=kind, source=Source.WEB, now=now)


def _reminder_outcome(appointment_id: int, kind: str) -> None:
    """The same for the reminder experiments, whose unit is the appointment itself (any
    channel, kept through a waiting-list move); the reminder must have gone out before."""
    now = _outcome_time(appointment_id)
    exposures = selectors.attributable_exposures(
        appointment_id=appointment_id,
        unit_hash=selectors.reminder_unit_hash(appointment_id),
        at=now,
        exposed_before_booking=False,
    )
    _outcomes_record(exposures, kind=kind, source=Source.WEB, now=now)


def appointment_cancelled(appointment_id: int) -> None:
    cancellation = appointment_cancellation(appointment_id)
    if cancellation is not None and cancellation.reason == CancelReason.MOVED_EARLIER:
        return  # replaced by an earlier time from the waiting list: a move, not a cancellation
    _linked_outcome(appointment_id, OutcomeKind.CANCELLED)
    if cancellation is None:
        return
    if cancellation.by_citizen:
        # Cancelled in advance by the citizen; a closure (the municipality's doing) says
        # nothing about a reminder's wording.
        _reminder_outcome(appointment_id, OutcomeKind.CANCELLED)
    if cancellation.reason == CancelReason.DONE_ONLINE:
        # Told us through "already arranged online?" (self-reported: source web, and not an
        # OnlineCompletion, which only the online channel reports).
        _linked_outcome(appointment_id, OutcomeKind.COMPLETED_ONLINE)
        _reminder_outcome(appointment_id, OutcomeKind.COMPLETED_ONLINE)


STATUS_OUTCOMES: dict[str, OutcomeKind] = {
    AppointmentStatus.SERVED: OutcomeKind.ATTENDED,
    AppointmentStatus.NO_SHOW: OutcomeKind.NO_SHOW,
}


def appointment_status_changed(appointment_id: int) -> None:
    appointment = appointment_facts(appointment_id)
    status = appointment.status if appointment is not None else None
    if status in STATUS_OUTCOMES:
        _linked_outcome(appointment_id, STATUS_OUTCOMES[status])
        _reminder_outcome(appointment_id, STATUS_OUTCOMES[status])
