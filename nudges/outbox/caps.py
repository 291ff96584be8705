"""Daily caps on what the outbox sends, against mail bombing and SMS pumping.

Public: ``daily_cap_wait`` (None, or when a message over a cap may go: the next morning) and
``daily_cap_count`` (count one message sent). Caps per local day: e-mails per mailbox
(``NUDGES_EMAILS_PER_RECIPIENT_DAY``, the mailbox as booking's per-e-mail limit sees it, so
``+tags`` count together), SMS per number (``NUDGES_SMS_PER_RECIPIENT_DAY``) and SMS in all
(``NUDGES_SMS_PER_DAY``); 0 switches a cap off. A message over a cap is not lost: it waits for
the next morning (a waiting-list confirmation that lapsed meanwhile is then no longer wanted).

Counted in the shared cache (``CACHE_URL``; with several workers it must be Redis) under a
keyed hash of the recipient: no address or number is stored.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from booking.availability import local_tz
from booking.cleaning import email_key
from booking.phones import phone_normalise
from nudges.constants import MessageChannel
from nudges.models import ScheduledMessage

MORNING = time(8, 0)


def _limits(message: ScheduledMessage, to: str, day: str) -> list[tuple[str, int]]:
    if message.channel == MessageChannel.SMS:
        recipient = phone_normalise(to) or to.strip()
        per_recipient = settings.NUDGES_SMS_PER_RECIPIENT_DAY
    else:
        recipient = email_key(to)
        per_recipient = settings.NUDGES_EMAILS_PER_RECIPIENT_DAY
    hashed = salted_hmac("nudges.outbox.caps", recipient, algorithm="sha256").hexdigest()[:32]
    limits = [(f"outbox-cap:{message.channel}:{hashed}:{day}", per_recipient)]
    if message.channel == MessageChannel.SMS:
        limits.append((f"outbox-cap:sms-all:{day}", settings.NUDGES_SMS_PER_DAY))
    return [(key, limit) for key, limit in limits if limit > 0]


def _today(now: datetime) -> str:
    return now.astimezone(local_tz()).date().isoformat()


def daily_cap_wait(message: ScheduledMessage, to: str, *, now: datetime) -> datetime | None:
    """None when the message may go now; else the next morning, when it may."""
    if any((cache.get(key) or 0) >= limit for key, limit in _limits(message, to, _today(now))):
        tomorrow = now.astimezone(local_tz()).date() + timedelta(days=1)
        return datetime.combine(tomorrow, MORNING, tzinfo=local_tz())
    return None


def daily_cap_count(message: ScheduledMessage, to: str, *, now: datetime) -> None:
    for key, _limit in _limits(message, to, _today(now)):
        cache.add(key, 0, timeout=2 * 24 * 3600)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=2 * 24 * 3600)
