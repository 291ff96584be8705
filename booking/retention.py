"""AVG retention: personal data is erased ``BOOKING_RETENTION_DAYS`` after the appointment.

Public:

- ``personal_data_erase_expired``: the whole nightly job (Celery beat and the management
  command ``anonymise_expired`` call it): booking's own anonymisation, then every step other
  apps registered;
- ``appointments_anonymise_expired``: booking's part only;
- ``register_retention_step``: how another app adds its own erasure (e.g. erasing free-text
  survey comments) without booking importing it; call it from ``AppConfig.ready``.

What is erased from an appointment: name, e-mail address and phone number (emptied), and the
manage token (replaced by a fresh random one, so the link in old e-mails opens nothing any
more); ``anonymised_at`` records when. What statistics need stays: status, channel, products,
persons, desk, times, language, the desk's "could this have been online" judgement and the
audit trail (its ``changes`` never hold contact data; any contact key found there anyway is
removed). Held appointments carry no personal data and are left to the hold purge; the
period is measured from the appointment's end, so nothing still to come is ever touched.

Concurrency: rows are taken in batches with SELECT … FOR UPDATE SKIP LOCKED, each batch its
own short transaction. A row a desk or phone service is changing right now is passed over and
erased on the next run; the job never waits for, or blocks, staff at work. The job only
empties fields and is idempotent: running it twice, or twice at once, erases once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .constants import AppointmentAction, AppointmentStatus
from .models import Appointment, AppointmentEvent
from .services import new_token

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
CONTACT_FIELDS = ("name", "email", "phone")

# A step gets (cutoff, dry_run) and returns how many records it erased (or would erase).
RetentionStep = Callable[..., int]
_steps: dict[str, RetentionStep] = {}


@dataclass
class RetentionReport:
    cutoff: datetime
    dry_run: bool
    appointments: int = 0
    steps: dict[str, int] = field(default_factory=dict)


def register_retention_step(name: str, step: RetentionStep) -> None:
    """Add an app's erasure to the nightly job: ``step(*, cutoff, dry_run) -> int``. Steps run
    after booking's own part, with the same cutoff; registering twice under a name keeps one."""
    _steps[name] = step


def retention_cutoff(*, now: datetime | None = None) -> datetime:
    """Everything that ended before this moment has passed its retention period."""
    return (now or timezone.now()) - timedelta(days=settings.BOOKING_RETENTION_DAYS)


def _expired(cutoff: datetime):
    return Appointment.objects.filter(end__lt=cutoff, anonymised_at__isnull=True).exclude(status=AppointmentStatus.HELD)


def appointments_anonymise_expired(
    *, now: datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> int:
    """Anonymise every appointment that ended more than ``BOOKING_RETENTION_DAYS`` ago and is
    not anonymised yet; returns how many (with ``dry_run``: how many would be, changing
    nothing)."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now=now)
    if dry_run:
        return _expired(cutoff).count()
    total = 0
    while True:
        done = _anonymise_batch(cutoff=cutoff, now=now, batch_size=batch_size)
        total += done
        if done < batch_size:
            break
    if total:
        logger.info("Anonymised %s appointments that ended before %s", total, cutoff.isoformat())
    return total


def _anonymise_batch(*, cutoff: datetime, now: datetime, batch_size: int) -> int:
    with transaction.atomic():
        batch = list(
            _expired(cutoff)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .only("pk", *CONTACT_FIELDS, "manage_token", "anonymised_at")[:batch_size]
        )
        if not batch:
            return 0
        for appointment in batch:
            appointment.name = appointment.email = appointment.phone = ""
            appointment.manage_token = new_token()
            appointment.anonymised_at = now
        # updated_at stays: it tells when the appointment itself last changed, anonymised_at
        # tells when its personal data went.
        Appointment.objects.bulk_update(batch, [*CONTACT_FIELDS, "manage_token", "anonymised_at"])
        ids = [a.pk for a in batch]
        _scrub_events(ids)
        AppointmentEvent.objects.bulk_create(
            [AppointmentEvent(appointment_id=pk, action=AppointmentAction.ANONYMISED) for pk in ids]
        )
    return len(batch)


def _scrub_events(appointment_ids: list[int]) -> None:
    """The audit trail never records contact data (``booking.audit``); should a service ever
    slip one in, it goes with the rest."""
    events = AppointmentEvent.objects.filter(
        appointment_id__in=appointment_ids, changes__has_any_keys=list(CONTACT_FIELDS)
    )
    for event in events:
        event.changes = {key: value for key, value in event.changes.items() if key not in CONTACT_FIELDS}
        event.save(update_fields=["changes"])


def personal_data_erase_expired(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """The nightly AVG job: booking's appointments first, then the registered steps of other
    apps, all against the same cutoff."""
    now = now or timezone.now()
    report = RetentionReport(cutoff=retention_cutoff(now=now), dry_run=dry_run)
    report.appointments = appointments_anonymise_expired(now=now, dry_run=dry_run)
    for name, step in list(_steps.items()):
        report.steps[name] = step(cutoff=report.cutoff, dry_run=dry_run)
    return report
