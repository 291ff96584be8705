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

# Public references avoid characters that are easily confused when read aloud or typed.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
# 24 random bytes = 192 bits, URL-safe.
TOKEN_BYTES = 24
