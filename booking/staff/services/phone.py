"""Bookings by phone: booking's services with channel phone and an e-mailed confirmation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from booking import services
from booking.constants import (
    Channel,
)
from booking.models import Appointment, Location, Product

logger = logging.getLogger(__name__)


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
