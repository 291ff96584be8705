import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Availability results are cached; a test's own database never matches another's cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _dutch(settings):
    settings.LANGUAGE_CODE = "nl"
