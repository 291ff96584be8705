"""How many queries a booking costs: the number is part of the contract, so that a change that
adds a round trip to the hot write path shows up here (issue 14, benchmarks/README.md)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from booking.availability import public_holidays
from booking.models import Appointment
from tests.factories import DeskFactory, LocationFactory, ProductFactory, integration_token

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.django_db


def working_day():
    day = timezone.localdate() + timedelta(days=7)
    holidays = public_holidays(day, day + timedelta(days=14))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def body(location, day, hour, email):
    return {
        "products": ["paspoort"],
        "persons": 1,
        "location": location.pk,
        "start": datetime.combine(day, time(hour), tzinfo=AMS).isoformat(),
        "name": "Anouk de Vries",
        "email": email,
    }


def test_a_booking_through_the_api_costs_a_fixed_number_of_queries(django_capture_on_commit_callbacks):
    product = ProductFactory(code="paspoort", minutes_per_person=10)
    location = LocationFactory()
    DeskFactory(location=location, products=[product])
    DeskFactory(location=location, products=[product])
    api, day = APIClient(), working_day()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token()}")  # taking a time needs a client
    with django_capture_on_commit_callbacks(execute=True):  # the first one reads the schedule
        assert (
            api.post("/api/v1/appointments/", body(location, day, 9, "a@example.nl"), format="json").status_code == 201
        )

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/appointments/", body(location, day, 10, "b@example.nl"), format="json")

    assert response.status_code == 201
    # The integration client's token (1; products and location come from the process's
    # catalogue, read by the first booking); the transaction, contact lock and free desks (3);
    # the desk time's lock and the claim's one question (2); the insert in a savepoint, its
    # products, the per-mailbox limit, the audit event (6); the in-transaction listeners, each
    # in its savepoint: the outbox rows (insert, read back) and the channel contact (one
    # insert with its channel, its products) (8: they are handed the appointment's facts, no
    # read back); the commit; the two after-commit listeners' savepoints (4, a test artefact:
    # after a real commit each runs in its own transaction; neither queries for an API
    # booking). The answer's products are the request's. 40 before issue 14, 35 at its first
    # closing note.
    assert len(queries) == 25, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert Appointment.objects.count() == 2
    assert response.json()["products"] == ["paspoort"]
