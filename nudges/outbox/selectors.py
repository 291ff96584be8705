"""What other features may ask the outbox about planned messages (reads only; the outbox's
services in ``dispatch`` are the only writers of ``ScheduledMessage``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from nudges.constants import MessageStatus
from nudges.models import ScheduledMessage


def messages_exist(
    *,
    kind: str,
    appointment_id: int | None = None,
    waitlist_offer_id: int | None = None,
    statuses: Iterable[str] | None = None,
) -> bool:
    """Whether a message of this kind about this appointment (or waiting-list offer) is in the
    outbox, optionally only in these statuses."""
    messages = ScheduledMessage.objects.filter(kind=kind)
    if appointment_id is not None:
        messages = messages.filter(appointment_id=appointment_id)
    if waitlist_offer_id is not None:
        messages = messages.filter(waitlist_offer_id=waitlist_offer_id)
    if statuses is not None:
        messages = messages.filter(status__in=list(statuses))
    return messages.exists()


def appointment_ids_with_messages(*, kind: str) -> QuerySet:
    """The appointment ids that have a message of this kind, in any status (a subquery)."""
    return ScheduledMessage.objects.filter(kind=kind, appointment_id__isnull=False).values("appointment_id")


def sent_for_appointment(*, kind: str, outer_ref: str = "appointment_id") -> Exists:
    """An ``Exists`` to annotate another feature's rows with: a message of this kind about the
    row's appointment (``outer_ref``) was delivered."""
    return Exists(
        ScheduledMessage.objects.filter(appointment_id=OuterRef(outer_ref), kind=kind, status=MessageStatus.SENT)
    )
