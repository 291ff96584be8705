"""Fixtures for nudges: a BRP extract with an online route (€6.90 vs €9.40), a passport that
needs presence, a desk serving both, the three interventions and a helper that builds and
starts an experiment through the real services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from nudges.constants import ContentKind, Metric, Principle, Touchpoint
from nudges.experiments import services
from nudges.models import Intervention, OnlineCompletion
from tests.factories import DeskFactory, ProductFactory


@pytest.fixture
def brp():
    return ProductFactory(
        code="uittreksel-brp",
        name_nl="Uittreksel BRP",
        name_en="BRP extract",
        online=True,
        fee_online=Decimal("6.90"),
        cost_online=Decimal("6.90"),
        fee_counter=Decimal("9.40"),
        cost_counter=Decimal("9.40"),
        online_url="https://formulieren.example.nl/uittreksel?bron=gemeente",
    )


@pytest.fixture
def passport():
    return ProductFactory(code="paspoort", name_nl="Paspoort", name_en="Passport", requires_presence=True)


@pytest.fixture
def desk(brp, passport):
    return DeskFactory(products=[brp, passport])


def make_intervention(code: str, kind: str, principle: str, products, headline: str, message: str) -> Intervention:
    intervention = Intervention.objects.create(
        code=code,
        name=code,
        touchpoint=Touchpoint.PRODUCT_CHOICE,
        kind=kind,
        principle=principle,
        headline_nl=headline,
        headline_en=headline,
        message_nl=message,
        message_en=message,
    )
    intervention.full_clean()
    intervention.products.set(products)
    return intervention


@pytest.fixture
def interventions(brp):
    return {
        "easy": make_intervention(
            "easy", ContentKind.EASY_LINK, Principle.EASY, [brp], "Direct online", "{product}: {requirements}."
        ),
        "attractive": make_intervention(
            "attractive",
            ContentKind.DIGITAL_DISCOUNT,
            Principle.ATTRACTIVE,
            [brp],
            "Online {fee_online} in plaats van {fee_counter}",
            "U krijgt {discount} digitale korting.",
        ),
        "social": make_intervention(
            "social",
            ContentKind.SOCIAL_NORM,
            Principle.SOCIAL,
            [brp],
            "{share} deed dit online",
            "{online_cases} van de {cases} inwoners, {since} tot en met {until}.",
        ),
    }


@pytest.fixture
def online_history(brp):
    """120 online completions in the last 90 days: enough behind the social figure."""
    now = timezone.now()
    OnlineCompletion.objects.bulk_create(
        [OnlineCompletion(product=brp, completed_at=now - timedelta(days=1 + i % 80)) for i in range(120)]
    )


def build_experiment(products, variants, *, start: bool = True, planned: int = 1000, **fields):
    experiment = services.experiment_create(
        name=fields.pop("name", "BRP online"),
        purpose_nl="Minder baliebezoek voor uittreksels.",
        products=products,
        variants=variants,
        hypothesis="Een nudge verlaagt het aandeel balieboekingen.",
        primary_metric=Metric.BOOKED,
        guardrail_metrics=[Metric.NO_SHOW],
        planned_sample_per_variant=planned,
        **fields,
    )
    return services.experiment_start(experiment=experiment) if start else experiment


@pytest.fixture
def experiment(brp, interventions, online_history):
    """Running: control, easy, attractive, social with equal weights."""
    return build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
            {"key": "attractive", "intervention": interventions["attractive"], "weight": 1},
            {"key": "social", "intervention": interventions["social"], "weight": 1},
        ],
    )


@pytest.fixture
def manager_user(django_user_model):
    from nudges.roles import nudges_roles_ensure

    nudges_roles_ensure()
    user = django_user_model.objects.create_user("mila", password="pw-geheim-123")
    user.groups.add(Group.objects.get(name="Manager"))
    return user
