"""Reads of the policy frame: what each bound measures now, its status and its weekly trend.

Booking facts (lead times, desk capacity, fees and cost prices) come from booking's public
selectors only; satisfaction from ``nudges.satisfaction``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import selectors as booking_selectors
from nudges.models import Bound, BoundMeasurement, BoundVersion, Breach, DailyContactVolume

from .constants import (
    CAPACITY_WINDOW_DAYS,
    CLOSE_MARGIN,
    MAXIMUM_KINDS,
    SATISFACTION_WINDOW_DAYS,
    TREND_WEEKS,
    UNITS,
    BoundKind,
    BoundStatus,
)

NOT_HANDLED_WINDOW_DAYS = 28
NOT_HANDLED_OUTCOME = "not_handled"
# Lead time when nothing is free within the booking horizon: worse than any limit a frame sets.
NO_FREE_TIME = Decimal(999)


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Measured:
    value: Decimal | None
    detail: str = ""  # where it is worst (product, location, channel), for the manager


class Facts:
    """What the bounds are measured against, read once per check."""

    def __init__(self, now: datetime):
        self.now = now
        self.today = timezone.localtime(now).date()

    @cached_property
    def lead_times(self) -> list[booking_selectors.LeadTimeFact]:
        return booking_selectors.counter_lead_times(now=self.now)

    @cached_property
    def capacity(self) -> list[booking_selectors.CapacityFact]:
        return booking_selectors.counter_capacity(
            date_from=self.today, date_to=self.today + timedelta(days=CAPACITY_WINDOW_DAYS - 1)
        )

    @cached_property
    def prices(self) -> list[booking_selectors.PriceFact]:
        return booking_selectors.product_price_facts()

    @cached_property
    def not_handled(self) -> dict[str, tuple[int, int]]:
        """Per contact channel: (not handled, all contacts) over the last ``NOT_HANDLED_WINDOW_DAYS``
        (the daily roll-up)."""
        rows = (
            DailyContactVolume.objects.filter(day__gt=self.today - timedelta(days=NOT_HANDLED_WINDOW_DAYS))
            .values("channel")
            .annotate(total=Sum("contacts"), missed=Sum("contacts", filter=Q(outcome=NOT_HANDLED_OUTCOME)))
            .order_by()
        )
        return {r["channel"]: (r["missed"] or 0, r["total"]) for r in rows}

    @cached_property
    def satisfaction(self) -> dict[str, float]:
        from nudges.satisfaction.selectors import satisfaction_per_channel

        rows = satisfaction_per_channel(since=self.now - timedelta(days=SATISFACTION_WINDOW_DAYS))
        return {row.channel: row.mean for row in rows if row.mean is not None}


def _worst_service(facts: Facts, bound: Bound, wanted) -> Measured:
    """Per product the best location (the citizen may go anywhere); the worst product counts."""
    best: dict[str, tuple[Decimal, str]] = {}
    for fact in facts.lead_times:
        if not wanted(fact) or (bound.product_code and fact.product_code != bound.product_code):
            continue
        days = NO_FREE_TIME if fact.working_days is None else Decimal(fact.working_days)
        if fact.product_code not in best or days < best[fact.product_code][0]:
            best[fact.product_code] = (days, f"{fact.product_name}, {fact.location_name}")
    if not best:
        return Measured(None)
    value, detail = max(best.values(), key=lambda pair: pair[0])
    return Measured(value, detail)


def _lead_time(facts: Facts, bound: Bound) -> Measured:
    found = [
        (NO_FREE_TIME if f.days is None else Decimal(f.days), f"{f.product_name}, {f.location_name}")
        for f in facts.lead_times
        if (not bound.product_code or f.product_code == bound.product_code)
        and (bound.location_id is None or f.location_id == bound.location_id)
    ]
    if not found:
        return Measured(None)
    value, detail = max(found, key=lambda pair: pair[0])
    return Measured(value, detail)


def _walkin(facts: Facts, bound: Bound) -> Measured:
    found = [
        (_dec(f.free_share * 100), f.location_name)
        for f in facts.capacity
        if f.free_share is not None and (bound.location_id is None or f.location_id == bound.location_id)
    ]
    if not found:
        return Measured(None)
    value, detail = min(found, key=lambda pair: pair[0])
    return Measured(value, detail)


def _satisfaction_floor(facts: Facts, bound: Bound) -> Measured:
    found = [(m, ch) for ch, m in facts.satisfaction.items() if not bound.channel or ch == bound.channel]
    if not found:
        return Measured(None)
    value, channel = min(found)
    return Measured(_dec(value), channel)


def _satisfaction_gap(facts: Facts, bound: Bound) -> Measured:
    means = facts.satisfaction
    if len(means) < 2:
        return Measured(None)
    best = max(means.values())
    found = [(best - m, ch) for ch, m in means.items() if not bound.channel or ch == bound.channel]
    if not found:
        return Measured(None)
    value, channel = max(found)
    return Measured(_dec(value), channel)


def _cost_rule(facts: Facts, bound: Bound) -> Measured:
    """Fees not covered by a known cost price at least as high (a missing cost price cannot
    show the fee is cost recovery, so it counts)."""
    wrong = [
        f"{f.product_name} ({f.channel})"
        for f in facts.prices
        if f.fee is not None
        and (f.cost is None or f.fee > f.cost)
        and (not bound.product_code or f.product_code == bound.product_code)
        and (not bound.channel or f.channel == bound.channel)
    ]
    return Measured(Decimal(len(wrong)), ", ".join(wrong[:5]))


def _not_handled(facts: Facts, bound: Bound) -> Measured:
    found = [
        (_dec(100 * missed / total), channel)
        for channel, (missed, total) in facts.not_handled.items()
        if total and (not bound.channel or channel == bound.channel)
    ]
    if not found:
        return Measured(None)
    value, channel = max(found)
    return Measured(value, channel)


MEASURES: dict[str, Callable[[Facts, Bound], Measured]] = {
    BoundKind.SERVICE_PRESENCE: lambda facts, b: _worst_service(facts, b, lambda f: f.requires_presence),
    BoundKind.SERVICE_EXEMPT: lambda facts, b: _worst_service(facts, b, lambda f: f.has_online_alternative),
    BoundKind.LEAD_TIME: _lead_time,
    BoundKind.WALKIN_CAPACITY: _walkin,
    BoundKind.NOT_HANDLED: _not_handled,
    BoundKind.SATISFACTION_FLOOR: _satisfaction_floor,
    BoundKind.SATISFACTION_GAP: _satisfaction_gap,
    BoundKind.COST_RULE: _cost_rule,
}


def bound_measure(bound: Bound, facts: Facts) -> Measured:
    return MEASURES[bound.kind](facts, bound)


def bound_status(kind: str, value: Decimal | None, limit: Decimal) -> str:
    """Breached past the limit; close within ``CLOSE_MARGIN`` of it on the safe side."""
    if value is None:
        return BoundStatus.UNKNOWN
    margin = abs(limit) * Decimal(str(CLOSE_MARGIN))
    if kind in MAXIMUM_KINDS:
        if value > limit:
            return BoundStatus.BREACHED
        return BoundStatus.CLOSE if margin and value >= limit - margin else BoundStatus.WITHIN
    if value < limit:
        return BoundStatus.BREACHED
    return BoundStatus.CLOSE if margin and value <= limit + margin else BoundStatus.WITHIN


def bounds_in_force() -> list[tuple[Bound, BoundVersion]]:
    """Every bound with its latest version, active ones only."""
    latest = BoundVersion.objects.filter(bound=OuterRef("pk")).order_by("-changed_at", "-pk").values("pk")[:1]
    bounds = list(Bound.objects.annotate(version_id=Subquery(latest)))
    versions = BoundVersion.objects.select_related("changed_by").in_bulk([b.version_id for b in bounds])
    return [(b, versions[b.version_id]) for b in bounds if b.version_id and versions[b.version_id].is_active]


@dataclass
class TrendPoint:
    week_start: date
    value: Decimal | None
    status: str


@dataclass
class BoundRow:
    bound: Bound
    version: BoundVersion
    location_name: str
    value: Decimal | None
    detail: str
    status: str
    measured_at: datetime | None
    open_breach: Breach | None
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return str(UNITS[self.bound.kind])

    @property
    def is_maximum(self) -> bool:
        return self.bound.kind in MAXIMUM_KINDS

    @property
    def scope(self) -> str:
        return ", ".join(x for x in (self.bound.product_code, self.location_name, self.bound.channel) if x) or _(
            "alles"
        )


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def bound_monitor(*, today: date | None = None) -> list[BoundRow]:
    """Each bound in force with its latest measured value and status, the open breach if any,
    and the last value of each of the past ``TREND_WEEKS`` weeks."""
    today = today or timezone.localdate()
    first_week = _week_start(today) - timedelta(weeks=TREND_WEEKS - 1)
    in_force = bounds_in_force()
    ids = [b.pk for b, _v in in_force]
    by_bound: dict[int, list[BoundMeasurement]] = {}
    for m in BoundMeasurement.objects.filter(bound_id__in=ids, day__gte=first_week).order_by("day"):
        by_bound.setdefault(m.bound_id, []).append(m)
    latest = {
        m.bound_id: m
        # The newest measurement per bound (a correlated subquery: SQLite, the first-look
        # database, has no DISTINCT ON).
        for m in BoundMeasurement.objects.filter(
            bound_id__in=ids,
            pk=Subquery(
                BoundMeasurement.objects.filter(bound_id=OuterRef("bound_id")).order_by("-day").values("pk")[:1]
            ),
        )
    }
    open_breaches = {b.bound_id: b for b in Breach.objects.filter(bound_id__in=ids, ended_at__isnull=True)}
    locations = {loc.pk: loc.name for loc in booking_selectors.location_list()}
    rows = []
    for bound, version in in_force:
        last = latest.get(bound.pk)
        weekly: dict[date, BoundMeasurement] = {}
        for m in by_bound.get(bound.pk, []):
            weekly[_week_start(m.day)] = m
        trend = [
            TrendPoint(
                week_start=(week := first_week + timedelta(weeks=i)),
                value=weekly[week].value if week in weekly else None,
                status=bound_status(bound.kind, weekly[week].value, version.limit) if week in weekly else "",
            )
            for i in range(TREND_WEEKS)
        ]
        value = last.value if last else None
        rows.append(
            BoundRow(
                bound=bound,
                version=version,
                location_name=locations.get(bound.location_id, "") if bound.location_id else "",
                value=value,
                detail=last.detail if last else "",
                status=bound_status(bound.kind, value, version.limit),
                measured_at=last.measured_at if last else None,
                open_breach=open_breaches.get(bound.pk),
                trend=trend,
            )
        )
    return rows


def bound_history(*, limit: int = 200) -> list[BoundVersion]:
    """Who set which limit when, newest first."""
    return list(BoundVersion.objects.select_related("bound", "changed_by")[:limit])
