"""The domain errors, one hierarchy for the whole product: ``DomainError`` is the root, booking's
errors derive from ``BookingError`` and other apps derive their own base from ``DomainError``. Each carries a user-facing message (translated), a ``code`` and,
where it applies, the input field it belongs to. API and form layers map them once: see
``booking.apis.errors`` (HTTP: 400/404/409/429, one error body) and the forms' use of ``field``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Root of every domain error. ``http_status`` is used by the API layer only: 400, 404,
    409 or 429."""

    http_status = 400
    code = "invalid"
    default_message = _("Dit kon niet worden verwerkt.")

    def __init__(self, message: Any = None, *, field: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.field = field
        self.extra = extra
        super().__init__(str(self.message))


class BookingError(DomainError):
    """Base class of booking's errors."""

    code = "booking_error"
    default_message = _("De afspraak kon niet worden verwerkt.")


class InvalidRequest(BookingError):
    code = "invalid"
    default_message = _("De invoer is niet geldig.")


class SlotUnavailable(BookingError):
    """The time is not (or no longer) free. ``alternatives`` holds nearby free slots."""

    http_status = 409
    code = "slot_unavailable"
    default_message = _("Deze tijd is niet (meer) beschikbaar. Kies een andere tijd.")

    def __init__(self, message: Any = None, *, alternatives: list | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.alternatives = alternatives or []


class HoldExpired(SlotUnavailable):
    """The hold ran out and its time has been taken since (or cannot be re-placed)."""

    code = "hold_expired"
    default_message = _("De reservering van deze tijd is verlopen. Kies opnieuw een tijd.")


class HoldMismatch(BookingError):
    code = "hold_mismatch"
    default_message = _("De reservering hoort niet bij deze producten, vestiging of tijd.")


class NotFound(BookingError):
    http_status = 404
    code = "not_found"
    default_message = _("Deze afspraak bestaat niet of de link is niet geldig.")


class TooManyActiveAppointments(BookingError):
    http_status = 409
    code = "limit_reached"
    default_message = _(
        "Er staat al een afspraak voor dit product op dit e-mailadres. Wijzig of annuleer die afspraak eerst."
    )


class InvalidStateTransition(BookingError):
    http_status = 409
    code = "invalid_state"
    default_message = _("Deze actie kan niet bij de huidige status van de afspraak.")


class AffectedAppointmentsChanged(BookingError):
    """A closure was confirmed for a set of appointments that has changed since the planner
    saw it (someone booked in the meantime): show the new list before cancelling anything."""

    http_status = 409
    code = "affected_changed"
    default_message = _(
        "Sinds u de lijst bekeek zijn er afspraken bijgekomen in deze periode. Controleer de lijst opnieuw."
    )


class ScheduleConflict(BookingError):
    """A schedule change would strand appointments that are still booked."""

    http_status = 409
    code = "schedule_conflict"
    default_message = _("Er staan nog afspraken in deze periode. Sluit die eerst met een sluiting.")
