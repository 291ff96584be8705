"""Explicit notifications out of booking.

``booking`` never imports the apps built on it; an app that must react to booking events registers a
callback here in its ``AppConfig.ready``. Callbacks get the appointment id and must not raise:
a failing listener never undoes a booking; it is logged.

By default a callback runs after the booking transaction has committed. A callback registered
with ``in_transaction=True`` runs at once, inside the booking's transaction (in a savepoint of
its own), for writes that must commit together with the booking or not at all — the outbox
rows of the messages it causes: then a crash right after the commit loses no reminder.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

APPOINTMENT_BOOKED = "appointment_booked"
APPOINTMENT_CANCELLED = "appointment_cancelled"
APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
APPOINTMENT_STATUS_CHANGED = "appointment_status_changed"
# The citizen should get a (new) confirmation of this booked appointment by e-mail.
CONFIRMATION_WANTED = "confirmation_wanted"
EVENTS = {
    APPOINTMENT_BOOKED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_RESCHEDULED,
    APPOINTMENT_STATUS_CHANGED,
    CONFIRMATION_WANTED,
}

_listeners: dict[str, list[Callable[[int], None]]] = defaultdict(list)
_transactional_listeners: dict[str, list[Callable[[int], None]]] = defaultdict(list)


def register(event: str, callback: Callable[[int], None], *, in_transaction: bool = False) -> None:
    if event not in EVENTS:
        raise ValueError(f"Unknown booking event {event!r}")
    listeners = (_transactional_listeners if in_transaction else _listeners)[event]
    if callback not in listeners:
        listeners.append(callback)


def _call(event: str, callback: Callable[[int], None], appointment_id: int) -> None:
    try:
        # In a transaction this is a savepoint: a failing listener's writes are undone,
        # the booking's are not.
        with transaction.atomic():
            callback(appointment_id)
    except Exception:
        logger.exception("Listener for %s failed (appointment id %s)", event, appointment_id)


def emit(event: str, appointment_id: int) -> None:
    """Called by booking's services inside their transaction."""
    for callback in list(_transactional_listeners[event]):
        _call(event, callback, appointment_id)

    def after_commit() -> None:
        for callback in list(_listeners[event]):
            _call(event, callback, appointment_id)

    transaction.on_commit(after_commit)
