"""Glue for the citizen booking pages: the visitor's draft, the time picker and one hook.

Public:

- ``Draft``, ``draft_get``, ``draft_save``, ``draft_clear``: what the visitor has chosen so far,
  kept in the session (contact details live only there and in POST bodies, never in URLs or
  logs). The session of a visitor who is booking expires after ``DRAFT_SESSION_SECONDS``.
- ``next_free_slot`` and ``build_time_picker``: reads over ``booking.availability`` shaped for
  the accessible time picker (a week of days, the chosen day's times by part of the day).
- The product-step hook (the place for the nudge step): ``register_product_step(step)`` and
  ``run_product_steps(request, choice)``. After the visitor has chosen products and persons,
  the flow calls each registered step in order with the request and a ``ProductChoice``; the
  first one that returns an ``HttpResponse`` is shown instead of the location step. Such a page
  must offer a way on to ``choice.continue_url`` (the location step: never block). Default: no
  steps. ``booking`` never imports the apps built on it; an app registers its step in ``AppConfig.ready``.
  A step that raises is logged and skipped: the booking always goes on.
- Page links (the place for "not the right time? join the waiting list"):
  ``register_page_link(place, build)`` and ``page_links(place, **facts)``. ``place`` is
  ``TIME_STEP`` (facts: ``products``, ``location``, ``persons``) or ``MANAGE_PAGE`` (facts:
  ``appointment``, shown while it can still change); ``build(**facts)`` returns a ``PageLink``
  or None. The page shows each link under its own lead text. A builder that raises is logged
  and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .availability import Slot, availability_for_products, local_tz
from .dates import datetime_parse, day_parse
from .models import Product

logger = logging.getLogger(__name__)

SESSION_KEY = "booking_draft"
CONFIRMED_KEY = "booking_confirmed"
# A visitor who starts booking keeps their session (and so their contact details) this long.
DRAFT_SESSION_SECONDS = 60 * 60
# The "next free time" search looks this many days ahead per availability read.
_SEARCH_WINDOW_DAYS = 14

STEPS = (
    _("Wat wilt u regelen?"),
    _("Vestiging"),
    _("Datum en tijd"),
    _("Uw gegevens"),
    _("Controleren"),
)


# --- the visitor's draft --------------------------------------------------------------------


@dataclass
class Draft:
    products: list[str] = field(default_factory=list)
    persons: int = 1
    location_id: int | None = None
    start: str | None = None  # ISO 8601 with offset
    hold_token: str | None = None  # kept after a change so the next hold releases it
    hold_expires_at: str | None = None
    contact: dict | None = None

    @property
    def start_at(self) -> datetime | None:
        return _parse(self.start)

    @property
    def required_start(self) -> datetime:
        """The chosen time, for the steps after it (the views redirect when it is missing)."""
        start = self.start_at
        if start is None:
            raise RuntimeError("No time chosen")
        return start

    @property
    def hold_expires(self) -> datetime | None:
        return _parse(self.hold_expires_at)

    def forget_time(self) -> None:
        self.start = None
        self.hold_expires_at = None

    def forget_location(self) -> None:
        self.location_id = None
        self.forget_time()


def _parse(value: str | None) -> datetime | None:
    parsed = datetime_parse(value)
    return parsed if parsed is not None and timezone.is_aware(parsed) else None


def draft_get(request: HttpRequest) -> Draft:
    data = request.session.get(SESSION_KEY) or {}
    try:
        return Draft(**data)
    except TypeError:  # an old or tampered shape: start again
        return Draft()


def draft_save(request: HttpRequest, draft: Draft) -> None:
    request.session[SESSION_KEY] = asdict(draft)
    request.session.set_expiry(DRAFT_SESSION_SECONDS)


def draft_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


# --- the product-step hook ------------------------------------------------------------------


@dataclass(frozen=True)
class ProductChoice:
    products: Sequence[Product]
    persons: int
    continue_url: str
    # The visitor said they need help or cannot do this online: never steer them away.
    needs_help: bool = False


ProductStep = Callable[[HttpRequest, ProductChoice], HttpResponse | None]
_product_steps: list[ProductStep] = []


def register_product_step(step: ProductStep) -> None:
    if step not in _product_steps:
        _product_steps.append(step)


def unregister_product_step(step: ProductStep) -> None:
    if step in _product_steps:
        _product_steps.remove(step)


def run_product_steps(request: HttpRequest, choice: ProductChoice) -> HttpResponse | None:
    for step in list(_product_steps):
        try:
            response = step(request, choice)
        except Exception:
            logger.exception("Product step %r failed; the booking goes on", step)
            continue
        if response is not None:
            return response
    return None


# --- page links -----------------------------------------------------------------------------

TIME_STEP = "time_step"
MANAGE_PAGE = "manage_page"


@dataclass(frozen=True)
class PageLink:
    lead: str  # the question the link answers, e.g. "Geen geschikte tijd?"
    text: str
    url: str


PageLinkBuilder = Callable[..., PageLink | None]
_page_links: dict[str, list[PageLinkBuilder]] = {}


def register_page_link(place: str, build: PageLinkBuilder) -> None:
    builders = _page_links.setdefault(place, [])
    if build not in builders:
        builders.append(build)


def page_links(place: str, **facts) -> list[PageLink]:
    links = []
    for build in list(_page_links.get(place, [])):
        try:
            link = build(**facts)
        except Exception:
            logger.exception("Page link %r failed; the page is shown without it", build)
            continue
        if link is not None:
            links.append(link)
    return links


# --- the time picker ------------------------------------------------------------------------


def next_free_slot(
    *, products: Sequence[Product], persons: int, location_id: int, now: datetime | None = None
) -> Slot | None:
    """The earliest free time at the location, searching forward up to the booking horizon."""
    now = now or timezone.now()
    today = now.astimezone(local_tz()).date()
    horizon = today + timedelta(days=min(p.booking_horizon_days for p in products))
    day = today
    while day <= horizon:
        last = min(day + timedelta(days=_SEARCH_WINDOW_DAYS - 1), horizon)
        slots = availability_for_products(
            products=products, persons=persons, location_id=location_id, date_from=day, date_to=last, now=now
        )
        if slots:
            return slots[0]
        day = last + timedelta(days=1)
    return None


@dataclass(frozen=True)
class TimeOption:
    """A free time as the picker shows it: ``value`` is what the form posts."""

    start: datetime
    end: datetime

    @property
    def value(self) -> str:
        return self.start.astimezone(local_tz()).isoformat()

    @property
    def key(self) -> str:
        return self.start.astimezone(local_tz()).strftime("%Y%m%d%H%M")


def time_options(slots: Sequence[Slot]) -> list[TimeOption]:
    return [TimeOption(start=s.start, end=s.end) for s in slots]


@dataclass
class PickerDay:
    day: date
    slots: list[Slot]


@dataclass
class PickerPart:
    label: str
    options: list[TimeOption]


@dataclass
class TimePicker:
    week_start: date
    days: list[PickerDay]
    selected: PickerDay | None
    parts: list[PickerPart]
    first_free: TimeOption | None
    previous_week: date | None
    next_week: date | None

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_day(value: str | None) -> date | None:
    return day_parse(value)


def build_time_picker(
    *,
    products: Sequence[Product],
    persons: int,
    location_id: int,
    week: date | None = None,
    day: date | None = None,
    now: datetime | None = None,
) -> TimePicker:
    """One week of free times; without a week, the week of the first free time."""
    now = now or timezone.now()
    tz = local_tz()
    today = now.astimezone(tz).date()
    horizon = today + timedelta(days=min(p.booking_horizon_days for p in products))
    first_free = next_free_slot(products=products, persons=persons, location_id=location_id, now=now)
    if week is None and day is not None:
        week = day
    if week is None:
        week = first_free.start.astimezone(tz).date() if first_free else today
    week_start = min(max(_monday(week), _monday(today)), _monday(horizon))

    slots = availability_for_products(
        products=products,
        persons=persons,
        location_id=location_id,
        date_from=week_start,
        date_to=week_start + timedelta(days=6),
        now=now,
    )
    by_day: dict[date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    days = [
        PickerDay(day=d, slots=by_day.get(d, []))
        for d in (week_start + timedelta(days=i) for i in range(7))
        if d >= today and (d.weekday() < 5 or by_day.get(d))
    ]

    selected = next((d for d in days if d.day == day and d.slots), None)
    if selected is None and first_free is not None:
        first_day = first_free.start.astimezone(tz).date()
        selected = next((d for d in days if d.day == first_day), None)
    if selected is None:
        selected = next((d for d in days if d.slots), None)

    parts: list[PickerPart] = []
    if selected is not None:
        for label, low, high in ((_("Ochtend"), 0, 12), (_("Middag"), 12, 17), (_("Avond"), 17, 24)):
            part = [s for s in selected.slots if low <= s.start.astimezone(tz).hour < high]
            if part:
                parts.append(PickerPart(label=str(label), options=time_options(part)))

    previous_week = week_start - timedelta(days=7)
    next_week = week_start + timedelta(days=7)
    return TimePicker(
        week_start=week_start,
        days=days,
        selected=selected,
        parts=parts,
        first_free=time_options([first_free])[0] if first_free else None,
        previous_week=previous_week if previous_week >= _monday(today) else None,
        next_week=next_week if next_week <= horizon else None,
    )
