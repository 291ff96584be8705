"""Governance: a started experiment's design is locked (service, form, admin, model); starting
needs a complete, honest design; the register is public; only managers manage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from nudges.admin import ExperimentAdmin, VariantInline
from nudges.constants import ContentKind, ExperimentStatus, Metric, Principle, Touchpoint
from nudges.exceptions import CannotStart, ExperimentLocked, InvalidTransition
from nudges.experiments import services
from nudges.experiments.forms import ExperimentForm
from nudges.models import Experiment, Intervention, Variant
from tests.nudges.conftest import build_experiment

pytestmark = pytest.mark.django_db


def test_a_running_experiment_refuses_changes_to_variants_weights_and_salt(experiment, interventions):
    variants = [{"key": v.key, "intervention": v.intervention, "weight": v.weight} for v in experiment.variants.all()]
    heavier = [dict(v, weight=5) if v["key"] == "easy" else v for v in variants]
    with pytest.raises(ExperimentLocked):
        services.experiment_update(experiment=experiment, variants=heavier)
    with pytest.raises(ExperimentLocked):
        services.experiment_update(experiment=experiment, salt="nieuw")
    with pytest.raises(ExperimentLocked):
        services.experiment_update(experiment=experiment, variants=variants[:2])
    with pytest.raises(ExperimentLocked):
        services.experiment_update(experiment=experiment, primary_metric=Metric.CANCELLED)
    # Underneath the service, the model refuses too.
    experiment.refresh_from_db()
    experiment.salt = "stiekem"
    with pytest.raises(ExperimentLocked):
        experiment.save()
    variant = Variant.objects.get(experiment=experiment, key="easy")
    variant.weight = 9
    with pytest.raises(ExperimentLocked):
        variant.save()
    with pytest.raises(ExperimentLocked):
        Variant.objects.get(experiment=experiment, key="social").delete()
    assert sorted(Variant.objects.filter(experiment=experiment).values_list("weight", flat=True)) == [1, 1, 1, 1]
    # What may change: name, purpose, conclusion.
    services.experiment_update(experiment=experiment, name="Nieuwe naam", variants=variants)
    assert Experiment.objects.get(pk=experiment.pk).name == "Nieuwe naam"


def test_the_form_disables_locked_fields_and_ignores_posted_values(experiment):
    data = {
        "name": experiment.name,
        "purpose_nl": experiment.purpose_nl,
        "hypothesis": "Iets anders",
        "salt": "x",
        "primary_metric": Metric.CANCELLED,
        "planned_sample_per_variant": 5,
        "touchpoint": Touchpoint.CONFIRMATION,
    }
    form = ExperimentForm(data, instance=experiment)
    assert form.fields["hypothesis"].disabled and form.fields["products"].disabled
    assert form.is_valid(), form.errors
    assert form.cleaned_data["hypothesis"] == experiment.hypothesis
    assert form.cleaned_data["planned_sample_per_variant"] == experiment.planned_sample_per_variant


def test_the_admin_makes_the_design_read_only_once_started(experiment, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    admin = ExperimentAdmin(Experiment, site)
    assert {"salt", "hypothesis", "primary_metric", "products"} <= set(admin.get_readonly_fields(request, experiment))
    inline = VariantInline(Experiment, site)
    assert not inline.has_change_permission(request, experiment)
    assert not inline.has_add_permission(request, experiment)
    assert not inline.has_delete_permission(request, experiment)


def test_the_manager_page_refuses_a_change_to_a_locked_experiment(client, experiment, manager_user):
    client.force_login(manager_user)
    page = client.get(reverse("nudges:manager-edit", args=[experiment.pk]))
    assert page.status_code == 200 and "liggen vast" in page.content.decode()
    salt = experiment.salt
    client.post(
        reverse("nudges:manager-edit", args=[experiment.pk]),
        {"name": "Andere naam", "purpose_nl": "Doel", "hypothesis": "gewijzigd", "planned_sample_per_variant": 3},
    )
    experiment.refresh_from_db()
    assert (
        experiment.salt == salt
        and experiment.hypothesis != "gewijzigd"
        and experiment.planned_sample_per_variant == 1000
    )


def test_starting_needs_hypothesis_metric_and_planned_sample(brp, interventions):
    draft = services.experiment_create(
        name="Onvolledig",
        purpose_nl="Doel",
        products=[brp],
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
    )
    with pytest.raises(CannotStart) as refused:
        services.experiment_start(experiment=draft)
    text = " ".join(refused.value.problems)
    assert "hypothese" in text and "primaire maat" in text and "steekproef" in text
    assert Experiment.objects.get(pk=draft.pk).status == ExperimentStatus.DRAFT


def test_starting_refuses_fees_above_cost_price_and_thin_social_figures(brp, interventions):
    brp.cost_counter = None  # the counter's cost price is unknown: fees cannot be shown honestly
    brp.save()
    with pytest.raises(CannotStart) as refused:
        build_experiment(
            [brp],
            [
                {"key": "controle", "intervention": None, "weight": 1},
                {"key": "social", "intervention": interventions["social"], "weight": 1},
            ],
        )
    text = " ".join(refused.value.problems)
    assert "kostprijs" in text and "minimaal 100" in text


def test_starting_refuses_a_control_less_design_and_presence_products(passport, interventions):
    with pytest.raises(CannotStart) as refused:
        build_experiment([passport], [{"key": "easy", "intervention": interventions["easy"], "weight": 1}])
    text = " ".join(refused.value.problems)
    assert "controlegroep" in text and "persoonlijk verschijnen" in text


def test_two_experiments_on_the_same_spot_cannot_run_together(experiment, brp, interventions):
    with pytest.raises(CannotStart, match="loopt al"):
        build_experiment(
            [brp],
            [
                {"key": "controle", "intervention": None, "weight": 1},
                {"key": "easy", "intervention": interventions["easy"], "weight": 1},
            ],
            name="Tweede",
        )


def test_status_goes_draft_running_paused_finished(experiment):
    services.experiment_pause(experiment=experiment)
    services.experiment_resume(experiment=experiment)
    services.experiment_finish(experiment=experiment, conclusion_nl="Klaar.")
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.FINISHED and experiment.finished_at
    with pytest.raises(InvalidTransition):
        services.experiment_start(experiment=experiment)


def test_wording_with_a_typed_percentage_is_refused(brp):
    intervention = Intervention(
        code="fout",
        name="fout",
        touchpoint=Touchpoint.PRODUCT_CHOICE,
        kind=ContentKind.SOCIAL_NORM,
        principle=Principle.SOCIAL,
        headline_nl="85% doet het online",
        headline_en="{share} do it online",
        message_nl="{onbekend}",
        message_en="ok",
    )
    with pytest.raises(ValidationError) as refused:
        intervention.full_clean()
    assert set(refused.value.message_dict) == {"headline_nl", "message_nl"}


def test_the_public_register_lists_running_and_finished_experiments(client, experiment, brp, interventions):
    experiment.refresh_from_db()
    page = client.get(reverse("nudges:register")).content.decode()
    assert f'id="experiment-{experiment.pk}"' in page and experiment.name in page
    assert experiment.hypothesis in page
    assert "De resultaten publiceren we hier zodra de proef is afgerond." in page
    services.experiment_finish(experiment=experiment, conclusion_nl="Geen verschil gevonden.")
    page = client.get(reverse("nudges:register")).content.decode()
    assert "Geen verschil gevonden." in page and "Percentage (95%-betrouwbaarheidsinterval)" in page


def test_only_managers_open_the_manager_pages(client, django_user_model, experiment, manager_user):
    url = reverse("nudges:manager-detail", args=[experiment.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user("balie", password="pw-geheim-123"))
    assert client.get(url).status_code == 403
    client.force_login(manager_user)
    page = client.get(url)
    assert page.status_code == 200
    assert "1,4 procentpunt" in page.content.decode()


def test_a_manager_creates_starts_pauses_and_finishes_an_experiment(
    client, manager_user, brp, interventions, online_history
):
    client.force_login(manager_user)
    response = client.post(
        reverse("nudges:manager-create"),
        {
            "name": "Nieuw via scherm",
            "purpose_nl": "Doel voor het register",
            "touchpoint": Touchpoint.PRODUCT_CHOICE,
            "products": [brp.pk],
            "hypothesis": "Minder balieboekingen",
            "primary_metric": Metric.BOOKED,
            "guardrail_metrics": [Metric.NO_SHOW],
            "planned_sample_per_variant": 500,
            "variants-TOTAL_FORMS": 2,
            "variants-INITIAL_FORMS": 0,
            "variants-MIN_NUM_FORMS": 2,
            "variants-MAX_NUM_FORMS": 1000,
            "variants-0-key": "controle",
            "variants-0-intervention": "",
            "variants-0-weight": 1,
            "variants-1-key": "easy",
            "variants-1-intervention": interventions["easy"].pk,
            "variants-1-weight": 1,
        },
    )
    experiment = Experiment.objects.get(name="Nieuw via scherm")
    assert response.url == reverse("nudges:manager-detail", args=[experiment.pk])
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running"), ("finish", "finished")):
        client.post(reverse("nudges:manager-transition", args=[experiment.pk]), {"action": action})
        experiment.refresh_from_db()
        assert experiment.status == status
    assert experiment.owner == manager_user


def test_migration_grants_the_permission_to_manager_and_beheerder():
    from django.contrib.auth.models import Group

    from nudges.roles import nudges_roles_ensure

    nudges_roles_ensure()
    for name in ("Manager", "Beheerder"):
        assert Group.objects.get(name=name).permissions.filter(codename="manage_experiments").exists()


def test_fee_rule_for_a_product_without_discount(brp, interventions, online_history):
    brp.fee_online = Decimal("9.40")
    brp.cost_online = Decimal("9.40")
    brp.save()
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "attractive", "intervention": interventions["attractive"], "weight": 1},
        ],
    )
    assert experiment.status == ExperimentStatus.RUNNING


def test_the_wording_of_a_nudge_in_a_started_experiment_is_locked(experiment, interventions):
    easy = Intervention.objects.get(pk=interventions["easy"].pk)
    easy.headline_nl = "Iets anders"
    with pytest.raises(ExperimentLocked):
        easy.save()
    easy.refresh_from_db()
    easy.name = "Nieuwe interne naam"  # not the wording: allowed
    easy.save()
