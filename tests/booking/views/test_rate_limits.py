"""Rate limits per client on the booking and manage pages: a friendly 429, not an error."""

import pytest

from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def test_too_many_page_views_get_a_friendly_429(client, settings, location):
    settings.BOOKING_RATELIMIT_PAGES = "3/m"

    statuses = [client.get("/afspraak-maken/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/afspraak-maken/")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert "Even geduld" in html and '<html lang="nl">' in html


def test_posts_have_their_own_stricter_limit(client, settings, location):
    settings.BOOKING_RATELIMIT_ACTIONS = "2/m"

    statuses = [client.post("/afspraak-maken/", {"persons": 1}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert client.get("/afspraak-maken/").status_code == 200  # reading still works


def test_manage_pages_are_limited_too_and_other_clients_are_not_affected(client, settings, location):
    settings.BOOKING_RATELIMIT_PAGES = "2/m"
    token = AppointmentFactory(desk=location.desks.get()).manage_token

    statuses = [client.get(f"/afspraak/{token}/").status_code for _ in range(3)]
    other = client.get(f"/afspraak/{token}/", REMOTE_ADDR="192.0.2.7")

    assert statuses == [200, 200, 429]
    assert other.status_code == 200
