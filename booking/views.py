"""Citizen pages: booking in five steps, the confirmation, the private manage link, and the
accessibility and privacy statements.

Views stay thin: forms check input, ``booking.services`` do every write, ``booking.selectors``
and ``booking.flow`` the reads and the visitor's draft. A domain error becomes a form error in
one place (``web.add_domain_error``) and is shown on the step it belongs to. Every booking
and manage page is rate limited per client and answers a friendly 429 when over the limit.
Opening a manage link never changes anything: cancelling and moving need a POST (with CSRF).

Size (over 400 lines): the five steps share the draft, the error routing and the page
helpers; split it per step only together with ``booking.flow``.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from . import flow, limits, services
from .availability import local_tz
from .constants import AppointmentStatus, CancelReason, Channel
from .exceptions import BookingError, NotFound, SlotUnavailable
from .forms import DetailsForm, LocationForm, ProductsForm, TimeForm
from .ics import appointment_ics, ics_filename
from .models import Appointment, Location, Product
from .selectors import appointment_get_by_token, location_get, location_list, product_list, products_by_codes
from .web import add_domain_error, citizen_page

logger = logging.getLogger(__name__)

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


# --- the booking flow -----------------------------------------------------------------------


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


def _summary(form=None, errors: list | None = None) -> list[dict]:
    """The error summary at the top of a page: the form's errors, then any others."""
    items = form.error_summary() if form is not None else []
    return items + [{"anchor": None, "message": message} for message in errors or []]


def _step_context(step: int, *, form=None, errors: list | None = None, **context) -> dict:
    return {
        "step": step,
        "step_count": len(flow.STEPS),
        "step_name": flow.STEPS[step - 1],
        "back_url": reverse(_BACK[step]),
        "form": form,
        "summary": _summary(form, errors),
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


def _time_page(
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
            "summary": _summary(form),
            "location": location,
            "products": products,
            "persons": persons,
            **{k: v for k, v in (context or {}).items() if k not in ("form", "summary")},
        },
    )


def _booking_time_page(request, draft: flow.Draft, chosen: Chosen, form: TimeForm, alternatives=None):
    return _time_page(
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
    return render(request, "booking/flow/confirmed.html", _appointment_context(request, appointment))


# --- managing an appointment by its private link --------------------------------------------


def _appointment_context(request: HttpRequest, appointment: Appointment, **extra) -> dict:
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


def _manage(view):
    """Load the appointment of the token; a friendly 404 page for an unknown link."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str) -> HttpResponse:
        try:
            appointment = appointment_get_by_token(token)
        except NotFound:
            return render(request, "booking/manage/not_found.html", status=404)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            # The link came in an e-mail in the appointment's language: the page follows it
            # unless the visitor has picked a language with the switch.
            translation.activate(appointment.language)
            request.LANGUAGE_CODE = appointment.language
        return view(request, appointment)

    return citizen_page(wrapped)


@_manage
@require_safe
def manage(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    context = _appointment_context(request, appointment)
    if context["can_change"]:
        context["page_links"] = flow.page_links(flow.MANAGE_PAGE, appointment=appointment)
    return render(request, "booking/manage/detail.html", context)


@_manage
@require_http_methods(GET_POST)
def manage_cancel(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    if appointment.status == AppointmentStatus.CANCELLED:
        return redirect("booking:manage", token=appointment.manage_token)
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment)
        except BookingError as exc:
            return render(
                request,
                "booking/manage/cancel.html",
                _appointment_context(request, appointment, errors=True, summary=_summary(errors=[str(exc.message)])),
            )
        messages.success(request, _("Uw afspraak is geannuleerd."))
        return redirect("booking:manage", token=appointment.manage_token)
    return render(request, "booking/manage/cancel.html", _appointment_context(request, appointment))


def _reschedule_page(request, appointment: Appointment, form: TimeForm, alternatives=None) -> HttpResponse:
    return _time_page(
        request,
        "booking/manage/reschedule.html",
        picker_url=reverse("booking:manage_reschedule", args=[appointment.manage_token]),
        products=list(appointment.products.all()),
        persons=appointment.persons,
        location=appointment.desk.location,
        form=form,
        alternatives=alternatives,
        context=_appointment_context(request, appointment),
    )


@_manage
@require_http_methods(GET_POST)
def manage_reschedule(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    if appointment.status != AppointmentStatus.BOOKED:
        return redirect("booking:manage", token=appointment.manage_token)
    if request.method in SAFE_METHODS:
        return _reschedule_page(request, appointment, TimeForm())
    form = TimeForm(request.POST)
    if not form.is_valid():
        return _reschedule_page(request, appointment, form)
    try:
        moved = services.appointment_reschedule(
            appointment=appointment, start=form.cleaned_data["start"], send_confirmation=True
        )
    except BookingError as exc:
        add_domain_error(form, exc)
        alternatives = exc.alternatives if isinstance(exc, SlotUnavailable) else None
        return _reschedule_page(request, appointment, form, alternatives)
    messages.success(request, _("Uw afspraak is verzet. U krijgt een nieuwe bevestiging per e-mail."))
    return redirect("booking:manage", token=moved.manage_token)


def _manage_page(request: HttpRequest, template: str, appointment: Appointment, errors: list | None = None):
    summary = _summary(errors=errors) if errors else None
    return render(request, template, _appointment_context(request, appointment, summary=summary))


@_manage
@require_http_methods(GET_POST)
def manage_confirm(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """ "I'm coming", from the reminder. The GET only asks (mail scanners open every link);
    the POST records it, and confirming twice changes nothing."""
    if request.method == "POST":
        try:
            services.appointment_confirm(appointment=appointment)
        except BookingError as exc:
            return _manage_page(request, "booking/manage/confirm.html", appointment, [str(exc.message)])
        return redirect("booking:manage_confirm", token=appointment.manage_token)
    return _manage_page(request, "booking/manage/confirm.html", appointment)


@_manage
@require_http_methods(GET_POST)
def manage_done_online(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """ "Already arranged online?", from the reminder of an appointment that can be done
    online as a whole: cancels through the one cancel service, with the reason for the audit
    trail (and for other apps, through the cancel hook). The GET only asks."""
    products = list(appointment.products.all())
    if not products or not all(product.has_online_alternative for product in products):
        return redirect("booking:manage", token=appointment.manage_token)
    if request.method == "POST" and appointment.status == AppointmentStatus.BOOKED:
        try:
            services.appointment_cancel(appointment=appointment, reason=CancelReason.DONE_ONLINE)
        except BookingError as exc:
            return _manage_page(request, "booking/manage/done_online.html", appointment, [str(exc.message)])
        messages.success(request, _("Uw afspraak is geannuleerd. Fijn dat u het online heeft geregeld."))
        return redirect("booking:manage", token=appointment.manage_token)
    return _manage_page(request, "booking/manage/done_online.html", appointment)


@_manage
@require_safe
def manage_ics(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    manage_url = request.build_absolute_uri(reverse("booking:manage", args=[appointment.manage_token]))
    response = HttpResponse(
        appointment_ics(appointment, manage_url=manage_url, language=translation.get_language()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(appointment)}"'
    return response


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
