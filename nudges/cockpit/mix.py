"""Channel mix and cost per product per channel, read from the daily roll-ups (SQL GROUP BY
over ``DailyContactVolume`` and ``DailyAppointmentVolume``), and the "what if" calculator.

Cost = the product's cost price on the channel's cost channel (``ContactChannel.cost_channel``)
× the number of contacts. A channel without a cost channel (e-mail, social media) has no cost
price in the catalogue: its contacts are counted, its cost is shown as unknown, never as zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from booking import selectors as booking_selectors
from booking.constants import Channel
from nudges.channels.selectors import contact_channels
from nudges.experiments.selectors import experiment_list
from nudges.models import DailyAppointmentVolume, DailyContactVolume

WEEK, MONTH = "week", "month"
TRUNC = {WEEK: TruncWeek, MONTH: TruncMonth}
COUNTER_CHANNEL = "balie"
ONLINE_CHANNEL = "internet"


def period_range(*, period: str, periods: int, today: date | None = None) -> tuple[date, date]:
    """The first day of the ``periods``-th last period and the last day of the current one."""
    today = today or timezone.localdate()
    if period == WEEK:
        start = today - timedelta(days=today.weekday()) - timedelta(weeks=periods - 1)
        return start, today
    month, year = today.month - (periods - 1), today.year
    while month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1), today


@dataclass
class Marker:
    day: date
    label: str
    kind: str  # "start" or "stop"
    number: int = 0  # the experiment's number on the chart (1, 2, …), the same for its start and stop

    def period_start(self, period: str) -> date:
        """The first day of the week or month the marker falls in (as ``TRUNC`` gives it)."""
        return self.day.replace(day=1) if period == MONTH else self.day - timedelta(days=self.day.weekday())


@dataclass
class ChannelMix:
    period: str
    periods: list[date]
    channels: list[tuple[str, str]]  # (code, name)
    contacts: dict[tuple[date, str], int]
    appointments: dict[tuple[date, str], int]
    appointment_channels: list[tuple[str, str]]
    markers: list[Marker] = field(default_factory=list)

    def total(self, period: date) -> int:
        return sum(self.contacts.get((period, code), 0) for code, _name in self.channels)

    def share(self, period: date, channel: str) -> float | None:
        total = self.total(period)
        return self.contacts.get((period, channel), 0) / total if total else None

    def rows(self) -> list[dict]:
        """Per period: contacts and share per channel, total, appointments per booking channel."""
        return [
            {
                "period": p,
                "cells": [(self.contacts.get((p, c), 0), self.share(p, c)) for c, _n in self.channels],
                "total": self.total(p),
                "appointments": [self.appointments.get((p, c), 0) for c, _n in self.appointment_channels],
            }
            for p in self.periods
        ]


def channel_mix(*, period: str, date_from: date, date_to: date, product_code: str = "") -> ChannelMix:
    """Contacts per period and channel, with each channel's share; appointments per period and
    booking channel; experiment starts and stops inside the range as markers."""
    trunc = TRUNC[period]
    contacts_qs = DailyContactVolume.objects.filter(day__gte=date_from, day__lte=date_to)
    appointments_qs = DailyAppointmentVolume.objects.filter(day__gte=date_from, day__lte=date_to)
    if product_code:
        contacts_qs = contacts_qs.filter(product_code=product_code)
        appointments_qs = appointments_qs.filter(product_code=product_code)
    contacts = {
        (r["p"], r["channel"]): r["n"]
        for r in contacts_qs.annotate(p=trunc("day")).values("p", "channel").annotate(n=Sum("contacts")).order_by()
    }
    appointments = {
        (r["p"], r["channel"]): r["n"]
        for r in appointments_qs.annotate(p=trunc("day"))
        .values("p", "channel")
        .annotate(n=Sum("appointments"))
        .order_by()
    }
    periods = sorted({p for p, _c in contacts} | {p for p, _c in appointments})
    return ChannelMix(
        period=period,
        periods=periods,
        channels=[(c.code, c.name) for c in contact_channels()],
        contacts=contacts,
        appointments=appointments,
        appointment_channels=[(value, str(label)) for value, label in Channel.choices],
        markers=experiment_markers(date_from=date_from, date_to=date_to, product_code=product_code),
    )


def experiment_markers(*, date_from: date, date_to: date, product_code: str = "") -> list[Marker]:
    markers = []
    for experiment in experiment_list():
        if product_code and product_code not in {p.code for p in experiment.products.all()}:
            continue
        for moment, kind in ((experiment.started_at, "start"), (experiment.finished_at, "stop")):
            if moment and date_from <= timezone.localdate(moment) <= date_to:
                markers.append(Marker(day=timezone.localdate(moment), label=experiment.name, kind=kind))
    markers.sort(key=lambda m: m.day)
    numbers: dict[str, int] = {}
    for marker in markers:
        marker.number = numbers.setdefault(marker.label, len(numbers) + 1)
    return markers


# --- cost -------------------------------------------------------------------------------------


@dataclass
class CostCell:
    contacts: int
    cost_price: Decimal | None

    @property
    def cost(self) -> Decimal | None:
        return None if self.cost_price is None else self.cost_price * self.contacts


@dataclass
class CostRow:
    product_code: str
    product_name: str
    cells: list[CostCell]

    @property
    def contacts(self) -> int:
        return sum(c.contacts for c in self.cells)

    @property
    def cost(self) -> Decimal:
        return sum((c.cost for c in self.cells if c.cost is not None), Decimal(0))

    @property
    def uncosted(self) -> int:
        return sum(c.contacts for c in self.cells if c.cost is None and c.contacts)


@dataclass
class CostTable:
    date_from: date
    date_to: date
    channels: list[tuple[str, str]]
    rows: list[CostRow]

    @property
    def total(self) -> Decimal:
        return sum((r.cost for r in self.rows), Decimal(0))

    def channel_totals(self) -> list[Decimal | None]:
        totals = []
        for i in range(len(self.channels)):
            known = [cost for r in self.rows if r.cells[i].contacts and (cost := r.cells[i].cost) is not None]
            totals.append(sum(known, Decimal(0)) if known else None)
        return totals


def cost_table(*, date_from: date, date_to: date) -> CostTable:
    """Cost per product and channel over the days date_from..date_to: contacts × cost price."""
    channels = list(contact_channels())
    products = booking_selectors.product_facts()
    counts = {
        (r["product_code"], r["channel"]): r["n"]
        for r in DailyContactVolume.objects.filter(day__gte=date_from, day__lte=date_to)
        .exclude(product_code="")
        .values("product_code", "channel")
        .annotate(n=Sum("contacts"))
        .order_by()
    }
    rows = [
        CostRow(
            product_code=p.code,
            product_name=p.name,
            cells=[
                CostCell(
                    contacts=counts.get((p.code, ch.code), 0),
                    cost_price=p.costs.get(ch.cost_channel) if ch.cost_channel else None,
                )
                for ch in channels
            ],
        )
        for p in products
    ]
    return CostTable(date_from, date_to, [(c.code, c.name) for c in channels], rows)


@dataclass(frozen=True)
class Cheaper:
    """Where costs can go down: a product with an online route that is cheaper than the counter."""

    product_code: str
    product_name: str
    counter_contacts: int
    difference: Decimal  # counter minus online cost price, per contact
    at_most: Decimal  # over the period, if every counter contact had gone online


def cheaper_online(table: CostTable) -> list[Cheaper]:
    """Products with an online route whose online cost price is below the counter's, by what the
    period's counter contacts would have saved at most had they all gone online; largest first.
    (The calculator gives a realistic share; presence-required products are never listed.)"""
    facts = {p.code: p for p in booking_selectors.product_facts()}
    codes = [code for code, _name in table.channels]
    if COUNTER_CHANNEL not in codes:
        return []
    counter = codes.index(COUNTER_CHANNEL)
    found = []
    for row in table.rows:
        fact = facts.get(row.product_code)
        if fact is None or not fact.has_online_alternative or fact.requires_presence:
            continue
        counter_cost, online_cost = fact.costs.get("counter"), fact.costs.get("online")
        contacts = row.cells[counter].contacts
        if counter_cost is None or online_cost is None or counter_cost <= online_cost or not contacts:
            continue
        difference = counter_cost - online_cost
        found.append(
            Cheaper(fact.code, fact.name, contacts, difference, (difference * contacts).quantize(Decimal("0.01")))
        )
    return sorted(found, key=lambda c: c.at_most, reverse=True)


@dataclass
class WhatIf:
    product_code: str
    product_name: str
    percent: Decimal
    date_from: date
    date_to: date
    counter_contacts: int
    online_contacts: int
    online_share_now: float | None
    online_share_then: float | None
    moved: Decimal
    saving: Decimal | None  # euros over the period
    minutes_freed: Decimal  # counter minutes over the period


def what_if(*, product_code: str, percent: Decimal, date_from: date, date_to: date) -> WhatIf | None:
    """ "If ``percent`` % of this product's counter contacts had gone online": the contacts
    moved, the cost difference and the counter minutes freed, from the measured volumes."""
    product = next((p for p in booking_selectors.product_facts() if p.code == product_code), None)
    if product is None:
        return None
    counts = {
        r["channel"]: r["n"]
        for r in DailyContactVolume.objects.filter(day__gte=date_from, day__lte=date_to, product_code=product_code)
        .values("channel")
        .annotate(n=Sum("contacts"))
        .order_by()
    }
    total = sum(counts.values())
    counter, online = counts.get(COUNTER_CHANNEL, 0), counts.get(ONLINE_CHANNEL, 0)
    moved = Decimal(counter) * percent / 100
    counter_cost, online_cost = product.costs.get("counter"), product.costs.get("online")
    saving = moved * (counter_cost - online_cost) if counter_cost is not None and online_cost is not None else None
    return WhatIf(
        product_code=product.code,
        product_name=product.name,
        percent=percent,
        date_from=date_from,
        date_to=date_to,
        counter_contacts=counter,
        online_contacts=online,
        online_share_now=online / total if total else None,
        online_share_then=float((online + moved) / total) if total else None,
        moved=moved.quantize(Decimal("0.1")),
        saving=saving.quantize(Decimal("0.01")) if saving is not None else None,
        minutes_freed=(moved * product.minutes_per_person).quantize(Decimal("1")),
    )


def product_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in booking_selectors.product_facts()]


def per_channel_totals(mix: ChannelMix) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for (_p, channel), n in mix.contacts.items():
        totals[channel] += n
    return totals
