"""The web visitor's unit: a random first-party cookie whose value is only ever stored as a
keyed hash. ``request_unit_hash`` reads it; ``ensure_unit`` makes one for a visitor who
reaches a nudge touchpoint for the first time and ``set_unit_cookie`` puts it on the response."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .assignment import is_valid_unit_id, new_unit_id, unit_hash
from .constants import UNIT_COOKIE

_NEW_UNIT_ATTR = "_nudges_new_unit"


def request_unit_hash(request: HttpRequest) -> str | None:
    raw = getattr(request, _NEW_UNIT_ATTR, None) or request.COOKIES.get(UNIT_COOKIE)
    return unit_hash(raw) if is_valid_unit_id(raw) else None


def ensure_unit(request: HttpRequest) -> str:
    """The visitor's unit hash, creating a unit id (set on the response later) if needed."""
    existing = request_unit_hash(request)
    if existing is not None:
        return existing
    setattr(request, _NEW_UNIT_ATTR, new_unit_id())
    return request_unit_hash(request)


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
