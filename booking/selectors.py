"""Read side of booking (besides the availability engine in ``booking.availability``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from .constants import AppointmentAction, AppointmentStatus
from .exceptions import InvalidRequest, NotFound
from .models import Appointment, AppointmentEvent, Closure, Location, Product


def product_list() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("name_nl")


def products_by_codes(codes: Sequence[str], *, field: str = "products") -> list[Product]:
    """The active products with these codes, in the order given; unknown codes are an error."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise InvalidRequest(_("Kies ten minste één product."), field=field)
    found = {p.code: p for p in Product.objects.filter(is_active=True, code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise InvalidRequest(
            _("Onbekend product: %(codes)s.") % {"codes": ", ".join(c[:40] for c in unknown[:5])}, field=field
        )
    return [found[c] for c in codes]


def location_list(*, products: Sequence[Product] | None = None) -> QuerySet[Location]:
    """Active locations; with products, only those where one active desk serves them all."""
    qs = Location.objects.filter(is_active=True)
    if products:
        from .availability import eligible_desks

        qs = qs.filter(pk__in={d.location_id for d in eligible_desks(products)})
    return qs.order_by("name")


def location_get(location_id: int, *, field: str = "location") -> Location:
    try:
        return Location.objects.get(pk=location_id, is_active=True)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise InvalidRequest(_("Onbekende vestiging."), field=field) from None


def appointment_get_by_token(token: str) -> Appointment:
    """A booked (not held) appointment by its secret manage token; NotFound otherwise."""
    if not token or len(token) > 64:
        raise NotFound()
    appointment = (
        Appointment.objects.exclude(status=AppointmentStatus.HELD)
        .select_related("desk__location")
        .prefetch_related(Prefetch("products", queryset=Product.objects.order_by("name_nl")))
        .filter(manage_token=token)
        .first()
    )
    if appointment is None:
        raise NotFound()
    return appointment


@dataclass(frozen=True)
class Cancellation:
    """How an appointment was cancelled, from its audit trail."""

    channel: str  # how the citizen asked (online, phone); empty: the municipality (a closure)
    reason: str  # a ``CancelReason`` the citizen gave, or empty

    @property
    def by_citizen(self) -> bool:
        return bool(self.channel)


def appointment_cancellation(appointment_id: int) -> Cancellation | None:
    """The cancellation of an appointment, or None when it was never cancelled."""
    event = (
        AppointmentEvent.objects.filter(appointment_id=appointment_id, action=AppointmentAction.CANCELLED)
        .order_by("-at", "-pk")
        .values("channel", "changes")
        .first()
    )
    if event is None:
        return None
    reason = (event["changes"] or {}).get("cancel_reason") or ["", ""]
    return Cancellation(channel=event["channel"], reason=reason[1] or "")


@dataclass(frozen=True)
class AppointmentFacts:
    """What another app may know about one appointment (reminders, outcomes, the satisfaction
    question): plain values, plus its products as reference data."""

    id: int
    status: str
    channel: str
    start: datetime
    language: str
    email: str
    phone: str
    remind_by_email: bool
    remind_by_sms: bool
    handled_at: datetime | None
    anonymised_at: datetime | None
    products: tuple[Product, ...]
    cancelled_at: datetime | None = None
    booked_at: datetime | None = None
    checked_in_at: datetime | None = None

    @property
    def product_ids(self) -> tuple[int, ...]:
        return tuple(product.pk for product in self.products)


def appointment_facts(appointment_id: int) -> AppointmentFacts | None:
    """The facts of an appointment (held ones included), or None when there is none."""
    appointment = (
        Appointment.objects.filter(pk=appointment_id)
        .only(
            "status",
            "channel",
            "start",
            "language",
            "email",
            "phone",
            "remind_by_email",
            "remind_by_sms",
            "handled_at",
            "cancelled_at",
            "anonymised_at",
            "booked_at",
            "checked_in_at",
        )
        .prefetch_related("products")
        .first()
    )
    if appointment is None:
        return None
    return AppointmentFacts(
        id=appointment.pk,
        status=appointment.status,
        channel=appointment.channel,
        start=appointment.start,
        language=appointment.language,
        email=appointment.email,
        phone=appointment.phone,
        remind_by_email=appointment.remind_by_email,
        remind_by_sms=appointment.remind_by_sms,
        handled_at=appointment.handled_at,
        anonymised_at=appointment.anonymised_at,
        products=tuple(appointment.products.all()),
        cancelled_at=appointment.cancelled_at,
        booked_at=appointment.booked_at,
        checked_in_at=appointment.checked_in_at,
    )


def closure_covering(appointment: Appointment) -> Closure | None:
    """The closure that took out an appointment's time (its location, or its desk), the latest
    if several overlap."""
    return (
        Closure.objects.filter(
            Q(desk__isnull=True) | Q(desk_id=appointment.desk_id),
            location_id=appointment.desk.location_id,
            starts_at__lt=appointment.end,
            ends_at__gt=appointment.start,
        )
        .order_by("-pk")
        .first()
    )
