"""The current request's pseudonymous unit, for booking hooks that only get an appointment id.

``nudges.middleware.NudgeUnitMiddleware`` sets it from the unit cookie for the length of one
request; ``booking.hooks`` callbacks run after commit inside that same request, so
``services.appointment_booked`` can link an online booking to the visitor who was nudged.
"""

from __future__ import annotations

from contextvars import ContextVar

_current_unit_hash: ContextVar[str | None] = ContextVar("nudges_current_unit_hash", default=None)


def current_unit_hash() -> str | None:
    return _current_unit_hash.get()


def set_current_unit_hash(value: str | None):
    return _current_unit_hash.set(value)


def reset_current_unit_hash(token) -> None:
    _current_unit_hash.reset(token)
