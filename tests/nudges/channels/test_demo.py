"""The demo contacts: every channel, a slow shift to online, the work instruction's last two
months, stored through the import service, and loaded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from booking.demo import seed_reference_data
from nudges.channels.demo import SCRIPT_DAYS, seed_contacts
from nudges.models import Contact, ContactChannel

pytestmark = pytest.mark.django_db


def test_six_months_on_every_channel_shifting_online():
    seed_reference_data()
    created = seed_contacts()

    assert created == Contact.objects.count() > 15_000
    assert set(Contact.objects.values_list("channel__code", flat=True).distinct()) == set(
        ContactChannel.objects.values_list("code", flat=True)
    )
    today = timezone.localdate()
    first = Contact.objects.filter(day__lt=today - timedelta(days=150))
    last = Contact.objects.filter(day__gte=today - timedelta(days=30))

    def online_share(contacts):
        counts = contacts.aggregate(online=Count("pk", filter=Q(channel__code="internet")), all=Count("pk"))
        return counts["online"] / counts["all"]

    assert online_share(last) > online_share(first) + 0.03
    calls = Contact.objects.filter(channel__code="telefoon", products__code="uittreksel-brp")
    script_start = today - timedelta(days=SCRIPT_DAYS)

    def referred(contacts):
        return contacts.filter(outcome="referred_online").count() / contacts.count()

    assert referred(calls.filter(day__gte=script_start)) > 2 * referred(calls.filter(day__lt=script_start))
    assert not Contact.objects.filter(day__gte=today).exists()
    assert seed_contacts() == 0  # idempotent
