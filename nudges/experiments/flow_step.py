"""The booking flow's nudge step (registered with ``booking.flow.register_product_step``).

After the product choice: when a running experiment covers the chosen product, the visitor
gets a unit cookie and either
- is exempt (help asked for, a product that needs the counter): logged as an exemption, on
  to the location step;
- is in an arm (control or nudge): sent to the nudge step (``views.step``), which logs the
  exposure for every arm in the same way at the same moment (when the step after the product
  choice is shown) and then shows the nudge, or for control sends the visitor straight on to
  the location step. Logging the control here and a nudge only on the next page would count
  visitors lost in between in control only (a sample-ratio mismatch by construction).
Without a running experiment the step does nothing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from booking.flow import ProductChoice
from nudges.constants import Touchpoint
from nudges.experiments import logs, selectors
from nudges.experiments.unit import ensure_unit, set_unit_cookie


def product_choice_step(request: HttpRequest, choice: ProductChoice) -> HttpResponse | None:
    if selectors.running_experiment_for(products=choice.products, touchpoint=Touchpoint.PRODUCT_CHOICE) is None:
        return None
    unit = ensure_unit(request)
    decision = selectors.decide(products=choice.products, unit_hash=unit, needs_help=choice.needs_help)
    if decision.experiment is None:
        return None
    if decision.exempt_reason is not None:  # decision.exempt
        logs.exemption_log(experiment=decision.experiment, unit_hash=unit, reason=decision.exempt_reason)
        return set_unit_cookie(request, redirect(choice.continue_url))
    return set_unit_cookie(request, redirect("nudges:step"))
