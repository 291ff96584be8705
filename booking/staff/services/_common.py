"""What the staff services share: local dates and telling others something changed."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from booking import hooks
from booking.availability import invalidate_availability, local_tz
from booking.models import Appointment


def today(now: datetime) -> date:
    return now.astimezone(local_tz()).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_tz()).date()


def invalidate_on_commit(location_id: int | None) -> None:
    transaction.on_commit(lambda: invalidate_availability(location_id))


def status_changed(appointment: Appointment) -> None:
    hooks.emit(hooks.APPOINTMENT_STATUS_CHANGED, appointment.pk)
    invalidate_on_commit(appointment.desk.location_id)
