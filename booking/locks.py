"""Every lock a booking write takes, and the one order they are taken in.

The order, always (a write may skip a step, never go back to an earlier one):

1. the contact: a transaction-scoped advisory lock on the e-mail address (the per-product
   limit spans all desks, so it cannot be a desk lock);
2. desks, in ascending id;
3. appointment rows, in ascending id: the appointments the write changes.

So a write decides where an appointment goes (desks) before it touches the appointment (its
row), and two writers never wait on each other in a cycle. One refinement: under a desk's lock
a write removes holds on that desk that have expired (``desk_period_claim``); a hold's row is
only ever written under its desk's lock, so this cannot wait in a cycle either. Callers outside
booking take their own rows first, then call a booking service (which takes booking's locks in
this order). ``tests/locking.py`` checks every write path against this order on PostgreSQL.

``desk_period_claim`` is the one answer to "is this desk time free, now that nobody else can
change it": closures, holds that have expired (removed: they no longer block but their row would
still trip the exclusion constraint) and blocking appointments (``blocking_appointments_q``; the
constraint's statuses are ``ACTIVE_STATUSES``). The exclusion constraint holds the no-overlap
invariant even if a lock were missed. On SQLite the locks are no-ops: its IMMEDIATE
transactions already serialise writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Q

from .availability import blocking_appointments_q, overlapping_appointments
from .constants import AppointmentStatus
from .models import Appointment, Closure, Desk


def lock_contact(email: str) -> None:
    """Serialise bookings for one e-mail address (the per-product limit spans all desks)."""
    if connection.vendor != "postgresql" or not email:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["contact:" + email.lower()])


def lock_desk(desk_id: int) -> None:
    """Lock one desk row for the rest of the transaction."""
    # of=("self",) and no ordering: Desk's default ordering joins the location, and FOR UPDATE
    # would then lock the location row too, serialising (and deadlocking) all its desks.
    list(Desk.objects.select_for_update(of=("self",)).filter(pk=desk_id).order_by().values_list("pk", flat=True))


def lock_desks(desk_ids: Iterable[int]) -> list[int]:
    """Lock several desks, in ascending id; returns the ids in that order."""
    ordered = sorted(set(desk_ids))
    for desk_id in ordered:
        lock_desk(desk_id)
    return ordered


def lock_appointment(appointment_id: int) -> Appointment:
    """Lock one appointment row and return it fresh (with its desk)."""
    return Appointment.objects.select_for_update(of=("self",)).select_related("desk").get(pk=appointment_id)


def lock_appointments(appointment_ids: Iterable[int | None]) -> dict[int, Appointment]:
    """Lock appointment rows in ascending id; returns the ones that still exist, by id."""
    ids = sorted({pk for pk in appointment_ids if pk is not None})
    if not ids:
        return {}
    rows = Appointment.objects.select_for_update(of=("self",)).select_related("desk").filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def holds_release(desk_ids: Iterable[int], start: datetime, end: datetime, *, now: datetime | None = None) -> None:
    """Under the desks' locks: remove the holds in [start, end) on them; with ``now``, only the
    ones that have expired by then (they no longer block, but their rows would still trip the
    exclusion constraint); without, every hold (a closure: a live hold could otherwise still
    be confirmed into it)."""
    holds = overlapping_appointments(list(desk_ids), start, end).filter(status=AppointmentStatus.HELD)
    if now is not None:
        holds = holds.filter(hold_expires_at__lte=now)
    holds.delete()


def desk_period_claim(
    desk: Desk,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    exclude_appointment_id: int | None = None,
    respect_closures: bool = True,
) -> bool:
    """Lock the desk and tell whether [start, end) is free on it: no closure, no blocking
    appointment (other than ``exclude_appointment_id``, the one being moved). Expired holds in
    the period are removed on the way. Every write that puts an appointment on a desk calls
    this before it writes. ``respect_closures=False``: a desk action taken back (the visit's
    time has begun) is not refused by a closure made since."""
    lock_desk(desk.pk)
    # Closures are made under the same desk locks, so after taking the lock this sees every
    # closure that applies.
    if (
        respect_closures
        and Closure.objects.filter(
            Q(desk__isnull=True) | Q(desk_id=desk.pk),
            location_id=desk.location_id,
            starts_at__lt=end,
            ends_at__gt=start,
        ).exists()
    ):
        return False
    holds_release([desk.pk], start, end, now=now)
    blocking = overlapping_appointments([desk.pk], start, end).filter(blocking_appointments_q(now))
    if exclude_appointment_id is not None:
        blocking = blocking.exclude(pk=exclude_appointment_id)
    return not blocking.exists()
