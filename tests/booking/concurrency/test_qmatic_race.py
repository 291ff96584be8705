"""100 bookings of one time at once through the Qmatic facade (HTTP, the live server, one
integration client as Open Formulieren would be): exactly one gets it, the others a clean 409."""

from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer

from booking.constants import AppointmentStatus
from booking.integrations import integration_client_create
from booking.models import Appointment
from tests.booking.apis.qmatic.conftest import working_day
from tests.concurrency import race
from tests.factories import DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")
REQUESTS = 100


@pytest.fixture
def roomy_live_server(transactional_db, monkeypatch):
    """A live server of its own that lets 100 connections wait to be accepted (the test server
    queues 10; a production server in front of gunicorn queues far more)."""
    monkeypatch.setattr(ThreadedWSGIServer, "request_queue_size", 2 * REQUESTS)
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    yield server
    server._live_server_modified_settings.disable()
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_hundred_bookings_of_one_time_through_the_facade_give_one_appointment(roomy_live_server):
    live_server = roomy_live_server
    location = LocationFactory()
    product = ProductFactory(code="paspoort", minutes_per_person=10)
    desk = DeskFactory(location=location, products=[product])
    _client, token = integration_client_create(name="Open Formulieren", scopes=["appointments"])
    day = working_day()
    url = (
        f"{live_server.url}/qmatic/calendar-backend/public/api/v2/branches/{location.pk}"
        f"/dates/{day.isoformat()}/times/10:00/book"
    )

    def book(i):
        body = {
            "customers": [{"firstName": "Inwoner", "lastName": str(i), "email": f"inwoner{i}@example.nl"}],
            "services": [{"publicId": "paspoort"}],
        }
        response = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        return response.status_code, response.json()

    outcomes = race(REQUESTS, book)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, repr(errors[0])

    assert Counter(status for status, _body in outcomes) == {200: 1, 409: REQUESTS - 1}, outcomes[:3]
    assert {body["code"] for status, body in outcomes if status == 409} == {"slot_unavailable"}
    (appointment,) = Appointment.objects.all()
    winner = next(body for status, body in outcomes if status == 200)
    assert winner["appointment"]["publicId"] == appointment.reference
    assert appointment.start == datetime.combine(day, time(10), tzinfo=AMS)
    assert (appointment.desk, appointment.status) == (desk, AppointmentStatus.BOOKED)
