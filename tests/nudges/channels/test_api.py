"""The contacts API: scope, one by one and in batches, idempotent, per-row errors, size limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from booking.integrations import integration_client_create
from nudges.models import Contact

pytestmark = pytest.mark.django_db


def api_client(*scopes):
    client, token = integration_client_create(name=f"Telefonie {'-'.join(scopes)}", scopes=scopes)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api, client


def contact(i, **extra):
    moment = (timezone.now() - timedelta(minutes=30)).isoformat()
    return {
        "external_id": f"tel-{i}",
        "channel": "telefoon",
        "products": ["uittreksel-brp"],
        "moment": moment,
        "outcome": "answered",
        "handling_seconds": 240,
        **extra,
    }


def test_one_contact_is_stored_once(brp):
    api, client = api_client("contacts")

    first = api.post("/api/v1/contacts/", contact(1), format="json")
    again = api.post("/api/v1/contacts/", contact(1), format="json")

    assert (first.status_code, first.json()) == (201, {"created": 1, "unchanged": 0})
    assert (again.status_code, again.json()) == (200, {"created": 0, "unchanged": 1})
    stored = Contact.objects.get()
    assert (stored.client_id, stored.source, stored.external_id) == (client.pk, f"client:{client.pk}", "tel-1")


def test_a_batch_is_all_or_nothing_with_errors_per_row(brp):
    api, _client = api_client("contacts")
    future = (timezone.now() + timedelta(days=2)).isoformat()
    batch = [
        contact(1),
        contact(2, channel="duif"),
        contact(3, products=["nope"]),
        contact(4, moment=future),
        contact(1),
    ]

    response = api.post("/api/v1/contacts/batch/", {"contacts": batch}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "contacts_rejected"
    by_index = {e["index"]: e for e in body["errors"]}
    assert set(by_index) == {1, 2, 3, 4}
    assert "channel" in by_index[1]["fields"] and by_index[1]["external_id"] == "tel-2"
    assert "products" in by_index[2]["fields"]
    assert "moment" in by_index[3]["fields"]
    assert "external_id" in by_index[4]["fields"]
    assert not Contact.objects.exists()


def test_a_malformed_row_is_reported_by_index(brp):
    api, _client = api_client("contacts")
    response = api.post(
        "/api/v1/contacts/batch/", {"contacts": [contact(1), {"channel": "telefoon"}, "x"]}, format="json"
    )
    assert response.status_code == 400
    indexes = [e["index"] for e in response.json()["errors"]]
    assert indexes == [1, 2]
    assert not Contact.objects.exists()


def test_a_batch_posted_twice_changes_nothing(brp):
    api, _client = api_client("contacts")
    batch = {"contacts": [contact(i) for i in range(500)]}
    assert api.post("/api/v1/contacts/batch/", batch, format="json").json() == {"created": 500, "unchanged": 0}
    assert api.post("/api/v1/contacts/batch/", batch, format="json").json() == {"created": 0, "unchanged": 500}
    assert Contact.objects.count() == 500


def test_a_client_without_the_scope_or_token_is_refused(brp):
    api, _client = api_client("appointments")
    assert api.post("/api/v1/contacts/", contact(1), format="json").status_code == 403
    assert APIClient().post("/api/v1/contacts/", contact(1), format="json").status_code == 401


def test_too_big_a_request_is_refused_unread(brp):
    api, _client = api_client("contacts")
    body = b'{"contacts": [' + b" " * (9 * 1024 * 1024) + b"]}"
    response = api.post("/api/v1/contacts/batch/", body, content_type="application/json")
    assert response.status_code in (400, 413)
    assert not Contact.objects.exists()
