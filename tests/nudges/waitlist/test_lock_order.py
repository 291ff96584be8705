"""The waiting list's accept takes its own rows (the hold's offers, the entry), then leaves
booking's locks to booking, in booking.locks' order: the contact, the desk, then the rows of the
hold and of the appointment it replaces, ascending."""

import pytest

from booking.models import Appointment
from nudges.models import WaitlistOffer
from nudges.waitlist.offers import waitlist_offer_accept
from nudges.waitlist.services import waitlist_join
from tests.locking import assert_lock_order, captured_locks, desk_time
from tests.nudges.waitlist.test_waitlist import LATER_DAY, at, book, cancel, confirmed, paspoort, stadhuis, uittreksel  # noqa: F401


@pytest.mark.django_db
def test_accepting_an_offer_takes_booking_locks_in_booking_order(cancel, stadhuis, paspoort):  # noqa: F811
    current = book(stadhuis, at(14, 0, LATER_DAY), paspoort, email="verzetter@example.nl", name="Ruben Verzet")
    mover = confirmed(
        waitlist_join(products=[], persons=1, location=None, name="", email=current.email, appointment=current)
    )
    freed = book(stadhuis, at(10), paspoort)
    offer = next(o for o in cancel(freed) if o.entry == mover)
    hold = Appointment.objects.get(pk=offer.hold_id)

    with captured_locks() as locks:
        moved = waitlist_offer_accept(offer=offer)

    assert moved.start == at(10)
    booking_locks = [lock for lock in locks if not lock[0].startswith("other:")]
    assert booking_locks == [
        ("contact", "verzetter@example.nl"),
        ("desk shared", hold.desk_id),
        desk_time(hold.desk_id, hold.start, hold.end),
        *sorted([("appointment", hold.pk), ("appointment", current.pk)]),
    ]
    assert locks[0][0] == f"other:{WaitlistOffer._meta.db_table}"
    assert_lock_order(locks)
