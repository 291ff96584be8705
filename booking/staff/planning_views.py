"""Staff pages for planners and managers: schedules per location (opening hours, desk
products, closures with mass cancellation, public holidays), products with their leges and
cost prices, and the weekly capacity overview.

Same rules as ``booking.staff.views``: thin views, ``staff_required`` everywhere, POST +
redirect for every change, domain errors shown as form errors.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking.dates import day_parse
from booking.exceptions import AffectedAppointmentsChanged, BookingError
from booking.knowledge import product_changes
from booking.models import Closure, Desk, Location, OpeningHours, Product
from booking.selectors import location_list
from booking.web import add_domain_error

from . import selectors, services
from .forms import (
    ClosureForm,
    DeskProductsForm,
    HolidayForm,
    OpeningHoursEndForm,
    OpeningHoursForm,
    ProductForm,
    parse_day,
)
from .permissions import staff_render, staff_required
from .roles import MANAGE_PRODUCTS, PLAN_SCHEDULES, VIEW_CAPACITY
from .views import local_today

GET_POST = ["GET", "HEAD", "POST"]
SAFE_METHODS = ("GET", "HEAD")


def _error_summary(message: str) -> list[dict]:
    return [{"anchor": None, "message": message}]


# --- schedules ------------------------------------------------------------------------------


@staff_required(PLAN_SCHEDULES)
@require_safe
def schedules(request: HttpRequest) -> HttpResponse:
    location = location_list().first()
    if location is None:
        return staff_render(request, "staff/no_locations.html")
    return redirect("staff:schedule", location_id=location.pk)


def _schedule_page(request: HttpRequest, location: Location, *, status: int = 200, **overrides) -> HttpResponse:
    today = local_today()
    desk_rows = [
        {
            "desk": row.desk,
            "week": row.week,
            "hours": row.hours,
            "past_hours": row.past_hours,
            "products_form": overrides.get("desk_forms", {}).get(row.desk.pk)
            or DeskProductsForm(desk=row.desk, initial={"products": list(row.desk.products.all())}),
        }
        for row in selectors.desk_schedules(location=location, today=today)
    ]
    context = {
        "location": location,
        "locations": location_list(),
        "desk_rows": desk_rows,
        "weekdays": [label for _value, label in OpeningHours.Weekday.choices],
        "hours_form": overrides.get("hours_form") or OpeningHoursForm(location=location, initial={"valid_from": today}),
        "closures": selectors.closures_upcoming(location=location, now=timezone.now()),
        "holidays": selectors.holidays_upcoming(location=location, today=today),
        "summary": overrides.get("summary", []),
        "today": today,
    }
    return staff_render(request, "staff/schedules/location.html", context, status=status)


@staff_required(PLAN_SCHEDULES)
@require_safe
def schedule(request: HttpRequest, location_id: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=location_id)
    return _schedule_page(request, location)


def _to_schedule(location_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("staff:schedule", args=[location_id]) + (f"#{anchor}" if anchor else ""))


@staff_required(PLAN_SCHEDULES)
@require_POST
def hours_add(request: HttpRequest, location_id: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=location_id)
    form = OpeningHoursForm(request.POST, location=location)
    if form.is_valid():
        try:
            services.opening_hours_add(actor=request.user, **form.cleaned_data)
        except BookingError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("De openingstijden zijn toegevoegd."))
            return _to_schedule(location.pk, "openingstijden")
    return _schedule_page(request, location, hours_form=form, summary=form.error_summary(), status=400)


@staff_required(PLAN_SCHEDULES)
@require_POST
def hours_end(request: HttpRequest, hours_id: int) -> HttpResponse:
    hours = get_object_or_404(OpeningHours.objects.select_related("desk__location"), pk=hours_id)
    location = hours.desk.location
    form = OpeningHoursEndForm(request.POST)
    try:
        if not form.is_valid():
            raise BookingError(_("Vul een geldige laatste dag in."))
        services.opening_hours_end(actor=request.user, hours=hours, valid_until=form.cleaned_data["valid_until"])
    except BookingError as exc:
        return _schedule_page(request, location, summary=_error_summary(str(exc.message)), status=409)
    messages.success(request, _("De openingstijden eindigen nu op de gekozen dag."))
    return _to_schedule(location.pk, f"balie-{hours.desk_id}")


@staff_required(PLAN_SCHEDULES)
@require_POST
def hours_delete(request: HttpRequest, hours_id: int) -> HttpResponse:
    hours = get_object_or_404(OpeningHours.objects.select_related("desk__location"), pk=hours_id)
    location, desk_id = hours.desk.location, hours.desk_id
    try:
        services.opening_hours_delete(actor=request.user, hours=hours)
    except BookingError as exc:
        return _schedule_page(request, location, summary=_error_summary(str(exc.message)), status=409)
    messages.success(request, _("De openingstijden zijn verwijderd."))
    return _to_schedule(location.pk, f"balie-{desk_id}")


@staff_required(PLAN_SCHEDULES)
@require_POST
def desk_products(request: HttpRequest, desk_id: int) -> HttpResponse:
    desk = get_object_or_404(Desk.objects.select_related("location"), pk=desk_id)
    form = DeskProductsForm(request.POST, desk=desk)
    if form.is_valid():
        try:
            services.desk_products_set(actor=request.user, desk=desk, products=list(form.cleaned_data["products"]))
        except BookingError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("De producten van %(desk)s zijn opgeslagen.") % {"desk": desk.name})
            return _to_schedule(desk.location_id, f"balie-{desk.pk}")
    return _schedule_page(request, desk.location, desk_forms={desk.pk: form}, summary=form.error_summary(), status=400)


@staff_required(PLAN_SCHEDULES)
@require_http_methods(GET_POST)
def closure_new(request: HttpRequest, location_id: int) -> HttpResponse:
    """Step 1: what closes and when. Step 2 (``preview``): the appointments it hits. Step 3
    (``confirm``): close, cancel them and e-mail each citizen, in one action."""
    location = get_object_or_404(Location, pk=location_id)
    initial = {}
    if request.method in SAFE_METHODS and request.GET.get("day"):
        day = parse_day(request.GET["day"], local_today())
        initial = {"start_date": day, "end_date": day}
    form = ClosureForm(request.POST if request.method == "POST" else None, location=location, initial=initial)
    context = {"location": location, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        affected = list(
            selectors.closure_affected_appointments(
                location=location, desk=data["desk"], starts_at=data["starts_at"], ends_at=data["ends_at"]
            )
        )
        if request.POST.get("step") == "confirm":
            expected = [int(pk) for pk in request.POST.getlist("expected") if pk.isdigit()]
            try:
                result = services.closure_create_with_cancellations(
                    actor=request.user,
                    location=location,
                    desk=data["desk"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    reason=data["reason"],
                    expected_appointment_ids=expected,
                )
            except AffectedAppointmentsChanged as exc:
                context["summary"] = _error_summary(str(exc.message))
            except BookingError as exc:
                add_domain_error(form, exc)
                context["summary"] = form.error_summary()
                return staff_render(request, "staff/schedules/closure_form.html", context, status=400)
            else:
                messages.success(
                    request,
                    _(
                        "De sluiting is opgeslagen. %(cancelled)s afspraken zijn geannuleerd; de inwoners krijgen "
                        "een bericht met excuses en een link om opnieuw te boeken."
                    )
                    % {"cancelled": len(result.cancelled)},
                )
                return _to_schedule(location.pk, "sluitingen")
        now = timezone.now()
        context.update(
            {
                "affected": affected,
                "to_cancel": [a for a in affected if selectors.cancellable_by_closure(a, now)],
                "to_keep": [a for a in affected if not selectors.cancellable_by_closure(a, now)],
                "data": data,
            }
        )
        context.setdefault("summary", [])
        return staff_render(request, "staff/schedules/closure_preview.html", context)
    context["summary"] = form.error_summary()
    return staff_render(request, "staff/schedules/closure_form.html", context, status=400 if form.is_bound else 200)


@staff_required(PLAN_SCHEDULES)
@require_POST
def closure_delete(request: HttpRequest, closure_id: int) -> HttpResponse:
    closure = get_object_or_404(Closure, pk=closure_id)
    location_id = closure.location_id
    services.closure_delete(actor=request.user, closure=closure)
    messages.success(request, _("De sluiting is verwijderd; deze tijd is weer te boeken."))
    return _to_schedule(location_id, "sluitingen")


@staff_required(PLAN_SCHEDULES)
@require_POST
def holiday(request: HttpRequest, location_id: int, day: str) -> HttpResponse:
    location = get_object_or_404(Location, pk=location_id)
    when = day_parse(day)
    if when is None:
        return _schedule_page(request, location, summary=_error_summary(_("Onbekende datum.")), status=400)
    form = HolidayForm(request.POST)
    form.is_valid()
    try:
        if request.POST.get("open") == "1":
            services.holiday_open(
                actor=request.user, location=location, day=when, note=form.cleaned_data.get("note", "")
            )
            messages.success(request, _("%(day)s is nu open.") % {"day": date_format(when, "j F Y")})
        else:
            services.holiday_close(actor=request.user, location=location, day=when)
            messages.success(request, _("%(day)s is nu gesloten.") % {"day": date_format(when, "j F Y")})
    except BookingError as exc:
        return _schedule_page(request, location, summary=_error_summary(str(exc.message)), status=409)
    return _to_schedule(location.pk, "feestdagen")


# --- products -------------------------------------------------------------------------------


@staff_required(MANAGE_PRODUCTS)
@require_safe
def products(request: HttpRequest) -> HttpResponse:
    return staff_render(request, "staff/products/list.html", {"products": Product.objects.order_by("name_nl")})


@staff_required(MANAGE_PRODUCTS)
@require_http_methods(GET_POST)
def product_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    product = get_object_or_404(Product, code=code) if code else None
    form = ProductForm(request.POST if request.method == "POST" else None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.product_save(actor=request.user, product=product, values=form.values())
        except BookingError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s is opgeslagen.") % {"name": saved.name})
            return redirect("staff:products")
    context = {
        "form": form,
        "product": product,
        "summary": form.error_summary(),
        "history": product_changes(product) if product else [],
    }
    return staff_render(request, "staff/products/form.html", context, status=400 if form.is_bound else 200)


# --- capacity -------------------------------------------------------------------------------


@staff_required(VIEW_CAPACITY)
@require_safe
def capacity(request: HttpRequest) -> HttpResponse:
    locations = list(location_list())
    if not locations:
        return staff_render(request, "staff/no_locations.html")
    location = next((loc for loc in locations if str(loc.pk) == request.GET.get("location")), locations[0])
    week = parse_day(request.GET.get("week"), local_today())
    week_start = week - timedelta(days=week.weekday())
    overview = selectors.capacity_week(location=location, week_start=week_start)
    return staff_render(
        request,
        "staff/capacity.html",
        {
            "overview": overview,
            "locations": locations,
            "location": location,
            "previous_week": week_start - timedelta(days=7),
            "next_week": week_start + timedelta(days=7),
            "iso_week": week_start.isocalendar()[1],
        },
    )
