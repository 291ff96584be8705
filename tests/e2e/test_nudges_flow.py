"""The nudge step in a real browser (phone-sized Chromium): a new visitor booking a BRP extract
sees one consistent variant (or none, in control) across reloads, can always continue to the
counter, and the nudge page passes axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import pytest

from booking.demo import seed_reference_data
from booking.models import Product
from nudges.constants import Metric
from nudges.demo import seed_interventions
from nudges.experiments import services
from nudges.models import OnlineCompletion

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running_experiment():
    from datetime import timedelta

    from django.utils import timezone

    seed_reference_data()
    brp = Product.objects.get(code="uittreksel-brp")
    now = timezone.now()
    OnlineCompletion.objects.bulk_create(
        [OnlineCompletion(product=brp, completed_at=now - timedelta(days=1 + i % 60)) for i in range(150)]
    )
    interventions = seed_interventions()
    experiment = services.experiment_create(
        name="BRP online",
        purpose_nl="Minder baliebezoek voor uittreksels.",
        products=[brp],
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["direct-online-link"], "weight": 1},
            {"key": "attractive", "intervention": interventions["digitale-korting"], "weight": 1},
            {"key": "social", "intervention": interventions["sociale-norm-online"], "weight": 1},
        ],
        hypothesis="Minder balieboekingen.",
        primary_metric=Metric.BOOKED,
        planned_sample_per_variant=1000,
    )
    return services.experiment_start(experiment=experiment)


def choose_brp(page) -> None:
    page.goto(page.base_url + "/afspraak-maken/")
    page.get_by_label("Uittreksel BRP").check()
    page.get_by_role("button", name="Verder").click()


def shown_variant(page) -> str:
    """The variant on screen: its data attribute, or "none" on the location step."""
    nudge = page.locator("section.nudge")
    if nudge.count():
        return nudge.get_attribute("data-variant")
    assert page.get_by_role("heading", name="Kies een vestiging").is_visible()
    return "none"


def test_each_visitor_sees_one_consistent_variant_and_can_always_reach_the_counter(running_experiment, new_page):
    seen = {}
    for visitor in range(10):
        page = new_page()
        choose_brp(page)
        first = shown_variant(page)
        page.reload()
        assert shown_variant(page) == first
        choose_brp(page)  # walking the flow again: the same variant
        assert shown_variant(page) == first
        if first != "none":
            if first not in seen:
                check_accessibility(page)
                screenshot(page, f"nudge-{first}")
            page.get_by_role("button", name="Toch een afspraak aan de balie maken").click()
            assert page.get_by_role("heading", name="Kies een vestiging").is_visible()
        seen.setdefault(first, visitor)
        page.context.close()
        if len(seen) == 4:
            break
    assert seen, "no visitor was assigned"
    assert set(seen) <= {"none", "easy", "attractive", "social"}


def test_the_why_link_leads_to_the_public_register(running_experiment, page):
    import random

    from django.utils import timezone

    from nudges.demo import seed_pilot

    seed_pilot(interventions=seed_interventions(), rng=random.Random(1), now=timezone.now())
    for _ in range(20):
        page.context.clear_cookies()
        choose_brp(page)
        if shown_variant(page) != "none":
            break
    else:
        pytest.skip("twenty visitors in control")
    page.get_by_role("link", name="Waarom zie ik dit?").click()
    assert page.get_by_role("heading", name="Register van nudges en experimenten").is_visible()
    assert page.get_by_role("heading", name="BRP online").is_visible()
    assert page.get_by_role("heading", name="Pilot: directe link bij uittreksel BRP").is_visible()
    check_accessibility(page)
    screenshot(page, "nudge-register")
