"""Writes of the policy frame: a manager sets a bound (a new version, never an edit), and the
daily check measures every bound, records the day's value, opens and closes breaches and
plans one alert e-mail per manager when a breach opens (through the outbox)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from nudges.constants import MessageKind
from nudges.exceptions import InvalidInput
from nudges.models import Bound, BoundMeasurement, BoundVersion, Breach, BreachAlert
from nudges.outbox.dispatch import Outgoing, email_from_templates, message_enqueue

from .constants import MANAGE_POLICY, MAXIMUM_KINDS, UNITS, BoundKind, BoundStatus
from .selectors import Facts, bound_measure, bound_status, bounds_in_force

logger = logging.getLogger(__name__)

EMAIL_TEMPLATE = "nudges/cockpit/email/bound_breach"
# Kinds whose scope is a channel, a product, a location (the others ignore what is given).
SCOPES: dict[str, tuple[str, ...]] = {
    BoundKind.SERVICE_PRESENCE: ("product_code",),
    BoundKind.SERVICE_EXEMPT: ("product_code",),
    BoundKind.WALKIN_CAPACITY: ("location_id",),
    BoundKind.LEAD_TIME: ("product_code", "location_id"),
    BoundKind.NOT_HANDLED: ("channel",),
    BoundKind.SATISFACTION_FLOOR: ("channel",),
    BoundKind.SATISFACTION_GAP: ("channel",),
    BoundKind.COST_RULE: ("product_code", "channel"),
}


def bound_set(
    *,
    kind: str,
    limit: Decimal,
    user,
    channel: str = "",
    product_code: str = "",
    location_id: int | None = None,
    is_active: bool = True,
    note: str = "",
    now: datetime | None = None,
) -> BoundVersion:
    """Record a limit for a bound (created on first use). Earlier versions stay as they were."""
    if kind not in BoundKind.values:
        raise InvalidInput(_("Onbekende soort kader."), field="kind")
    if limit is None or limit < 0:
        raise InvalidInput(_("Vul een grens van 0 of meer in."), field="limit")
    if kind in (BoundKind.WALKIN_CAPACITY, BoundKind.NOT_HANDLED) and limit > 100:
        raise InvalidInput(_("Een percentage ligt tussen 0 en 100."), field="limit")
    if kind in (BoundKind.SATISFACTION_FLOOR, BoundKind.SATISFACTION_GAP) and limit > 5:
        raise InvalidInput(_("Tevredenheid ligt op een schaal van 1 tot 5."), field="limit")
    scope: dict[str, Any] = {"channel": channel, "product_code": product_code, "location_id": location_id}
    allowed = SCOPES[kind]
    scope = {k: (v if k in allowed else ("" if k != "location_id" else None)) for k, v in scope.items()}
    with transaction.atomic():
        bound, _created = Bound.objects.get_or_create(kind=kind, **scope)
        return BoundVersion.objects.create(
            bound=bound,
            limit=limit,
            is_active=is_active,
            note=note,
            changed_by=user,
            changed_at=now or timezone.now(),
        )


def policy_managers():
    """Active users with the cockpit permission (directly or through a group) and an address."""
    app_label, codename = MANAGE_POLICY.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission))
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


@dataclass
class CheckResult:
    measured: int = 0
    opened: int = 0
    closed: int = 0


def bounds_check(*, now: datetime | None = None) -> CheckResult:
    """Measure every bound in force, store today's value, and open or close its breach.

    A breach opens when a bound is breached and has no open breach; only then are the alerts
    planned, so a breach lasting weeks alerts once. It closes at the first check that finds the
    bound within (or close) again; a later breach alerts again. Safe to run twice at once: the
    bound row is locked while deciding, and one open breach per bound is a database constraint."""
    now = now or timezone.now()
    facts = Facts(now)
    result = CheckResult()
    for bound, version in bounds_in_force():
        measured = bound_measure(bound, facts)
        status = bound_status(bound.kind, measured.value, version.limit)
        with transaction.atomic():
            Bound.objects.select_for_update().get(pk=bound.pk)
            BoundMeasurement.objects.update_or_create(
                bound=bound,
                day=facts.today,
                defaults={
                    "value": measured.value,
                    "status": status,
                    "detail": measured.detail[:300],
                    "measured_at": now,
                },
            )
            open_breach = Breach.objects.filter(bound=bound, ended_at__isnull=True).first()
            if status == BoundStatus.BREACHED and open_breach is None and measured.value is not None:
                breach = Breach.objects.create(bound=bound, started_at=now, value=measured.value, limit=version.limit)
                for manager in policy_managers():
                    alert = BreachAlert.objects.create(breach=breach, recipient=manager)
                    message_enqueue(kind=MessageKind.BOUND_BREACH, due_at=now, breach_alert_id=alert.pk)
                result.opened += 1
                logger.info("Bound %s breached (%s against %s)", bound.pk, measured.value, version.limit)
            elif status in (BoundStatus.WITHIN, BoundStatus.CLOSE) and open_breach is not None:
                open_breach.ended_at = now
                open_breach.save(update_fields=["ended_at"])
                result.closed += 1
        result.measured += 1
    return result


def breach_alert_build(message, now: datetime) -> Outgoing | None:
    """The alert e-mail; None when the breach has recovered before it went out or the manager
    no longer has the permission or an address."""
    alert = BreachAlert.objects.select_related("breach__bound", "recipient").filter(pk=message.breach_alert_id).first()
    if alert is None or alert.breach.ended_at is not None:
        return None
    recipient = alert.recipient
    if not recipient.is_active or not recipient.email or not recipient.has_perm(MANAGE_POLICY):
        return None
    bound = alert.breach.bound
    return email_from_templates(
        to=recipient.email,
        template_prefix=EMAIL_TEMPLATE,
        context={
            "bound": bound,
            "breach": alert.breach,
            "unit": UNITS[bound.kind],
            "is_maximum": bound.kind in MAXIMUM_KINDS,
            "cockpit_url": settings.SITE_URL + reverse("nudges:cockpit-frame"),
        },
        language="nl",
    )
