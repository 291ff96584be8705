"""Contacts on every channel (``nudges.channels``): the channels a municipality serves
citizens through, and one row per citizen contact.

Privacy: a contact holds no citizen data at all — no name, address, phone number, e-mail or
BSN; only the channel, product(s), moment, outcome, handling time and who registered it.
``appointment_id`` links the contact an appointment made (a plain id, no foreign key: the
appointment's own personal data is erased by booking's retention job).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking.models import Product


class ChannelKind(models.TextChoices):
    """What sort of channel it is; the cockpit groups by it and the KCC/desk defaults use it."""

    COUNTER = "counter", _("Balie")
    PHONE = "phone", _("Telefoon")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Internet")
    SOCIAL = "social", _("Sociale media")
    MESSAGING = "messaging", _("Chat / berichtenapp")
    POST = "post", _("Post")


class CostChannel(models.TextChoices):
    """Which of the product's per-channel fee and cost-price fields (``fee_<x>``, ``cost_<x>``)
    a contact on this channel is priced with; empty when the catalogue has none."""

    COUNTER = "counter", _("Balie")
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Telefoon")
    POST = "post", _("Post")


class ContactOutcome(models.TextChoices):
    ANSWERED = "answered", _("Beantwoord")
    APPOINTMENT_MADE = "appointment_made", _("Afspraak gemaakt")
    REFERRED_ONLINE = "referred_online", _("Doorverwezen naar online")
    BACK_OFFICE = "back_office", _("Doorgezet naar de backoffice")
    NOT_HANDLED = "not_handled", _("Niet afgehandeld")
    # Reported by the online channel itself (an online form finished).
    COMPLETED_ONLINE = "completed_online", _("Online afgerond")


class ScriptAnswer(models.TextChoices):
    """The caller's answer to the KCC work instruction (at most one per call)."""

    WILL_DO_ONLINE = "will_online", _("Gaat het online doen")
    WANTS_COUNTER = "wants_counter", _("Wil toch naar de balie")
    CANNOT_ONLINE = "cannot_online", _("Kan het niet online")


class ContactChannel(models.Model):
    """A channel citizens contact the municipality through. Data, not code: the beheerder adds
    channels in the admin; ``code`` is what integrations and CSV files use."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_nl = models.CharField(_("naam (NL)"), max_length=60)
    name_en = models.CharField(_("naam (EN)"), max_length=60)
    kind = models.CharField(_("soort"), max_length=12, choices=ChannelKind.choices)
    cost_channel = models.CharField(
        _("leges en kostprijs van"),
        max_length=10,
        choices=CostChannel.choices,
        blank=True,
        help_text=_("Welk kanaal van de productcatalogus de kosten van dit contact bepaalt."),
    )
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("contactkanaal")
        verbose_name_plural = _("contactkanalen")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "nl").startswith("en") else self.name_nl


class Contact(models.Model):
    """One citizen contact on one channel: for these products (none: a general question),
    at ``moment``, ended with ``outcome``.

    Idempotency: ``(source, external_id)`` is unique when ``external_id`` is set. ``source``
    names who delivered the row: ``staff`` (the registration page), ``csv``, ``client:<id>``
    (an integration client) or ``appointment`` / ``online`` (made by the app itself from an
    appointment or an online completion, so those count without double entry). ``day`` is the
    local date of ``moment``, stored for the per-day roll-ups."""

    channel = models.ForeignKey(
        ContactChannel, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("kanaal")
    )
    products = models.ManyToManyField(Product, related_name="+", blank=True, verbose_name=_("producten"))
    moment = models.DateTimeField(_("moment"))
    day = models.DateField(_("dag"))
    outcome = models.CharField(_("afloop"), max_length=20, choices=ContactOutcome.choices)
    handling_seconds = models.PositiveIntegerField(
        _("afhandeltijd (seconden)"), null=True, blank=True, validators=[MaxValueValidator(8 * 3600)]
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("geregistreerd door"),
    )
    client_id = models.BigIntegerField(_("koppeling"), null=True, blank=True)
    source = models.CharField(_("bron"), max_length=40)
    external_id = models.CharField(_("extern kenmerk"), max_length=100, blank=True)
    appointment_id = models.BigIntegerField(_("afspraak"), null=True, blank=True)
    # KCC work instruction: the caller's answer, and the opaque reference of the online link
    # sent to them (the online form reports completion with it: nudges.OnlineCompletion).
    script_answer = models.CharField(
        _("antwoord op werkinstructie"), max_length=16, choices=ScriptAnswer.choices, blank=True
    )
    online_reference = models.CharField(_("online referentie"), max_length=32, blank=True)
    survey_consent = models.BooleanField(_("toestemming tevredenheidsvraag"), default=False)
    created_at = models.DateTimeField(_("vastgelegd op"), auto_now_add=True)

    class Meta:
        ordering = ["-moment", "-pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacten")
        permissions = [("register_contacts", "Kan klantcontacten registreren")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="contact_once_per_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["day", "channel"]),
            models.Index(fields=["registered_by", "day"]),
            models.Index(
                fields=["appointment_id"], condition=Q(appointment_id__isnull=False), name="contact_appointment"
            ),
            models.Index(fields=["online_reference"], condition=~Q(online_reference=""), name="contact_online_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.outcome} {self.moment:%Y-%m-%d %H:%M}"


class OnlineLink(models.Model):
    """The tracked online link a phone agent sends a caller who will do it online (the KCC
    work instruction). ``address`` (an e-mail address or mobile number) is the only personal
    data and lives only until the message has gone out or failed: the outbox's ``sent``
    callback and the nightly retention step empty it. The contact itself never holds it."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="online_links")
    channel = models.CharField(_("kanaal"), max_length=10)
    address = models.CharField(_("adres"), max_length=254, blank=True)
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES, default="nl")
    online_url = models.URLField(_("online link"), max_length=500)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    sent_at = models.DateTimeField(_("verzonden op"), null=True, blank=True)

    class Meta:
        verbose_name = _("online link voor een beller")
        verbose_name_plural = _("online links voor bellers")

    def __str__(self) -> str:
        return f"online link {self.pk} ({self.channel})"
