"""Citizen-facing nudge pages: the nudge step, the tracked online redirect, the "counter
anyway" action and the public register. Thin: selectors decide, services log."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from booking import flow
from booking.exceptions import BookingError
from booking.selectors import products_by_codes
from nudges.constants import ExperimentStatus, Touchpoint
from nudges.experiments import logs, results, selectors
from nudges.experiments.unit import request_unit_hash


def _current_decision(request: HttpRequest):
    draft = flow.draft_get(request)
    unit = request_unit_hash(request)
    if not draft.products or unit is None:
        return None, unit
    try:
        products = products_by_codes(draft.products)
    except BookingError:
        return None, unit
    return selectors.decide(products=products, unit_hash=unit), unit


@never_cache
@require_safe
def step(request: HttpRequest) -> HttpResponse:
    """The step after the product choice for every arm: logs the exposure (control included,
    the same way at the same moment), then shows the visitor's assigned nudge (the same one on
    every visit) with the way on to the counter, or for control goes on to the location step."""
    decision, unit = _current_decision(request)
    if decision is None or decision.variant is None:
        return redirect("booking:location")
    logs.exposure_log(
        experiment=decision.experiment,
        variant=decision.variant,
        unit_hash=unit,
        product=decision.product,
        fallback=decision.content.fallback if decision.content else False,
    )
    if not decision.shows_nudge:
        return redirect("booking:location")
    return render(
        request,
        "nudges/experiments/step.html",
        {"decision": decision, "content": decision.content, "experiment": decision.experiment},
    )


@never_cache
@require_POST
def continue_to_counter(request: HttpRequest) -> HttpResponse:
    """ "Book a counter appointment anyway" (or "I need help"): logged, then on to the location step."""
    decision, unit = _current_decision(request)
    if decision is not None and decision.experiment is not None:
        logs.counter_choice_record(
            experiment=decision.experiment, unit_hash=unit, needs_help=request.POST.get("reden") == "hulp"
        )
    return redirect("booking:location")


@never_cache
@require_safe
def go_online(request: HttpRequest, code: str) -> HttpResponse:
    """The tracked redirect to the online form: logs the choice and appends the opaque
    reference the online channel reports completion with."""
    try:
        (product,) = products_by_codes([code])
    except BookingError:
        raise Http404 from None
    if not product.has_online_alternative:
        raise Http404
    found = selectors.running_experiment_for(products=[product], touchpoint=Touchpoint.PRODUCT_CHOICE)
    experiment = found[0] if found else None
    url = logs.online_choice_record(experiment=experiment, unit_hash=request_unit_hash(request), product=product)
    response = HttpResponseRedirect(url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def register(request: HttpRequest) -> HttpResponse:
    """The public register: every running, paused and finished experiment, its purpose, and
    for finished ones the results."""
    experiments = selectors.register_experiments()
    active = [e for e in experiments if e.status != ExperimentStatus.FINISHED]
    finished = [
        (e, results.experiment_results(e))  # as of the finish (or the frozen analysis)
        for e in experiments
        if e.status == ExperimentStatus.FINISHED
    ]
    return render(request, "nudges/experiments/register.html", {"active": active, "finished": finished})
