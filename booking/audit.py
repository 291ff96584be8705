"""The audit trail of appointments: one call, ``record_event``, used by every service that
changes an appointment (citizen, phone, desk or system). Events are append-only and never
hold contact data: ``changes`` lists field names with old and new values of non-personal
fields (status, start, desk, products, …)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import Appointment, AppointmentEvent


def record_event(
    appointment: Appointment,
    action: str,
    *,
    actor: Any = None,
    channel: str = "",
    changes: dict[str, list] | None = None,
    client: Any = None,
) -> AppointmentEvent:
    """Append an event. ``actor`` is a staff user or None (citizen or system); ``client`` the
    integration client whose API call it was, if any."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AppointmentEvent.objects.create(
        appointment=appointment,
        action=action,
        actor=actor,
        client=client,
        channel=channel,
        changes=_jsonable(changes or {}),
    )


def _jsonable(changes: dict[str, list]) -> dict[str, list]:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return timezone.localtime(value).isoformat()  # one form, whatever zone came in
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if hasattr(value, "pk"):
            return str(value)
        return value

    return {field: [plain(old), plain(new)] for field, (old, new) in changes.items()}
