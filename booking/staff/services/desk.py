"""Desk actions: check-in, served (with the online-possible tag), no-show, and taking one back."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.audit import record_event
from booking.constants import (
    ACTIVE_STATUSES,
    AppointmentAction,
    AppointmentStatus,
    Channel,
    OnlinePossible,
    OnlineReason,
)
from booking.exceptions import (
    InvalidRequest,
    InvalidStateTransition,
    SlotUnavailable,
)
from booking.locks import desk_period_claim, lock_appointment
from booking.models import Appointment
from booking.services import EXCLUSION_VIOLATION
from booking.staff.services._common import local_date, status_changed, today

logger = logging.getLogger(__name__)


def _save_fields(appointment: Appointment, fields: list[str]) -> None:
    """Save; a status that occupies the desk again may collide with another appointment."""
    try:
        with transaction.atomic():
            appointment.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotUnavailable(
                _("Deze tijd aan de balie is inmiddels door een andere afspraak bezet."), field="start"
            ) from exc
        raise


def _claim_own_desk(appointment: Appointment, now: datetime) -> None:
    """Before an appointment occupies its desk again: claim its time there (booking.locks; the
    desk before the appointment's row, so call this before locking the row)."""
    if not desk_period_claim(
        appointment.desk,
        appointment.start,
        appointment.end,
        now=now,
        exclude_appointment_id=appointment.pk,
        respect_closures=False,
    ):
        raise SlotUnavailable(_("Deze tijd aan de balie is inmiddels door een andere afspraak bezet."), field="start")


def appointment_check_in(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """The citizen has arrived. Checking in twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        current = lock_appointment(appointment.pk)
        if current.status == AppointmentStatus.CHECKED_IN:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition(_("Alleen een geboekte afspraak kan worden aangemeld."))
        if local_date(current.start) != today(now):
            raise InvalidStateTransition(_("Aanmelden kan alleen op de dag van de afspraak."))
        current.status = AppointmentStatus.CHECKED_IN
        current.checked_in_at = now
        current.save(update_fields=["status", "checked_in_at", "updated_at"])
        record_event(
            current,
            AppointmentAction.CHECKED_IN,
            actor=actor,
            channel=Channel.COUNTER,
            changes={"status": [AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]},
        )
        status_changed(current)
    logger.info("Appointment %s checked in", current.reference)
    return current


def clean_online_tag(online_possible: str, online_reason: str, *, required: bool) -> tuple[str, str]:
    online_possible, online_reason = (online_possible or "").strip(), (online_reason or "").strip()
    if not online_possible:
        if required:
            raise InvalidRequest(_("Kies of dit bezoek online had gekund."), field="online_possible")
        if online_reason:
            raise InvalidRequest(_("Kies eerst of dit bezoek online had gekund."), field="online_possible")
        return "", ""
    if online_possible not in OnlinePossible.values:
        raise InvalidRequest(_("Kies ja, gedeeltelijk of nee."), field="online_possible")
    if online_reason and online_reason not in OnlineReason.values:
        raise InvalidRequest(_("Kies een reden uit de lijst."), field="online_reason")
    return online_possible, online_reason


def appointment_mark_served(
    *,
    appointment: Appointment,
    actor: Any,
    online_possible: str,
    online_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """The visit is done; with the desk's judgement whether it could have been done online."""
    now = now or timezone.now()
    online_possible, online_reason = clean_online_tag(online_possible, online_reason, required=True)
    with transaction.atomic():
        current = lock_appointment(appointment.pk)
        if current.status == AppointmentStatus.SERVED:
            return current
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN):
            raise InvalidStateTransition(_("Alleen een geboekte of aangemelde afspraak kan worden afgerond."))
        if local_date(current.start) > today(now):
            raise InvalidStateTransition(_("Een afspraak op een latere dag kan nog niet worden afgerond."))
        old_status = current.status
        current.status = AppointmentStatus.SERVED
        current.handled_at = now
        current.online_possible, current.online_reason = online_possible, online_reason
        current.save(update_fields=["status", "handled_at", "online_possible", "online_reason", "updated_at"])
        record_event(
            current,
            AppointmentAction.SERVED,
            actor=actor,
            channel=Channel.COUNTER,
            changes={
                "status": [old_status, AppointmentStatus.SERVED],
                "online_possible": ["", online_possible],
                "online_reason": ["", online_reason],
            },
        )
        status_changed(current)
    logger.info("Appointment %s served", current.reference)
    return current


def appointment_mark_no_show(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """The citizen did not come. Only once the appointment's time has begun."""
    now = now or timezone.now()
    with transaction.atomic():
        current = lock_appointment(appointment.pk)
        if current.status == AppointmentStatus.NO_SHOW:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidStateTransition(_("Alleen een geboekte afspraak kan als niet verschenen worden gemeld."))
        if current.start > now:
            raise InvalidStateTransition(_("Niet verschenen kan pas vanaf de begintijd van de afspraak."))
        current.status = AppointmentStatus.NO_SHOW
        current.handled_at = now
        current.save(update_fields=["status", "handled_at", "updated_at"])
        record_event(
            current,
            AppointmentAction.NO_SHOW,
            actor=actor,
            channel=Channel.COUNTER,
            changes={"status": [AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW]},
        )
        status_changed(current)
    logger.info("Appointment %s marked no-show", current.reference)
    return current


def appointment_undo_status(*, appointment: Appointment, actor: Any, now: datetime | None = None) -> Appointment:
    """Take back the last desk action (check-in, served or no-show) after a mistake."""
    now = now or timezone.now()
    with transaction.atomic():
        seen = Appointment.objects.select_related("desk").get(pk=appointment.pk)
        if seen.status not in ACTIVE_STATUSES:
            # Served and no-show visits free their desk time; taking it back must not
            # double-book. The desk is claimed before the row is locked (booking.locks' order);
            # should the status change in between, the exclusion constraint has the last word.
            _claim_own_desk(seen, now)
        current = lock_appointment(appointment.pk)
        old_status = current.status
        fields = ["status"]
        changes: dict[str, list] = {}
        if old_status == AppointmentStatus.CHECKED_IN:
            new_status = AppointmentStatus.BOOKED
            changes["checked_in_at"] = [current.checked_in_at, None]
            current.checked_in_at = None
            fields.append("checked_in_at")
        elif old_status == AppointmentStatus.SERVED:
            new_status = AppointmentStatus.CHECKED_IN if current.checked_in_at else AppointmentStatus.BOOKED
            changes["online_possible"] = [current.online_possible, ""]
            changes["online_reason"] = [current.online_reason, ""]
            current.handled_at, current.online_possible, current.online_reason = None, "", ""
            fields += ["handled_at", "online_possible", "online_reason"]
        elif old_status == AppointmentStatus.NO_SHOW:
            new_status = AppointmentStatus.BOOKED
            current.handled_at = None
            fields.append("handled_at")
        else:
            raise InvalidStateTransition(_("Er is hier geen balie-actie om terug te draaien."))
        current.status = new_status
        _save_fields(current, fields)
        changes = {"status": [old_status, new_status], **changes}
        record_event(current, AppointmentAction.UNDONE, actor=actor, channel=Channel.COUNTER, changes=changes)
        status_changed(current)
    logger.info("Appointment %s: desk action undone (%s -> %s)", current.reference, old_status, new_status)
    return current
