"""Reads for contacts. ``contact_counts_per_day`` is the roll-up the manager's cockpit builds
on: one GROUP BY over the contact table (indexed on day and channel), per day, channel,
product (None: a general question) and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils import timezone

from nudges.models import Contact, ContactChannel, OnlineCompletion


@dataclass(frozen=True)
class ContactCount:
    day: date
    channel: str  # ContactChannel.code
    product: str | None  # Product.code; None for a general question
    outcome: str
    contacts: int
    handling_seconds: int  # the sum over the contacts whose handling time is known


def contact_channels() -> QuerySet[ContactChannel]:
    return ContactChannel.objects.filter(is_active=True).order_by("position", "code")


def contact_counts_per_day(*, date_from: date, date_to: date) -> list[ContactCount]:
    """Contacts per local day, channel, product and outcome, ``date_from``..``date_to``
    inclusive. A contact about two products counts once for each."""
    rows = (
        Contact.objects.filter(day__gte=date_from, day__lte=date_to)
        .values("day", "channel__code", "products__code", "outcome")
        .annotate(n=Count("id"), seconds=Sum("handling_seconds"))
        .order_by("day", "channel__code", "products__code", "outcome")
    )
    return [
        ContactCount(
            day=row["day"],
            channel=row["channel__code"],
            product=row["products__code"],
            outcome=row["outcome"],
            contacts=row["n"],
            handling_seconds=row["seconds"] or 0,
        )
        for row in rows
    ]


def contacts_registered_today(*, user, now: datetime | None = None) -> QuerySet[Contact]:
    """What this staff member registered today: the list they may correct."""
    return (
        Contact.objects.filter(registered_by=user, source="staff", day=timezone.localdate(now or timezone.now()))
        .select_related("channel")
        .prefetch_related("products")
        .order_by("-moment", "-pk")
    )


def contacts_with_online_completion() -> QuerySet[Contact]:
    """Contacts annotated with ``completed_online``: the online form was finished with the
    link sent to the caller (the KCC work instruction's loop)."""
    return Contact.objects.annotate(
        completed_online=Exists(
            OnlineCompletion.objects.filter(reference=OuterRef("online_reference")).exclude(reference="")
        )
    )
