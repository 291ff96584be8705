"""The booking flow: five steps (products, location, time, details, check) and the
confirmation.

Views stay thin: forms check input, ``booking.services`` do every write, ``booking.selectors``
and ``booking.flow`` the reads and the visitor's draft (in the session, never in the URL). A
failed booking is shown on the step where the visitor can put it right.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from . import flow, limits, services
from .availability import local_tz
from .constants import AppointmentStatus, Channel
from .exceptions import BookingError, NotFound, SlotUnavailable, TooManyActiveAppointments
from .forms import DetailsForm, LocationForm, ProductsForm, TimeForm
from .models import Location, Product
from .selectors import appointment_get_by_token, location_get, location_list, product_list, products_by_codes
from .views import GET_POST, SAFE_METHODS, appointment_context, page_summary, time_page
from .web import add_domain_error, citizen_page


@dataclass
class Chosen:
    """What the draft points at, loaded; None where the visitor has not chosen yet."""

    products: list[Product] | None = None
    location: Location | None = None

    @classmethod
    def load(cls, draft: flow.Draft) -> Chosen:
        chosen = cls()
        try:
            chosen.products = products_by_codes(draft.products) if draft.products else None
        except BookingError:
            return chosen
        if chosen.products and draft.location_id:
            with suppress(BookingError):
                chosen.location = location_get(draft.location_id)
        return chosen

    # For the steps after _missing_step let the request through: the choice is there.
    @property
    def required_products(self) -> list[Product]:
        if not self.products:
            raise RuntimeError("No products chosen: _missing_step should have redirected")
        return self.products

    @property
    def required_location(self) -> Location:
        if self.location is None:
            raise RuntimeError("No location chosen: _missing_step should have redirected")
        return self.location


def _missing_step(draft: flow.Draft, chosen: Chosen, *, needs: int) -> HttpResponse | None:
    """Send the visitor back to the first step they still have to do (the session may have
    expired, or they jumped ahead)."""
    if needs >= 2 and not chosen.products:
        return redirect("booking:products")
    if needs >= 3 and chosen.location is None:
        return redirect("booking:location")
    if needs >= 4 and draft.start_at is None:
        return redirect("booking:time")
    if needs >= 5 and not draft.contact:
        return redirect("booking:details")
    return None


_BACK = {1: "booking:home", 2: "booking:products", 3: "booking:location", 4: "booking:time", 5: "booking:details"}


def _step_context(step: int, *, form=None, errors: list | None = None, **context) -> dict:
    return {
        "step": step,
        "step_count": len(flow.STEPS),
        "step_name": flow.STEPS[step - 1],
        "back_url": reverse(_BACK[step]),
        "form": form,
        "summary": page_summary(form, errors),
        **context,
    }


def _products_page(request: HttpRequest, form: ProductsForm) -> HttpResponse:
    return render(request, "booking/flow/products.html", _step_context(1, form=form))


@citizen_page
@require_http_methods(GET_POST)
def products_step(request: HttpRequest) -> HttpResponse:
    draft = flow.draft_get(request)
    products = product_list()
    if request.method in SAFE_METHODS:
        preselected = request.GET.get("product")
        initial = {"products": draft.products or ([preselected] if preselected else []), "persons": draft.persons}
        return _products_page(request, ProductsForm(initial=initial, products=products))

    form = ProductsForm(request.POST, products=products)
    if not form.is_valid():
        return _products_page(request, form)
    try:
        chosen = products_by_codes(form.cleaned_data["products"])
    except BookingError as exc:
        add_domain_error(form, exc)
        return _products_page(request, form)
    if not location_list(products=chosen).exists():
        form.add_error(
            "products",
            _("Deze producten kunnen niet samen in één afspraak. Maak voor elk product een aparte afspraak."),
        )
        return _products_page(request, form)

    persons = form.cleaned_data["persons"]
    if [p.code for p in chosen] != draft.products or persons != draft.persons:
        draft.products, draft.persons = [p.code for p in chosen], persons
        draft.forget_location()
    flow.draft_save(request, draft)
    choice = flow.ProductChoice(
        products=chosen,
        persons=persons,
        continue_url=reverse("booking:location"),
        needs_help=form.cleaned_data["needs_help"],
    )
    return flow.run_product_steps(request, choice) or redirect("booking:location")


def _location_page(request: HttpRequest, draft: flow.Draft, chosen: Chosen, form: LocationForm) -> HttpResponse:
    options = [
        (
            option,
            location,
            flow.next_free_slot(products=chosen.required_products, persons=draft.persons, location_id=location.pk),
        )
        for option, location in form.location_options()
    ]
    return render(request, "booking/flow/location.html", _step_context(2, form=form, options=options, draft=draft))


@citizen_page
@require_http_methods(GET_POST)
def location_step(request: HttpRequest) -> HttpResponse:
    draft = flow.draft_get(request)
    chosen = Chosen.load(draft)
    if response := _missing_step(draft, chosen, needs=2):
        return response
    locations = list(location_list(products=chosen.products))
    if request.method in SAFE_METHODS:
        initial = draft.location_id if draft.location_id else (locations[0].pk if len(locations) == 1 else None)
        return _location_page(request, draft, chosen, LocationForm(initial={"location": initial}, locations=locations))

    form = LocationForm(request.POST, locations=locations)
    if not form.is_valid():
        return _location_page(request, draft, chosen, form)
    if form.cleaned_data["location"] != draft.location_id:
        draft.location_id = form.cleaned_data["location"]
        draft.forget_time()
    flow.draft_save(request, draft)
    return redirect("booking:time")


def _booking_time_page(request, draft: flow.Draft, chosen: Chosen, form: TimeForm, alternatives=None):
    return time_page(
        request,
        "booking/flow/time.html",
        picker_url=reverse("booking:time"),
        products=chosen.required_products,
        persons=draft.persons,
        location=chosen.required_location,
        form=form,
        alternatives=alternatives,
        context={
            **_step_context(3, draft=draft),
            "page_links": flow.page_links(
                flow.TIME_STEP, products=chosen.products, location=chosen.location, persons=draft.persons
            ),
        },
    )


@citizen_page
@require_http_methods(GET_POST)
def time_step(request: HttpRequest) -> HttpResponse:
    draft = flow.draft_get(request)
    chosen = Chosen.load(draft)
    if response := _missing_step(draft, chosen, needs=3):
        return response
    if request.method in SAFE_METHODS:
        return _booking_time_page(request, draft, chosen, TimeForm(initial={"start": draft.start}))

    form = TimeForm(request.POST)
    if not form.is_valid():
        return _booking_time_page(request, draft, chosen, form)
    try:
        hold = services.appointment_hold(
            products=chosen.required_products,
            persons=draft.persons,
            location=chosen.required_location,
            start=form.cleaned_data["start"],
            channel=Channel.ONLINE,
            release_hold_token=draft.hold_token,
            holder=limits.holder_for(request),
        )
    except BookingError as exc:
        add_domain_error(form, exc)
        alternatives = exc.alternatives if isinstance(exc, SlotUnavailable) else None
        return _booking_time_page(request, draft, chosen, form, alternatives)
    draft.start = hold.start.astimezone(local_tz()).isoformat()
    draft.hold_token = hold.manage_token
    draft.hold_expires_at = hold.hold_expires_at.isoformat() if hold.hold_expires_at else None
    flow.draft_save(request, draft)
    return redirect("booking:details")


def _details_page(request: HttpRequest, draft: flow.Draft, chosen: Chosen, form: DetailsForm) -> HttpResponse:
    return render(
        request, "booking/flow/details.html", _step_context(4, form=form, draft=draft, location=chosen.location)
    )


@citizen_page
@require_http_methods(GET_POST)
def details_step(request: HttpRequest) -> HttpResponse:
    draft = flow.draft_get(request)
    chosen = Chosen.load(draft)
    if response := _missing_step(draft, chosen, needs=4):
        return response
    if request.method in SAFE_METHODS:
        return _details_page(request, draft, chosen, DetailsForm(initial=draft.contact))

    form = DetailsForm(request.POST)
    if not form.is_valid():
        return _details_page(request, draft, chosen, form)
    draft.contact = form.cleaned_data
    flow.draft_save(request, draft)
    return redirect("booking:check")


def _check_page(request: HttpRequest, draft: flow.Draft, chosen: Chosen, errors: list | None = None) -> HttpResponse:
    return render(
        request,
        "booking/flow/check.html",
        _step_context(
            5,
            errors=errors,
            draft=draft,
            products=chosen.products,
            location=chosen.location,
            hold_expired=bool(draft.hold_expires and draft.hold_expires <= timezone.now()),
        ),
    )


def _booking_error_page(request: HttpRequest, draft: flow.Draft, chosen: Chosen, exc: BookingError) -> HttpResponse:
    """Show a failed booking on the step where the visitor can put it right."""
    if exc.field in ("products", "persons"):
        products_form = ProductsForm({"products": draft.products, "persons": draft.persons}, products=product_list())
        add_domain_error(products_form, exc)
        return _products_page(request, products_form)
    if exc.field == "location":
        location_form = LocationForm(
            {"location": draft.location_id}, locations=list(location_list(products=chosen.products))
        )
        add_domain_error(location_form, exc)
        return _location_page(request, draft, chosen, location_form)
    if exc.field in ("start", "hold_token") or isinstance(exc, SlotUnavailable):
        time_form = TimeForm({"start": draft.start})
        add_domain_error(time_form, exc)
        draft.forget_time()  # the hold is gone; keep its token so the next hold releases it
        flow.draft_save(request, draft)
        alternatives = exc.alternatives if isinstance(exc, SlotUnavailable) else None
        return _booking_time_page(request, draft, chosen, time_form, alternatives)
    if exc.field in DetailsForm.base_fields:
        details_form = DetailsForm(draft.contact)
        add_domain_error(details_form, exc)
        return _details_page(request, draft, chosen, details_form)
    return _check_page(request, draft, chosen, errors=[str(exc.message)])


@citizen_page
@require_http_methods(GET_POST)
def check_step(request: HttpRequest) -> HttpResponse:
    draft = flow.draft_get(request)
    chosen = Chosen.load(draft)
    if response := _missing_step(draft, chosen, needs=5):
        return response
    if request.method in SAFE_METHODS:
        return _check_page(request, draft, chosen)

    contact = draft.contact or {}
    try:
        limits.client_bookings_check(request)
        appointment = services.appointment_book(
            products=chosen.required_products,
            persons=draft.persons,
            location=chosen.required_location,
            start=draft.required_start,
            name=contact["name"],
            email=contact["email"],
            phone=contact.get("phone", ""),
            channel=Channel.ONLINE,
            hold_token=draft.hold_token,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            remind_by_email=bool(contact.get("remind_by_email")),
            remind_by_sms=bool(contact.get("remind_by_sms")),
            send_confirmation=True,
        )
    except TooManyActiveAppointments as exc:
        # For a free time this answer says the address has an appointment for the product (the
        # public availability shows the time is free, so no answer could hide it): it costs the
        # client a booking from its caps, so one client can probe only that many addresses.
        limits.client_bookings_count(request)
        return _booking_error_page(request, draft, chosen, exc)
    except BookingError as exc:
        return _booking_error_page(request, draft, chosen, exc)
    limits.client_bookings_count(request)
    flow.draft_clear(request)
    request.session[flow.CONFIRMED_KEY] = appointment.manage_token
    return redirect("booking:confirmed")


@citizen_page
@require_safe
def confirmed(request: HttpRequest) -> HttpResponse:
    try:
        appointment = appointment_get_by_token(request.session.get(flow.CONFIRMED_KEY, ""))
    except NotFound:
        return redirect("booking:home")
    if appointment.status != AppointmentStatus.BOOKED:  # cancelled or handled since: show how it is now
        return redirect("booking:manage", token=appointment.manage_token)
    return render(request, "booking/flow/confirmed.html", appointment_context(request, appointment))
