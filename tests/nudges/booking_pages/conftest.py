"""nudges on booking's citizen pages (the reminder's links, the confirmation through the
outbox): booking's page fixtures (a BRP extract and a passport at the Stadhuis, the
``citizen`` who walks the steps)."""

from tests.booking.views.conftest import brp, citizen, day, location, passport  # noqa: F401
