"""Walk-ins: a visitor without an appointment, placed at the first free desk time or recorded as served."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import services
from booking.audit import record_event
from booking.availability import (
    appointment_duration,
    eligible_desks,
)
from booking.constants import (
    AppointmentAction,
    AppointmentStatus,
    Channel,
)
from booking.exceptions import (
    InvalidRequest,
    SlotUnavailable,
)
from booking.locks import desk_period_claim
from booking.models import Appointment, Desk, Location, Product
from booking.services import new_token
from booking.staff import selectors
from booking.staff.services._common import status_changed
from booking.staff.services.desk import clean_online_tag

logger = logging.getLogger(__name__)


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
    online_possible, online_reason = clean_online_tag(online_possible, online_reason, required=False)
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
                if not desk_period_claim(chosen, start, end, now=now):
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
    status_changed(appointment)
