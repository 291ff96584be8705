"""The web visitor's unit, from cookie to the "booked" outcome.

- The unit is a random first-party cookie whose value is only ever stored as a keyed hash.
  ``request_unit_hash`` reads it; ``ensure_unit`` makes one for a visitor who reaches a nudge
  touchpoint for the first time and ``set_unit_cookie`` puts it on the response.
- Booking's hooks only pass an appointment id. ``NudgeUnitMiddleware`` (in ``MIDDLEWARE``)
  puts the request's unit hash in a ContextVar for the length of the request; booking runs the
  ``APPOINTMENT_BOOKED`` callbacks after commit inside that same request, so
  ``listeners.appointment_booked`` reads ``current_unit_hash()`` and links the booking to the
  visitor who was nudged. A callback run anywhere else (a Celery task, a management command)
  sees no unit and links nothing: tests/nudges/experiments/test_unit_path.py guards this path.
- The phone agent's call is a unit too (``nudges.channels.kcc``), held in the agent's session.
  The middleware also makes the request's session current (``current_session``; it is not
  read here, so a page that never asks stays free of ``Vary: Cookie``), and
  ``kcc.call_appointment_booked`` links a phone booking made during the call to the call.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse

from nudges.constants import UNIT_COOKIE
from nudges.experiments.assignment import is_valid_unit_id, new_unit_id, unit_hash

_NEW_UNIT_ATTR = "_nudges_new_unit"


def request_unit_hash(request: HttpRequest) -> str | None:
    raw = getattr(request, _NEW_UNIT_ATTR, None) or request.COOKIES.get(UNIT_COOKIE)
    return unit_hash(raw) if is_valid_unit_id(raw) else None


def ensure_unit(request: HttpRequest) -> str:
    """The visitor's unit hash, creating a unit id (set on the response later) if needed."""
    existing = request_unit_hash(request)
    if existing is not None:
        return existing
    raw = new_unit_id()
    setattr(request, _NEW_UNIT_ATTR, raw)
    return unit_hash(raw)


def set_unit_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    raw = getattr(request, _NEW_UNIT_ATTR, None)
    if raw:
        response.set_cookie(
            UNIT_COOKIE,
            raw,
            max_age=settings.NUDGES_UNIT_COOKIE_DAYS * 24 * 3600,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


_current_unit_hash: ContextVar[str | None] = ContextVar("nudges_current_unit_hash", default=None)


def current_unit_hash() -> str | None:
    """The unit of the request being served (set by ``NudgeUnitMiddleware``), else None."""
    return _current_unit_hash.get()


def set_current_unit_hash(value: str | None) -> Token:
    return _current_unit_hash.set(value)


def reset_current_unit_hash(token: Token) -> None:
    _current_unit_hash.reset(token)


_current_session: ContextVar[SessionBase | None] = ContextVar("nudges_current_session", default=None)


def current_session() -> SessionBase | None:
    """The session of the request being served (set by ``NudgeUnitMiddleware``), else None."""
    return _current_session.get()


class NudgeUnitMiddleware:
    """Reads the unit cookie into ``current_unit_hash`` and makes the request's session
    current (``current_session``, unread) for one request; writes nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_current_unit_hash(request_unit_hash(request))
        session_token = _current_session.set(getattr(request, "session", None))
        try:
            return self.get_response(request)
        finally:
            _current_session.reset(session_token)
            reset_current_unit_hash(token)
