"""Anti-hoarding limits per visitor session and per client address (issue 11).

Public: ``Holder`` / ``holder_for`` (who places a hold, for ``services.appointment_hold``) and
``client_bookings_check`` / ``client_bookings_count`` (bookings per client per hour and per day).

The client address is the one every page limit uses (django-ratelimit's ``key="ip"``, so
``RATELIMIT_IP_META_KEY`` and the proxies setting apply here too; IPv6 by /64): a rotated
``X-Forwarded-For`` or a fresh session is the same client. Only keyed hashes reach the
database (on a hold, emptied when it is booked); booking counts live in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django_ratelimit.core import _get_ip, get_usage

from .exceptions import TooManyBookings


@dataclass(frozen=True)
class Holder:
    """Who places a hold: keyed hashes of the visitor's session and of the client's address
    (either may be empty: the API's integration clients have no session and are limited per
    client instead)."""

    session: str = ""
    client: str = ""


def _keyed(domain: str, value: str) -> str:
    return salted_hmac(f"booking.limits.{domain}", value, algorithm="sha256").hexdigest()[:64]


def client_address(request: HttpRequest) -> str:
    return _get_ip(request)


def holder_for(request: HttpRequest) -> Holder:
    """The holder of a hold placed by this web request (the session is created if needed)."""
    if request.session.session_key is None:
        request.session.save()
    return Holder(
        session=_keyed("session", request.session.session_key or ""),
        client=_keyed("client", client_address(request)),
    )


def _client_booking_rates() -> list[tuple[str, str]]:
    return [
        ("booking-client-hour", f"{settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR}/h"),
        ("booking-client-day", f"{settings.BOOKING_MAX_BOOKINGS_PER_CLIENT_DAY}/d"),
    ]


def _usage(request: HttpRequest, *, increment: bool) -> list[dict]:
    usages = []
    for group, rate in _client_booking_rates():
        if rate.startswith("0/"):
            continue  # 0 switches a cap off
        usage = get_usage(request, group=group, key="ip", rate=rate, increment=increment)
        if usage is not None:
            usages.append(usage)
    return usages


def client_bookings_check(request: HttpRequest) -> None:
    """Raise ``TooManyBookings`` when this client has booked its hourly or daily number."""
    if any(usage["count"] >= usage["limit"] for usage in _usage(request, increment=False)):
        raise TooManyBookings()


def client_bookings_count(request: HttpRequest) -> None:
    """Count one booking made by this client (after it succeeded)."""
    _usage(request, increment=True)
