"""Throttles and rate limits key on the real client (issue 11, item 1)."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config.client_ip import client_ip, parse_num_proxies

BOOKING_RATE = 30  # API_THROTTLE_BOOKING's default, per minute: the manage endpoints keep it on in tests


def _hold(client, **headers):
    # An anonymous booking-throttled endpoint (taking a time needs an integration client).
    return client.post(f"/api/v1/appointments/{'x' * 32}/cancel/", {}, content_type="application/json", **headers)


def test_a_rotating_spoofed_x_forwarded_for_is_throttled_like_any_other_request(client, db):
    codes = [_hold(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(BOOKING_RATE + 2)]
    assert codes[:BOOKING_RATE] == [404] * BOOKING_RATE
    assert codes[BOOKING_RATE:] == [429, 429]


def test_the_429_has_the_one_error_body_and_retry_after(client, db):
    for _ in range(BOOKING_RATE):
        _hold(client)
    response = _hold(client)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_behind_one_proxy_only_the_address_that_proxy_saw_counts(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "203.0.113.7"


def test_with_no_proxies_the_header_is_ignored(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="203.0.113.9")
    assert client_ip(request) == "203.0.113.9"


def test_django_ratelimit_uses_the_same_client_address(settings):
    assert settings.RATELIMIT_IP_META_KEY == "config.client_ip.client_ip"


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("none", 0), ("0", 0), ("2", 2)])
def test_num_proxies_setting(value, expected):
    assert parse_num_proxies(value) == expected


@pytest.mark.parametrize("value", ["-1", "one"])
def test_num_proxies_nonsense_is_refused(value):
    with pytest.raises(ImproperlyConfigured):
        parse_num_proxies(value)


def _production_check(**env):
    environ = {k: v for k, v in os.environ.items() if k not in ("API_NUM_PROXIES", "CACHE_URL")}
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 60,
        NUDGES_UNIT_HASH_KEY="y" * 60,
        **{"CACHE_URL": "redis://127.0.0.1:6379/9", **env},
    )
    environ = {k: v for k, v in environ.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], env=environ, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_shared_cache():
    """Limits, caps and availability versions must count across processes."""
    result = _production_check(API_NUM_PROXIES="none", CACHE_URL=None)
    assert result.returncode != 0
    assert "CACHE_URL" in result.stderr


def test_production_refuses_to_start_without_the_number_of_proxies():
    result = _production_check()
    assert result.returncode != 0
    assert "API_NUM_PROXIES" in result.stderr


def test_production_starts_with_none():
    result = _production_check(API_NUM_PROXIES="none")
    assert "API_NUM_PROXIES" not in result.stderr


def test_an_anonymous_request_is_counted_once_and_a_signed_in_user_per_user(rf, django_user_model):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.throttling import AnonRateThrottle

    from booking.apis.auth import SignedInUserRateThrottle
    from config.settings import base

    # The defaults (the test settings switch them off for every other test).
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "rest_framework.throttling.AnonRateThrottle",
        "booking.apis.auth.SignedInUserRateThrottle",
    ]
    anonymous = rf.get("/api/v1/availability/", REMOTE_ADDR="203.0.113.9")
    anonymous.user = AnonymousUser()
    # The anonymous limit counts the address; the per-user one leaves anonymous requests alone
    # (DRF's own would count the same address again: two cache round trips more per request).
    assert AnonRateThrottle().get_cache_key(anonymous, None) == "throttle_anon_203.0.113.9"
    assert SignedInUserRateThrottle().get_cache_key(anonymous, None) is None

    signed_in = rf.get("/api/v1/availability/", REMOTE_ADDR="203.0.113.9")
    signed_in.user = django_user_model.objects.create_user("baliemedewerker", password="x" * 16)
    assert SignedInUserRateThrottle().get_cache_key(signed_in, None) == f"throttle_user_{signed_in.user.pk}"
    assert AnonRateThrottle().get_cache_key(signed_in, None) is None
