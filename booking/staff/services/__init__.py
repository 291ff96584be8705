"""Write side of the staff pages, one module per section: ``desk`` (check-in, served, no-show,
undo), ``walk_ins``, ``phone`` (bookings by phone), ``closures`` (closures and holidays),
``schedules`` (opening hours and desk products) and ``products``.

Every service owns its transaction, records who did what on each appointment it touches
(``booking.audit.record_event`` with ``actor``), tells listeners about status changes
(``booking.hooks``) and, where availability changes, bumps its cache after commit. Locks are
taken with ``booking.locks``, in the order written there. Domain errors are
``booking.exceptions``; the views map them to form errors.

The public services are importable from here (``from booking.staff import services``).
"""

from .closures import ClosureResult, closure_create_with_cancellations, closure_delete, holiday_close, holiday_open
from .desk import appointment_check_in, appointment_mark_no_show, appointment_mark_served, appointment_undo_status
from .phone import phone_appointment_book, phone_appointment_cancel, phone_appointment_reschedule
from .products import product_price_problems, product_save
from .schedules import desk_products_set, opening_hours_add, opening_hours_delete, opening_hours_end
from .walk_ins import walk_in_register

__all__ = [
    "ClosureResult",
    "appointment_check_in",
    "appointment_mark_no_show",
    "appointment_mark_served",
    "appointment_undo_status",
    "closure_create_with_cancellations",
    "closure_delete",
    "desk_products_set",
    "holiday_close",
    "holiday_open",
    "opening_hours_add",
    "opening_hours_delete",
    "opening_hours_end",
    "phone_appointment_book",
    "phone_appointment_cancel",
    "phone_appointment_reschedule",
    "product_price_problems",
    "product_save",
    "walk_in_register",
]
