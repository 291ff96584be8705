"""Waiting-list data: freed times offered to people who want an earlier one (``nudges.waitlist``).

``WaitlistEntry.products`` and the ``location`` keys point at booking's tables: foreign keys
to booking's models are the one place nudges names them (no queries on them from nudges code).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Product


class WaitlistStatus(models.TextChoices):
    # Double opt-in: an entry waits for its address to be confirmed before it gets offers.
    UNCONFIRMED = "unconfirmed", _("Nog niet bevestigd")
    ACTIVE = "active", _("Wacht")
    SERVED = "served", _("Geholpen")
    LEFT = "left", _("Afgemeld")
    EXPIRED = "expired", _("Verlopen")


class OfferStatus(models.TextChoices):
    # "Offered" with its hold run out counts as expired (computed: nudges.waitlist).
    OFFERED = "offered", _("Aangeboden")
    ACCEPTED = "accepted", _("Aangenomen")
    GONE = "gone", _("Al vergeven")
    EXPIRED = "expired", _("Verlopen")


class WaitlistEntry(models.Model):
    """Someone who wants to be told when an earlier time frees up: for these products and
    persons, at one location or any (``location`` empty), before ``wanted_before`` (empty: any
    time within the booking horizon). ``appointment_id``: the appointment they already have;
    accepting an offer moves them from it to the freed time.

    Personal data: ``name`` and ``email`` only, kept while the entry is waiting (unconfirmed or
    active) and emptied the moment it ends (served, left, expired; ``nudges.waitlist``). A new
    entry is unconfirmed until the link in its confirmation e-mail is used (double opt-in). ``token`` is the secret of the
    leave link (192 bits)."""

    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    products = models.ManyToManyField(Product, related_name="+", verbose_name=_("producten"))
    persons = models.PositiveSmallIntegerField(_("aantal personen"), default=1, validators=[MinValueValidator(1)])
    location = models.ForeignKey(
        "booking.Location",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("vestiging"),
        help_text=_("Leeg: elke vestiging."),
    )
    wanted_before = models.DateTimeField(_("eerder dan"), null=True, blank=True)
    appointment_id = models.BigIntegerField(_("huidige afspraak"), null=True, blank=True)
    name = models.CharField(_("naam"), max_length=150, blank=True)
    email = models.EmailField(_("e-mailadres"), max_length=254, blank=True)
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES, default="nl")
    status = models.CharField(
        _("status"), max_length=12, choices=WaitlistStatus.choices, default=WaitlistStatus.UNCONFIRMED
    )
    created_at = models.DateTimeField(_("aangemeld op"))
    ended_at = models.DateTimeField(_("beëindigd op"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("wachtlijstaanmelding")
        verbose_name_plural = _("wachtlijstaanmeldingen")
        constraints = [
            # Contact data lives only as long as the entry is waiting (confirmed or not yet).
            models.CheckConstraint(
                condition=Q(status__in=[WaitlistStatus.UNCONFIRMED, WaitlistStatus.ACTIVE]) | Q(name="", email=""),
                name="waitlist_entry_ended_holds_no_contact",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"waitlist entry {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == WaitlistStatus.ACTIVE

    @property
    def is_unconfirmed(self) -> bool:
        return self.status == WaitlistStatus.UNCONFIRMED

    @property
    def is_waiting(self) -> bool:
        """Still on the list (confirmed or not yet): it can be left, and holds contact data."""
        return self.status in (WaitlistStatus.UNCONFIRMED, WaitlistStatus.ACTIVE)

    @property
    def last_wanted_day(self) -> date | None:
        """The day the citizen typed as "at the latest on" (stored as the next local midnight);
        None when the limit is an appointment's time or there is none."""
        if self.wanted_before is None:
            return None
        local = timezone.localtime(self.wanted_before)
        return local.date() - timedelta(days=1) if local.time() == time(0) else None


class WaitlistOffer(models.Model):
    """A freed time offered to one entry. All offers for one freed time share one hold
    (``hold_id``, the held appointment, and its ``hold_token``, which only the service uses);
    the first to accept gets the time. ``freed_appointment_id`` is the cancelled appointment
    that freed it (at most one offer per entry per freed time). ``token``: the secret of the
    offer link (192 bits)."""

    entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("aanmelding")
    )
    freed_appointment_id = models.BigIntegerField(_("vrijgekomen afspraak"))
    hold_id = models.BigIntegerField(_("vastgehouden tijd"))
    hold_token = models.CharField(_("reserveringstoken"), max_length=64, editable=False)
    location = models.ForeignKey(
        "booking.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("vestiging")
    )
    start = models.DateTimeField(_("begin"))
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    offered_at = models.DateTimeField(_("aangeboden op"))
    hold_expires_at = models.DateTimeField(_("vastgehouden tot"))
    answered_at = models.DateTimeField(_("beantwoord op"), null=True, blank=True)
    appointment_id = models.BigIntegerField(_("geboekte afspraak"), null=True, blank=True)

    class Meta:
        ordering = ["offered_at", "pk"]
        verbose_name = _("wachtlijstaanbod")
        verbose_name_plural = _("wachtlijstaanbiedingen")
        constraints = [
            models.UniqueConstraint(fields=["entry", "freed_appointment_id"], name="waitlist_offer_once_per_entry"),
            # The last word on "first to accept gets it": one accepted offer per hold.
            models.UniqueConstraint(
                fields=["hold_id"], condition=Q(status=OfferStatus.ACCEPTED), name="waitlist_offer_one_accept_per_hold"
            ),
        ]
        indexes = [models.Index(fields=["hold_id"]), models.Index(fields=["status", "hold_expires_at"])]

    def __str__(self) -> str:
        return f"waitlist offer {self.pk} ({self.status})"
