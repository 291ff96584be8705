"""Booking outcomes for the experiments: ``booking.hooks`` callbacks (they get an appointment id
only), registered in ``NudgesConfig.ready``.

- ``appointment_booked``: after commit, inside the visitor's request; links an online booking
  to the visitor's unit (``unit.current_unit_hash``) and records "booked".
- ``appointment_cancelled``, ``appointment_status_changed``: cancelled / attended / no-show,
  for the visitor's unit of a linked booking and for the appointment's own reminder unit.
"""

from __future__ import annotations

from django.utils import timezone

from booking.constants import AppointmentStatus, CancelReason, Channel
from booking.selectors import appointment_cancellation, appointment_facts
from nudges.constants import OutcomeKind
from nudges.experiments.assignment import appointment_unit_hash
from nudges.experiments.services import _collecting_experiments_of, _insert_once, outcome_record
from nudges.experiments.unit import current_unit_hash
from nudges.models import UnitAppointment


def appointment_booked(appointment_id: int) -> None:
    """Runs after a booking commits, inside the visitor's request: link an online booking to
    the visitor's unit (from the unit cookie, see ``nudges.experiments.unit``) and record "booked"
    in each experiment that exposed the unit for one of the appointment's products."""
    unit_hash = current_unit_hash()
    if unit_hash is None:
        return
    appointment = appointment_facts(appointment_id)
    if appointment is None or appointment.channel != Channel.ONLINE:
        return  # phone and desk bookings are never attributed to a web visitor
    product_ids = list(appointment.product_ids)
    experiments = _collecting_experiments_of(unit_hash, product_ids=product_ids)
    if not experiments:
        return
    _insert_once(
        UnitAppointment, appointment_id=appointment_id, defaults={"unit_hash": unit_hash, "linked_at": timezone.now()}
    )
    for experiment in experiments:
        outcome_record(experiment=experiment, unit_hash=unit_hash, kind=OutcomeKind.BOOKED)


def _linked_outcome(appointment_id: int, kind: str) -> None:
    link = UnitAppointment.objects.filter(appointment_id=appointment_id).first()
    if link is None:
        return
    for experiment in _collecting_experiments_of(link.unit_hash):
        outcome_record(experiment=experiment, unit_hash=link.unit_hash, kind=kind)


def _reminder_outcome(appointment_id: int, kind: str) -> None:
    """The same for the reminder experiments, whose unit is the appointment itself (any
    channel); ``outcome_record`` keeps to units whose reminder actually went out."""
    unit = appointment_unit_hash(appointment_id)
    for experiment in _collecting_experiments_of(unit):
        outcome_record(experiment=experiment, unit_hash=unit, kind=kind)


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


STATUS_OUTCOMES = {AppointmentStatus.SERVED: OutcomeKind.ATTENDED, AppointmentStatus.NO_SHOW: OutcomeKind.NO_SHOW}


def appointment_status_changed(appointment_id: int) -> None:
    appointment = appointment_facts(appointment_id)
    status = appointment.status if appointment is not None else None
    if status in STATUS_OUTCOMES:
        _linked_outcome(appointment_id, STATUS_OUTCOMES[status])
        _reminder_outcome(appointment_id, STATUS_OUTCOMES[status])
