"""Manager pages of the cockpit, in the staff frame; every page checks ``nudges.manage_policy``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from booking.forms import add_booking_error
from booking.staff.permissions import staff_required
from booking.staff.views import staff_render
from nudges.exceptions import NudgeError

from . import selectors, services
from .constants import MANAGE_POLICY, BoundStatus
from .forms import BoundForm

cockpit_required = staff_required(MANAGE_POLICY)

PAGES = (("nudges:cockpit-frame", gettext_lazy("Kaders")),)


def cockpit_render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return staff_render(request, template, {"cockpit_pages": PAGES, **context}, status=status)


@cockpit_required
@require_http_methods(["GET", "POST"])
def frame(request: HttpRequest) -> HttpResponse:
    form = BoundForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.bound_set(user=request.user, **form.cleaned_data)
        except NudgeError as exc:
            add_booking_error(form, exc)
        else:
            messages.success(request, _("Kader vastgelegd. De nieuwe grens geldt vanaf de volgende meting."))
            return redirect("nudges:cockpit-frame")
    rows = selectors.bound_monitor()
    return cockpit_render(
        request,
        "nudges/cockpit/frame.html",
        {
            "rows": rows,
            "form": form,
            "summary": form.error_summary(),
            "history": selectors.bound_history(limit=50),
            "breached": sum(r.status == BoundStatus.BREACHED for r in rows),
        },
        status=400 if form.is_bound else 200,
    )


@cockpit_required
@require_POST
def measure_now(request: HttpRequest) -> HttpResponse:
    result = services.bounds_check()
    messages.success(request, _("%(n)s kaders gemeten.") % {"n": result.measured})
    return redirect("nudges:cockpit-frame")
