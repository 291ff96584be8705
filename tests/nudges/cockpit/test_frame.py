"""The policy frame: bounds with their history, the daily check, one alert per breach."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.availability import invalidate_availability
from booking.models import Closure
from nudges.cockpit import selectors, services
from nudges.cockpit.constants import BoundKind, BoundStatus
from nudges.constants import MessageKind, MessageStatus
from nudges.models import BoundMeasurement, BoundVersion, Breach, BreachAlert, ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from tests.factories import DeskFactory, ProductFactory

pytestmark = pytest.mark.django_db


def alerts_sent(mailoutbox) -> list[str]:
    return [to for m in mailoutbox for to in m.to]


@pytest.mark.parametrize(
    ("kind", "value", "limit", "status"),
    [
        (BoundKind.LEAD_TIME, "10", "10", BoundStatus.CLOSE),
        (BoundKind.LEAD_TIME, "11", "10", BoundStatus.BREACHED),
        (BoundKind.LEAD_TIME, "5", "10", BoundStatus.WITHIN),
        (BoundKind.SATISFACTION_FLOOR, "3.9", "4.0", BoundStatus.BREACHED),
        (BoundKind.SATISFACTION_FLOOR, "4.3", "4.0", BoundStatus.CLOSE),
        (BoundKind.SATISFACTION_FLOOR, "4.5", "4.0", BoundStatus.WITHIN),
        (BoundKind.COST_RULE, "0", "0", BoundStatus.WITHIN),
        (BoundKind.COST_RULE, "1", "0", BoundStatus.BREACHED),
        (BoundKind.NOT_HANDLED, None, "5", BoundStatus.UNKNOWN),
    ],
)
def test_status_of_a_value_against_its_limit(kind, value, limit, status):
    assert selectors.bound_status(kind, None if value is None else Decimal(value), Decimal(limit)) == status


def test_a_change_is_a_new_version_and_the_old_one_stays(manager, second_manager):
    first = services.bound_set(kind=BoundKind.LEAD_TIME, limit=Decimal(10), product_code="paspoort", user=manager)
    second = services.bound_set(
        kind=BoundKind.LEAD_TIME, limit=Decimal(14), product_code="paspoort", user=second_manager, note="raad 12-3"
    )
    assert first.bound_id == second.bound_id
    history = selectors.bound_history()
    assert [(v.limit, v.changed_by.username) for v in history] == [(Decimal(14), "noor"), (Decimal(10), "mila")]
    with pytest.raises(TypeError):
        BoundVersion.objects.filter(pk=first.pk).update(limit=1)
    [(bound, version)] = selectors.bounds_in_force()
    assert version.limit == Decimal(14)


def test_a_deactivated_bound_is_not_in_force(manager):
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager)
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager, is_active=False)
    assert selectors.bounds_in_force() == []


def test_a_breach_alerts_each_manager_once_and_again_only_after_recovering(
    manager, second_manager, desk_user, uncovered_fee, mailoutbox
):
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager)
    now = timezone.now()

    assert services.bounds_check(now=now).opened == 1
    messages_dispatch_due(now=now)
    assert sorted(alerts_sent(mailoutbox)) == ["mila@gemeente.example", "noor@gemeente.example"]
    assert "Kader overschreden" in mailoutbox[0].subject
    assert "Rijbewijs (phone)" in BoundMeasurement.objects.get().detail

    # Still breached the next days: no new e-mail.
    for day in (1, 2):
        assert services.bounds_check(now=now + timedelta(days=day)).opened == 0
        messages_dispatch_due(now=now + timedelta(days=day))
    assert len(mailoutbox) == 2
    assert BoundMeasurement.objects.count() == 3

    # Recovered: the breach closes. Breached again: a new breach and new e-mails.
    uncovered_fee.cost_phone = Decimal("5.00")
    uncovered_fee.save()
    assert services.bounds_check(now=now + timedelta(days=3)).closed == 1
    uncovered_fee.cost_phone = None
    uncovered_fee.save()
    assert services.bounds_check(now=now + timedelta(days=4)).opened == 1
    messages_dispatch_due(now=now + timedelta(days=4))
    assert len(mailoutbox) == 4
    assert Breach.objects.count() == 2
    assert Breach.objects.filter(ended_at__isnull=True).count() == 1
    assert BreachAlert.objects.count() == 4


def test_no_alert_when_the_breach_recovered_before_the_mail_went_out(manager, uncovered_fee, mailoutbox):
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager)
    now = timezone.now()
    services.bounds_check(now=now)
    uncovered_fee.cost_phone = Decimal("5.00")
    uncovered_fee.save()
    services.bounds_check(now=now + timedelta(minutes=1))
    messages_dispatch_due(now=now + timedelta(minutes=2))
    assert mailoutbox == []
    assert ScheduledMessage.objects.get(kind=MessageKind.BOUND_BREACH).status == MessageStatus.CANCELLED


def test_lead_time_comes_from_the_availability_engine(manager):
    passport = ProductFactory(code="paspoort", requires_presence=True, min_notice_minutes=0)
    desk = DeskFactory(products=[passport])
    services.bound_set(
        kind=BoundKind.LEAD_TIME, limit=Decimal(5), product_code="paspoort", location_id=desk.location_id, user=manager
    )
    now = timezone.now()
    services.bounds_check(now=now)
    quick = BoundMeasurement.objects.get().value
    assert quick <= 3  # a weekday desk is free within a weekend
    # The location closes for three weeks: the first free time moves past the limit.
    Closure.objects.create(
        location=desk.location,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=21),
        reason="verbouwing",
    )
    invalidate_availability(desk.location_id)
    services.bounds_check(now=now + timedelta(minutes=5))
    measurement = BoundMeasurement.objects.get()
    assert measurement.value >= 20
    assert measurement.status == BoundStatus.BREACHED
    assert Breach.objects.filter(ended_at__isnull=True).count() == 1


def test_service_level_counts_working_days_at_the_best_location(manager):
    passport = ProductFactory(code="paspoort", requires_presence=True)
    DeskFactory(products=[passport])
    services.bound_set(kind=BoundKind.SERVICE_PRESENCE, limit=Decimal(3), user=manager)
    services.bounds_check()
    [row] = selectors.bound_monitor()
    assert row.value is not None and row.value <= 1
    assert row.status in (BoundStatus.WITHIN, BoundStatus.CLOSE)


# --- the page ---------------------------------------------------------------------------------


def test_the_frame_page_shows_status_and_records_a_bound(client, manager, uncovered_fee):
    client.force_login(manager)
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager)
    services.bounds_check()
    page = client.get(reverse("nudges:cockpit-frame"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "status--breached" in body and "Rijbewijs (phone)" in body

    response = client.post(
        reverse("nudges:cockpit-frame"),
        {
            "kind": BoundKind.SATISFACTION_FLOOR,
            "limit": "3.8",
            "channel": "phone",
            "is_active": "on",
            "note": "besluit",
        },
    )
    assert response.status_code == 302
    version = BoundVersion.objects.get(bound__kind=BoundKind.SATISFACTION_FLOOR)
    assert (version.limit, version.bound.channel, version.changed_by) == (Decimal("3.8"), "phone", manager)


def test_bad_input_is_shown_next_to_the_field(client, manager):
    client.force_login(manager)
    response = client.post(reverse("nudges:cockpit-frame"), {"kind": BoundKind.NOT_HANDLED, "limit": "150"})
    assert response.status_code == 400
    assert "Een percentage ligt tussen 0 en 100." in response.content.decode()
    assert not BoundVersion.objects.exists()


def test_only_managers_open_the_cockpit(client, desk_user):
    url = reverse("nudges:cockpit-frame")
    assert client.get(url).status_code == 302
    client.force_login(desk_user)
    assert client.get(url).status_code == 403
    assert client.post(reverse("nudges:cockpit-measure")).status_code == 403


def test_a_bound_takes_the_channels_its_measure_is_counted_on(client, manager):
    """Contacts not handled are counted per contact channel (telefoon, e-mail, …), fees per
    booking channel, satisfaction on both; the form offers both lists and says which fits."""
    client.force_login(manager)
    url = reverse("nudges:cockpit-frame")
    page = client.get(url).content.decode()
    assert 'value="telefoon"' in page and 'value="counter"' in page

    ok = client.post(url, {"kind": BoundKind.NOT_HANDLED, "limit": "8", "channel": "telefoon", "is_active": "on"})
    assert ok.status_code == 302
    assert BoundVersion.objects.get(bound__kind=BoundKind.NOT_HANDLED).bound.channel == "telefoon"

    wrong = [
        (BoundKind.NOT_HANDLED, "phone", "Niet afgehandelde contacten tellen per contactkanaal"),
        (BoundKind.COST_RULE, "telefoon", "Leges gelden per afspraakkanaal"),
        (BoundKind.LEAD_TIME, "e-mail", "Dit kader geldt voor alle kanalen"),
    ]
    for kind, channel, message in wrong:
        response = client.post(url, {"kind": kind, "limit": "5", "channel": channel, "is_active": "on"})
        assert response.status_code == 400, kind
        assert message in response.content.decode()
    assert BoundVersion.objects.count() == 1
    for channel in ("telefoon", "counter"):  # satisfaction is asked after contacts and after visits
        response = client.post(url, {"kind": BoundKind.SATISFACTION_FLOOR, "limit": "3.5", "channel": channel})
        assert response.status_code == 302, channel
