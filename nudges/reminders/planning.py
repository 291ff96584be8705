"""Appointment reminders: planned on booking's hooks, sent through the outbox.

Public:

- ``reminders_plan`` (booked), ``reminders_replan`` (moved), ``reminders_cancel`` (cancelled),
  registered on ``booking.hooks`` in ``NudgesConfig.ready``;
- ``reminder_build``: the outbox builder for ``MessageKind.REMINDER`` rows, and ``reminder_sent``,
  its after-sent step (logs the wording experiment's exposure, see ``nudges.reminders.wording``);
- ``reminder_due_times``: the plan of one appointment.

The plan comes from the appointment's products (``Product.reminder_days``, e.g. 5 and 1 days
before), by e-mail and/or SMS as the citizen chose (SMS only with a phone number and consent).
The e-mail links to "I'm coming", "cancel" and, when every product can be done online,
"already arranged online?"; the SMS only to the manage page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from booking.availability import local_tz
from booking.constants import AppointmentStatus
from booking.ics import absolute_manage_url
from booking.models import Appointment
from booking.selectors import AppointmentFacts, appointment_facts
from nudges.constants import MessageChannel, MessageKind
from nudges.models import ScheduledMessage
from nudges.outbox import sms
from nudges.outbox.dispatch import Outgoing, email_from_templates, messages_cancel_pending, messages_plan
from nudges.outbox.selectors import appointment_ids_with_messages
from nudges.reminders.wording import reminder_exposure_log, reminder_wording

REMINDER_TEMPLATE = "nudges/reminders/email/reminder"


def reminder_due_times(*, start: datetime, now: datetime, days: Iterable[int] | None = None) -> list[datetime]:
    """The reminder plan for an appointment starting at ``start``: ``days`` (default
    ``NUDGES_REMINDER_OFFSETS_DAYS``) days before, on the same wall-clock time in Europe/Amsterdam
    (right across daylight-saving changes), leaving out any time that has already passed."""
    local_start = start.astimezone(local_tz())
    due_times = set()
    for offset in settings.NUDGES_REMINDER_OFFSETS_DAYS if days is None else days:
        # Arithmetic on a zoneinfo-aware datetime keeps the wall-clock time; the offset follows.
        due = local_start - timedelta(days=offset)
        if due > now:
            due_times.add(due)
    return sorted(due_times)


def _wanted_channels(appointment: Appointment | AppointmentFacts | None) -> list[str]:
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return []
    channels = []
    if appointment.remind_by_email and appointment.email:
        channels.append(MessageChannel.EMAIL)
    if appointment.remind_by_sms and appointment.phone and sms.sms_enabled():
        channels.append(MessageChannel.SMS)
    return channels


def _reminder_days(appointment: AppointmentFacts) -> set[int]:
    """The union of the products' plans: a passport and an ID card together are reminded of
    on every day either product asks for."""
    default = settings.NUDGES_REMINDER_OFFSETS_DAYS
    plans = [product.reminder_day_list or default for product in appointment.products] or [default]
    return {day for plan in plans for day in plan}


def reminders_plan(appointment_id: int, *, replan: bool = False, now: datetime | None = None) -> int:
    """Plan the reminders of a booked appointment; returns how many rows are pending.

    Idempotent: planning twice creates nothing new (unique key on appointment, kind, channel and
    due time). ``replan`` (the appointment moved): pending reminders for other times are
    cancelled first; a cancelled reminder for exactly a planned time is planned again. A row
    already sent for a planned time is left alone: that reminder has gone out.
    """
    now = now or timezone.now()
    appointment = appointment_facts(appointment_id)
    channels = _wanted_channels(appointment)
    due_times = (
        reminder_due_times(start=appointment.start, now=now, days=_reminder_days(appointment)) if channels else []
    )
    planned = [(channel, due) for channel in channels for due in due_times]
    return messages_plan(appointment_id=appointment_id, kind=MessageKind.REMINDER, planned=planned, replan=replan)


def reminders_plan_missing(*, now: datetime | None = None) -> int:
    """Plan reminders for upcoming booked appointments that want them and have no reminder row
    at all: booked before reminders existed, or their planning failed (it runs inside the
    booking's transaction, where a failure is logged and never undoes the booking). Returns
    how many rows were planned. Idempotent."""
    now = now or timezone.now()
    missing = (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, start__gt=now)
        .filter(Q(remind_by_email=True) & ~Q(email="") | Q(remind_by_sms=True) & ~Q(phone=""))
        .exclude(pk__in=appointment_ids_with_messages(kind=MessageKind.REMINDER))
        .values_list("pk", flat=True)
    )
    return sum(reminders_plan(appointment_id, now=now) for appointment_id in missing.iterator())


def reminders_replan(appointment_id: int) -> int:
    """Booking hook: the appointment moved."""
    return reminders_plan(appointment_id, replan=True)


def reminders_cancel(appointment_id: int) -> int:
    """Booking hook: the appointment was cancelled; returns how many pending rows were cancelled."""
    return messages_cancel_pending(appointment_id=appointment_id, kind=MessageKind.REMINDER)


def reminder_build(message: ScheduledMessage, now: datetime) -> Outgoing | None:
    """Outbox builder: the reminder in the citizen's language, or None when the appointment is
    no longer booked, has started, or the citizen no longer wants this channel."""
    appointment = (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=message.appointment_id)
        .first()
    )
    if appointment is None or appointment.start <= now or message.channel not in _wanted_channels(appointment):
        return None
    products = list(appointment.products.all())
    with translation.override(appointment.language):
        context = {
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": products,
            "checklist": list(dict.fromkeys(item for product in products for item in product.checklist)),
            "manage_url": absolute_manage_url(appointment),
        }
        if message.channel == MessageChannel.SMS:
            return Outgoing(
                to=appointment.phone,
                text=sms.sms_render_reminder(appointment=appointment, manage_url=context["manage_url"]),
            )
        wording = reminder_wording(appointment=appointment, products=products, now=now)
        context.update(_links(appointment, products), wording=wording)
        if wording.shown:
            # Every nudge says why it is there: the experiment in the public register.
            context["why_url"] = f"{settings.SITE_URL}{reverse('nudges:register')}#experiment-{wording.experiment.pk}"
        return email_from_templates(
            to=appointment.email,
            template_prefix=REMINDER_TEMPLATE,
            context=context,
            language=appointment.language,
            notes=wording.notes(),
        )


def _links(appointment: Appointment, products: list) -> dict[str, str]:
    """The e-mail's one-click links. Each opens a page that asks first: mail scanners follow
    links, so nothing changes before the citizen presses a button."""

    def absolute(name: str) -> str:
        return settings.SITE_URL + reverse(name, args=[appointment.manage_token])

    done_online = bool(products) and all(product.has_online_alternative for product in products)
    return {
        "confirm_url": absolute("booking:manage_confirm"),
        "cancel_url": absolute("booking:manage_cancel"),
        "done_online_url": absolute("booking:manage_done_online") if done_online else "",
    }


def reminder_sent(message: ScheduledMessage, outgoing: Outgoing, now: datetime) -> None:
    """Outbox after-sent step: the reminder e-mail went out with the wording in its notes."""
    reminder_exposure_log(appointment_id=message.appointment_id, notes=outgoing.notes, now=now)
