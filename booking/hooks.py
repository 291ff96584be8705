"""Explicit notifications out of booking.

``booking`` never imports ``nudges``; an app that must react to booking events registers a
callback here in its ``AppConfig.ready``. Callbacks run after the booking transaction has
committed, with the appointment id, and must not raise (a failing listener never undoes a
booking; it is logged).
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
EVENTS = {APPOINTMENT_BOOKED, APPOINTMENT_CANCELLED, APPOINTMENT_RESCHEDULED, APPOINTMENT_STATUS_CHANGED}

_listeners: dict[str, list[Callable[[int], None]]] = defaultdict(list)


def register(event: str, callback: Callable[[int], None]) -> None:
    if event not in EVENTS:
        raise ValueError(f"Unknown booking event {event!r}")
    if callback not in _listeners[event]:
        _listeners[event].append(callback)


def emit_on_commit(event: str, appointment_id: int) -> None:
    def run() -> None:
        for callback in list(_listeners[event]):
            try:
                callback(appointment_id)
            except Exception:
                logger.exception("Listener for %s failed (appointment id %s)", event, appointment_id)

    transaction.on_commit(run)
