import os
import time

import hypothesis
import pytest
from django.core.cache import cache
from django.test import Client

from booking.apis.availability import local_answers_clear
from booking.availability import local_parts_clear
from nudges.outbox import sms


@pytest.fixture(autouse=True)
def sms_outbox():
    """SMS sent with the in-memory backend, emptied for every test (like ``mail.outbox``)."""
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Availability results are cached; a test's own database never matches another's cache."""
    cache.clear()
    local_answers_clear()
    local_parts_clear()
    yield
    cache.clear()
    local_answers_clear()
    local_parts_clear()


def complete_mfa(client, user) -> None:
    """Give the logged-in ``client`` a verified TOTP device, as if the user had typed a code
    (booking.staff.accounts asks Managers, Beheerders and the admin for one)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from booking.staff.accounts import SESSION_VERIFIED_AT

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session[SESSION_VERIFIED_AT] = time.time()
    session.save()


password_only_force_login = Client.force_login
password_only_login = Client.login


def _force_login_with_code(self, user, backend=None):
    password_only_force_login(self, user, backend)
    complete_mfa(self, user)


def _login_with_code(self, **credentials):
    logged_in = password_only_login(self, **credentials)
    if logged_in:
        from django.contrib.auth import get_user_model

        complete_mfa(self, get_user_model().objects.get(pk=self.session["_auth_user_id"]))
    return logged_in


@pytest.fixture(autouse=True)
def _logins_complete_mfa(monkeypatch):
    """Tests of other things log in with the code given; tests of the code itself use
    ``password_only_force_login``."""
    monkeypatch.setattr(Client, "force_login", _force_login_with_code)
    monkeypatch.setattr(Client, "login", _login_with_code)


@pytest.fixture(autouse=True)
def _dutch(settings):
    settings.LANGUAGE_CODE = "nl"


# CI runs the property-based tests on a fixed sequence of examples, so a red run is
# reproducible; locally they explore new examples each run.
settings_profile = "ci" if os.environ.get("CI") else "dev"
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis.settings.register_profile("dev", print_blob=True)
hypothesis.settings.load_profile(settings_profile)
