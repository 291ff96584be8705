"""E-mail to citizens about their appointment (confirmation, changes, apologies).

One way to send: ``send_templated_email``, which renders ``<template_prefix>.subject.txt``,
``.txt`` and ``.html`` from templates/ in the citizen's language and sends one multipart
message. Callers in request code queue a Celery task after commit (``booking.tasks``) rather
than sending inline. Never log addresses or names: log the appointment reference only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def send_templated_email(
    *,
    to: str,
    template_prefix: str,
    context: dict,
    language: str = "nl",
    attachments: Sequence[tuple[str, bytes | str, str]] = (),
) -> None:
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template_prefix}.subject.txt", context).split())
        text = render_to_string(f"{template_prefix}.txt", context)
        html = render_to_string(f"{template_prefix}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    message.send()


def send_appointment_confirmation(appointment_id: int) -> bool:
    """E-mail the confirmation of a booked appointment, with its calendar file attached.

    Returns False (and sends nothing) when the appointment no longer exists, is not booked
    any more, or has no e-mail address.
    """
    from .constants import AppointmentStatus
    from .ics import absolute_manage_url, appointment_ics, ics_filename
    from .models import Appointment

    appointment = (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=appointment_id, status=AppointmentStatus.BOOKED)
        .exclude(email="")
        .first()
    )
    if appointment is None:
        logger.info("Confirmation for appointment id %s skipped: not booked or no address", appointment_id)
        return False
    manage_url = absolute_manage_url(appointment)
    send_templated_email(
        to=appointment.email,
        template_prefix="booking/email/confirmation",
        context={
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": list(appointment.products.all()),
            "manage_url": manage_url,
        },
        language=appointment.language,
        attachments=[
            (
                ics_filename(appointment),
                appointment_ics(appointment, manage_url=manage_url),
                "text/calendar",
            )
        ],
    )
    logger.info("Confirmation sent for appointment %s", appointment.reference)
    return True


def send_closure_apology(appointment_id: int, reason: str) -> bool:
    """Apologise to a citizen whose appointment was cancelled because the location or desk
    closes, with a link to book again. Returns False (and sends nothing) when the appointment
    is not cancelled or has no e-mail address (a walk-in, or already anonymised)."""
    from django.conf import settings as django_settings

    from .constants import AppointmentStatus
    from .models import Appointment

    appointment = (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=appointment_id, status=AppointmentStatus.CANCELLED)
        .exclude(email="")
        .first()
    )
    if appointment is None:
        logger.info("Closure apology for appointment id %s skipped: not cancelled or no address", appointment_id)
        return False
    site_url = getattr(django_settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    send_templated_email(
        to=appointment.email,
        template_prefix="booking/email/closure_apology",
        context={
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": list(appointment.products.all()),
            "reason": reason,
            "rebook_url": site_url + "/",
        },
        language=appointment.language,
    )
    logger.info("Closure apology sent for appointment %s", appointment.reference)
    return True
