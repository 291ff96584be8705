"""Every lock a booking write takes, and the one order they are taken in.

The order, always (a write may skip a step, never go back to an earlier one):

1. the contact: a transaction-scoped advisory lock on the e-mail address (the per-product
   limit spans all desks, so it cannot be a desk lock); for a hold, the same kind of lock on
   its holder (the per-client cap on live holds, ``booking.limits``) — no write takes both;
2. desks, in ascending id; for each desk its row and then, for a write that puts an
   appointment on it, the desk's time cells of the period, ascending;
3. appointment rows, in ascending id: the appointments the write changes.

Two strengths of desk lock. A write that changes what may be booked on a desk at all (closures,
opening hours, the products it serves, a holiday closed again) takes the desk row ``FOR UPDATE``
(``lock_desk``, ``lock_desks``): it waits for every write in progress at the desk and holds off
every new one. A write that puts an appointment on a desk (``desk_period_claim``) takes the
row ``FOR SHARE`` (so it excludes the former, not other bookings) and an exclusive lock on each
five-minute cell of the desk that the period touches (``lock_desk_time``: advisory locks keyed
by desk id and cell number, the two-key form, which nothing else uses). Two periods that overlap
share a cell, so two bookings of one desk wait for each other exactly when they could collide
(and, rarely, when they touch the same cell without overlapping); bookings of different times
at one desk run side by side. Before issue 14 a booking took the desk row ``FOR UPDATE``, and a
location booked one time after another however distinct the times were.

So a write decides where an appointment goes (desks) before it touches the appointment (its
row), and two writers never wait on each other in a cycle. One refinement: under a desk time's
lock a write removes holds there that have expired (``desk_period_claim``); a hold's row is
written only by its holder's confirmation (under the lock of the hold's own desk time) or by
a write whose period overlaps it (under a lock of a cell the hold touches), and two writers
that both touch two holds overlap each other and so wait at the cells, before either touches
a hold. Callers outside booking take their own rows first, then call a booking service (which
takes booking's locks in this order). ``tests/locking.py`` checks every write path against
this order on PostgreSQL.

``desk_period_claim`` is the one answer to "is this desk time free, now that nobody else can
change it": closures, holds that have expired (removed: they no longer block but their row would
still trip the exclusion constraint) and blocking appointments (``blocking_appointments_q``; the
constraint's statuses are ``ACTIVE_STATUSES``). The exclusion constraint holds the no-overlap
invariant even if a lock were missed. On SQLite the locks are no-ops: its IMMEDIATE
transactions already serialise writers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Q

from .availability import BLOCKING_SQL, OVERLAP_SQL, blocking_appointments_q, overlap_params, overlapping_appointments
from .constants import AppointmentStatus
from .models import Appointment, Closure, Desk


def _advisory_lock(key: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def lock_contact(email: str) -> None:
    """Serialise bookings for one mailbox (the per-product limit spans all desks); ``email`` as
    the limit compares it (``booking.cleaning.email_key``)."""
    if email:
        _advisory_lock("contact:" + email.lower())


def lock_holder(client_key: str) -> None:
    """Serialise holds placed from one client (the cap counts its live holds across desks)."""
    if client_key:
        _advisory_lock("holder:" + client_key)


# The size of a desk time cell (``lock_desk_time``). Smaller than any grid, so bookings of
# neighbouring grid times do not share one; a booking of 12 hours (the longest) takes 144.
DESK_TIME_CELL_SECONDS = 5 * 60


def lock_desk(desk_id: int) -> None:
    """Lock one desk row exclusively for the rest of the transaction: no appointment can be
    put on the desk until it ends (for writes that change what may be booked there)."""
    # of=("self",) and no ordering: Desk's default ordering joins the location, and FOR UPDATE
    # would then lock the location row too, serialising (and deadlocking) all its desks.
    list(Desk.objects.select_for_update(of=("self",)).filter(pk=desk_id).order_by().values_list("pk", flat=True))


def lock_desks(desk_ids: Iterable[int]) -> list[int]:
    """Lock several desks, in ascending id; returns the ids in that order."""
    ordered = sorted(set(desk_ids))
    for desk_id in ordered:
        lock_desk(desk_id)
    return ordered


def desk_time_cells(start: datetime, end: datetime) -> range:
    """The numbers of the cells (``DESK_TIME_CELL_SECONDS`` since the epoch) that [start, end)
    touches; two overlapping periods share at least one (the cell of the later start)."""
    first = int(start.timestamp()) // DESK_TIME_CELL_SECONDS
    last = (math.ceil(end.timestamp()) - 1) // DESK_TIME_CELL_SECONDS
    return range(first, last + 1)


def lock_desk_time(desk_id: int, start: datetime, end: datetime) -> None:
    """For a write that puts an appointment on the desk in [start, end): share the desk row
    (an exclusive ``lock_desk`` waits for it), then lock the desk's cells of the period
    exclusively, ascending. One statement: the EXISTS is an init plan, run before the cells."""
    if connection.vendor != "postgresql":
        return
    cells = desk_time_cells(start, end)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, cell) FROM generate_series(%s, %s) AS cell"
            ' WHERE EXISTS (SELECT 1 FROM "booking_desk" WHERE "booking_desk"."id" = %s FOR SHARE)',
            [desk_id, cells.start, cells.stop - 1, desk_id],
        )


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
    """Take the desk time (``lock_desk_time``) and tell whether [start, end) is free on it: no closure, no blocking
    appointment (other than ``exclude_appointment_id``, the one being moved). Expired holds in
    the period are removed on the way. Every write that puts an appointment on a desk calls
    this before it writes. ``respect_closures=False``: a desk action taken back (the visit's
    time has begun) is not refused by a closure made since."""
    lock_desk_time(desk.pk, start, end)
    # Closures are made under the desk's exclusive lock, so after taking the shared one this sees
    # every closure that applies. Expired holds are only looked for, and removed below when the
    # time is otherwise free (rarely).
    is_closed, is_blocked, has_expired = _claim_questions(
        desk,
        start,
        end,
        now=now,
        exclude_appointment_id=exclude_appointment_id,
        respect_closures=respect_closures,
    )
    if is_closed or is_blocked:
        return False
    if has_expired:
        holds_release([desk.pk], start, end, now=now)
    return True


# The claim's three questions in one raw query: compiling them as an ORM query (three Exists
# with outer references) cost more CPU than the rest of the claim (6.5 ms a booking).
_CLAIM_SQL = f"""
SELECT
    %(closures)s AND EXISTS (
        SELECT 1 FROM booking_closure
        WHERE location_id = %(location)s AND (desk_id IS NULL OR desk_id = ANY(%(desks)s))
          AND starts_at < %(until)s AND ends_at > %(from)s
    ),
    EXISTS (SELECT 1 FROM booking_appointment WHERE {OVERLAP_SQL} AND {BLOCKING_SQL} AND id <> %(exclude)s),
    EXISTS (
        SELECT 1 FROM booking_appointment
        WHERE {OVERLAP_SQL} AND status = %(held)s AND hold_expires_at <= %(now)s
    )
"""  # noqa: S608 (constants only)


def _claim_questions(
    desk: Desk,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    exclude_appointment_id: int | None,
    respect_closures: bool,
) -> tuple[bool, bool, bool]:
    """Whether [start, end) on the desk is closed, taken by a blocking appointment (other than
    ``exclude_appointment_id``), and overlapped by expired holds: one query."""
    if connection.vendor == "postgresql":
        params = overlap_params([desk.pk], start, end, now=now, exclude_appointment_id=exclude_appointment_id)
        params.update(closures=respect_closures, location=desk.location_id)
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, params)
            closed, blocked, expired = cursor.fetchone()
        return closed, blocked, expired
    overlapping = overlapping_appointments([desk.pk], start, end)
    blocking = overlapping.filter(blocking_appointments_q(now)).exclude(pk=exclude_appointment_id)
    expired_holds = overlapping.filter(status=AppointmentStatus.HELD, hold_expires_at__lte=now)
    closures = Closure.objects.filter(
        Q(desk__isnull=True) | Q(desk_id=desk.pk), location_id=desk.location_id, starts_at__lt=end, ends_at__gt=start
    )
    return respect_closures and closures.exists(), blocking.exists(), expired_holds.exists()
