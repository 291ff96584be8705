"""Citizen pages: the start and product pages, the accessibility and privacy statements, and
the page helpers the booking flow (``flow_views``) and the manage pages (``manage_views``)
share: the error summary, the time picker page and an appointment's context.

Every booking and manage page is rate limited per client and answers a friendly 429 when over
the limit (``booking.web.citizen_page``). A domain error becomes a form error in one place
(``booking.web.add_domain_error``) and is shown on the step it belongs to.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import flow
from .constants import AppointmentStatus
from .exceptions import BookingError
from .forms import TimeForm
from .models import Appointment, Location, Product
from .selectors import location_list, product_list, products_by_codes

GET_POST = ["GET", "HEAD", "POST"]
SAFE_METHODS = ("GET", "HEAD")


# --- start and product pages ----------------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/home.html", {"products": product_list()})


@require_safe
def product_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        (product,) = products_by_codes([code])
    except BookingError:
        return render(request, "404.html", status=404)
    return render(
        request,
        "booking/product_detail.html",
        {"product": product, "locations": location_list(products=[product])},
    )


# --- statements -----------------------------------------------------------------------------


@require_safe
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


@require_safe
def privacy_statement(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/privacy.html",
        {"hold_minutes": settings.BOOKING_HOLD_MINUTES, "retention_days": settings.BOOKING_RETENTION_DAYS},
    )


# --- page helpers of the flow and the manage pages --------------------------------------------


def page_summary(form=None, errors: list | None = None) -> list[dict]:
    """The error summary at the top of a page: the form's errors, then any others."""
    items = form.error_summary() if form is not None else []
    return items + [{"anchor": None, "message": message} for message in errors or []]


def time_page(
    request: HttpRequest,
    template: str,
    *,
    picker_url: str,
    products: list[Product],
    persons: int,
    location: Location,
    form: TimeForm,
    alternatives: list | None = None,
    context: dict | None = None,
) -> HttpResponse:
    """The accessible time picker (booking step 3, and moving an appointment)."""
    chosen_value = form.data.get("start") if form.is_bound else form.initial.get("start")
    chosen_day = flow.parse_day((chosen_value or "")[:10])
    picker = flow.build_time_picker(
        products=products,
        persons=persons,
        location_id=location.pk,
        week=flow.parse_day(request.GET.get("week")) or chosen_day,
        day=flow.parse_day(request.GET.get("dag")) or chosen_day,
    )
    return render(
        request,
        template,
        {
            "form": form,
            "picker": picker,
            "picker_url": picker_url,
            "alternatives": flow.time_options(alternatives or []),
            "chosen_value": chosen_value,
            "summary": page_summary(form),
            "location": location,
            "products": products,
            "persons": persons,
            **{k: v for k, v in (context or {}).items() if k not in ("form", "summary")},
        },
    )


def appointment_context(request: HttpRequest, appointment: Appointment, **extra) -> dict:
    manage_path = reverse("booking:manage", args=[appointment.manage_token])
    return {
        "appointment": appointment,
        "location": appointment.desk.location,
        "products": list(appointment.products.all()),
        "manage_url": request.build_absolute_uri(manage_path),
        "manage_path": manage_path,
        "can_change": appointment.status == AppointmentStatus.BOOKED and appointment.start > timezone.now(),
        **extra,
    }
