"""Staff pages for the desk: login, the start page, the day board (with its refreshable
fragment), desk actions, walk-ins and the appointment page with its audit trail; and the
helpers every staff page uses (``staff_render``, ``local_today``, ``appointment_or_404``).
The phone pages are in ``phone_views``, the planning pages in ``planning_views``.

Views stay thin: forms check input, ``booking.staff.services`` do every write and
``booking.staff.selectors`` the reads. Every view is wrapped in ``staff_required`` with the
permission of its role. Every change is a POST (with CSRF) answered by a redirect (PRG).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import user_has_device
from django_ratelimit.decorators import ratelimit

from booking.availability import local_tz
from booking.constants import AppointmentStatus, CancelReason, OnlinePossible, OnlineReason
from booking.exceptions import BookingError
from booking.models import Appointment, Location
from booking.selectors import location_list
from booking.web import add_domain_error, too_many_requests

from . import selectors, services
from .forms import BoardFilterForm, ServedForm, WalkInForm
from .panels import panels_for
from .permissions import staff_render, staff_required, user_can
from .roles import BOOK_BY_PHONE, RUN_DESK

GET_POST = ["GET", "HEAD", "POST"]
BOARD_REFRESH_SECONDS = 30
SESSION_LOCATION_KEY = "staff_location_id"


def local_today() -> date:
    return timezone.now().astimezone(local_tz()).date()


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a staff page on this site, or the default."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/medewerkers/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        return target
    return default


def appointment_or_404(reference: str) -> Appointment:
    appointment = selectors.appointment_for_staff(reference=reference)
    if appointment is None:
        raise Http404
    return appointment


# --- login, start page ----------------------------------------------------------------------


class StaffLoginView(LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True


_login_view = StaffLoginView.as_view()


def _login_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "STAFF_LOGIN_RATELIMIT", "10/m")


def _login_limited(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A login page limited per client address (one budget for the staff login and the
    admin's). Lockout after wrong passwords is per (user name, address), by django-axes for
    both pages alike: a limit per user name alone would let anyone lock a named colleague out."""

    @ratelimit(group="staff-login", key="ip", rate=_login_rate, method="POST", block=False)
    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if getattr(request, "limited", False):
            return too_many_requests(request, "staff/too_many_requests.html")
        return view(request, *args, **kwargs)

    return limited


login_view = _login_limited(_login_view)
# The Django admin's login (config/urls.py routes /admin/login/ here before the admin's URLs).
admin_login_view = _login_limited(admin.site.login)


@staff_required()
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return staff_render(request, "staff/home.html", {"has_mfa": user_has_device(request.user)})


# --- day board ------------------------------------------------------------------------------


def _board_params(request: HttpRequest) -> tuple[Location | None, date, BoardFilterForm]:
    """The location and day asked for; else the last location used and today."""
    remembered = request.session.get(SESSION_LOCATION_KEY)
    default_location = (
        location_list().filter(pk=remembered).first() if remembered else None
    ) or location_list().first()
    data = {
        "location": request.GET.get("location") or (default_location.pk if default_location else ""),
        "day": request.GET.get("day") or local_today().isoformat(),
    }
    form = BoardFilterForm(data)
    if form.is_valid():
        location, day = form.cleaned_data["location"], form.cleaned_data["day"]
        if remembered != location.pk:
            request.session[SESSION_LOCATION_KEY] = location.pk
        return location, day, form
    return default_location, local_today(), form


def _board_url(location: Location, day: date) -> str:
    return f"{reverse('staff:board')}?location={location.pk}&day={day.isoformat()}"


def _board_context(request: HttpRequest, location: Location, day: date) -> dict:
    board = selectors.day_board(location=location, day=day)
    today = local_today()
    return {
        "board": board,
        "board_url": _board_url(location, day),
        "fragment_url": f"{reverse('staff:board_fragment')}?location={location.pk}&day={day.isoformat()}",
        "is_today": day == today,
        "not_future": day <= today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "today": today,
        "now": timezone.now(),
        "served_form": ServedForm(),
        "refresh_seconds": BOARD_REFRESH_SECONDS,
    }


def _board_page(request: HttpRequest, location: Location, day: date, form, walk_in: WalkInForm, status=200):
    context = _board_context(request, location, day)
    context.update({"filter_form": form, "walk_in_form": walk_in, "summary": walk_in.error_summary()})
    context["panels"] = panels_for(request, "board", location_id=location.pk, day=day)
    return staff_render(request, "staff/board.html", context, status=status)


@staff_required(RUN_DESK)
@require_safe
def board(request: HttpRequest) -> HttpResponse:
    location, day, form = _board_params(request)
    if location is None:
        return staff_render(request, "staff/no_locations.html")
    return _board_page(request, location, day, form, WalkInForm(location=location))


@staff_required(RUN_DESK)
@require_safe
def board_fragment(request: HttpRequest) -> HttpResponse:
    """The desks and their appointments only: fetched every 30 seconds by the board's script."""
    location, day, _form = _board_params(request)
    if location is None:
        raise Http404
    return render(request, "staff/includes/board_grid.html", _board_context(request, location, day))


@staff_required(RUN_DESK)
@require_POST
def walk_in(request: HttpRequest) -> HttpResponse:
    location, day, form = _board_params(request)
    if location is None:
        raise Http404
    walk_in_form = WalkInForm(request.POST, location=location)
    served = request.POST.get("action") == "served"
    if walk_in_form.is_valid():
        data = walk_in_form.cleaned_data
        try:
            appointment = services.walk_in_register(
                actor=request.user,
                location=location,
                products=[data["product"]],
                persons=data["persons"],
                name=data["name"],
                desk=data["desk"],
                served=served,
                online_possible=data["online_possible"] if served else "",
                online_reason=data["online_reason"] if served else "",
            )
        except BookingError as exc:
            add_domain_error(walk_in_form, exc)
        else:
            if served:
                messages.success(
                    request, _("Inloop %(ref)s geregistreerd als geholpen.") % {"ref": appointment.reference}
                )
            else:
                local = appointment.start.astimezone(local_tz())
                messages.success(
                    request,
                    _("Inloop %(ref)s: %(desk)s om %(time)s.")
                    % {"ref": appointment.reference, "desk": appointment.desk.name, "time": local.strftime("%H:%M")},
                )
            return redirect(_board_url(location, local_today()) + f"#afspraak-{appointment.reference}")
    return _board_page(request, location, day, form, walk_in_form, status=400)


# --- desk actions ---------------------------------------------------------------------------


HISTORY_FIELDS = {
    "status": gettext_lazy("Status"),
    "start": gettext_lazy("Begin"),
    "desk": gettext_lazy("Balie"),
    "products": gettext_lazy("Producten"),
    "persons": gettext_lazy("Personen"),
    "online_possible": gettext_lazy("Had online gekund"),
    "online_reason": gettext_lazy("Reden"),
    "checked_in_at": gettext_lazy("Aangemeld om"),
    "closure": gettext_lazy("Sluiting"),
    "cancel_reason": gettext_lazy("Reden van annuleren"),
}
CHOICES_BY_FIELD = {
    "status": AppointmentStatus,
    "online_possible": OnlinePossible,
    "online_reason": OnlineReason,
    "cancel_reason": CancelReason,
}


def _history_value(field: str, value) -> str:
    if value in (None, ""):
        return "–"
    choices = CHOICES_BY_FIELD.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if isinstance(value, str) and field in ("start", "checked_in_at"):
        try:
            return datetime.fromisoformat(value).astimezone(local_tz()).strftime("%d-%m-%Y %H:%M")
        except ValueError:
            return value
    return str(value)


def _history(appointment: Appointment) -> list[dict]:
    """The audit trail, newest first, with readable changes."""
    rows = []
    for event in appointment.events.select_related("actor", "client"):
        changes = [
            {
                "field": HISTORY_FIELDS.get(field, field),
                "old": _history_value(field, pair[0]),
                "new": _history_value(field, pair[1]),
            }
            for field, pair in (event.changes or {}).items()
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        rows.append({"event": event, "changes": changes})
    return list(reversed(rows))


def appointment_context(request: HttpRequest, appointment: Appointment, **extra) -> dict:
    now = timezone.now()
    day = appointment.start.astimezone(local_tz()).date()
    return {
        "appointment": appointment,
        "is_today": day == local_today(),
        "not_future": day <= local_today(),
        "products": list(appointment.products.all()),
        "history": _history(appointment),
        "can_desk": user_can(request.user, RUN_DESK),
        "can_phone": user_can(request.user, BOOK_BY_PHONE),
        "can_change": appointment.status == AppointmentStatus.BOOKED and appointment.start > now,
        "served_form": extra.pop("served_form", None) or ServedForm(),
        "board_url": _board_url(appointment.desk.location, day),
        "now": now,
        "today": local_today(),
        **extra,
    }


def _desk_action(request: HttpRequest, reference: str, perform: Callable[[Appointment], object], done: str):
    appointment = appointment_or_404(reference)
    try:
        perform(appointment)
    except BookingError as exc:
        context = appointment_context(request, appointment, summary=[{"anchor": None, "message": str(exc.message)}])
        return staff_render(request, "staff/appointment_detail.html", context, status=409)
    messages.success(request, done % {"ref": appointment.reference})
    default = reverse("staff:appointment", args=[appointment.reference])
    return redirect(_next_url(request, default))


@staff_required(RUN_DESK)
@require_POST
def check_in(request: HttpRequest, reference: str) -> HttpResponse:
    return _desk_action(
        request,
        reference,
        lambda a: services.appointment_check_in(appointment=a, actor=request.user),
        _("%(ref)s is aangemeld."),
    )


@staff_required(RUN_DESK)
@require_POST
def no_show(request: HttpRequest, reference: str) -> HttpResponse:
    return _desk_action(
        request,
        reference,
        lambda a: services.appointment_mark_no_show(appointment=a, actor=request.user),
        _("%(ref)s is gemeld als niet verschenen."),
    )


@staff_required(RUN_DESK)
@require_POST
def undo(request: HttpRequest, reference: str) -> HttpResponse:
    return _desk_action(
        request,
        reference,
        lambda a: services.appointment_undo_status(appointment=a, actor=request.user),
        _("De laatste actie bij %(ref)s is teruggedraaid."),
    )


@staff_required(RUN_DESK)
@require_http_methods(GET_POST)
def served(request: HttpRequest, reference: str) -> HttpResponse:
    """Mark served with the 'could this have been done online?' tag (a page of its own when
    the tag is missing, or when opened without the board)."""
    appointment = appointment_or_404(reference)
    form = ServedForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return _desk_action(
            request,
            reference,
            lambda a: services.appointment_mark_served(
                appointment=a,
                actor=request.user,
                online_possible=form.cleaned_data["online_possible"],
                online_reason=form.cleaned_data["online_reason"],
            ),
            _("%(ref)s is afgerond als geholpen."),
        )
    context = appointment_context(
        request, appointment, served_form=form, summary=form.error_summary(), next=_next_url(request, "")
    )
    return staff_render(request, "staff/served.html", context, status=400 if form.is_bound else 200)


@staff_required(RUN_DESK, BOOK_BY_PHONE)
@require_safe
def appointment_detail(request: HttpRequest, reference: str) -> HttpResponse:
    appointment = appointment_or_404(reference)
    return staff_render(request, "staff/appointment_detail.html", appointment_context(request, appointment))
