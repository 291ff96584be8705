"""Waiting-list pages. Thin: ``nudges.waitlist.services`` decides and stores.

Citizens: join (``/wachtlijst/``, or from an appointment's manage page; the answer is always
"check your e-mail", also for an address that already waits, and never links to the entry:
whoever typed the address need not own it), confirm it with the e-mailed link
(``/wachtlijst/<token>/bevestigen/``, a POST), see their entry and leave it
(``/wachtlijst/<token>/``, leaving asks first and needs a POST), and answer an offer
(``/wachtlijst/aanbod/<token>/``: opening it never changes anything, mail scanners open links
too; accepting is a POST). Rate limited like the other citizen pages. Managers: the figures.
"""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from booking.constants import AppointmentStatus
from booking.exceptions import NotFound
from booking.selectors import appointment_get_by_token, location_list, product_list
from booking.web import add_domain_error, citizen_page
from nudges.exceptions import NudgeError
from nudges.models import OfferStatus
from nudges.permissions import manager_render, manager_required
from nudges.waitlist import offers as waitlist_offers
from nudges.waitlist import report as waitlist_report
from nudges.waitlist import selectors as waitlist_selectors
from nudges.waitlist import services as waitlist
from nudges.waitlist.forms import WaitlistForm

logger = logging.getLogger(__name__)

GET_POST = ["GET", "HEAD", "POST"]
SAFE_METHODS = ("GET", "HEAD")


def _in_their_language(request: HttpRequest, language: str) -> None:
    """Pages opened from an e-mail follow the e-mail's language, unless the visitor picked one."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _prefill(request: HttpRequest) -> dict:
    """From the booking flow's link: ?product=…&vestiging=…&personen=… (all optional)."""
    initial: dict = {"products": request.GET.getlist("product")}
    with contextlib.suppress(ValueError):
        initial["persons"] = int(request.GET.get("personen", ""))
    location_id = request.GET.get("vestiging", "")
    if location_id.isdigit():
        initial["location"] = location_id
    return initial


def _check_email_page(request: HttpRequest, email: str) -> HttpResponse:
    """The same answer for a new entry and for an address that already waits: it shows only
    what the visitor typed themselves."""
    hours = int(waitlist.CONFIRM_WITHIN.total_seconds() // 3600)
    return render(request, "nudges/waitlist/check_email.html", {"email": email, "confirm_hours": hours})


def _join_page(request: HttpRequest, form: WaitlistForm, appointment=None) -> HttpResponse:
    return render(
        request,
        "nudges/waitlist/join.html",
        {
            "form": form,
            "summary": form.error_summary(),
            "appointment": appointment,
            "products": list(appointment.products.all()) if appointment is not None else None,
            "location": appointment.desk.location if appointment is not None else None,
        },
    )


@citizen_page
@require_http_methods(GET_POST)
def join(request: HttpRequest) -> HttpResponse:
    options = {"products": list(product_list()), "locations": list(location_list())}
    if request.method in SAFE_METHODS:
        return _join_page(request, WaitlistForm(initial=_prefill(request), **options))
    form = WaitlistForm(request.POST, **options)
    if form.is_valid():
        data = form.cleaned_data
        try:
            waitlist.waitlist_join(
                products=form.chosen_products(),
                persons=data["persons"],
                location=data["location"],
                name=data["name"],
                email=data["email"],
                language=translation.get_language(),
                wanted_before=data["wanted_before"],
            )
        except NudgeError as exc:
            add_domain_error(form, exc)
        else:
            return _check_email_page(request, data["email"])
    return _join_page(request, form)


@citizen_page
@require_http_methods(GET_POST)
def join_for_appointment(request: HttpRequest, token: str) -> HttpResponse:
    """ "Eerder terecht?" from the manage page: the appointment's products and persons; an
    accepted offer moves this appointment."""
    try:
        appointment = appointment_get_by_token(token)
    except NotFound:
        return render(request, "booking/manage/not_found.html", status=404)
    if appointment.status != AppointmentStatus.BOOKED or appointment.start <= timezone.now():
        return redirect("booking:manage", token=appointment.manage_token)
    location = appointment.desk.location
    options = {"products": [], "locations": [location], "appointment": appointment}
    if request.method in SAFE_METHODS:
        form = WaitlistForm(initial={"location": str(location.pk), "email": appointment.email}, **options)
        return _join_page(request, form, appointment)
    form = WaitlistForm(request.POST, **options)
    if form.is_valid():
        data = form.cleaned_data
        try:
            waitlist.waitlist_join(
                products=[],
                persons=appointment.persons,
                location=data["location"],
                name=appointment.name,
                email=data["email"],
                language=translation.get_language(),
                wanted_before=data["wanted_before"],
                appointment=appointment,
            )
        except NudgeError as exc:
            add_domain_error(form, exc)
        else:
            return _check_email_page(request, data["email"])
    return _join_page(request, form, appointment)


def _entry_or_404(request: HttpRequest, token: str):
    entry = waitlist_selectors.waitlist_entry_get_by_token(token)
    if entry is None:
        return None, render(request, "nudges/waitlist/not_found.html", status=404)
    _in_their_language(request, entry.language)
    return entry, None


@citizen_page
@require_safe
def entry(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation: what they wait for, and the leave link (keep this page)."""
    found, response = _entry_or_404(request, token)
    if response:
        return response
    return render(
        request,
        "nudges/waitlist/entry.html",
        {
            "entry": found,
            "products": list(found.products.all()),
            "current": waitlist_selectors.entry_current_appointment(found),
        },
    )


@citizen_page
@require_http_methods(GET_POST)
def leave(request: HttpRequest, token: str) -> HttpResponse:
    found, response = _entry_or_404(request, token)
    if response:
        return response
    if request.method == "POST" and found.is_waiting:
        waitlist.waitlist_leave(entry=found)
        messages.success(request, _("U staat niet meer op de wachtlijst. We hebben uw naam en e-mailadres verwijderd."))
        return redirect("nudges:waitlist-entry", token=found.token)
    if not found.is_waiting:
        return redirect("nudges:waitlist-entry", token=found.token)
    return render(request, "nudges/waitlist/leave.html", {"entry": found, "products": list(found.products.all())})


@citizen_page
@require_http_methods(GET_POST)
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The double opt-in link. Opening it changes nothing (mail scanners follow links); the
    button POSTs. Confirming twice is harmless; a confirmed or ended entry shows its page."""
    found, response = _entry_or_404(request, token)
    if response:
        return response
    if request.method == "POST":
        found = waitlist.waitlist_entry_confirm(entry=found)
        if found.is_active:
            messages.success(request, _("Bedankt, uw aanmelding is bevestigd."))
        return redirect("nudges:waitlist-entry", token=found.token)
    if not found.is_unconfirmed:
        return redirect("nudges:waitlist-entry", token=found.token)
    return render(request, "nudges/waitlist/confirm.html", {"entry": found, "products": list(found.products.all())})


def _offer_page(request: HttpRequest, offer, *, error: str | None = None) -> HttpResponse:
    return render(
        request,
        "nudges/waitlist/offer.html",
        {
            "offer": offer,
            "entry": offer.entry,
            "products": list(offer.entry.products.all()),
            "end": waitlist_selectors.offer_end(offer),
            "current": waitlist_selectors.entry_current_appointment(offer.entry),
            "summary": [{"anchor": None, "message": error}] if error else [],
        },
    )


def _gone_page(request: HttpRequest, offer, message: str, *, accepted: bool = False) -> HttpResponse:
    # A normal answer, not an error: someone else was quicker, or the hold ran out.
    return render(
        request,
        "nudges/waitlist/offer_gone.html",
        {"offer": offer, "entry": offer.entry, "message": message, "accepted": accepted},
    )


@citizen_page
@require_http_methods(GET_POST)
def offer(request: HttpRequest, token: str) -> HttpResponse:
    found = waitlist_selectors.waitlist_offer_get_by_token(token)
    if found is None:
        return render(request, "nudges/waitlist/not_found.html", status=404)
    _in_their_language(request, found.entry.language)
    if request.method == "POST":
        try:
            appointment = waitlist_offers.waitlist_offer_accept(offer=found)
        except waitlist_offers.OfferAlreadyAccepted as exc:
            return _gone_page(request, found, str(exc.message), accepted=True)
        except waitlist_offers.OfferGone as exc:
            return _gone_page(request, found, str(exc.message))
        messages.success(request, _("Gelukt: de eerdere tijd is van u. U krijgt een bevestiging per e-mail."))
        return redirect("booking:manage", token=appointment.manage_token)
    state = waitlist_selectors.offer_state(found)
    if state == OfferStatus.ACCEPTED:
        return _gone_page(request, found, str(waitlist_offers.OfferAlreadyAccepted.default_message), accepted=True)
    if state != OfferStatus.OFFERED or not found.entry.is_active:
        return _gone_page(request, found, str(waitlist_offers.OfferGone.default_message))
    return _offer_page(request, found)


@manager_required
@require_safe
def waitlist_overview(request: HttpRequest) -> HttpResponse:
    rows, total = waitlist_report.waitlist_figures()
    return manager_render(
        request,
        "nudges/waitlist/manager.html",
        {"rows": rows, "total": total, "offers_per_slot": settings.NUDGES_WAITLIST_OFFERS_PER_SLOT},
    )
