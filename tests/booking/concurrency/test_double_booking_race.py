"""Real races on PostgreSQL: many threads take the same time at once.

Each thread has its own database connection and commits for real (``transaction=True``), so
the desk locks (row and time cells), the contact lock and the exclusion constraint all take part.
"""

import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from booking import locks
from booking.constants import AppointmentStatus
from booking.exceptions import SlotUnavailable, TooManyActiveAppointments
from booking.models import Appointment
from booking.services import appointment_book, appointment_hold
from booking.staff import services as staff
from tests.concurrency import race
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)
WEDNESDAY = date(2027, 3, 3)
START = datetime.combine(WEDNESDAY, time(10), tzinfo=AMS)
THREADS = 20


def kinds(outcomes):
    return Counter("ok" if isinstance(o, Appointment) else type(o).__name__ for o in outcomes)


@pytest.fixture
def location():
    return LocationFactory(grid_minutes=10)


@pytest.fixture
def product():
    return ProductFactory(code="paspoort", minutes_per_person=10, min_notice_minutes=0)


def book_at_start(product, location):
    def action(i):
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=START,
            name=f"Inwoner {i}",
            email=f"inwoner{i}@example.nl",
            now=NOW,
        )

    return action


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_race_for_one_desk(location, product):
    desk = DeskFactory(location=location, products=[product])
    DeskFactory(location=location, products=[ProductFactory(code="rijbewijs")])  # another skill: irrelevant

    outcomes = race(THREADS, book_at_start(product, location))

    assert kinds(outcomes) == {"ok": 1, "SlotUnavailable": THREADS - 1}, outcomes
    rows = list(Appointment.objects.all())
    assert len(rows) == 1
    winner = next(o for o in outcomes if isinstance(o, Appointment))
    assert (rows[0].pk, rows[0].desk_id, rows[0].start) == (winner.pk, desk.pk, START)
    assert rows[0].status == AppointmentStatus.BOOKED
    assert rows[0].email == winner.email
    # Every loser heard about free times nearby, not the taken one.
    for loser in (o for o in outcomes if isinstance(o, SlotUnavailable)):
        assert loser.alternatives
        assert START not in {a.start for a in loser.alternatives}


@pytest.mark.django_db(transaction=True)
def test_twenty_holds_race_for_one_desk(location, product):
    desk = DeskFactory(location=location, products=[product])

    def action(i):
        return appointment_hold(products=[product], persons=1, location=location, start=START, now=NOW)

    outcomes = race(THREADS, action)

    assert kinds(outcomes) == {"ok": 1, "SlotUnavailable": THREADS - 1}, outcomes
    row = Appointment.objects.get()
    assert (row.desk_id, row.start, row.status) == (desk.pk, START, AppointmentStatus.HELD)


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_race_for_two_desks(location, product):
    desks = {DeskFactory(location=location, products=[product]).pk for _ in range(2)}

    outcomes = race(THREADS, book_at_start(product, location))

    assert kinds(outcomes) == {"ok": 2, "SlotUnavailable": THREADS - 2}, outcomes
    rows = list(Appointment.objects.all())
    assert len(rows) == 2
    assert {r.desk_id for r in rows} == desks
    assert {r.start for r in rows} == {START}


@pytest.mark.django_db(transaction=True)
def test_bookings_race_while_an_expired_hold_sits_on_the_time(location, product):
    # The expired hold's row still exists (no cleanup has run); exactly one racer replaces it.
    desk = DeskFactory(location=location, products=[product])
    AppointmentFactory(
        desk=desk, start=START, end=START + timedelta(minutes=10), held=True, hold_expires_at=NOW - timedelta(minutes=1)
    )

    outcomes = race(THREADS, book_at_start(product, location))

    assert kinds(outcomes) == {"ok": 1, "SlotUnavailable": THREADS - 1}, outcomes
    row = Appointment.objects.get()
    assert (row.desk_id, row.start, row.status) == (desk.pk, START, AppointmentStatus.BOOKED)


@pytest.mark.django_db(transaction=True)
def test_a_hold_confirmed_twice_at_once_keeps_the_first_booking(location, product):
    # The hold's token sent in several requests at once (the form sent twice, the second time
    # with the address corrected, so the contact lock does not serialise them).
    DeskFactory(location=location, products=[product])
    hold = appointment_hold(products=[product], persons=1, location=location, start=START, now=NOW)

    def action(i):
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=START,
            name="Jan",
            email=f"jan{i}@example.nl",
            hold_token=hold.manage_token,
            now=NOW,
        )

    outcomes = race(5, action)

    assert kinds(outcomes) == {"ok": 1, "HoldExpired": 4}, outcomes
    winner = next(o for o in outcomes if isinstance(o, Appointment))
    row = Appointment.objects.get()
    assert (row.pk, row.reference, row.status) == (hold.pk, winner.reference, AppointmentStatus.BOOKED)


@pytest.mark.django_db(transaction=True)
def test_one_email_racing_for_several_times_gets_one_appointment(location, product):
    # Anti-hoarding under concurrency: the same e-mail asks for ten different times at once.
    DeskFactory(location=location, products=[product])

    def action(i):
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=START + timedelta(minutes=10 * i),
            name="Jan",
            email="jan@example.nl",
            now=NOW,
        )

    outcomes = race(10, action)

    assert kinds(outcomes) == {"ok": 1, "TooManyActiveAppointments": 9}, outcomes
    assert all(isinstance(o, Appointment | TooManyActiveAppointments) for o in outcomes)
    assert Appointment.objects.filter(email="jan@example.nl").count() == 1


def hold_in_another_transaction(take):
    """Run ``take()`` in a transaction of another thread and keep it open until the returned
    ``release`` is called."""
    taken, done = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                take()
                taken.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert taken.wait(timeout=30)

    def release():
        done.set()
        thread.join(timeout=30)

    return release


def waits(take) -> bool:
    """Whether ``take()`` has to wait for a lock another transaction holds (1 s is enough)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            take()
    except OperationalError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_locking_one_desk_does_not_block_another_desk(location, product):
    first = DeskFactory(location=location, products=[product])
    second = DeskFactory(location=location, products=[product])
    release = hold_in_another_transaction(lambda: locks.lock_desk(first.pk))
    try:
        assert waits(lambda: locks.lock_desk(first.pk))  # the first desk really is locked ...
        assert not waits(lambda: locks.lock_desk(second.pk))  # ... the second is independent of it
    finally:
        release()


@pytest.mark.django_db(transaction=True)
def test_a_booking_waits_only_for_bookings_of_its_desk_time_and_for_the_whole_desk(location, product):
    desk = DeskFactory(location=location, products=[product])
    minutes = lambda a, b: (START + timedelta(minutes=a), START + timedelta(minutes=b))  # noqa: E731
    release = hold_in_another_transaction(lambda: locks.lock_desk_time(desk.pk, *minutes(0, 10)))
    try:
        # Another time at the desk does not wait, not even the one right after it ...
        assert not waits(lambda: locks.lock_desk_time(desk.pk, *minutes(10, 20)))
        assert not waits(lambda: locks.lock_desk_time(desk.pk, *minutes(-30, 0)))
        # ... an overlapping time does, and so does a closure or schedule change of the desk.
        assert waits(lambda: locks.lock_desk_time(desk.pk, *minutes(5, 15)))
        assert waits(lambda: locks.lock_desk_time(desk.pk, *minutes(-60, 60)))
        assert waits(lambda: locks.lock_desk(desk.pk))
    finally:
        release()

    release = hold_in_another_transaction(lambda: locks.lock_desk(desk.pk))
    try:
        assert waits(lambda: locks.lock_desk_time(desk.pk, *minutes(120, 130)))  # no booking during a closure
    finally:
        release()


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_of_distinct_times_at_one_desk_all_succeed(location, product):
    desk = DeskFactory(location=location, products=[product])

    def action(i):
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=START + timedelta(minutes=10 * i),
            name=f"Inwoner {i}",
            email=f"inwoner{i}@example.nl",
            now=NOW,
        )

    outcomes = race(THREADS, action)

    assert kinds(outcomes) == {"ok": THREADS}, outcomes
    assert sorted(Appointment.objects.filter(desk=desk).values_list("start", flat=True)) == [
        START + timedelta(minutes=10 * i) for i in range(THREADS)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_closure_racing_with_bookings_leaves_no_booking_inside_it(location, product):
    desks = [DeskFactory(location=location, products=[product]) for _ in range(2)]
    closed_from, closed_until = START, START + timedelta(hours=2)

    def action(i):
        if i == 0:
            return staff.closure_create_with_cancellations(
                actor=None, location=location, starts_at=closed_from, ends_at=closed_until, reason="Storing", now=NOW
            )
        return appointment_book(
            products=[product],
            persons=1,
            location=location,
            start=START + timedelta(minutes=10 * (i % 12)),
            name=f"Inwoner {i}",
            email=f"inwoner{i}@example.nl",
            now=NOW,
        )

    outcomes = race(THREADS, action)

    assert isinstance(outcomes[0], staff.ClosureResult), outcomes[0]
    assert all(isinstance(o, Appointment | SlotUnavailable) for o in outcomes[1:]), outcomes
    # Booked before the closure took the desks: cancelled by it; after: refused.
    inside = Appointment.objects.filter(desk__in=desks, start__lt=closed_until, end__gt=closed_from)
    assert not inside.exclude(status=AppointmentStatus.CANCELLED).exists()
    assert inside.count() == len(outcomes[0].cancelled)


# --- the database constraint itself --------------------------------------------------------


@pytest.fixture
def desk(location, product):
    return DeskFactory(location=location, products=[product])


def insert(desk, start_minute, end_minute, **kwargs):
    return AppointmentFactory(
        desk=desk,
        start=START + timedelta(minutes=start_minute),
        end=START + timedelta(minutes=end_minute),
        **kwargs,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ({}, {}),
        ({}, {"held": True}),
        ({"held": True}, {}),
        ({"status": AppointmentStatus.CHECKED_IN}, {}),
        # An expired hold still counts for the constraint: the service deletes it first.
        ({"held": True, "hold_expires_at": NOW - timedelta(days=1)}, {}),
    ],
)
def test_exclusion_constraint_rejects_overlap_on_one_desk(desk, existing, new):
    insert(desk, 0, 30, **existing)

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        insert(desk, 20, 40, **new)  # bypasses the services

    assert excinfo.value.__cause__.sqlstate == "23P01"  # exclusion_violation
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.SERVED, AppointmentStatus.NO_SHOW])
def test_exclusion_constraint_ignores_inactive_rows(desk, status):
    insert(desk, 0, 30)

    insert(desk, 0, 30, status=status)
    insert(desk, 10, 20, status=status)

    assert Appointment.objects.filter(desk=desk).count() == 3


@pytest.mark.django_db
def test_exclusion_constraint_allows_touching_periods_and_other_desks(desk, location, product):
    other = DeskFactory(location=location, products=[product])
    insert(desk, 0, 30)

    insert(desk, 30, 40)  # [10:00, 10:30) and [10:30, 10:40) touch but do not overlap
    insert(other, 0, 30)

    assert Appointment.objects.count() == 3
