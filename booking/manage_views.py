"""Managing an appointment by its private link (the secret manage token): the appointment,
cancelling, moving, "I'm coming" and "already arranged online?" from the reminder, and the
calendar file. Opening a manage link never changes anything: cancelling and moving need a POST
(with CSRF).
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from . import flow, services
from .constants import AppointmentStatus, CancelReason
from .exceptions import BookingError, NotFound, SlotUnavailable
from .forms import TimeForm
from .ics import appointment_ics, ics_filename
from .models import Appointment
from .selectors import appointment_get_by_token
from .views import GET_POST, SAFE_METHODS, appointment_context, page_summary, time_page
from .web import add_domain_error, citizen_page


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
    context = appointment_context(request, appointment)
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
                appointment_context(request, appointment, errors=True, summary=page_summary(errors=[str(exc.message)])),
            )
        messages.success(request, _("Uw afspraak is geannuleerd."))
        return redirect("booking:manage", token=appointment.manage_token)
    return render(request, "booking/manage/cancel.html", appointment_context(request, appointment))


def _reschedule_page(request, appointment: Appointment, form: TimeForm, alternatives=None) -> HttpResponse:
    return time_page(
        request,
        "booking/manage/reschedule.html",
        picker_url=reverse("booking:manage_reschedule", args=[appointment.manage_token]),
        products=list(appointment.products.all()),
        persons=appointment.persons,
        location=appointment.desk.location,
        form=form,
        alternatives=alternatives,
        context=appointment_context(request, appointment),
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
    summary = page_summary(errors=errors) if errors else None
    return render(request, template, appointment_context(request, appointment, summary=summary))


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
