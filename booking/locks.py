"""Row and advisory locks for booking writes.

Order, always: the e-mail lock (anti-hoarding) first, then desks in ascending id. Every
writer takes them in this order, so two writers never wait on each other in a cycle. The
exclusion constraint holds the no-overlap invariant even if a lock were missed.
On SQLite these are no-ops: its IMMEDIATE transactions already serialise writers.
"""

from __future__ import annotations

from django.db import connection

from .models import Desk


def lock_desk(desk_id: int) -> None:
    """Lock one desk row for the rest of the transaction."""
    # of=("self",) and no ordering: Desk's default ordering joins the location, and FOR UPDATE
    # would then lock the location row too, serialising (and deadlocking) all its desks.
    list(Desk.objects.select_for_update(of=("self",)).filter(pk=desk_id).order_by().values_list("pk", flat=True))


def lock_contact(email: str) -> None:
    """Serialise bookings for one e-mail address (the per-product limit spans all desks)."""
    if connection.vendor != "postgresql" or not email:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["contact:" + email.lower()])
