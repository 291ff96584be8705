"""Read side of booking (besides the availability engine in ``booking.availability``).

Size (~480 lines): booking's one public read module (``booking/__init__.py``), in three short
sections: booking's own reads, rows and counts for other apps, plain facts for the cockpit's
reports. The last could become a module of its own (``booking.facts``) when the cockpit's
imports are next changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cachetools import TLRUCache
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .availability import schedule_version
from .constants import AppointmentAction, AppointmentStatus, Channel
from .exceptions import InvalidRequest, NotFound
from .models import Appointment, AppointmentEvent, Closure, Desk, Location, Product


def product_list() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("name_nl")


# Products and locations change rarely, through the admin (which bumps the schedule version
# after every save) or a data migration. Each process keeps the active ones as plain rows, keyed
# by that version: a booking or an availability miss resolves its codes and location without two
# queries and their ORM compilation (issue 14). The version itself is read from the cache at most
# once a second per process, so a product switched off in the admin can still be chosen for up
# to a second (nothing else about it changes meanwhile); the copy lives at most a minute. A code
# the copy does not know is looked up again before it is called unknown, so a new product is
# never refused.
_CATALOGUE_SECONDS = 60
_CATALOGUE_CHECK_SECONDS = 1.0
_catalogue: TLRUCache = TLRUCache(maxsize=4, ttu=lambda key, value, now: now + _CATALOGUE_SECONDS, timer=time.time)
_catalogue_lock = threading.Lock()


@dataclass(frozen=True)
class _Catalogue:
    product_fields: tuple[str, ...]
    products: dict[str, tuple]
    location_fields: tuple[str, ...]
    locations: dict[int, tuple]

    @classmethod
    def load(cls) -> _Catalogue:
        product_fields = tuple(f.attname for f in Product._meta.concrete_fields)
        location_fields = tuple(f.attname for f in Location._meta.concrete_fields)
        return cls(
            product_fields=product_fields,
            products={
                row[product_fields.index("code")]: row
                for row in Product.objects.filter(is_active=True).order_by().values_list(*product_fields)
            },
            location_fields=location_fields,
            locations={
                row[0]: row for row in Location.objects.filter(is_active=True).order_by().values_list(*location_fields)
            },
        )

    def product(self, code: str) -> Product | None:
        row = self.products.get(code)
        # A fresh instance per request: nothing one request caches on it reaches another.
        return None if row is None else Product.from_db(DEFAULT_DB_ALIAS, self.product_fields, row)

    def location(self, pk: int) -> Location | None:
        row = self.locations.get(pk)
        return None if row is None else Location.from_db(DEFAULT_DB_ALIAS, self.location_fields, row)


def _read_catalogue(*, fresh: bool = False) -> _Catalogue:
    version = schedule_version(max_age=_CATALOGUE_CHECK_SECONDS)
    with _catalogue_lock:
        catalogue = None if fresh else _catalogue.get(version)
    if catalogue is None:
        catalogue = _Catalogue.load()
        with _catalogue_lock:
            _catalogue[version] = catalogue
    return catalogue


def products_by_codes(codes: Sequence[str], *, field: str = "products") -> list[Product]:
    """The active products with these codes, in the order given; unknown codes are an error."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise InvalidRequest(_("Kies ten minste één product."), field=field)
    catalogue = _read_catalogue()
    if any(c not in catalogue.products for c in codes):
        catalogue = _read_catalogue(fresh=True)
    found = {c: p for c in codes if (p := catalogue.product(c)) is not None}
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


def desk_by_name(*, location_name: str, name: str) -> Desk | None:
    """An active desk by its location's name and its own (demo data of other apps)."""
    return (
        Desk.objects.filter(location__name=location_name, name=name, is_active=True).select_related("location").first()
    )


def desk_closed_for(desk: Desk, *, reason: str) -> bool:
    """Whether the desk has a closure with this reason (idempotent demo data)."""
    return desk.closures.filter(reason=reason).exists()


def location_get(location_id: int, *, field: str = "location") -> Location:
    """An active location (from the process's catalogue; a location it does not know is looked
    up again before it is called unknown)."""
    try:
        pk = int(location_id)
    except (ValueError, TypeError):
        raise InvalidRequest(_("Onbekende vestiging."), field=field) from None
    location = _read_catalogue().location(pk) or _read_catalogue(fresh=True).location(pk)
    if location is None:
        raise InvalidRequest(_("Onbekende vestiging."), field=field)
    return location


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


# The facts of the appointment a booking service has just written, while its listeners run
# (``appointment_facts_known``); a context variable, so one per thread of a server.
_facts_known: ContextVar[AppointmentFacts | None] = ContextVar("facts_known", default=None)


@contextmanager
def appointment_facts_known(appointment: Appointment, products: Sequence[Product]) -> Iterator[None]:
    """For booking's services, around the listeners of a write they have just made:
    ``appointment_facts`` of this appointment answers from the saved instance and its products
    instead of reading them back (each in-transaction listener of a booking asked for them:
    four queries per booking)."""
    token = _facts_known.set(_facts(appointment, products))
    try:
        yield
    finally:
        _facts_known.reset(token)


def appointment_facts(appointment_id: int) -> AppointmentFacts | None:
    """The facts of an appointment (held ones included), or None when there is none."""
    known = _facts_known.get()
    if known is not None and known.id == appointment_id:
        return known
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
    return _facts(appointment, appointment.products.all())


def _facts(appointment: Appointment, products: Iterable[Product]) -> AppointmentFacts:
    """As read back from the database: times in UTC, products in the model's order."""

    def utc(value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    return AppointmentFacts(
        id=appointment.pk,
        status=appointment.status,
        channel=appointment.channel,
        start=appointment.start.astimezone(UTC),
        language=appointment.language,
        email=appointment.email,
        phone=appointment.phone,
        remind_by_email=appointment.remind_by_email,
        remind_by_sms=appointment.remind_by_sms,
        handled_at=utc(appointment.handled_at),
        anonymised_at=utc(appointment.anonymised_at),
        products=tuple(sorted(products, key=lambda product: product.name_nl)),
        cancelled_at=utc(appointment.cancelled_at),
        booked_at=utc(appointment.booked_at),
        checked_in_at=utc(appointment.checked_in_at),
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


# --- for other apps: rows they may read, counts and facts --------------------------------


def appointment_get(appointment_id: int | None) -> Appointment | None:
    """One appointment (any status) with its desk, location and products, or None."""
    if appointment_id is None:
        return None
    return (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=appointment_id)
        .first()
    )


def appointment_upcoming(appointment_id: int | None, *, now: datetime) -> Appointment | None:
    """The appointment if it is booked and has not started by ``now``, else None."""
    appointment = appointment_get(appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.BOOKED or appointment.start <= now:
        return None
    return appointment


def appointment_booked_starts(appointment_ids: Iterable[int]) -> dict[int, datetime]:
    """The start of each of these appointments that is booked, by id."""
    ids = [pk for pk in appointment_ids if pk]
    if not ids:
        return {}
    return dict(Appointment.objects.filter(pk__in=ids, status=AppointmentStatus.BOOKED).values_list("pk", "start"))


def appointment_ids_wanting_reminders(*, now: datetime, exclude_ids: Iterable[int] | QuerySet) -> Iterator[int]:
    """Ids of upcoming booked appointments that want a reminder on a channel they gave an
    address for, except ``exclude_ids`` (an iterable or a values_list queryset of ids)."""
    return (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, start__gt=now)
        .filter(Q(remind_by_email=True) & ~Q(email="") | Q(remind_by_sms=True) & ~Q(phone=""))
        .exclude(pk__in=exclude_ids)
        .values_list("pk", flat=True)
        .iterator()
    )


def appointments_made_count(
    *, location_id: int, product_id: int, since: datetime, until: datetime, exclude_appointment_id: int | None = None
) -> int:
    """Appointments made in advance (online or by phone; held ones left out) for a product at a
    location, booked in [since, until), whatever happened to them since."""
    made = Appointment.objects.filter(
        desk__location_id=location_id,
        products=product_id,
        channel__in=(Channel.ONLINE, Channel.PHONE),
        booked_at__gte=since,
        booked_at__lt=until,
        # Implied by the booking time (nobody books in the past); lets the (desk, start) index work.
        start__gte=since,
    ).exclude(status=AppointmentStatus.HELD)
    if exclude_appointment_id is not None:
        made = made.exclude(pk=exclude_appointment_id)
    return made.count()


# A counter visit: an appointment that was (or still is) going to bring someone to the counter.
COUNTER_VISIT_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.SERVED)


def counter_visits_count(*, product_id: int, since: datetime, until: datetime) -> int:
    """Counter visits (``COUNTER_VISIT_STATUSES``) for a product starting in [since, until)."""
    return Appointment.objects.filter(
        products=product_id, start__gte=since, start__lt=until, status__in=COUNTER_VISIT_STATUSES
    ).count()


def product_get(product_id: int) -> Product:
    """A product by id (inactive ones too: reference data behind a stored id)."""
    return Product.objects.get(pk=product_id)


def products_by_ids(product_ids: Iterable[int]) -> list[Product]:
    """Products by id (inactive ones too), in name order."""
    return list(Product.objects.filter(pk__in=list(product_ids)).order_by("name_nl"))


def product_find(code: str) -> Product | None:
    """The active product with this code, or None (for forms that already validated the code)."""
    return Product.objects.filter(code=code, is_active=True).first()


def product_ids_by_code(codes: Iterable[str]) -> dict[str, int]:
    """{code: id} of the active products among ``codes``; unknown codes are simply absent."""
    return dict(Product.objects.filter(code__in=set(codes), is_active=True).values_list("code", "pk"))


def appointment_attribution_parts(appointment_id: int, *, online_only: bool = False) -> tuple[Subquery, QuerySet]:
    """For another app's single-query attribution of an appointment's outcome: a subquery of the
    moment it was booked (``booked_at``, else created; empty when ``online_only`` and it was not
    booked online) and a values-queryset of its product ids, both to nest in that app's query."""
    appointment = Appointment.objects.filter(pk=appointment_id)
    if online_only:
        appointment = appointment.filter(channel=Channel.ONLINE)
    booked_at = Subquery(appointment.annotate(at=Coalesce("booked_at", "created_at")).values("at")[:1])
    product_ids = Appointment.products.through.objects.filter(appointment_id=appointment_id).values("product_id")
    return booked_at, product_ids


def products_not_served_at_desk(desk_id: int) -> QuerySet[Product]:
    """The products a desk does not serve (for "only what this desk serves" filters)."""
    return Product.objects.exclude(desks=desk_id)


# --- plain facts for other apps' reports (the manager's cockpit) -----------------------------


@dataclass(frozen=True)
class PriceFact:
    """A product's fee and cost price on one channel (euros; None where not set)."""

    product_code: str
    product_name: str
    channel: str
    fee: Decimal | None
    cost: Decimal | None


def product_price_facts() -> list[PriceFact]:
    """Fee and cost price per active product and channel, for every channel with a fee or a cost."""
    facts = []
    for product in product_list():
        for channel in Channel.values:
            fee, cost = product.fee(channel), product.cost(channel)
            if fee is not None or cost is not None:
                facts.append(PriceFact(product.code, product.name, channel, fee, cost))
    return facts


@dataclass(frozen=True)
class ProductFact:
    product_id: int
    code: str
    name: str
    minutes_per_person: int
    requires_presence: bool
    has_online_alternative: bool
    costs: dict[str, Decimal | None]


def product_facts() -> list[ProductFact]:
    """Active products with what a report needs: minutes at the desk, presence, online route and
    the cost price per channel."""
    return [
        ProductFact(
            product_id=p.pk,
            code=p.code,
            name=p.name,
            minutes_per_person=p.minutes_per_person,
            requires_presence=p.requires_presence,
            has_online_alternative=p.has_online_alternative,
            costs={channel: p.cost(channel) for channel in Channel.values},
        )
        for p in product_list()
    ]


@dataclass(frozen=True)
class LeadTimeFact:
    """The first free counter time for one product at one location (one person), from now."""

    product_code: str
    product_name: str
    requires_presence: bool
    has_online_alternative: bool
    location_id: int
    location_name: str
    first_free: datetime | None
    days: int | None  # calendar days from today; None: nothing free within the horizon
    working_days: int | None  # Monday–Friday days after today up to that day, public holidays not counted


def working_days_between(today: date, day: date) -> int:
    """Weekdays after ``today`` up to and including ``day``, Dutch public holidays not counted."""
    from .availability import public_holidays

    if day <= today:
        return 0
    holidays = public_holidays(today, day)
    return sum(
        1
        for offset in range(1, (day - today).days + 1)
        if (d := today + timedelta(days=offset)).weekday() < 5 and d not in holidays
    )


def counter_lead_times(*, now: datetime | None = None) -> list[LeadTimeFact]:
    """Lead time to the first free counter time per active product and location where a desk
    serves it (the availability engine's answer, so closures, holidays and bookings count)."""
    from .availability import eligible_desks, local_tz
    from .staff.selectors import next_free_counter_time

    now = now or timezone.now()
    today = now.astimezone(local_tz()).date()
    facts = []
    locations = {loc.pk: loc for loc in location_list()}
    for product in product_list():
        for location_id in sorted({d.location_id for d in eligible_desks([product])} & set(locations)):
            location = locations[location_id]
            first = next_free_counter_time(product=product, location=location, now=now)
            day = first.astimezone(local_tz()).date() if first else None
            facts.append(
                LeadTimeFact(
                    product_code=product.code,
                    product_name=product.name,
                    requires_presence=product.requires_presence,
                    has_online_alternative=product.has_online_alternative,
                    location_id=location.pk,
                    location_name=location.name,
                    first_free=first,
                    days=(day - today).days if day else None,
                    working_days=working_days_between(today, day) if day else None,
                )
            )
    return facts


@dataclass(frozen=True)
class CapacityFact:
    location_id: int
    location_name: str
    open_minutes: int
    booked_minutes: int

    @property
    def free_share(self) -> float | None:
        return 1 - self.booked_minutes / self.open_minutes if self.open_minutes else None


def counter_capacity(*, date_from: date, date_to: date) -> list[CapacityFact]:
    """Open and booked desk minutes per active location over the local days date_from..date_to."""
    from .staff.selectors import USED_STATUSES, local_day_bounds, open_intervals_for_desks

    span_start, _ = local_day_bounds(date_from)
    _, span_end = local_day_bounds(date_to)
    facts = []
    for location in location_list():
        desks = list(Desk.objects.filter(location=location, is_active=True))
        opened = open_intervals_for_desks(desks, date_from, date_to)
        open_minutes = sum((b - a).total_seconds() for ivs in opened.values() for a, b in ivs) / 60
        booked = sum(
            (min(end, span_end) - max(start, span_start)).total_seconds() / 60
            for start, end in Appointment.objects.filter(
                desk__location=location, start__lt=span_end, end__gt=span_start, status__in=USED_STATUSES
            ).values_list("start", "end")
        )
        facts.append(CapacityFact(location.pk, location.name, round(open_minutes), round(booked)))
    return facts


@dataclass(frozen=True)
class AppointmentCount:
    day: date  # local day of the visit
    product_code: str
    channel: str
    status: str
    appointments: int


def appointment_counts_per_day(*, date_from: date, date_to: date) -> list[AppointmentCount]:
    """Appointments (holds left out) per local day of the visit, product, channel and status:
    one GROUP BY. An appointment for two products counts once for each."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from .availability import local_tz
    from .staff.selectors import local_day_bounds

    span_start, _ = local_day_bounds(date_from)
    _, span_end = local_day_bounds(date_to)
    rows = (
        Appointment.objects.filter(start__gte=span_start, start__lt=span_end)
        .exclude(status=AppointmentStatus.HELD)
        .annotate(day=TruncDate("start", tzinfo=local_tz()))
        .values("day", "products__code", "channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        AppointmentCount(r["day"], r["products__code"], r["channel"], r["status"], r["n"])
        for r in rows
        if r["products__code"]
    ]
