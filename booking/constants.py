from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("Balie")
    PHONE = "phone", _("Telefoon")
    POST = "post", _("Post")


class AppointmentStatus(models.TextChoices):
    HELD = "held", _("Gereserveerd")
    BOOKED = "booked", _("Geboekt")
    CHECKED_IN = "checked_in", _("Aangemeld")
    SERVED = "served", _("Geholpen")
    NO_SHOW = "no_show", _("Niet verschenen")
    CANCELLED = "cancelled", _("Geannuleerd")


# Statuses that occupy the desk. A served or no-show visit has left the desk, a cancelled one
# never comes; only these take part in the no-overlap constraint.
ACTIVE_STATUSES = (AppointmentStatus.HELD, AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# Statuses that count as "an appointment the citizen still has" (anti-hoarding, manage page).
UPCOMING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)

# No appointment is longer than this (validated when booking). It bounds overlap queries from
# below, so they walk the (desk, start) index instead of a desk's whole history.
MAX_APPOINTMENT_DURATION_MINUTES = 12 * 60

# Public references avoid characters that are easily confused when read aloud or typed.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
# 24 random bytes = 192 bits, URL-safe.
TOKEN_BYTES = 24


class OnlinePossible(models.TextChoices):
    """Desk staff's judgement at check-out: could this visit have been done online?"""

    YES = "yes", _("Ja")
    PARTLY = "partly", _("Gedeeltelijk")
    NO = "no", _("Nee")


class OnlineReason(models.TextChoices):
    NO_DIGID = "no_digid", _("Geen DigiD")
    DIGITAL_SKILLS = "digital_skills", _("Lukt digitaal niet")
    UNAWARE = "unaware", _("Wist niet dat het online kan")
    WANTED_HELP = "wanted_help", _("Wilde hulp of uitleg")
    PRESENCE_NEEDED = "presence_needed", _("Persoonlijk verschijnen was nodig")
    OTHER = "other", _("Anders")


class AppointmentAction(models.TextChoices):
    """What an audit event records."""

    HELD = "held", _("Tijd vastgehouden")
    BOOKED = "booked", _("Geboekt")
    RESCHEDULED = "rescheduled", _("Verzet")
    CANCELLED = "cancelled", _("Geannuleerd")
    CHECKED_IN = "checked_in", _("Aangemeld")
    SERVED = "served", _("Geholpen")
    NO_SHOW = "no_show", _("Niet verschenen")
    UNDONE = "undone", _("Teruggedraaid")
    TAGGED = "tagged", _("Kanaal beoordeeld")
    WALK_IN = "walk_in", _("Inloop geregistreerd")
    ANONYMISED = "anonymised", _("Persoonsgegevens verwijderd")
    CONFIRMED = "confirmed", _("Komst bevestigd")


class CancelReason(models.TextChoices):
    """Why an appointment was cancelled, when we know (the audit event's ``cancel_reason``): the
    citizen told us, or the municipality closed the location or desk."""

    DONE_ONLINE = "done_online", _("Al online geregeld")
    CLOSURE = "closure", _("Vestiging of balie gesloten")
    # Replaced by an earlier time the citizen accepted from the waiting list: a move, not a
    # cancellation, for every statistic.
    MOVED_EARLIER = "moved_earlier", _("Verzet naar een eerdere tijd (wachtlijst)")
