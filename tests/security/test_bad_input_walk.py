"""Every URL, walked with the inputs that used to give a 500: a NUL byte in each path segment,
dates at the ends of the calendar in every date query parameter, and JSON nested deeper than
any client needs. Nothing may answer with a 5xx, for a visitor or for a logged-in Beheerder.

The URL list comes from the resolver, so a new route is walked without touching this test.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from booking.staff import roles
from tests.booking.staff.conftest import ALL_DAY, make_user
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory
from tests.security.conftest import otp_verified_login

NUL = "a%00b"
EXTREME_DATES = ("9999-12-31", "0001-01-01")
DATE_PARAMS = ("day", "dag", "week", "date", "date_from", "date_to", "wanted_before", "planned_start", "planned_end")
EXTREME_MOMENTS = ("9999-12-31T23:50:00+01:00", "0001-01-01T00:10:00+01:00")


# Integer path parameters point at real rows (set by the ``world`` fixture), so the views get
# past their lookups and meet the bad input.
INT_VALUES: dict[str, int] = {}


def _example(converter, name: str = "") -> str:
    if type(converter).__name__ == "IntConverter":
        return str(INT_VALUES.get(name, 1))
    return NUL


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _route(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _route(entry.pattern)


def _route(pattern) -> str:
    route = getattr(pattern, "_route", None)
    if route is None:  # a regex pattern (the admin's, i18n): fill in a plain value
        return str(pattern).lstrip("^").rstrip("$").replace("\\", "")
    for name, converter in pattern.converters.items():
        for spelling in (f"<{type(converter).__name__.removesuffix('Converter').lower()}:{name}>", f"<{name}>"):
            route = route.replace(spelling, _example(converter, name))
        route = _replace_any(route, name, _example(converter, name))
    return route


def _replace_any(route: str, name: str, value: str) -> str:
    start = route.find("<")
    while start != -1:
        end = route.find(">", start)
        inner = route[start + 1 : end]
        if inner.split(":")[-1] == name:
            route = route[:start] + value + route[end + 1 :]
        start = route.find("<", start + 1)
    return route


def all_paths() -> list[str]:
    paths = sorted({"/" + path for path in _walk(get_resolver().url_patterns) if "(?P" not in path and "(" not in path})
    return paths


def _deep_json(depth: int = 2000) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def world(db):
    """A location with a desk open all day, a product and an appointment: real rows to reach."""
    product = ProductFactory(code="paspoort", minutes_per_person=15, min_notice_minutes=0)
    location = LocationFactory()
    desk = DeskFactory(location=location, products=[product], weekdays=ALL_DAY)
    AppointmentFactory(desk=desk, products=[product])
    INT_VALUES.update(
        location_id=location.pk, desk_id=desk.pk, hours_id=desk.opening_hours.first().pk, location=location.pk
    )
    yield location
    INT_VALUES.clear()


@pytest.fixture
def beheerder(client, db):
    groups = roles.roles_ensure()
    user = make_user("beheerder", groups[roles.ADMINISTRATOR], is_staff=True)
    otp_verified_login(client, user)
    return user


def _assert_no_5xx(response, what):
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "beheerder"])
def test_no_url_answers_5xx_to_nul_extreme_dates_or_deep_json(client, world, logged_in, request, settings):
    settings.RATELIMIT_ENABLE = False
    if logged_in:
        request.getfixturevalue("beheerder")
    # A visitor halfway through booking: the time step reads its day from the query string.
    client.post("/afspraak-maken/", {"products": ["paspoort"], "persons": 1})
    client.post("/afspraak-maken/vestiging/", {"location": world.pk})
    paths = all_paths()
    assert any(NUL in path for path in paths), "the walk found no tokenised route"
    deep = _deep_json()
    for path in paths:
        _assert_no_5xx(client.get(path), f"GET {path}")
        _assert_no_5xx(client.head(path), f"HEAD {path}")
        for value in EXTREME_DATES:
            query = "&".join(f"{name}={value}" for name in DATE_PARAMS)
            query += f"&product=paspoort&location={world.pk}"
            _assert_no_5xx(client.get(f"{path}?{query}"), f"GET {path}?{query}")
        _assert_no_5xx(client.post(path, deep, content_type="application/json"), f"POST {path} (deep JSON)")
        for value, moment in zip(EXTREME_DATES, EXTREME_MOMENTS, strict=True):
            form = {**dict.fromkeys(DATE_PARAMS, value), "start": moment}
            _assert_no_5xx(client.post(path, form), f"POST {path} with {value}")
            body = json.dumps({"start": moment, "products": ["paspoort"], "location": 1, "persons": 1})
            _assert_no_5xx(client.post(path, body, content_type="application/json"), f"POST {path} JSON {moment}")


def test_the_api_refuses_over_deep_json_with_400(client, db):
    response = client.post("/api/v1/holds/", _deep_json(), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "genest" in response.json()["detail"]


def test_a_moderately_nested_body_is_still_parsed(client, db):
    body = json.dumps({"products": ["paspoort"], "persons": 1, "location": 1, "start": "2030-01-01T10:00:00+01:00"})
    response = client.post("/api/v1/holds/", body, content_type="application/json")
    assert response.status_code in {400, 404, 409}
    assert "genest" not in response.json()["detail"]


@pytest.mark.parametrize("day", EXTREME_DATES)
def test_availability_refuses_dates_outside_the_window_with_a_field_message(client, world, day):
    response = client.get(f"/api/v1/availability/?product=paspoort&date_from={day}&date_to={day}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "2000-01-01" in body["date_from"][0]


def test_a_nul_byte_in_a_manage_token_is_a_404(client, db):
    assert client.get("/afspraak/abc%00def/").status_code == 404
    assert client.get("/api/v1/appointments/abc%00def/").status_code == 404
