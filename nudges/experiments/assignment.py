"""Pseudonymous units and deterministic assignment.

- ``unit_hash(raw)``: the only form in which a unit id is ever stored: HMAC-SHA256 under
  ``NUDGES_UNIT_HASH_KEY``. A web visitor's raw id is a random cookie value; an API client
  sends its own pseudonymous id.
- ``appointment_unit_hash(appointment_id)``: the unit of reminder experiments, the appointment
  itself (citizens who booked by phone have no cookie).
- ``assign(salt=, unit_hash=, arms=)``: the same unit always gets the same arm of an
  experiment, and arms get units in proportion to their weights. Pure: no database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from django.conf import settings

_RAW_UNIT = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


def new_unit_id() -> str:
    """A fresh random unit id for a web visitor's cookie (128 bits)."""
    return secrets.token_urlsafe(16)


def is_valid_unit_id(raw: str | None) -> bool:
    return bool(raw) and bool(_RAW_UNIT.match(raw))


def unit_hash(raw: str) -> str:
    key = settings.NUDGES_UNIT_HASH_KEY.encode()
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()


def appointment_unit_hash(appointment_id: int) -> str:
    """Keyed, so the logs cannot be joined to appointments without ``NUDGES_UNIT_HASH_KEY``;
    the prefix keeps it apart from any cookie or API unit id."""
    return unit_hash(f"appointment:{appointment_id}")


def assign(*, salt: str, unit_hash: str, arms: Sequence[tuple[str, int]]) -> str:
    """The arm for this unit: SHA-256(salt:unit) read as a 64-bit number, scaled exactly onto
    the cumulative weights. ``arms`` is (key, weight) in a fixed order."""
    if not arms or any(weight < 1 for _key, weight in arms):
        raise ValueError("every arm needs a weight of at least 1")
    total = sum(weight for _key, weight in arms)
    digest = hashlib.sha256(f"{salt}:{unit_hash}".encode()).digest()
    point = (int.from_bytes(digest[:8], "big") * total) >> 64  # 0 <= point < total
    for key, weight in arms:
        if point < weight:
            return key
        point -= weight
    raise AssertionError("unreachable")
