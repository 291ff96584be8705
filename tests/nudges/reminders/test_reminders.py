"""Reminders through the outbox: planning on booking hooks, dispatching once, retries with
backoff, concurrent dispatchers and reconciliation of rows a dead worker left behind."""

from __future__ import annotations

import smtplib
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from booking import hooks
from booking.constants import AppointmentStatus
from nudges.constants import AttemptOutcome, MessageChannel, MessageKind, MessageStatus
from nudges.models import DeliveryAttempt, ScheduledMessage
from nudges.outbox.dispatch import UNKNOWN_OUTCOME, messages_dispatch_due, messages_reconcile_stuck
from nudges.reminders.planning import reminder_due_times, reminders_cancel, reminders_plan, reminders_replan
from nudges.tasks import dispatch_due_messages
from tests.concurrency import race
from tests.factories import AppointmentFactory, DeskFactory, ProductFactory
from tests.nudges.factories import ScheduledMessageFactory

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)


@pytest.fixture
def appointment():
    product = ProductFactory(
        code="paspoort-r",
        name_nl="Paspoort",
        name_en="Passport",
        checklist_nl="Pasfoto\nOud paspoort",
        checklist_en="Passport photo\nOld passport",
    )
    return AppointmentFactory(
        start=datetime(2027, 3, 10, 10, 0, tzinfo=AMS), products=[product], desk=DeskFactory(products=[product])
    )


def rows(appointment):
    return list(ScheduledMessage.objects.filter(appointment=appointment).order_by("due_at"))


def pending_due(appointment):
    return [m.due_at for m in rows(appointment) if m.status == MessageStatus.PENDING]


# --- planning -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_plan_five_and_one_day_before_by_email(appointment):
    assert reminders_plan(appointment.pk, now=NOW) == 2
    planned = rows(appointment)
    assert [m.due_at for m in planned] == [
        datetime(2027, 3, 5, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 9, 10, 0, tzinfo=AMS),
    ]
    assert {(m.kind, m.channel, m.status) for m in planned} == {
        (MessageKind.REMINDER, MessageChannel.EMAIL, MessageStatus.PENDING)
    }


@pytest.mark.django_db
def test_planning_twice_never_duplicates(appointment):
    reminders_plan(appointment.pk, now=NOW)
    reminders_plan(appointment.pk, now=NOW)
    reminders_replan(appointment.pk)
    assert len(rows(appointment)) == 2


@pytest.mark.django_db
def test_no_reminder_whose_time_has_passed(appointment):
    assert reminders_plan(appointment.pk, now=datetime(2027, 3, 7, 9, 0, tzinfo=AMS)) == 1
    assert pending_due(appointment) == [datetime(2027, 3, 9, 10, 0, tzinfo=AMS)]
    assert reminders_plan(appointment.pk, now=datetime(2027, 3, 9, 11, 0, tzinfo=AMS)) == 0


def test_due_times_keep_the_wall_clock_across_daylight_saving():
    # Summer time starts on 28 March 2027: 5 days before 1 April 10:00 is 27 March 10:00 CET.
    due = reminder_due_times(start=datetime(2027, 4, 1, 10, 0, tzinfo=AMS), now=NOW)
    assert [d.astimezone(AMS).replace(tzinfo=None) for d in due] == [
        datetime(2027, 3, 27, 10, 0),
        datetime(2027, 3, 31, 10, 0),
    ]


@pytest.mark.django_db
def test_no_reminders_without_consent_or_address():
    declined = AppointmentFactory(start=NOW + timedelta(days=9), remind_by_email=False)
    no_address = AppointmentFactory(start=NOW + timedelta(days=9), email="")
    assert reminders_plan(declined.pk, now=NOW) == 0
    assert reminders_plan(no_address.pk, now=NOW) == 0
    assert not ScheduledMessage.objects.exists()


@pytest.mark.django_db
def test_sms_rows_only_with_consent_and_a_phone_number(appointment):
    appointment.remind_by_sms, appointment.phone = True, "0612345678"
    appointment.save()
    assert reminders_plan(appointment.pk, now=NOW) == 4
    assert Counter(m.channel for m in rows(appointment)) == {MessageChannel.EMAIL: 2, MessageChannel.SMS: 2}
    # Consent withdrawn (staff changed it): a moved appointment keeps only the e-mail rows.
    appointment.remind_by_sms = False
    appointment.save()
    reminders_plan(appointment.pk, replan=True, now=NOW)
    pending = [m for m in rows(appointment) if m.status == MessageStatus.PENDING]
    assert {m.channel for m in pending} == {MessageChannel.EMAIL}

    no_phone = AppointmentFactory(start=NOW + timedelta(days=9), remind_by_sms=True, phone="")
    reminders_plan(no_phone.pk, now=NOW)
    assert {m.channel for m in rows(no_phone)} == {MessageChannel.EMAIL}


@pytest.mark.django_db
def test_the_plan_is_per_product_and_a_visit_for_two_gets_both(appointment):
    quick = ProductFactory(code="uittreksel-r", reminder_days="2")
    assert reminders_plan(AppointmentFactory(start=appointment.start, products=[quick]).pk, now=NOW) == 1
    both = AppointmentFactory(start=appointment.start, products=[quick, appointment.products.get()])
    reminders_plan(both.pk, now=NOW)
    assert pending_due(both) == [
        datetime(2027, 3, 5, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 8, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 9, 10, 0, tzinfo=AMS),
    ]


@pytest.mark.django_db
def test_replan_on_move_cancels_pending_and_plans_new(appointment):
    reminders_plan(appointment.pk, now=NOW)
    appointment.start, appointment.end = (
        datetime(2027, 3, 20, 14, 0, tzinfo=AMS),
        datetime(2027, 3, 20, 14, 10, tzinfo=AMS),
    )
    appointment.save()
    reminders_plan(appointment.pk, replan=True, now=NOW)
    assert pending_due(appointment) == [
        datetime(2027, 3, 15, 14, 0, tzinfo=AMS),
        datetime(2027, 3, 19, 14, 0, tzinfo=AMS),
    ]
    assert Counter(m.status for m in rows(appointment)) == {MessageStatus.PENDING: 2, MessageStatus.CANCELLED: 2}
    # Moved back: the cancelled rows for those exact times are planned again, not duplicated.
    appointment.start, appointment.end = (
        datetime(2027, 3, 10, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 10, 10, 10, tzinfo=AMS),
    )
    appointment.save()
    reminders_plan(appointment.pk, replan=True, now=NOW)
    assert pending_due(appointment) == [
        datetime(2027, 3, 5, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 9, 10, 0, tzinfo=AMS),
    ]
    assert len(rows(appointment)) == 4


@pytest.mark.django_db
def test_cancel_cancels_pending_but_keeps_history(appointment):
    reminders_plan(appointment.pk, now=NOW)
    first = rows(appointment)[0]
    ScheduledMessage.objects.filter(pk=first.pk).update(status=MessageStatus.SENT)
    assert reminders_cancel(appointment.pk) == 1
    assert [m.status for m in rows(appointment)] == [MessageStatus.SENT, MessageStatus.CANCELLED]


@pytest.mark.django_db
def test_booking_services_plan_move_and_cancel_through_the_hooks(django_capture_on_commit_callbacks):
    from booking.services import appointment_book, appointment_cancel, appointment_reschedule

    product = ProductFactory(code="rijbewijs-r", booking_horizon_days=365)
    desk = DeskFactory(products=[product])
    start = (timezone.localtime() + timedelta(days=14)).replace(hour=10, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        booked = appointment_book(
            products=[product], persons=1, location=desk.location, start=start, name="Jan", email="jan@example.nl"
        )
    assert len(pending_due(booked)) == 2
    new_start = start + timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=booked, start=new_start)
    assert pending_due(booked) == [new_start - timedelta(days=5), new_start - timedelta(days=1)]
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=booked)
    assert not pending_due(booked)
    assert ScheduledMessage.objects.filter(appointment=booked, status=MessageStatus.CANCELLED).count() == 4


def test_hooks_are_registered_inside_the_booking_transaction():
    assert reminders_plan in hooks._transactional_listeners[hooks.APPOINTMENT_BOOKED]
    assert reminders_replan in hooks._transactional_listeners[hooks.APPOINTMENT_RESCHEDULED]
    assert reminders_cancel in hooks._transactional_listeners[hooks.APPOINTMENT_CANCELLED]


@pytest.mark.django_db(transaction=True)
def test_reminder_rows_commit_with_the_booking_or_not_at_all(monkeypatch):
    from django.db import transaction

    from booking.models import Appointment
    from booking.services import appointment_book

    product = ProductFactory(code="id-kaart-r", booking_horizon_days=365)
    desk = DeskFactory(products=[product])
    start = (timezone.localtime() + timedelta(days=14)).replace(hour=10, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    book = {"products": [product], "persons": 1, "location": desk.location, "name": "Jan", "email": "j@example.nl"}

    # The booking's transaction fails after the reminders were planned: neither stays.
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_book(start=start, **book)
        assert ScheduledMessage.objects.count() == 2
        raise RuntimeError("crash before commit")
    assert not Appointment.objects.exists() and not ScheduledMessage.objects.exists()

    # The planner fails: its writes are undone, the booking stands (and the failure is logged).
    def broken_plan(appointment_id, **kwargs):
        ScheduledMessage.objects.create(
            appointment_id=appointment_id, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=start
        )
        raise ValueError("planner bug")

    monkeypatch.setitem(hooks._transactional_listeners, hooks.APPOINTMENT_BOOKED, [broken_plan])
    booked = appointment_book(start=start, **book)
    assert Appointment.objects.get().pk == booked.pk
    assert not ScheduledMessage.objects.exists()


# --- dispatching ----------------------------------------------------------------------------

SEND_TIME = datetime(2027, 3, 5, 10, 1, tzinfo=AMS)


@pytest.mark.django_db
def test_dispatch_sends_a_due_reminder_once(appointment):
    reminders_plan(appointment.pk, now=NOW)
    assert messages_dispatch_due(now=SEND_TIME) == 1
    assert messages_dispatch_due(now=SEND_TIME) == 0
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [appointment.email]
    assert "Herinnering" in email.subject and appointment.reference in email.subject
    assert "10:00" in email.body and "Pasfoto" in email.body and "Oud paspoort" in email.body
    assert appointment.desk.location.street in email.body
    assert f"{settings.SITE_URL}/afspraak/{appointment.manage_token}/" in email.body
    html = email.alternatives[0][0]
    assert "Pasfoto" in html and f"/afspraak/{appointment.manage_token}/" in html
    sent = rows(appointment)[0]
    assert sent.status == MessageStatus.SENT and sent.attempts == 1 and sent.sent_at
    assert sent.provider_id == email.extra_headers["Message-ID"]
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == [AttemptOutcome.SENT]


@pytest.mark.django_db
def test_reminder_in_english(appointment):
    appointment.language = "en"
    appointment.save()
    reminders_plan(appointment.pk, now=NOW)
    messages_dispatch_due(now=SEND_TIME)
    email = mail.outbox[0]
    assert email.subject.startswith("Reminder")
    assert "Passport photo" in email.body and "March" in email.body


@pytest.mark.django_db
def test_a_sent_row_is_never_sent_again(appointment):
    reminders_plan(appointment.pk, now=NOW)
    messages_dispatch_due(now=SEND_TIME)
    late = SEND_TIME + timedelta(days=4)
    messages_dispatch_due(now=late)  # sends the 1-day reminder only
    assert len(mail.outbox) == 2
    # Later runs find nothing more to send.
    first = rows(appointment)[0]
    messages_dispatch_due(now=late + timedelta(hours=1))
    assert len(mail.outbox) == 2
    assert ScheduledMessage.objects.get(pk=first.pk).attempts == 1


@pytest.mark.django_db
def test_marking_sent_only_moves_a_row_still_in_sending(appointment):
    from nudges.outbox.dispatch import _claim_next, _finish

    reminders_plan(appointment.pk, now=NOW)
    message = _claim_next(now=SEND_TIME)
    ScheduledMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, last_error=UNKNOWN_OUTCOME)
    assert not _finish(message, started_at=SEND_TIME, outcome=AttemptOutcome.SENT, status=MessageStatus.SENT)
    assert ScheduledMessage.objects.get(pk=message.pk).status == MessageStatus.FAILED


@pytest.mark.django_db
def test_dispatch_skips_a_cancelled_appointment(appointment):
    reminders_plan(appointment.pk, now=NOW)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save()  # straight to the database: the hook did not run
    assert messages_dispatch_due(now=SEND_TIME) == 0
    assert not mail.outbox
    assert rows(appointment)[0].status == MessageStatus.CANCELLED
    assert DeliveryAttempt.objects.get().outcome == AttemptOutcome.SKIPPED


@pytest.mark.django_db
@override_settings(NUDGES_MESSAGE_MAX_ATTEMPTS=3, NUDGES_MESSAGE_RETRY_SECONDS=60)
def test_transient_failure_retries_with_backoff_then_fails(appointment, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("jan@example.nl went away")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    reminders_plan(appointment.pk, now=NOW)
    message = rows(appointment)[0]

    assert messages_dispatch_due(now=SEND_TIME) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.due_at == SEND_TIME + timedelta(seconds=60)
    assert message.last_error == "SMTPServerDisconnected" and "@" not in message.last_error

    assert messages_dispatch_due(now=SEND_TIME + timedelta(seconds=30)) == 0  # not due yet
    message.refresh_from_db()
    assert message.attempts == 1

    second = SEND_TIME + timedelta(seconds=60)
    messages_dispatch_due(now=second)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.due_at) == (
        MessageStatus.PENDING,
        2,
        second + timedelta(seconds=120),
    )

    messages_dispatch_due(now=second + timedelta(seconds=120))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
    outcomes = list(DeliveryAttempt.objects.filter(message=message).values_list("outcome", "error"))
    assert outcomes == [
        (AttemptOutcome.RETRY, "SMTPServerDisconnected"),
        (AttemptOutcome.RETRY, "SMTPServerDisconnected"),
        (AttemptOutcome.FAILED, "SMTPServerDisconnected"),
    ]
    assert not mail.outbox


@pytest.fixture
def sms_appointment(appointment):
    appointment.remind_by_sms, appointment.phone = True, "06-12345678"
    appointment.save()
    reminders_plan(appointment.pk, now=NOW)
    return appointment


def sms_rows(appointment):
    return [m for m in rows(appointment) if m.channel == MessageChannel.SMS]


@pytest.mark.django_db
def test_an_sms_reminder_goes_out_once_with_its_reference(sms_appointment, sms_outbox):
    assert messages_dispatch_due(now=SEND_TIME) == 2  # the e-mail and the SMS of the 5-day reminder
    assert messages_dispatch_due(now=SEND_TIME) == 0
    [sent] = sms_outbox
    row = sms_rows(sms_appointment)[0]
    assert sent.to == "+31612345678" and sent.reference == f"scheduled-message-{row.pk}"
    assert "10:00" in sent.text and f"/afspraak/{sms_appointment.manage_token}/" in sent.text
    row.refresh_from_db()
    assert (row.status, row.provider_id) == (MessageStatus.SENT, "locmem-1")


@pytest.mark.django_db
def test_an_sms_due_in_the_quiet_hours_waits_for_the_morning(sms_appointment, sms_outbox):
    # E.g. a retry that came due late in the evening.
    late_evening = datetime(2027, 3, 4, 22, 30, tzinfo=AMS)
    first = sms_rows(sms_appointment)[0]
    ScheduledMessage.objects.filter(pk=first.pk).update(due_at=late_evening)
    messages_dispatch_due(now=late_evening)
    assert not sms_outbox
    first.refresh_from_db()
    assert (first.status, first.attempts) == (MessageStatus.PENDING, 0)
    assert first.due_at == datetime(2027, 3, 5, 8, 0, tzinfo=AMS)
    assert not DeliveryAttempt.objects.filter(message=first).exists()
    messages_dispatch_due(now=datetime(2027, 3, 5, 8, 0, tzinfo=AMS))
    assert len(sms_outbox) == 1


@pytest.mark.django_db
def test_gateway_errors_retry_after_its_wish_or_fail_for_good(sms_appointment, monkeypatch):
    from nudges.outbox import sms

    def busy(self, message):
        raise sms.SmsTransientError("HTTP 429", retry_after=900)

    monkeypatch.setattr(sms.LocMemBackend, "send", busy)
    messages_dispatch_due(now=SEND_TIME)
    row = sms_rows(sms_appointment)[0]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.PENDING, 1, "SmsTransientError HTTP 429")
    assert row.due_at == SEND_TIME + timedelta(seconds=900)

    def refused(self, message):
        raise sms.SmsPermanentError("HTTP 422")

    monkeypatch.setattr(sms.LocMemBackend, "send", refused)
    messages_dispatch_due(now=row.due_at)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.FAILED, 2, "SmsPermanentError HTTP 422")


@pytest.mark.django_db
@override_settings(NUDGES_SMS_BACKEND="nudges.sms.DisabledBackend")
def test_no_sms_rows_are_planned_while_sms_is_switched_off(appointment):
    appointment.remind_by_sms, appointment.phone = True, "0612345678"
    appointment.save()
    reminders_plan(appointment.pk, now=NOW)
    assert not sms_rows(appointment)


@pytest.mark.django_db
def test_reconcile_reports_stuck_rows_instead_of_resending(appointment):
    reminders_plan(appointment.pk, now=NOW)
    stuck, fresh = rows(appointment)
    ScheduledMessage.objects.filter(pk=stuck.pk).update(status=MessageStatus.SENDING, claimed_at=SEND_TIME)
    ScheduledMessage.objects.filter(pk=fresh.pk).update(
        status=MessageStatus.SENDING, claimed_at=SEND_TIME + timedelta(minutes=8)
    )
    assert messages_reconcile_stuck(now=SEND_TIME + timedelta(minutes=11)) == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, stuck.last_error) == (MessageStatus.FAILED, UNKNOWN_OUTCOME)
    assert fresh.status == MessageStatus.SENDING
    assert DeliveryAttempt.objects.get().outcome == AttemptOutcome.UNKNOWN
    messages_dispatch_due(now=SEND_TIME + timedelta(days=10))
    assert not mail.outbox


@pytest.mark.django_db
def test_the_task_reconciles_and_dispatches(appointment):
    ScheduledMessageFactory(appointment=appointment)
    assert dispatch_due_messages.delay().get() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_send_each_message_exactly_once():
    desk = DeskFactory()
    base = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    appointments = [AppointmentFactory(desk=desk, start=base + timedelta(minutes=10 * i)) for i in range(60)]
    due = timezone.now() - timedelta(minutes=1)
    ScheduledMessage.objects.bulk_create(
        ScheduledMessage(appointment=a, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=due)
        for a in appointments
    )
    results = race(6, lambda i: messages_dispatch_due())
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 60
    recipients = Counter(m.to[0] for m in mail.outbox)
    assert len(recipients) == 60 and set(recipients.values()) == {1}
    assert ScheduledMessage.objects.filter(status=MessageStatus.SENT).count() == 60
    assert DeliveryAttempt.objects.count() == 60


@pytest.mark.django_db
@override_settings(NUDGES_MESSAGE_BATCH=2)
def test_a_backlog_drains_without_waiting_for_the_next_beat():
    due = timezone.now() - timedelta(minutes=1)
    for _ in range(5):
        appointment = AppointmentFactory(start=timezone.now() + timedelta(days=3))
        ScheduledMessage.objects.create(
            appointment=appointment, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=due
        )

    dispatch_due_messages.delay()  # one beat tick; the task queues itself again while rows are due

    assert ScheduledMessage.objects.filter(status=MessageStatus.SENT).count() == 5
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_cancelling_leaves_a_row_a_dispatcher_has_already_claimed(appointment):
    from nudges.outbox.dispatch import _claim_next

    reminders_plan(appointment.pk, now=NOW)
    claimed = _claim_next(now=SEND_TIME)
    assert reminders_cancel(appointment.pk) == 1  # only the other, still pending row
    claimed.refresh_from_db()
    assert claimed.status == MessageStatus.SENDING


@pytest.mark.django_db
def test_a_refused_address_fails_at_once(appointment, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.nl": (550, b"no such user")})

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    reminders_plan(appointment.pk, now=NOW)
    messages_dispatch_due(now=SEND_TIME)
    message = rows(appointment)[0]
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert message.last_error == "SMTPRecipientsRefused" and "@" not in message.last_error


@pytest.mark.django_db
def test_appointments_without_reminders_get_them_from_the_safety_net(appointment):
    from django.core.management import call_command

    from nudges.reminders.planning import reminders_plan_missing

    declined = AppointmentFactory(start=appointment.start, remind_by_email=False)
    assert not ScheduledMessage.objects.exists()  # booked straight into the database: no hook ran

    assert reminders_plan_missing(now=NOW) == 2
    assert pending_due(appointment) == [
        datetime(2027, 3, 5, 10, 0, tzinfo=AMS),
        datetime(2027, 3, 9, 10, 0, tzinfo=AMS),
    ]
    assert not rows(declined)
    assert reminders_plan_missing(now=NOW) == 0  # idempotent

    ScheduledMessage.objects.all().delete()
    call_command("plan_reminders")  # the same by hand, at the real time (before both due times)
    assert len(rows(appointment)) == 2
