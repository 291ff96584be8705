"""The client's address, the same way for every limit: DRF's throttles (``NUM_PROXIES``),
django-ratelimit (``RATELIMIT_IP_META_KEY``) and django-axes (``AXES_CLIENT_IP_CALLABLE``).

``API_NUM_PROXIES`` says how many proxies the operator runs in front of the app ("none" or 0:
the TCP peer is the client). Only that many right-most ``X-Forwarded-For`` entries are trusted;
whatever a client writes further left is ignored, so a spoofed header is just one more request
from the same address.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def parse_num_proxies(value: str | None) -> int | None:
    """``None`` when unset (production refuses that), else the number of trusted proxies."""
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    if value == "none":
        return 0
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ImproperlyConfigured('API_NUM_PROXIES: the number of proxies in front of the app, or "none".')
    return number


def client_ip(request) -> str:
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    remote_addr = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies == 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(num_proxies, len(addresses))] or remote_addr
