import os

import hypothesis
import pytest
from django.core.cache import cache

from booking.apis.availability import local_answers_clear
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
    yield
    cache.clear()
    local_answers_clear()


@pytest.fixture(autouse=True)
def _dutch(settings):
    settings.LANGUAGE_CODE = "nl"


# CI runs the property-based tests on a fixed sequence of examples, so a red run is
# reproducible; locally they explore new examples each run.
settings_profile = "ci" if os.environ.get("CI") else "dev"
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis.settings.register_profile("dev", print_blob=True)
hypothesis.settings.load_profile(settings_profile)
