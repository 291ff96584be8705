"""Fixtures for the citizen pages: a BRP extract and a passport at the Stadhuis, one desk
open Monday–Friday 09:00–17:00, and a helper that walks the booking steps."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from booking.availability import public_holidays
from tests.factories import DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")


def next_working_day(min_days_ahead: int = 7):
    day = timezone.localdate() + timedelta(days=min_days_ahead)
    holidays = public_holidays(day, day + timedelta(days=14))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture
def brp():
    return ProductFactory(
        code="uittreksel-brp",
        name_nl="Uittreksel BRP",
        name_en="BRP extract",
        minutes_per_person=10,
        checklist_nl="Uw identiteitsbewijs",
        checklist_en="Your identity document",
        online=True,
    )


@pytest.fixture
def passport():
    return ProductFactory(
        code="paspoort",
        name_nl="Paspoort",
        name_en="Passport",
        minutes_per_person=15,
        fee_counter=Decimal("84.70"),
        cost_counter=Decimal("86.00"),
        checklist_nl="Uw huidige paspoort\nEen recente pasfoto",
        checklist_en="Your current passport\nA recent passport photo",
    )


@pytest.fixture
def location(brp, passport):
    location = LocationFactory(name="Stadhuis", street="Markt 1", postcode="1234 AB", city="Voorbeeldstad")
    DeskFactory(location=location, name="Balie 1", products=[brp, passport])
    return location


@pytest.fixture
def day():
    return next_working_day()


class Citizen:
    """Walks the booking pages with the Django test client, step by step."""

    def __init__(self, client, location):
        self.client = client
        self.location = location

    def choose_products(self, *codes, persons=1):
        return self.client.post("/afspraak-maken/", {"products": list(codes), "persons": persons})

    def choose_location(self):
        return self.client.post("/afspraak-maken/vestiging/", {"location": self.location.pk})

    def choose_time(self, start):
        return self.client.post("/afspraak-maken/tijd/", {"start": start.isoformat()})

    def fill_details(self, **extra):
        data = {"name": "Anouk de Vries", "email": "anouk@example.nl", "phone": "", "remind_by_email": "on"}
        data.update(extra)
        return self.client.post("/afspraak-maken/gegevens/", {k: v for k, v in data.items() if v is not None})

    def confirm(self):
        return self.client.post("/afspraak-maken/controleren/")

    def up_to_details(self, start, *codes):
        assert self.choose_products(*(codes or ("uittreksel-brp",))).status_code == 302
        assert self.choose_location().status_code == 302
        response = self.choose_time(start)
        assert response.status_code == 302, response.content.decode()[:2000]
        return response

    def up_to_check(self, start, *codes, **details):
        self.up_to_details(start, *codes)
        response = self.fill_details(**details)
        assert response.status_code == 302, response.content.decode()[:2000]
        return response


@pytest.fixture
def citizen(client, location):
    return Citizen(client, location)
