"""The public REST contract, /api/v1/: shapes, status codes and field errors."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from booking.availability import public_holidays
from booking.constants import AppointmentStatus
from booking.models import Appointment
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory, integration_token

AMS = ZoneInfo("Europe/Amsterdam")
pytestmark = pytest.mark.django_db


def next_working_day(min_days_ahead: int = 7):
    day = timezone.localdate() + timedelta(days=min_days_ahead)
    holidays = public_holidays(day, day + timedelta(days=14))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


@pytest.fixture
def api():
    """An integration client with the ``appointments`` scope: only those take times."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token()}")
    return client


@pytest.fixture
def brp():
    return ProductFactory(code="uittreksel-brp", minutes_per_person=10, online=True)


@pytest.fixture
def location(brp):
    location = LocationFactory(name="Stadhuis", street="Markt 1", postcode="1234 AB", city="Voorbeeldstad")
    DeskFactory(location=location, name="Balie 1", products=[brp])
    return location


@pytest.fixture
def day():
    return next_working_day()


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def booking_body(location, start, **extra):
    body = {
        "products": ["uittreksel-brp"],
        "persons": 1,
        "location": location.pk,
        "start": start.isoformat(),
        "name": "Anouk de Vries",
        "email": "anouk@example.nl",
    }
    body.update(extra)
    return body


def test_products_lists_fees_as_decimal_strings_and_online_alternative(api, brp):
    ProductFactory(code="paspoort", fee_counter=Decimal("84.70"), cost_counter=Decimal("90.00"))

    response = api.get("/api/v1/products/")

    assert response.status_code == 200
    by_code = {p["code"]: p for p in response.json()}
    assert by_code["uittreksel-brp"]["fees"] == {"counter": "9.40", "online": "6.90", "phone": None}
    assert by_code["uittreksel-brp"]["online_alternative"] == {
        "url": "https://formulieren.example.nl/uittreksel",
        "requirements": "2 minuten met DigiD, direct klaar",
    }
    assert by_code["paspoort"]["online_alternative"] is None
    assert set(by_code["paspoort"]) == {
        "code",
        "name",
        "minutes_per_person",
        "requires_presence",
        "fees",
        "online_alternative",
    }


def test_locations_filtered_by_product(api, location, brp):
    other = LocationFactory(name="Wijkkantoor")
    DeskFactory(location=other, products=[ProductFactory(code="rijbewijs")])

    all_locations = api.get("/api/v1/locations/").json()
    for_brp = api.get("/api/v1/locations/?product=uittreksel-brp").json()

    assert {loc["name"] for loc in all_locations} == {"Stadhuis", "Wijkkantoor"}
    assert for_brp == [{"id": location.pk, "name": "Stadhuis", "address": "Markt 1, 1234 AB Voorbeeldstad"}]
    assert api.get("/api/v1/locations/?product=bestaat-niet").status_code == 400


def test_availability_returns_local_times_with_offset(api, location, day):
    response = api.get(
        "/api/v1/availability/",
        {"product": "uittreksel-brp", "persons": 1, "location": location.pk, "date_from": day, "date_to": day},
    )

    assert response.status_code == 200
    slots = response.json()["slots"]
    assert len(slots) == 48  # 09:00–16:50 every 10 minutes
    first = datetime.fromisoformat(slots[0]["start"])
    assert slots[0]["start"].startswith(f"{day.isoformat()}T09:00:00+0")
    assert first.utcoffset() == at(day, 9).utcoffset()
    assert slots[0]["location"] == location.pk
    assert datetime.fromisoformat(slots[-1]["end"]) == at(day, 17)
    assert response["Cache-Control"] == "public, max-age=10"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"product": "bestaat-niet"}, "product"),
        ({}, "product"),
        ({"product": "uittreksel-brp", "persons": 0}, "persons"),
        ({"product": "uittreksel-brp", "persons": 99}, "persons"),
        ({"product": "uittreksel-brp", "persons": "twee"}, "persons"),
        ({"product": "uittreksel-brp", "date_from": "2027-02-10", "date_to": "2027-02-01"}, "date_to"),
        ({"product": "uittreksel-brp", "date_from": "2027-01-01", "date_to": "2027-12-31"}, "date_to"),
        ({"product": "uittreksel-brp", "date_from": "31-01-2027"}, "date_from"),
        ({"product": "uittreksel-brp", "location": 999999}, "location"),
        ({"product": "x" * 500}, "product"),
    ],
)
def test_availability_bad_input_is_400_with_field_message(api, location, params, field):
    response = api.get("/api/v1/availability/", params)

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert isinstance(response.json()[field], list | dict)


def test_hold_then_book_with_hold_token(api, location, day):
    start = at(day, 10)
    hold = api.post(
        "/api/v1/holds/",
        {"products": ["uittreksel-brp"], "persons": 1, "location": location.pk, "start": start.isoformat()},
        format="json",
    )
    assert hold.status_code == 201, hold.json()
    hold_token = hold.json()["hold_token"]
    assert len(hold_token) >= 32
    assert datetime.fromisoformat(hold.json()["expires_at"]) > timezone.now() + timedelta(minutes=9)

    # Another client cannot take the held time...
    taken = api.post("/api/v1/appointments/", booking_body(location, start, email="ander@example.nl"), format="json")
    assert taken.status_code == 409
    # ...but the holder can book it.
    booked = api.post("/api/v1/appointments/", booking_body(location, start, hold_token=hold_token), format="json")

    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert set(body) == {"reference", "manage_token", "status", "start", "end", "location", "products", "persons"}
    assert body["status"] == "booked"
    assert body["manage_token"] != hold_token
    assert datetime.fromisoformat(body["start"]) == start
    assert datetime.fromisoformat(body["end"]) == start + timedelta(minutes=10)
    assert body["products"] == ["uittreksel-brp"]
    appointment = Appointment.objects.get(reference=body["reference"])
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.email == "anouk@example.nl"
    assert Appointment.objects.count() == 1


def test_conflict_is_409_with_three_nearest_alternatives(api, location, day):
    AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))

    response = api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_unavailable"
    assert "niet (meer) beschikbaar" in body["detail"]
    starts = [datetime.fromisoformat(s["start"]) for s in body["alternatives"]]
    assert sorted(starts) == sorted([at(day, 9, 50), at(day, 10, 10), at(day, 10, 20)]) or sorted(starts) == sorted(
        [at(day, 9, 40), at(day, 9, 50), at(day, 10, 10)]
    )
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"products": ["bestaat-niet"]}, "products"),
        ({"products": []}, "products"),
        ({"email": "geen-e-mail"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"phone": "bel me maar"}, "phone"),
        ({"persons": 0}, "persons"),
        ({"persons": 7}, "persons"),
        ({"location": "stadhuis"}, "location"),
        ({"location": 999999}, "location"),
        ({"start": "morgen"}, "start"),
    ],
)
def test_booking_bad_input_is_400_with_field_message_and_nothing_stored(api, location, day, change, field):
    response = api.post("/api/v1/appointments/", {**booking_body(location, at(day, 10)), **change}, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Appointment.objects.count() == 0


def test_start_off_the_grid_is_a_field_error(api, location, day):
    response = api.post("/api/v1/appointments/", booking_body(location, at(day, 10, 5)), format="json")

    assert response.status_code == 400
    assert "10 minuten" in response.json()["start"][0]


def test_get_cancel_and_reschedule_by_manage_token(api, location, day):
    created = api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json").json()
    token = created["manage_token"]

    shown = api.get(f"/api/v1/appointments/{token}/")
    assert shown.status_code == 200
    assert shown.json()["reference"] == created["reference"]

    moved = api.post(f"/api/v1/appointments/{token}/reschedule/", {"start": at(day, 14).isoformat()}, format="json")
    assert moved.status_code == 200, moved.json()
    assert datetime.fromisoformat(moved.json()["start"]) == at(day, 14)
    assert Appointment.objects.get(reference=created["reference"]).start == at(day, 14)

    cancelled = api.post(f"/api/v1/appointments/{token}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert Appointment.objects.get(reference=created["reference"]).status == AppointmentStatus.CANCELLED


def test_reschedule_onto_a_taken_time_is_409_and_changes_nothing(api, location, day):
    created = api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json").json()
    AppointmentFactory(desk=location.desks.get(), start=at(day, 14), end=at(day, 14, 10))

    response = api.post(
        f"/api/v1/appointments/{created['manage_token']}/reschedule/", {"start": at(day, 14).isoformat()}, format="json"
    )

    assert response.status_code == 409
    assert len(response.json()["alternatives"]) == 3
    assert Appointment.objects.get(reference=created["reference"]).start == at(day, 10)


@pytest.mark.parametrize("path", ["", "cancel/", "reschedule/"])
def test_unknown_token_is_404(api, location, path):
    method = api.get if path == "" else api.post
    response = method(f"/api/v1/appointments/{'x' * 32}/{path}", {"start": "2030-01-01T10:00:00+01:00"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_hold_token_is_not_a_manage_token(api, location, day):
    hold = api.post(
        "/api/v1/holds/",
        {"products": ["uittreksel-brp"], "location": location.pk, "start": at(day, 10).isoformat()},
        format="json",
    ).json()

    assert api.get(f"/api/v1/appointments/{hold['hold_token']}/").status_code == 404


def test_second_active_appointment_for_same_email_and_product_is_refused(api, location, day):
    assert api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json").status_code == 201

    response = api.post("/api/v1/appointments/", booking_body(location, at(day, 11)), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "limit_reached"
    assert Appointment.objects.count() == 1


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for expected in [
        "/api/v1/products/",
        "/api/v1/locations/",
        "/api/v1/availability/",
        "/api/v1/holds/",
        "/api/v1/appointments/",
        "/api/v1/appointments/{manage_token}/",
        "/api/v1/appointments/{manage_token}/cancel/",
        "/api/v1/appointments/{manage_token}/reschedule/",
    ]:
        assert expected in paths
    assert "409" in paths["/api/v1/appointments/"]["post"]["responses"]
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_repeated_availability_request_is_served_from_the_cache_until_a_booking(
    api, location, day, django_assert_num_queries, django_capture_on_commit_callbacks
):
    params = {"product": "uittreksel-brp", "location": location.pk, "date_from": day, "date_to": day}
    first = api.get("/api/v1/availability/", params)

    with django_assert_num_queries(0):
        again = api.get("/api/v1/availability/", params)
    assert again.content == first.content
    assert again["Cache-Control"] == "public, max-age=10"

    with django_capture_on_commit_callbacks(execute=True):
        booked = api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json")
    assert booked.status_code == 201
    after = api.get("/api/v1/availability/", params)
    starts = [slot["start"] for slot in after.json()["slots"]]
    assert len(starts) == len(first.json()["slots"]) - 1
    assert at(day, 10).isoformat() not in starts


def test_invalid_availability_request_is_never_answered_from_the_cache(api, location, day):
    params = {"product": "bestaat-niet", "location": location.pk, "date_from": day, "date_to": day}

    assert api.get("/api/v1/availability/", params).status_code == 400
    assert api.get("/api/v1/availability/", params).status_code == 400


def test_the_grace_window_serves_an_answer_at_most_that_long_after_a_booking(
    api, location, day, settings, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """In a rush, identical reads within BOOKING_AVAILABILITY_GRACE_MS get the answer this process
    has without asking whether a booking made it stale; once the window has passed they see it."""
    from booking.apis import availability

    settings.BOOKING_AVAILABILITY_GRACE_MS = 500
    clock = [1000.0]
    monkeypatch.setattr(availability, "_clock", lambda: clock[0])
    params = {"product": "uittreksel-brp", "location": location.pk, "date_from": day, "date_to": day}
    first = api.get("/api/v1/availability/", params)
    ten = at(day, 10).isoformat()
    assert ten in [slot["start"] for slot in first.json()["slots"]]

    with django_capture_on_commit_callbacks(execute=True):
        booked = api.post("/api/v1/appointments/", booking_body(location, at(day, 10)), format="json")
    assert booked.status_code == 201
    assert Appointment.objects.filter(start=at(day, 10), status=AppointmentStatus.BOOKED).count() == 1

    clock[0] += 0.4  # still inside the window: the answer from before the booking, no work at all
    with django_assert_num_queries(0):
        within = api.get("/api/v1/availability/", params)
    assert within.content == first.content

    clock[0] += 0.2  # the window has passed: the booking is seen
    after = api.get("/api/v1/availability/", params)
    starts = [slot["start"] for slot in after.json()["slots"]]
    assert ten not in starts
    assert len(starts) == len(first.json()["slots"]) - 1

    # A different request (another day range) was never in the window: it sees the booking at once.
    clock[0] += 0.1
    wider = api.get("/api/v1/availability/", {**params, "date_to": day + timedelta(days=1)})
    assert ten not in [slot["start"] for slot in wider.json()["slots"]]
