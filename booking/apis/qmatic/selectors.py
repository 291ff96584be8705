"""Reads behind the facade, in Qmatic's terms: which services (products) and branches
(locations) are offered, which services combine, and the free dates and times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.availability import availability_for_products, eligible_desks, local_tz
from booking.constants import AppointmentStatus
from booking.exceptions import InvalidRequest, NotFound
from booking.models import Appointment, IntegrationClient, Location, Product
from booking.selectors import products_by_codes

# Dates are offered up to the products' booking horizon, and never further than this.
MAX_DATES_DAYS = 366


class UnknownBranch(NotFound):
    code = "branch_not_found"
    default_message = gettext_lazy("Onbekende vestiging (branch).")


class UnknownService(NotFound):
    code = "service_not_found"
    default_message = gettext_lazy("Onbekende dienst (service).")


class UnknownAppointment(NotFound):
    code = "appointment_not_found"


def services_offered(*, branch: Location | None = None) -> QuerySet[Product]:
    """Active products that at least one active desk serves (at the branch, if given)."""
    desks: dict[str, Any] = {"desks__is_active": True, "desks__location__is_active": True}
    if branch is not None:
        desks["desks__location"] = branch
    return Product.objects.filter(is_active=True, **desks).distinct().order_by("name_nl")


def branches_offered(*, services: Sequence[Product] = ()) -> list[Location]:
    """Active locations with an active desk; with services, one desk must serve them all."""
    if services:
        ids = {desk.location_id for desk in eligible_desks(services)}
        return list(Location.objects.filter(pk__in=ids, is_active=True).order_by("name"))
    return list(Location.objects.filter(is_active=True, desks__is_active=True).distinct().order_by("name"))


def branch_get(public_id: str) -> Location:
    if not public_id.isdigit() or len(public_id) > 18:
        raise UnknownBranch()
    location = Location.objects.filter(pk=int(public_id), is_active=True).first()
    if location is None:
        raise UnknownBranch()
    return location


def services_get(public_ids: Sequence[str]) -> list[Product]:
    """The products with these codes; none is a 400, an unknown one a 404 (like a branch)."""
    if not public_ids:
        raise InvalidRequest(_("Geef ten minste één servicePublicId op."), field="servicePublicId")
    try:
        return products_by_codes(public_ids, field="servicePublicId")
    except InvalidRequest as exc:
        raise UnknownService(exc.message) from None


def service_groups(
    *, services: Sequence[Product], branch: Location | None = None
) -> list[tuple[Location, list[Product]]]:
    """Per location (by id): the products that can be booked together with all of ``services``
    (a desk serves them all, the given ones included). Locations where none combine are left out."""
    combinable: dict[int, set[int]] = {}
    locations: dict[int, Location] = {}
    for desk in eligible_desks(services, branch.pk if branch else None):
        locations[desk.location_id] = desk.location
        combinable.setdefault(desk.location_id, set()).update(
            desk.products.filter(is_active=True).values_list("pk", flat=True)
        )
    products = {p.pk: p for p in Product.objects.filter(pk__in=set().union(*combinable.values()))}
    order = sorted(products.values(), key=lambda p: p.name_nl)
    return [
        (locations[location_id], [p for p in order if p.pk in ids]) for location_id, ids in sorted(combinable.items())
    ]


def free_dates(*, services: Sequence[Product], persons: int, branch: Location) -> list[date]:
    """Local dates with at least one free time, from today to the (strictest) horizon."""
    today = timezone.localdate()
    horizon = min(min(p.booking_horizon_days for p in services), MAX_DATES_DAYS)
    slots = availability_for_products(
        products=services,
        persons=persons,
        location_id=branch.pk,
        date_from=today,
        date_to=today + timedelta(days=horizon),
    )
    tz = local_tz()
    return sorted({slot.start.astimezone(tz).date() for slot in slots})


def free_times(*, services: Sequence[Product], persons: int, branch: Location, day: date) -> list[datetime]:
    """The free start times on one local date, local and aware."""
    tz = local_tz()
    slots = availability_for_products(
        products=services, persons=persons, location_id=branch.pk, date_from=day, date_to=day
    )
    return sorted({slot.start.astimezone(tz) for slot in slots})


def appointment_for_client(
    *, public_id: str, client: IntegrationClient, include_cancelled: bool = False
) -> Appointment:
    """An appointment this client booked, by its public reference."""
    if not public_id or len(public_id) > 12:
        raise UnknownAppointment()
    qs = Appointment.objects.filter(reference=public_id.upper(), source_client=client).exclude(
        status=AppointmentStatus.HELD
    )
    if not include_cancelled:
        qs = qs.exclude(status=AppointmentStatus.CANCELLED)
    appointment = qs.select_related("desk__location").prefetch_related("products").first()
    if appointment is None:
        raise UnknownAppointment()
    return appointment
