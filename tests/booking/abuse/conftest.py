from tests.booking.views.conftest import brp, citizen, day, location, passport  # noqa: F401
