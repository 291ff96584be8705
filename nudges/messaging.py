"""Reminders through the outbox: plan, dispatch and reconcile scheduled messages.

Public:

- planning: ``reminders_plan`` (booked or rescheduled) and ``reminders_cancel`` (cancelled),
  registered on ``booking.hooks`` in ``NudgesConfig.ready``;
- sending: ``messages_dispatch_due`` (the periodic Celery task ``dispatch_due_messages``) and
  ``messages_reconcile_stuck``.

Reminders are not long-delayed Celery tasks: due times live in ``ScheduledMessage`` rows and a
periodic dispatcher claims due rows with SELECT … FOR UPDATE SKIP LOCKED, so two dispatchers
never take the same row, a crashed worker never loses a row and never sends one twice.

Lifecycle of a row: pending → sending (claimed) → sent, or back to pending with a later due
time after a transient error, failed after ``NUDGES_MESSAGE_MAX_ATTEMPTS``, cancelled when the
appointment is cancelled, moved or no longer wants the reminder. Never log or store addresses
or names: the appointment reference and the row id only.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from booking.availability import local_tz
from booking.constants import AppointmentStatus
from booking.ics import absolute_manage_url
from booking.models import Appointment

from .constants import AttemptOutcome, MessageChannel, MessageKind, MessageStatus
from .models import DeliveryAttempt, ScheduledMessage

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OSError, smtplib.SMTPException)
UNKNOWN_OUTCOME = "unknown outcome: check provider"
REMINDER_TEMPLATE = "nudges/email/reminder"


# --- planning -------------------------------------------------------------------------------


def reminder_due_times(*, start: datetime, now: datetime) -> list[datetime]:
    """The reminder plan for an appointment starting at ``start``: ``NUDGES_REMINDER_OFFSETS_DAYS``
    days before, on the same wall-clock time in Europe/Amsterdam (right across daylight-saving
    changes), leaving out any time that has already passed."""
    local_start = start.astimezone(local_tz())
    due_times = set()
    for days in settings.NUDGES_REMINDER_OFFSETS_DAYS:
        # Arithmetic on a zoneinfo-aware datetime keeps the wall-clock time; the offset follows.
        due = local_start - timedelta(days=days)
        if due > now:
            due_times.add(due)
    return sorted(due_times)


def _cancel_pending(appointment_id: int, *, keep: Iterable[datetime] = ()) -> int:
    return (
        ScheduledMessage.objects.filter(
            appointment_id=appointment_id, kind=MessageKind.REMINDER, status=MessageStatus.PENDING
        )
        .exclude(due_at__in=list(keep))
        .update(status=MessageStatus.CANCELLED, updated_at=timezone.now())
    )


def reminders_plan(appointment_id: int, *, replan: bool = False, now: datetime | None = None) -> int:
    """Plan the e-mail reminders of a booked appointment; returns how many rows are pending.

    Idempotent: planning twice creates nothing new (unique key on appointment, kind, channel and
    due time). ``replan`` (the appointment moved): pending reminders for other times are
    cancelled first; a cancelled reminder for exactly a planned time is planned again. A row
    already sent for a planned time is left alone: that reminder has gone out.
    """
    now = now or timezone.now()
    appointment = (
        Appointment.objects.filter(pk=appointment_id).only("status", "start", "email", "remind_by_email").first()
    )
    wanted = (
        appointment is not None
        and appointment.status == AppointmentStatus.BOOKED
        and appointment.remind_by_email
        and bool(appointment.email)
    )
    due_times = reminder_due_times(start=appointment.start, now=now) if wanted else []
    with transaction.atomic():
        if replan or not wanted:
            _cancel_pending(appointment_id, keep=due_times)
        if not due_times:
            return 0
        key = {"appointment_id": appointment_id, "kind": MessageKind.REMINDER, "channel": MessageChannel.EMAIL}
        ScheduledMessage.objects.bulk_create(
            [ScheduledMessage(**key, due_at=due) for due in due_times], ignore_conflicts=True
        )
        ScheduledMessage.objects.filter(**key, due_at__in=due_times, status=MessageStatus.CANCELLED).update(
            status=MessageStatus.PENDING, attempts=0, last_error="", claimed_at=None, updated_at=timezone.now()
        )
        return ScheduledMessage.objects.filter(**key, due_at__in=due_times, status=MessageStatus.PENDING).count()


def reminders_replan(appointment_id: int) -> int:
    """Booking hook: the appointment moved."""
    return reminders_plan(appointment_id, replan=True)


def reminders_cancel(appointment_id: int) -> int:
    """Booking hook: the appointment was cancelled; returns how many pending rows were cancelled."""
    return _cancel_pending(appointment_id)


# --- sending --------------------------------------------------------------------------------


def _claim_next(*, now: datetime) -> ScheduledMessage | None:
    """Claim one due pending row in its own short transaction (SKIP LOCKED: rows another
    dispatcher is claiming are passed over, never waited for or taken twice)."""
    with transaction.atomic():
        message = (
            ScheduledMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.PENDING, due_at__lte=now)
            .order_by("due_at", "pk")
            .first()
        )
        if message is None:
            return None
        message.status, message.claimed_at = MessageStatus.SENDING, now
        message.save(update_fields=["status", "claimed_at", "updated_at"])
    return message


def _short_error(exc: BaseException) -> str:
    """The error class and its code: SMTP errors can quote addresses, so never their text."""
    code = getattr(exc, "smtp_code", None) or getattr(exc, "errno", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:200]


def _finish(message: ScheduledMessage, *, started_at: datetime, outcome: str, error: str = "", **changes) -> bool:
    """Move a claimed row on and log the attempt, in one transaction. The UPDATE holds only
    while the row is still 'sending': a row that reconciliation already reported is left
    alone. Returns whether the row was still ours."""
    with transaction.atomic():
        updated = ScheduledMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            **changes, updated_at=timezone.now()
        )
        DeliveryAttempt.objects.create(
            message=message, started_at=started_at, finished_at=timezone.now(), outcome=outcome, error=error
        )
    return bool(updated)


def _send_reminder_email(message: ScheduledMessage, appointment: Appointment) -> str:
    """Render and send one reminder (text and HTML, in the citizen's language); returns the
    Message-ID, the same for every attempt of this row so a receiving side can tell repeats."""
    products = list(appointment.products.all())
    with translation.override(appointment.language):
        checklist = list(dict.fromkeys(item for product in products for item in product.checklist))
        context = {
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": products,
            "checklist": checklist,
            "manage_url": absolute_manage_url(appointment),
        }
        subject = " ".join(render_to_string(f"{REMINDER_TEMPLATE}.subject.txt", context).split())
        text = render_to_string(f"{REMINDER_TEMPLATE}.txt", context)
        html = render_to_string(f"{REMINDER_TEMPLATE}.html", context)
    message_id = f"<scheduled-message-{message.pk}@kanaalwijzer>"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.email],
        headers={"Message-ID": message_id},
    )
    email.attach_alternative(html, "text/html")
    email.send()
    return message_id


def _deliver(message: ScheduledMessage, *, now: datetime) -> bool:
    """Send one claimed row outside any transaction; returns whether it was sent."""
    started_at = timezone.now()
    appointment = (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=message.appointment_id)
        .first()
    )
    if (
        appointment is None
        or appointment.status != AppointmentStatus.BOOKED
        or appointment.start <= now
        or not (appointment.email and appointment.remind_by_email)
    ):
        _finish(message, started_at=started_at, outcome=AttemptOutcome.SKIPPED, status=MessageStatus.CANCELLED)
        logger.info("Scheduled message %s cancelled: appointment no longer booked", message.pk)
        return False
    try:
        provider_id = _send_reminder_email(message, appointment)
    except TRANSIENT_ERRORS as exc:
        error = _short_error(exc)
        attempts = message.attempts + 1
        if attempts >= settings.NUDGES_MESSAGE_MAX_ATTEMPTS:
            _finish(
                message,
                started_at=started_at,
                outcome=AttemptOutcome.FAILED,
                error=error,
                status=MessageStatus.FAILED,
                attempts=attempts,
                last_error=error,
            )
            logger.warning("Scheduled message %s failed after %s attempts: %s", message.pk, attempts, error)
        else:
            delay = min(
                settings.NUDGES_MESSAGE_RETRY_SECONDS * 2 ** (attempts - 1), settings.NUDGES_MESSAGE_RETRY_MAX_SECONDS
            )
            _finish(
                message,
                started_at=started_at,
                outcome=AttemptOutcome.RETRY,
                error=error,
                status=MessageStatus.PENDING,
                attempts=attempts,
                last_error=error,
                due_at=now + timedelta(seconds=delay),
            )
            logger.info("Scheduled message %s: %s, retry in %s s", message.pk, error, delay)
        return False
    _finish(
        message,
        started_at=started_at,
        outcome=AttemptOutcome.SENT,
        status=MessageStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        provider_id=provider_id,
        last_error="",
    )
    logger.info("Reminder sent for appointment %s (message %s)", appointment.reference, message.pk)
    return True


def messages_dispatch_due(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Send up to ``batch`` due messages; returns how many were sent.

    One row at a time: claim it (a short transaction, SKIP LOCKED), send it outside any
    transaction, mark it sent and commit, and only then claim the next. A worker killed at any
    moment therefore leaves at most the one row it was sending in 'sending';
    ``messages_reconcile_stuck`` reports that row instead of sending it again. Any number of
    dispatchers may run at once.
    """
    batch = batch or settings.NUDGES_MESSAGE_BATCH
    sent = 0
    for _ in range(batch):
        current = now or timezone.now()
        message = _claim_next(now=current)
        if message is None:
            break
        try:
            sent += _deliver(message, now=current)
        except Exception:
            # Not a mail-server error (a template or data bug): do not retry blindly, report it.
            logger.exception("Scheduled message %s failed unexpectedly", message.pk)
            _finish(
                message,
                started_at=current,
                outcome=AttemptOutcome.FAILED,
                error="unexpected error",
                status=MessageStatus.FAILED,
                attempts=F("attempts") + 1,
                last_error="unexpected error",
            )
    return sent


def messages_reconcile_stuck(*, now: datetime | None = None) -> int:
    """Mark rows left in 'sending' longer than ``NUDGES_MESSAGE_STUCK_MINUTES`` as failed with
    "unknown outcome: check provider"; returns how many.

    Why not send them again: a row stays in 'sending' only when its worker died between the
    claim and the status update. If it died after the mail server accepted the message but
    before the row was marked sent, sending again would give the citizen the same reminder
    twice. We cannot tell the two cases apart here, so the row is reported rather than resent
    (its Message-ID is ``<scheduled-message-<id>@kanaalwijzer>``: look it up in the provider's
    log). Dispatching one row at a time keeps this to at most
    one row per killed worker process.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.NUDGES_MESSAGE_STUCK_MINUTES)
    with transaction.atomic():
        stuck = list(
            ScheduledMessage.objects.select_for_update(skip_locked=True).filter(
                status=MessageStatus.SENDING, claimed_at__lt=cutoff
            )
        )
        for message in stuck:
            message.status, message.last_error = MessageStatus.FAILED, UNKNOWN_OUTCOME
            message.save(update_fields=["status", "last_error", "updated_at"])
            DeliveryAttempt.objects.create(
                message=message,
                started_at=message.claimed_at,
                finished_at=now,
                outcome=AttemptOutcome.UNKNOWN,
                error=UNKNOWN_OUTCOME,
            )
    for message in stuck:
        logger.warning("Scheduled message %s: %s", message.pk, UNKNOWN_OUTCOME)
    return len(stuck)
