"""A small municipality behind the Qmatic facade, an integration client for it, and the
plugin stand-in pointed at the live server.

Stadhuis: desk A serves paspoort, id-kaart and rijbewijs; desk B serves rijbewijs and
uittreksel. Noord: desk C serves paspoort and uittreksel. ``parkeren`` has no desk and
``oud`` is inactive: neither is offered.
"""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import public_holidays
from booking.integrations import integration_client_create
from tests.factories import DeskFactory, LocationFactory, ProductFactory
from tests.qmatic_plugin import QmaticPlugin

PREFIX = "/qmatic/calendar-backend/public/api/"
EVERY_DAY = {wd: (time(9), time(17)) for wd in range(7)}


def working_day(days_ahead: int = 3) -> date:
    """The first weekday at least this far ahead that is not a public holiday."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    closed = public_holidays(day, day + timedelta(days=20))
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


def product(code, minutes, **extra):
    return ProductFactory(
        code=code, name_nl=code.capitalize(), minutes_per_person=minutes, booking_horizon_days=400, **extra
    )


@pytest.fixture
def town(db):
    products = {
        "paspoort": product("paspoort", 10, buffer_minutes=5),
        "id-kaart": product("id-kaart", 10),
        "rijbewijs": product("rijbewijs", 10),
        "uittreksel": product("uittreksel", 5),
        "parkeren": product("parkeren", 10),
        "oud": product("oud", 10, is_active=False),
    }
    stadhuis = LocationFactory(name="Stadhuis", street="Markt 1", postcode="1234 AB", city="Voorbeeldstad")
    noord = LocationFactory(name="Noord", street="Noordplein 2", postcode="1235 CD", city="Voorbeeldstad")
    p = products
    desks = {
        "A": DeskFactory(
            location=stadhuis, name="A", products=[p["paspoort"], p["id-kaart"], p["rijbewijs"], p["oud"]]
        ),
        "B": DeskFactory(location=stadhuis, name="B", products=[p["rijbewijs"], p["uittreksel"]]),
        "C": DeskFactory(location=noord, name="C", products=[p["paspoort"], p["uittreksel"]]),
    }
    return {"products": products, "stadhuis": stadhuis, "noord": noord, "desks": desks}


@pytest.fixture
def forms_client(db):
    client, token = integration_client_create(name="Open Formulieren", scopes=["appointments"])
    client.token = token
    return client


@pytest.fixture
def api_root(live_server):
    return live_server.url + PREFIX


@pytest.fixture
def plugin(api_root, forms_client):
    return QmaticPlugin(api_root, forms_client.token)
