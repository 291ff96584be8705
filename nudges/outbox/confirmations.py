"""Booking's own e-mails through the outbox: the confirmation (with its calendar file) and the
apology when a closure cancelled the appointment.

Public: ``confirmation_plan`` (booking hook ``CONFIRMATION_WANTED``), ``apology_plan`` (hook
``APPOINTMENT_CANCELLED``; only for cancellations with reason ``CancelReason.CLOSURE``), both
run inside booking's transaction; and their outbox builders. What the e-mails say is booking's
(``booking.notifications``); that they go out once, and are not lost, is the outbox's.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from booking.constants import CancelReason
from booking.notifications import RenderedEmail, closure_apology_email, confirmation_email
from booking.selectors import appointment_cancellation
from nudges.constants import MessageKind
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import Outgoing, message_enqueue, messages_cancel_pending


def confirmation_plan(appointment_id: int) -> None:
    # A confirmation not sent yet is replaced: two quick moves give one e-mail, with the last time.
    messages_cancel_pending(appointment_id=appointment_id, kind=MessageKind.CONFIRMATION)
    message_enqueue(kind=MessageKind.CONFIRMATION, due_at=timezone.now(), appointment_id=appointment_id)


def apology_plan(appointment_id: int) -> None:
    cancellation = appointment_cancellation(appointment_id)
    if cancellation is not None and cancellation.reason == CancelReason.CLOSURE:
        message_enqueue(kind=MessageKind.CLOSURE_APOLOGY, due_at=timezone.now(), appointment_id=appointment_id)


def _outgoing(rendered: RenderedEmail | None) -> Outgoing | None:
    if rendered is None:
        return None
    return Outgoing(
        to=rendered.to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        attachments=rendered.attachments,
    )


def confirmation_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    if message.appointment_id is None:
        return None
    return _outgoing(confirmation_email(message.appointment_id))


def apology_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    if message.appointment_id is None:
        return None
    return _outgoing(closure_apology_email(message.appointment_id))
