"""``NudgeUnitMiddleware``: makes the visitor's pseudonymous unit (the keyed hash of the unit
cookie) available to booking-hook callbacks during the request (see ``nudges.context``).
Reads one cookie; writes nothing; sets no cookie."""

from __future__ import annotations

from .context import reset_current_unit_hash, set_current_unit_hash
from .web import request_unit_hash


class NudgeUnitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_current_unit_hash(request_unit_hash(request))
        try:
            return self.get_response(request)
        finally:
            reset_current_unit_hash(token)
