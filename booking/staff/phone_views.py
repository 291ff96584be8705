"""Staff pages for the phone: finding an appointment, and booking, moving and cancelling one on
a caller's behalf (permission ``BOOK_BY_PHONE``). Thin like the desk pages (``views``):
``booking.staff.services`` do every write, and every change is a POST answered by a redirect.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking.availability import availability_for_products, local_tz
from booking.constants import AppointmentStatus
from booking.dates import day_parse
from booking.exceptions import BookingError, SlotUnavailable
from booking.models import Location
from booking.selectors import location_list
from booking.web import add_domain_error

from . import selectors, services
from .forms import PhoneBookingForm, SearchForm, SlotSearchForm, StartForm
from .panels import panels_for
from .permissions import staff_render, staff_required
from .roles import BOOK_BY_PHONE
from .views import GET_POST, appointment_context, appointment_or_404, local_today


@staff_required(BOOK_BY_PHONE)
@require_safe
def phone(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET if request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        results = selectors.appointment_search(query=form.cleaned_data["q"], day=form.cleaned_data["day"])
    return staff_render(
        request,
        "staff/phone/search.html",
        {
            "form": form,
            "results": results,
            "summary": form.error_summary(),
            "panels": panels_for(request, "phone"),
        },
    )


def _slots_for(*, products, persons: int, location: Location, day: date) -> dict:
    slots = availability_for_products(
        products=products, persons=persons, location_id=location.pk, date_from=day, date_to=day
    )
    next_free = None
    if not slots:
        later = availability_for_products(
            products=products,
            persons=persons,
            location_id=location.pk,
            date_from=day + timedelta(days=1),
            date_to=day + timedelta(days=28),
        )
        next_free = later[0].start if later else None
    return {"slots": slots, "next_free": next_free}


@staff_required(BOOK_BY_PHONE)
@require_http_methods(GET_POST)
def phone_book(request: HttpRequest) -> HttpResponse:
    """Book for a caller: what and where (GET), then a time and the caller's details (POST)."""
    first_location = location_list().first()
    search = SlotSearchForm(
        request.GET if "products" in request.GET else None,
        initial={"day": local_today(), "persons": 1, "location": first_location},
    )
    book_form = PhoneBookingForm(request.POST if request.method == "POST" else None)
    context: dict = {"search": search, "book_form": book_form, "alternatives": []}
    if search.is_bound and search.is_valid():
        data = search.cleaned_data
        products = list(data["products"])
        if request.method == "POST" and book_form.is_valid():
            contact = book_form.cleaned_data
            try:
                appointment = services.phone_appointment_book(
                    actor=request.user,
                    products=products,
                    persons=data["persons"],
                    location=data["location"],
                    start=contact["start"],
                    name=contact["name"],
                    email=contact["email"],
                    phone=contact["phone"],
                    language=contact["language"],
                    remind_by_email=contact["remind_by_email"],
                )
            except BookingError as exc:
                add_domain_error(book_form, exc)
                if isinstance(exc, SlotUnavailable):
                    context["alternatives"] = exc.alternatives
            else:
                messages.success(
                    request,
                    _("Afspraak %(ref)s is gemaakt; de beller krijgt een bevestiging per e-mail.")
                    % {"ref": appointment.reference},
                )
                return redirect("staff:appointment", reference=appointment.reference)
        context.update(
            _slots_for(products=products, persons=data["persons"], location=data["location"], day=data["day"])
        )
        context.update({"query": request.GET.urlencode(), "day": data["day"], "location": data["location"]})
    context["summary"] = search.error_summary() + book_form.error_summary()
    asked = [p.pk for p in search.cleaned_data.get("products", [])] if search.is_bound and search.is_valid() else []
    context["panels"] = panels_for(request, "phone_book", product_ids=asked)
    status = 400 if request.method == "POST" else 200
    return staff_render(request, "staff/phone/book.html", context, status=status)


@staff_required(BOOK_BY_PHONE)
@require_http_methods(GET_POST)
def phone_reschedule(request: HttpRequest, reference: str) -> HttpResponse:
    appointment = appointment_or_404(reference)
    if appointment.status != AppointmentStatus.BOOKED:
        return redirect("staff:appointment", reference=appointment.reference)
    location = appointment.desk.location
    day = day_parse(request.GET.get("day")) or max(local_today(), appointment.start.astimezone(local_tz()).date())
    form = StartForm(request.POST if request.method == "POST" else None)
    products = list(appointment.products.all())
    context: dict = {"appointment": appointment, "form": form, "day": day, "alternatives": [], "products": products}
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.phone_appointment_reschedule(
                actor=request.user, appointment=appointment, start=form.cleaned_data["start"]
            )
        except BookingError as exc:
            add_domain_error(form, exc)
            if isinstance(exc, SlotUnavailable):
                context["alternatives"] = exc.alternatives
        else:
            messages.success(
                request,
                _("Afspraak %(ref)s is verzet; de beller krijgt een nieuwe bevestiging per e-mail.")
                % {"ref": moved.reference},
            )
            return redirect("staff:appointment", reference=moved.reference)
    context.update(_slots_for(products=products, persons=appointment.persons, location=location, day=day))
    context.update(
        {
            "summary": form.error_summary(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "location": location,
        }
    )
    return staff_render(request, "staff/phone/reschedule.html", context, status=400 if form.is_bound else 200)


@staff_required(BOOK_BY_PHONE)
@require_POST
def phone_cancel(request: HttpRequest, reference: str) -> HttpResponse:
    appointment = appointment_or_404(reference)
    try:
        services.phone_appointment_cancel(actor=request.user, appointment=appointment)
    except BookingError as exc:
        context = appointment_context(request, appointment, summary=[{"anchor": None, "message": str(exc.message)}])
        return staff_render(request, "staff/appointment_detail.html", context, status=409)
    messages.success(request, _("Afspraak %(ref)s is geannuleerd.") % {"ref": appointment.reference})
    return redirect("staff:appointment", reference=appointment.reference)
