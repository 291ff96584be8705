"""Opening hours and the products a desk serves; refused while booked appointments would be stranded."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.constants import (
    AppointmentStatus,
)
from booking.exceptions import (
    InvalidRequest,
    ScheduleConflict,
)
from booking.locks import lock_desk
from booking.models import Appointment, Desk, OpeningHours, Product
from booking.staff import selectors
from booking.staff.services._common import invalidate_on_commit, local_date

logger = logging.getLogger(__name__)


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
        upcoming = [a for a in upcoming if local_date(a.start).weekday() == weekday]
    if not upcoming:
        return []
    # Hours only: an appointment kept inside a closure is not stranded by an hours change.
    intervals = selectors.open_intervals_for_desks(
        [desk], local_date(upcoming[0].start), local_date(upcoming[-1].end), subtract_closures=False
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
        invalidate_on_commit(desk.location_id)
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
            invalidate_on_commit(hours.desk.location_id)
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
        invalidate_on_commit(desk.location_id)
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
        invalidate_on_commit(desk.location_id)
    logger.info("Desk %s now serves %s products (user %s)", desk.pk, len(products), getattr(actor, "pk", None))
    return list(products)
