"""factory_boy factories for nudges' rows (booking's are in tests/factories.py).

Traits: ``ScheduledMessageFactory(sent=True)``, ``(failed=True)``, ``(cancelled=True)``,
``(sms=True)``, ``(satisfaction=True)``; ``SatisfactionSurveyFactory(online=True)``."""

from datetime import timedelta

import factory
from django.utils import timezone

from booking.constants import Channel
from booking.services import new_token
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.models import SatisfactionSurvey, ScheduledMessage
from tests.factories import AppointmentFactory


class ScheduledMessageFactory(factory.django.DjangoModelFactory):
    """A reminder e-mail for an appointment, pending and due a minute ago."""

    class Meta:
        model = ScheduledMessage

    appointment = factory.SubFactory(AppointmentFactory)
    kind = MessageKind.REMINDER
    channel = MessageChannel.EMAIL
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    status = MessageStatus.PENDING

    class Params:
        sent = factory.Trait(status=MessageStatus.SENT)
        failed = factory.Trait(status=MessageStatus.FAILED, last_error="SMTPRecipientsRefused")
        cancelled = factory.Trait(status=MessageStatus.CANCELLED)
        sms = factory.Trait(channel=MessageChannel.SMS)
        satisfaction = factory.Trait(kind=MessageKind.SATISFACTION)


class SatisfactionSurveyFactory(factory.django.DjangoModelFactory):
    """The question for an appointment (by id: nudges keeps no key to booking's row here)."""

    class Meta:
        model = SatisfactionSurvey

    appointment_id = factory.LazyFunction(lambda: AppointmentFactory().pk)
    token = factory.LazyFunction(new_token)
    channel = Channel.PHONE

    class Params:
        online = factory.Trait(channel=Channel.ONLINE)
