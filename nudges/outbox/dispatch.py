"""The outbox: messages to citizens live in the database and are sent by a periodic dispatcher.

Public:

- ``Outgoing`` and ``register_message_kind(kind, build, sent=None)``: each kind of message
  (reminder, satisfaction question, waiting-list offer…) registers a builder in its
  ``AppConfig.ready``; the dispatcher calls ``build(message, now)`` for each claimed row of that
  kind, and the builder returns what to send, or None when the message is no longer wanted (the
  row is cancelled). ``sent(message, outgoing, now)``, if given, runs once the row is marked
  sent (a reminder logs its experiment exposure there); its errors are logged, never raised;
- ``message_enqueue``: plan one message (idempotent);
- ``messages_dispatch_due`` (the periodic Celery task ``dispatch_due_messages``) and
  ``messages_reconcile_stuck``.

Messages are not long-delayed Celery tasks: due times live in ``ScheduledMessage`` rows and the
dispatcher claims due rows with SELECT … FOR UPDATE SKIP LOCKED, so two dispatchers never take
the same row, a crashed worker never loses a row and never sends one twice.

Lifecycle of a row: pending → sending (claimed) → sent, or back to pending with a later due
time after a transient error (or an SMS row that fell in the quiet hours), failed after
``NUDGES_MESSAGE_MAX_ATTEMPTS`` or on a permanent error, cancelled when it is no longer
wanted. Never log or store addresses, phone numbers or names: row ids and references only.

Size (~410 lines): that lifecycle is one state machine (claim, send, retry, fail, reconcile,
requeue) over one table; split apart, each half would hold only some of a row's states.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from booking.notifications import render_templated_email
from nudges import tasks
from nudges.constants import AttemptOutcome, MessageChannel, MessageStatus
from nudges.models import DeliveryAttempt, ScheduledMessage
from nudges.outbox import sms
from nudges.outbox.caps import daily_cap_count, daily_cap_wait

logger = logging.getLogger(__name__)

# Checked in this order: a refused address is final (also an SMTPException), the rest may pass.
PERMANENT_ERRORS = (smtplib.SMTPRecipientsRefused, sms.SmsPermanentError)
TRANSIENT_ERRORS = (OSError, smtplib.SMTPException, sms.SmsTransientError)
UNKNOWN_OUTCOME = "unknown outcome: check provider"


@dataclass(frozen=True)
class Outgoing:
    """What a builder returns: the outbox sends it on the row's channel."""

    to: str  # an e-mail address, or a phone number for SMS rows
    text: str
    subject: str = ""  # e-mail only
    html: str = ""  # e-mail only, optional
    attachments: tuple[tuple[str, str | bytes, str], ...] = ()  # e-mail only: (filename, content, mimetype)
    # Never sent: what the builder decided (e.g. the experiment variant it rendered), for the
    # kind's ``sent`` callback, so what is logged is exactly what went out.
    notes: Mapping[str, Any] = field(default_factory=dict)


def email_from_templates(*, to: str, template_prefix: str, context: dict, language: str, **extra) -> Outgoing:
    """An e-mail rendered from ``<template_prefix>.subject.txt``, ``.txt`` and ``.html`` in the
    citizen's language (booking's one way to render e-mail)."""
    subject, text, html = render_templated_email(template_prefix=template_prefix, context=context, language=language)
    return Outgoing(to=to, subject=subject, text=text, html=html, **extra)


MessageBuilder = Callable[[ScheduledMessage, datetime], "Outgoing | None"]
SentCallback = Callable[[ScheduledMessage, Outgoing, datetime], None]
_builders: dict[str, MessageBuilder] = {}
_sent_callbacks: dict[str, SentCallback] = {}


def register_message_kind(kind: str, build: MessageBuilder, *, sent: SentCallback | None = None) -> None:
    _builders[kind] = build
    if sent is not None:
        _sent_callbacks[kind] = sent
    else:
        _sent_callbacks.pop(kind, None)


def message_enqueue(
    *,
    kind: str,
    due_at: datetime,
    appointment_id: int | None = None,
    channel: str = MessageChannel.EMAIL,
    waitlist_offer_id: int | None = None,
    waitlist_entry_id: int | None = None,
    breach_alert_id: int | None = None,
    online_link_id: int | None = None,
    survey_id: int | None = None,
) -> None:
    """Plan one message. Idempotent on (appointment, kind, channel, due time), or for a
    waiting-list offer or entry or a breach alert on (that row, kind, channel): planning the same message
    twice plans it once."""
    ScheduledMessage.objects.bulk_create(
        [
            ScheduledMessage(
                appointment_id=appointment_id,
                waitlist_offer_id=waitlist_offer_id,
                waitlist_entry_id=waitlist_entry_id,
                breach_alert_id=breach_alert_id,
                online_link_id=online_link_id,
                survey_id=survey_id,
                kind=kind,
                channel=channel,
                due_at=due_at,
            )
        ],
        ignore_conflicts=True,
    )
    if due_at <= timezone.now():
        transaction.on_commit(_dispatch_soon)


def _dispatch_soon() -> None:
    """A message due now (a confirmation, a waiting-list offer) goes out within seconds rather
    than at the next beat. If the broker is away the beat's dispatcher sends it later: the row
    is safe in the database either way."""
    try:
        tasks.dispatch_due_messages.delay()
    except Exception:
        logger.warning("Could not queue an immediate dispatch; the periodic dispatcher will send it")


def message_id(message: ScheduledMessage) -> str:
    """The same for every attempt of a row, so a receiving side can tell repeats."""
    return f"scheduled-message-{message.pk}"


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
    code = getattr(exc, "smtp_code", None) or getattr(exc, "errno", None) or getattr(exc, "code", None)
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


def _send(message: ScheduledMessage, outgoing: Outgoing) -> str:
    """Hand one message to its channel; returns the provider's id for it."""
    if message.channel == MessageChannel.SMS:
        return sms.sms_send(to=outgoing.to, text=outgoing.text, reference=message_id(message))
    header = f"<{message_id(message)}@kanaalwijzer>"
    email = EmailMultiAlternatives(
        subject=outgoing.subject,
        body=outgoing.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[outgoing.to],
        headers={"Message-ID": header},
    )
    if outgoing.html:
        email.attach_alternative(outgoing.html, "text/html")
    for filename, content, mimetype in outgoing.attachments:
        email.attach(filename, content, mimetype)
    email.send()
    return header


def _retry_or_fail(message: ScheduledMessage, *, started_at: datetime, now: datetime, exc: BaseException) -> None:
    error = _short_error(exc)
    attempts = message.attempts + 1
    if attempts >= settings.NUDGES_MESSAGE_MAX_ATTEMPTS:
        _fail(message, started_at=started_at, error=error, attempts=attempts)
        logger.warning("Scheduled message %s failed after %s attempts: %s", message.pk, attempts, error)
        return
    delay = min(settings.NUDGES_MESSAGE_RETRY_SECONDS * 2 ** (attempts - 1), settings.NUDGES_MESSAGE_RETRY_MAX_SECONDS)
    # A gateway that asked us to wait longer (Retry-After) gets its wish.
    delay = max(delay, getattr(exc, "retry_after", None) or 0)
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


def _fail(message: ScheduledMessage, *, started_at: datetime, error: str, attempts) -> None:
    _finish(
        message,
        started_at=started_at,
        outcome=AttemptOutcome.FAILED,
        error=error,
        status=MessageStatus.FAILED,
        attempts=attempts,
        last_error=error,
    )


def _deliver(message: ScheduledMessage, *, now: datetime) -> bool:
    """Build and send one claimed row outside any transaction; returns whether it was sent."""
    started_at = timezone.now()
    if message.channel == MessageChannel.SMS:
        allowed = sms.sms_quiet_hours_shift(now)
        if allowed > now:
            # Not an attempt: the row simply waits for the morning.
            ScheduledMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                status=MessageStatus.PENDING, due_at=allowed, claimed_at=None, updated_at=timezone.now()
            )
            return False
    build = _builders.get(message.kind)
    outgoing = build(message, now) if build else None
    if outgoing is None:
        _finish(message, started_at=started_at, outcome=AttemptOutcome.SKIPPED, status=MessageStatus.CANCELLED)
        logger.info("Scheduled message %s (%s) cancelled: no longer wanted", message.pk, message.kind)
        return False
    wait_until = daily_cap_wait(message, outgoing.to, now=now)
    if wait_until is not None:
        # Not an attempt: over a daily cap for its recipient (or all SMS), it waits a day.
        ScheduledMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.PENDING, due_at=wait_until, claimed_at=None, updated_at=timezone.now()
        )
        logger.info("Scheduled message %s (%s) waits: daily cap reached", message.pk, message.kind)
        return False
    try:
        provider_id = _send(message, outgoing)
    except PERMANENT_ERRORS as exc:
        _fail(message, started_at=started_at, error=_short_error(exc), attempts=F("attempts") + 1)
        logger.warning("Scheduled message %s failed permanently: %s", message.pk, _short_error(exc))
        return False
    except TRANSIENT_ERRORS as exc:
        _retry_or_fail(message, started_at=started_at, now=now, exc=exc)
        return False
    still_ours = _finish(
        message,
        started_at=started_at,
        outcome=AttemptOutcome.SENT,
        status=MessageStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        provider_id=provider_id,
        last_error="",
    )
    logger.info("Scheduled message %s (%s/%s) sent", message.pk, message.kind, message.channel)
    daily_cap_count(message, outgoing.to, now=now)
    if still_ours:
        _after_sent(message, outgoing, now=now)
    return True


def _after_sent(message: ScheduledMessage, outgoing: Outgoing, *, now: datetime) -> None:
    """The kind's ``sent`` callback. The message has gone out whatever happens here, so an
    error is logged and never turns the sent row into a failure."""
    callback = _sent_callbacks.get(message.kind)
    if callback is None:
        return
    try:
        callback(message, outgoing, now)
    except Exception:
        logger.exception("Scheduled message %s: the after-sent step of %s failed", message.pk, message.kind)


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
            _fail(message, started_at=current, error="unexpected error", attempts=F("attempts") + 1)
    return sent


def messages_cancel_pending(*, appointment_id: int, kind: str, keep: Iterable[tuple[str, datetime]] = ()) -> int:
    """Cancel an appointment's planned messages of one kind that have not gone out yet, except
    those for a (channel, due time) in ``keep``."""
    pending = ScheduledMessage.objects.filter(appointment_id=appointment_id, kind=kind, status=MessageStatus.PENDING)
    keep = set(keep)
    if keep:
        stale = [
            pk for pk, channel, due in pending.values_list("pk", "channel", "due_at") if (channel, due) not in keep
        ]
        pending = pending.filter(pk__in=stale)
    # Still pending in the UPDATE itself: a row a dispatcher claimed meanwhile is on its way and
    # keeps its status (marking it cancelled would hide that it went out).
    return pending.update(status=MessageStatus.CANCELLED, updated_at=timezone.now())


def messages_plan(
    *, appointment_id: int, kind: str, planned: Sequence[tuple[str, datetime]], replan: bool = False
) -> int:
    """Plan an appointment's messages of one kind, one per (channel, due time) in ``planned``;
    returns how many of those are pending.

    Idempotent: planning twice creates nothing new (unique key on appointment, kind, channel and
    due time). ``replan``: pending messages for other times are cancelled first, and a
    cancelled message for exactly a planned time is planned again. A row already sent for a
    planned time is left alone: that message has gone out. Nothing planned cancels what is
    pending."""
    if replan or not planned:
        with transaction.atomic():
            messages_cancel_pending(appointment_id=appointment_id, kind=kind, keep=planned)
            return _plan(appointment_id, kind, planned) if planned else 0
    # A first plan (every booking, in its transaction) needs no savepoint of its own: its one
    # insert either happens or not, and the rare update after it is idempotent.
    return _plan(appointment_id, kind, planned)


def _plan(appointment_id: int, kind: str, planned: Sequence[tuple[str, datetime]]) -> int:
    """Insert the planned rows that do not exist yet; a cancelled one is planned again. Two
    round trips on a booking (insert, read back), an update only for cancelled rows."""
    key = {"appointment_id": appointment_id, "kind": kind}
    ScheduledMessage.objects.bulk_create(
        [ScheduledMessage(**key, channel=channel, due_at=due) for channel, due in planned], ignore_conflicts=True
    )
    wanted = set(planned)
    rows = (
        ScheduledMessage.objects.filter(
            **key, channel__in={channel for channel, _due in planned}, due_at__in={due for _channel, due in planned}
        )
        .order_by()
        .values_list("pk", "channel", "due_at", "status")
    )
    mine = [(pk, status) for pk, channel, due, status in rows if (channel, due) in wanted]
    cancelled = [pk for pk, status in mine if status == MessageStatus.CANCELLED]
    again = (
        ScheduledMessage.objects.filter(pk__in=cancelled, status=MessageStatus.CANCELLED).update(
            status=MessageStatus.PENDING, attempts=0, last_error="", claimed_at=None, updated_at=timezone.now()
        )
        if cancelled
        else 0
    )
    return again + sum(1 for _pk, status in mine if status == MessageStatus.PENDING)


def messages_due_exist(*, now: datetime | None = None) -> bool:
    return ScheduledMessage.objects.filter(status=MessageStatus.PENDING, due_at__lte=now or timezone.now()).exists()


def messages_requeue(*, message_ids: list[int], now: datetime | None = None) -> int:
    """Send failed rows again, e.g. after someone checked the provider's log for an "unknown
    outcome" row and found it was never delivered; returns how many were queued. Only failed
    rows: a sent row is never sent again, a pending or sending one is on its way."""
    now = now or timezone.now()
    return ScheduledMessage.objects.filter(pk__in=message_ids, status=MessageStatus.FAILED).update(
        status=MessageStatus.PENDING, due_at=now, attempts=0, claimed_at=None, updated_at=now
    )


def messages_reconcile_stuck(*, now: datetime | None = None) -> int:
    """Mark rows left in 'sending' longer than ``NUDGES_MESSAGE_STUCK_MINUTES`` as failed with
    "unknown outcome: check provider"; returns how many.

    Why not send them again: a row stays in 'sending' only when its worker died between the
    claim and the status update. If it died after the mail server accepted the message but
    before the row was marked sent, sending again would give the citizen the same reminder
    twice. We cannot tell the two cases apart here, so the row is reported rather than resent
    (its Message-ID is ``<scheduled-message-<id>@kanaalwijzer>``: look it up in the provider's
    log). Dispatching one row at a time keeps this to at most one row per killed worker process.
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
                started_at=cast(datetime, message.claimed_at),  # set: the query compared it
                finished_at=now,
                outcome=AttemptOutcome.UNKNOWN,
                error=UNKNOWN_OUTCOME,
            )
    for message in stuck:
        logger.warning("Scheduled message %s: %s", message.pk, UNKNOWN_OUTCOME)
    return len(stuck)
