"""The nudge API: token auth, decision, exposures, outcomes, results; and the online-completion
loop end to end: exposure → tracked redirect → opaque reference → completed_online → results."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from nudges.constants import REFERENCE_PARAM, ExemptionReason, OutcomeKind
from nudges.experiments import selectors
from nudges.experiments.assignment import unit_hash
from nudges.models import Exemption, Exposure, OnlineCompletion, Outcome
from tests.factories import integration_token
from tests.nudges.visitors import unit_of, visitor_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    """A booking.IntegrationClient with the nudges scope (the one kind of API client)."""
    token = integration_token("nudges")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_integration_endpoints_need_a_valid_token(experiment):
    anonymous = APIClient()
    assert (
        anonymous.get("/api/v1/nudges/decision/", {"product": "uittreksel-brp", "unit": "bezoeker-1"}).status_code
        == 401
    )
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer verkeerd")
    assert anonymous.post("/api/v1/nudges/outcomes/", {"kind": "booked", "unit": "bezoeker-1"}).status_code == 401


def test_decision_matches_the_assignment_and_is_stable(api, experiment):
    answers = [
        api.get("/api/v1/nudges/decision/", {"product": "uittreksel-brp", "unit": "bezoeker-42"}).json()
        for _ in range(3)
    ]
    assert answers[0] == answers[1] == answers[2]
    answer = answers[0]
    assert answer["experiment"] == experiment.pk and not answer["exempt"]
    assert answer["variant"] == selectors.assigned_variant(experiment, unit_hash("bezoeker-42")).key
    assert (answer["content"] is None) == (answer["variant"] == "controle")


def test_decision_for_a_phone_booking_is_exempt_and_logged_as_such(api, experiment):
    answer = api.get(
        "/api/v1/nudges/decision/", {"product": "uittreksel-brp", "unit": "beller-0001", "channel": "phone"}
    ).json()
    assert answer == {
        "experiment": experiment.pk,
        "variant": None,
        "exempt": True,
        "exempt_reason": "channel",
        "content": None,
    }
    assert Exemption.objects.filter(reason=ExemptionReason.CHANNEL).count() == 1
    assert not Exposure.objects.exists()


def test_exposure_must_be_the_assigned_variant(api, experiment):
    assigned = selectors.assigned_variant(experiment, unit_hash("bezoeker-77")).key
    other = next(v.key for v in experiment.variants.all() if v.key != assigned)
    body = {"experiment": experiment.pk, "unit": "bezoeker-77", "touchpoint": "product_choice"}
    assert api.post("/api/v1/nudges/exposures/", {**body, "variant": other}).status_code == 400
    assert api.post("/api/v1/nudges/exposures/", {**body, "variant": assigned}).status_code == 201
    assert api.post("/api/v1/nudges/exposures/", {**body, "variant": assigned}).status_code == 200
    assert Exposure.objects.count() == 1


def test_abandoned_cannot_be_reported_and_unknown_references_are_404(api, experiment):
    assert api.post("/api/v1/nudges/outcomes/", {"kind": "abandoned", "unit": "bezoeker-1"}).status_code == 400
    assert (
        api.post("/api/v1/nudges/outcomes/", {"kind": "completed_online", "reference": "bestaat-niet"}).status_code
        == 404
    )


def test_online_completion_closes_the_loop_end_to_end(api, desk, brp, experiment, manager_user):
    # A visitor in a nudge group reaches the nudge page...
    visitor = visitor_in("easy", brp.code)
    unit = unit_of(visitor)
    variant = Exposure.objects.get(experiment=experiment, unit_hash=unit).variant

    # ...clicks the online link: the tracked redirect appends the opaque reference...
    target = visitor.get(reverse("nudges:online", args=[brp.code])).url
    reference = parse_qs(urlsplit(target).query)[REFERENCE_PARAM][0]

    # ...and the online form reports completion with that reference.
    response = api.post("/api/v1/nudges/outcomes/", {"reference": reference, "kind": "completed_online"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"recorded": [{"experiment": experiment.pk, "kind": "completed_online"}]}
    assert Outcome.objects.get(kind=OutcomeKind.COMPLETED_ONLINE).unit_hash == unit
    assert OnlineCompletion.objects.filter(reference=reference).count() == 1
    # Reporting twice changes nothing.
    api.post("/api/v1/nudges/outcomes/", {"reference": reference, "kind": "completed_online"}, format="json")
    assert Outcome.objects.filter(kind=OutcomeKind.COMPLETED_ONLINE).count() == 1

    # The manager's results count it, for the right variant.
    manager = APIClient()
    manager.force_login(manager_user)
    results = manager.get(f"/api/v1/experiments/{experiment.pk}/results/").json()
    completed = next(m for m in results["descriptive"] if m["metric"] == "completed_online")
    arms = {a["variant"]: a for a in completed["analysis"]["arms"]}
    assert arms[variant.key]["conversions"] == 1
    assert sum(a["conversions"] for a in arms.values()) == 1
    chose = next(m for m in results["descriptive"] if m["metric"] == "chose_online")
    assert {a["variant"]: a["conversions"] for a in chose["analysis"]["arms"]}[variant.key] == 1
    assert results["primary"]["metric"] == "booked"

    page = Client()
    page.force_login(manager_user)
    assert "Online afgerond" in page.get(reverse("nudges:manager-detail", args=[experiment.pk])).content.decode()


def test_results_api_is_for_managers_only(client, django_user_model, experiment):
    url = f"/api/v1/experiments/{experiment.pk}/results/"
    assert client.get(url).status_code == 403
    client.force_login(django_user_model.objects.create_user("kcc", password="pw-geheim-123"))
    assert client.get(url).status_code == 403


def test_completion_without_reference_feeds_the_social_figure(api, brp, experiment):
    before = selectors.social_norm(product=brp).online_cases
    assert api.post("/api/v1/nudges/outcomes/", {"kind": "completed_online", "product": brp.code}).status_code == 201
    assert selectors.social_norm(product=brp).online_cases == before + 1
