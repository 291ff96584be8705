"""E-mail to citizens about their appointment (confirmation, apologies): what it says.

Booking only writes the messages; sending them is an outbox's job (another app's), which
asks for them through ``booking.hooks`` (``CONFIRMATION_WANTED``; a cancellation with reason
``CancelReason.CLOSURE``). One way to render: ``render_templated_email``, from
``<template_prefix>.subject.txt``, ``.txt`` and ``.html`` in the citizen's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .constants import AppointmentStatus, CancelReason
from .ics import absolute_manage_url, appointment_ics, ics_filename
from .models import Appointment
from .selectors import appointment_cancellation, closure_covering


@dataclass(frozen=True)
class RenderedEmail:
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, str | bytes, str], ...] = field(default=())  # (filename, content, mimetype)


def render_templated_email(*, template_prefix: str, context: dict, language: str) -> tuple[str, str, str]:
    """Subject (one line), text and HTML of a templated e-mail in ``language``."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template_prefix}.subject.txt", context).split())
        text = render_to_string(f"{template_prefix}.txt", context)
        html = render_to_string(f"{template_prefix}.html", context)
    return subject, text, html


def _appointment(appointment_id: int, status: str) -> Appointment | None:
    return (
        Appointment.objects.select_related("desk__location")
        .prefetch_related("products")
        .filter(pk=appointment_id, status=status)
        .exclude(email="")
        .first()
    )


def confirmation_email(appointment_id: int) -> RenderedEmail | None:
    """The confirmation of a booked appointment, with its calendar file; None when it is not
    booked any more (cancelled before the e-mail went out) or has no e-mail address."""
    appointment = _appointment(appointment_id, AppointmentStatus.BOOKED)
    if appointment is None:
        return None
    manage_url = absolute_manage_url(appointment)
    subject, text, html = render_templated_email(
        template_prefix="booking/email/confirmation",
        context={
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": list(appointment.products.all()),
            "manage_url": manage_url,
        },
        language=appointment.language,
    )
    calendar = (ics_filename(appointment), appointment_ics(appointment, manage_url=manage_url), "text/calendar")
    return RenderedEmail(to=appointment.email, subject=subject, text=text, html=html, attachments=(calendar,))


def closure_apology_email(appointment_id: int) -> RenderedEmail | None:
    """Apologies to a citizen whose appointment was cancelled because the location or desk
    closes, with the closure's reason and a link to book again; None when the appointment was
    not cancelled for a closure or has no e-mail address (a walk-in, or already anonymised)."""
    appointment = _appointment(appointment_id, AppointmentStatus.CANCELLED)
    cancellation = appointment_cancellation(appointment_id) if appointment else None
    if appointment is None or cancellation is None or cancellation.reason != CancelReason.CLOSURE:
        return None
    closure = closure_covering(appointment)
    subject, text, html = render_templated_email(
        template_prefix="booking/email/closure_apology",
        context={
            "appointment": appointment,
            "location": appointment.desk.location,
            "products": list(appointment.products.all()),
            "reason": closure.reason if closure else "",
            "rebook_url": settings.SITE_URL.rstrip("/") + "/",
        },
        language=appointment.language,
    )
    return RenderedEmail(to=appointment.email, subject=subject, text=text, html=html)
