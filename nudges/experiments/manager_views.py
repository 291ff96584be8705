"""Manager pages (permission ``nudges.manage_experiments``): experiments listed, created,
edited while a draft, started, paused, finished, and their results with honest statistics."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from booking.web import add_domain_error
from nudges.exceptions import CannotStart, NudgeError
from nudges.experiments import selectors, services, statistics
from nudges.experiments.forms import ExperimentForm, TransitionForm, VariantFormSet
from nudges.permissions import manager_render, manager_required

GET_POST = ["GET", "HEAD", "POST"]

DEFAULT_VARIANTS = [
    {"key": "controle", "intervention": None, "weight": 1},
    {"key": "variant-a", "intervention": None, "weight": 1},
]


@manager_required
def experiment_list(request: HttpRequest) -> HttpResponse:
    return manager_render(request, "nudges/experiments/manager/list.html", {"experiments": selectors.experiment_list()})


def _variant_specs(formset) -> list[dict]:
    return [
        {
            "key": f.cleaned_data["key"],
            "intervention": f.cleaned_data.get("intervention"),
            "weight": f.cleaned_data["weight"],
        }
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


def _experiment_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("products", None)
    return data


@manager_required
@require_http_methods(GET_POST)
def experiment_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExperimentForm(request.POST)
        formset = VariantFormSet(request.POST, prefix="variants")
        if form.is_valid() and formset.is_valid():
            data = _experiment_fields(form)
            try:
                experiment = services.experiment_create(
                    products=form.cleaned_data["products"],
                    variants=_variant_specs(formset),
                    owner=request.user,
                    **data,
                )
            except NudgeError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Experiment opgeslagen als concept."))
                return redirect("nudges:manager-detail", experiment_id=experiment.pk)
    else:
        form = ExperimentForm()
        formset = VariantFormSet(prefix="variants", initial=DEFAULT_VARIANTS)
    return manager_render(
        request, "nudges/experiments/manager/form.html", {"form": form, "formset": formset, "experiment": None}
    )


@manager_required
@require_http_methods(GET_POST)
def experiment_edit(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = selectors.experiment_get(experiment_id)
    initial_variants = [
        {"key": v.key, "intervention": v.intervention, "weight": v.weight} for v in selectors.arms(experiment)
    ]
    if request.method == "POST":
        form = ExperimentForm(request.POST, instance=experiment)
        formset = None if experiment.is_locked else VariantFormSet(request.POST, prefix="variants")
        if form.is_valid() and (formset is None or formset.is_valid()):
            try:
                services.experiment_update(
                    experiment=experiment,
                    products=form.cleaned_data["products"],
                    variants=_variant_specs(formset) if formset is not None else None,
                    **_experiment_fields(form),
                )
            except NudgeError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Wijzigingen opgeslagen."))
                return redirect("nudges:manager-detail", experiment_id=experiment.pk)
    else:
        form = ExperimentForm(instance=experiment)
        formset = None if experiment.is_locked else VariantFormSet(prefix="variants", initial=initial_variants)
    return manager_render(
        request, "nudges/experiments/manager/form.html", {"form": form, "formset": formset, "experiment": experiment}
    )


def _detail_page(request: HttpRequest, experiment, *, errors: list[str] | None = None, status: int = 200):
    return manager_render(
        request,
        "nudges/experiments/manager/detail.html",
        {
            "experiment": experiment,
            "results": services.experiment_look(experiment=experiment),
            "problems": selectors.start_problems(experiment) if experiment.status == "draft" else [],
            "errors": errors or [],
            "typical_effect_points": statistics.TYPICAL_EFFECT * 100,
        },
        status=status,
    )


@manager_required
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    return _detail_page(request, selectors.experiment_get(experiment_id))


TRANSITIONS = {
    "start": (services.experiment_start, gettext_lazy("Het experiment loopt.")),
    "pause": (services.experiment_pause, gettext_lazy("Het experiment is gepauzeerd.")),
    "resume": (services.experiment_resume, gettext_lazy("Het experiment loopt weer.")),
    "finish": (
        services.experiment_finish,
        gettext_lazy("Het experiment is afgerond; de resultaten staan in het register."),
    ),
}


@manager_required
@require_POST
def experiment_transition(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = selectors.experiment_get(experiment_id)
    form = TransitionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        service, done = TRANSITIONS[action]
        kwargs = {"conclusion_nl": form.cleaned_data["conclusion_nl"]} if action == "finish" else {}
        try:
            service(experiment=experiment, **kwargs)
        except CannotStart as exc:
            return _detail_page(request, experiment, errors=exc.problems, status=409)
        except NudgeError as exc:
            return _detail_page(request, selectors.experiment_get(experiment.pk), errors=[str(exc.message)], status=409)
        messages.success(request, done)
    return redirect("nudges:manager-detail", experiment_id=experiment.pk)
