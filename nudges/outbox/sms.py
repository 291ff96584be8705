"""SMS for reminders: one send function over pluggable backends, like Django's e-mail backends.

Public:

- ``sms_send(to=, text=, reference=)`` sends one text through ``NUDGES_SMS_BACKEND`` and
  returns the provider's message id. ``reference`` is our idempotency key (for example
  ``scheduled-message-42``): the same for every attempt of one outbox row, so the gateway can
  drop repeats.
- ``SmsError`` with ``SmsTransientError`` (retry later: timeouts, connection errors, HTTP 408,
  429, 5xx) and ``SmsPermanentError`` (do not retry: invalid number, other 4xx, SMS disabled).
  Their messages hold a status or a short code, never a number or a text.
- ``sms_quiet_hours_shift(due)``: ``due``, or the end of the quiet hours (08:00 local) after it.
- ``sms_render_reminder(appointment=, manage_url=)``: the short reminder text in the citizen's
  language (``templates/nudges/reminders/sms/reminder.txt``).
- ``sms_enabled()``: whether SMS is configured at all (production without a gateway is not).
- Backends: ``ConsoleBackend``, ``FileBackend``, ``LocMemBackend`` (fills ``outbox``) for
  development and tests, ``HttpGatewayBackend`` for production, ``DisabledBackend``.

Never log a phone number or a text: the reference only.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from booking.availability import local_tz
from booking.phones import phone_normalise

if TYPE_CHECKING:
    from booking.models import Appointment

logger = logging.getLogger(__name__)

DISABLED_BACKEND = "nudges.sms.DisabledBackend"
REMINDER_TEMPLATE = "nudges/reminders/sms/reminder.txt"
# A guard against a template or data bug sending a letter by SMS: three GSM-7 segments.
MAX_TEXT_CHARS = 459
# What operators accept as an alphanumeric sender id, or a plain number as sender.
_SENDER_RE = re.compile(r"[A-Za-z0-9 ]{1,11}|\+?[0-9]{1,15}")


# --- errors ---------------------------------------------------------------------------------


class SmsError(Exception):
    """Sending failed. ``code`` is short and free of personal data (an HTTP status, "timeout",
    "invalid_number"), fit for ``last_error``."""

    def __init__(self, code: str, *, retry_after: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        # Seconds the gateway asked us to wait (Retry-After on a 429 or 503), if it said so.
        self.retry_after = retry_after


class SmsTransientError(SmsError):
    """Try again later: the same text with the same reference."""


class SmsPermanentError(SmsError):
    """Trying again cannot help: mark the message failed."""


# --- phone numbers --------------------------------------------------------------------------


def _mask(number: str) -> str:
    """Enough of a number for a developer to recognise their own test phone."""
    return number[:4] + "*" * max(len(number) - 7, 0) + number[-3:]


# --- backends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    sender: str
    text: str
    reference: str


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Send one message; return the provider's message id or raise an ``SmsError``."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Development: prints the message (the number masked) to stdout."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        self.stream.write(
            f"SMS to {_mask(message.to)} from {message.sender} (reference {message.reference}, "
            f"id {provider_id})\n{message.text}\n{'-' * 79}\n"
        )
        self.stream.flush()
        return provider_id


class FileBackend(BaseSmsBackend):
    """Development: one file per message in ``NUDGES_SMS_FILE_PATH``, the reference in its name
    and its header, so repeats of one outbox row can be counted (``ls *scheduled-message-42*``)."""

    def __init__(self, file_path: str | Path | None = None) -> None:
        self.file_path = Path(file_path or settings.NUDGES_SMS_FILE_PATH)

    def send(self, message: SmsMessage) -> str:
        self.file_path.mkdir(parents=True, exist_ok=True)
        safe_reference = re.sub(r"[^A-Za-z0-9_-]", "_", message.reference)[:80]
        provider_id = f"{timezone.now():%Y%m%d-%H%M%S}-{safe_reference}-{uuid.uuid4().hex[:12]}"
        # "x": never overwrite another message.
        with (self.file_path / f"{provider_id}.sms").open("x", encoding="utf-8") as file:
            file.write(
                f"To: {message.to}\nFrom: {message.sender}\nReference: {message.reference}\n"
                f"Date: {timezone.now().isoformat()}\n\n{message.text}\n"
            )
        return provider_id


outbox: list[SmsMessage] = []


class LocMemBackend(BaseSmsBackend):
    """Tests: appends to the module-level ``outbox`` (like ``django.core.mail.outbox``)."""

    def send(self, message: SmsMessage) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


class DisabledBackend(BaseSmsBackend):
    """No gateway configured: every message fails at once (``sms_enabled()`` is False, so none
    should be planned)."""

    def send(self, message: SmsMessage) -> str:
        raise SmsPermanentError("sms disabled")


class HttpGatewayBackend(BaseSmsBackend):
    """POSTs ``{"to", "from", "text", "reference"}`` as JSON with a Bearer token to
    ``NUDGES_SMS_GATEWAY_URL``; a 2xx answer ``{"id": …}`` gives the provider's message id.

    A timeout after the request went out may hide an accepted message; it is still transient,
    because the retry carries the same reference (also as the Idempotency-Key header) and the
    gateway drops the repeat.
    """

    def __init__(self) -> None:
        self.url = settings.NUDGES_SMS_GATEWAY_URL
        self.token = settings.NUDGES_SMS_GATEWAY_TOKEN
        self.timeout = settings.NUDGES_SMS_GATEWAY_TIMEOUT_SECONDS
        if not self.url.startswith(("https://", "http://")) or not self.token:
            raise ImproperlyConfigured("Set NUDGES_SMS_GATEWAY_URL (http or https) and NUDGES_SMS_GATEWAY_TOKEN.")

    def send(self, message: SmsMessage) -> str:
        try:
            response = requests.post(
                self.url,
                json={"to": message.to, "from": message.sender, "text": message.text, "reference": message.reference},
                headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": message.reference},
                timeout=self.timeout,
                # A redirect would resend the body (and the token) somewhere we did not configure.
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise SmsTransientError("timeout") from exc
        except requests.ConnectionError as exc:
            raise SmsTransientError("connection error") from exc
        except requests.RequestException as exc:
            raise SmsTransientError(type(exc).__name__) from exc
        status = response.status_code
        if 200 <= status < 300:
            return self._provider_id(response, message)
        # Never the body: a gateway's error text may quote the number.
        code = f"HTTP {status}"
        if status in (408, 429) or status >= 500:
            raise SmsTransientError(code, retry_after=_retry_after(response))
        raise SmsPermanentError(code)

    @staticmethod
    def _provider_id(response: requests.Response, message: SmsMessage) -> str:
        try:
            provider_id = response.json().get("id")
        except (ValueError, AttributeError):
            provider_id = None
        if provider_id in (None, ""):
            # Accepted all the same: sending again could deliver it twice. The reference is
            # what the provider knows the message by, so it serves as the id.
            logger.warning("SMS %s accepted by the gateway without a message id", message.reference)
            return message.reference
        return str(provider_id)[:200]


def _retry_after(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def _backend() -> BaseSmsBackend:
    try:
        backend_class = import_string(settings.NUDGES_SMS_BACKEND)
    except ImportError as exc:
        raise ImproperlyConfigured(f"NUDGES_SMS_BACKEND {settings.NUDGES_SMS_BACKEND!r} cannot be imported.") from exc
    return backend_class()


def sms_enabled() -> bool:
    return settings.NUDGES_SMS_BACKEND != DISABLED_BACKEND


# --- sending --------------------------------------------------------------------------------


def sms_send(*, to: str, text: str, reference: str) -> str:
    """Send ``text`` to the phone number ``to`` (any common Dutch notation or E.164); returns the
    provider's message id. Raises ``SmsPermanentError`` for a number that cannot receive an
    SMS, ``SmsTransientError`` when a later attempt may succeed."""
    if not reference:
        raise ValueError("An SMS needs a reference: it is the gateway's idempotency key.")
    sender = settings.NUDGES_SMS_SENDER
    if not _SENDER_RE.fullmatch(sender):
        raise ImproperlyConfigured("NUDGES_SMS_SENDER: at most 11 letters, digits or spaces, or a phone number.")
    number = phone_normalise(to, mobile_only=True)
    if number is None:
        logger.info("SMS %s not sent: not a mobile number", reference)
        raise SmsPermanentError("invalid_number")
    text = text.strip()
    if not text or len(text) > MAX_TEXT_CHARS:
        logger.warning("SMS %s not sent: text empty or longer than %s characters", reference, MAX_TEXT_CHARS)
        raise SmsPermanentError("text_length")
    try:
        provider_id = _backend().send(SmsMessage(to=number, sender=sender, text=text, reference=reference))
    except SmsError as exc:
        logger.info("SMS %s not sent: %s", reference, exc.code)
        raise
    logger.info("SMS %s sent as %s", reference, provider_id)
    return provider_id


# --- quiet hours ----------------------------------------------------------------------------


def sms_quiet_hours_shift(due: datetime) -> datetime:
    """``due`` itself, or, when it falls in the quiet hours (``NUDGES_SMS_QUIET_HOURS``, local
    time, from the start hour up to but not including the end hour), the first end hour after it
    in local time. Computed on the local calendar, so 08:00 stays 08:00 across daylight-saving
    changes (06:00 UTC in summer time, 07:00 UTC in winter time)."""
    if timezone.is_naive(due):
        raise ValueError("sms_quiet_hours_shift needs an aware datetime.")
    start, end = settings.NUDGES_SMS_QUIET_HOURS
    if start == end:
        return due
    tz = local_tz()
    local = due.astimezone(tz)
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return due
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    # Round trip through UTC: a wall-clock hour inside a spring-forward gap (only possible with
    # an end hour of 2) becomes the real instant after the gap.
    return datetime.combine(day, time(end), tzinfo=tz).astimezone(UTC).astimezone(tz)


# --- texts ----------------------------------------------------------------------------------


def sms_render_reminder(*, appointment: Appointment, manage_url: str) -> str:
    """The reminder text in the citizen's language and local time, on one line."""
    context = {
        "appointment": appointment,
        "location": appointment.desk.location,
        "products": list(appointment.products.all()),
        "manage_url": manage_url,
    }
    with translation.override(appointment.language), timezone.override(local_tz()):
        text = render_to_string(REMINDER_TEMPLATE, context)
    return " ".join(text.split())
