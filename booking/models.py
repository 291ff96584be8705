"""Booking data model. Business rules live in services/selectors; models hold data and the
invariants the database itself can enforce.

Size (~480 lines): one model per table with its constraints; kept in one module so the
exclusion constraint, the statuses it names and the fields they read are checked side by side."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator, validate_comma_separated_integer_list
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords  # type: ignore[import-untyped]

from .constants import ACTIVE_STATUSES, AppointmentAction, AppointmentStatus, Channel, OnlinePossible, OnlineReason


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that exists on PostgreSQL only.

    The no-overlap invariant is enforced by PostgreSQL in production and in the tests. The
    SQLite first-look mode has no exclusion constraints; there IMMEDIATE transactions make the
    service's check-then-insert atomic instead.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        # Model validation (admin forms) would need range operators; the services check
        # overlaps themselves and the database has the last word.
        return None


class Location(models.Model):
    name = models.CharField(_("naam"), max_length=100, unique=True)
    street = models.CharField(_("straat en huisnummer"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("plaats"), max_length=100)
    grid_minutes = models.PositiveSmallIntegerField(
        _("tijdraster (minuten)"),
        default=10,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
        help_text=_("Afspraken beginnen op veelvouden van dit aantal minuten."),
    )
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("vestiging")
        verbose_name_plural = _("vestigingen")
        permissions = [("view_capacity", "Kan het capaciteitsoverzicht per vestiging zien")]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


class Product(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_nl = models.CharField(_("naam (NL)"), max_length=100)
    name_en = models.CharField(_("naam (EN)"), max_length=100)
    minutes_per_person = models.PositiveSmallIntegerField(
        _("minuten per persoon"), validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer (minuten)"),
        default=0,
        help_text=_("Eenmaal per afspraak toegevoegd, bijvoorbeeld voor voorbereiding."),
    )
    requires_presence = models.BooleanField(_("persoonlijk verschijnen verplicht"), default=False)
    booking_horizon_days = models.PositiveSmallIntegerField(_("boekingshorizon (dagen)"), default=90)
    min_notice_minutes = models.PositiveIntegerField(_("minimale aanlooptijd (minuten)"), default=60)

    # Leges per channel; empty means the product is not offered through that channel.
    fee_counter = models.DecimalField(_("leges balie"), max_digits=7, decimal_places=2, null=True, blank=True)
    fee_online = models.DecimalField(_("leges online"), max_digits=7, decimal_places=2, null=True, blank=True)
    fee_phone = models.DecimalField(_("leges telefoon"), max_digits=7, decimal_places=2, null=True, blank=True)
    fee_post = models.DecimalField(_("leges post"), max_digits=7, decimal_places=2, null=True, blank=True)
    cost_counter = models.DecimalField(_("kostprijs balie"), max_digits=7, decimal_places=2, null=True, blank=True)
    cost_online = models.DecimalField(_("kostprijs online"), max_digits=7, decimal_places=2, null=True, blank=True)
    cost_phone = models.DecimalField(_("kostprijs telefoon"), max_digits=7, decimal_places=2, null=True, blank=True)
    cost_post = models.DecimalField(_("kostprijs post"), max_digits=7, decimal_places=2, null=True, blank=True)

    online_url = models.URLField(_("online alternatief (URL)"), blank=True)
    online_requirements_nl = models.TextField(_("wat is nodig online (NL)"), blank=True)
    online_requirements_en = models.TextField(_("wat is nodig online (EN)"), blank=True)
    checklist_nl = models.TextField(_("meenemen (NL)"), blank=True, help_text=_("Eén punt per regel."))
    checklist_en = models.TextField(_("meenemen (EN)"), blank=True, help_text=_("One item per line."))
    # The product knowledge base every channel shows (booking.knowledge): what it is, what the
    # online route takes, and what the KCC reads to a caller.
    description_nl = models.TextField(_("wat is het (NL)"), blank=True)
    description_en = models.TextField(_("wat is het (EN)"), blank=True)
    online_requires_digid = models.BooleanField(_("online: DigiD nodig"), default=False)
    online_requires_payment = models.BooleanField(_("online: betalen met iDEAL"), default=False)
    kcc_text_nl = models.TextField(
        _("tekst voor de beller (NL)"),
        blank=True,
        help_text=_("Wat het KCC voorleest als iemand belt over dit product."),
    )
    kcc_text_en = models.TextField(_("tekst voor de beller (EN)"), blank=True)
    reminder_days = models.CharField(
        _("herinneringen (dagen van tevoren)"),
        max_length=20,
        blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text=_("Bijvoorbeeld 5,1: vijf dagen en één dag van tevoren. Leeg: de standaard van de gemeente."),
    )
    is_active = models.BooleanField(_("actief"), default=True)
    # Every change, with who made it (the staff product form, the admin).
    history = HistoricalRecords(excluded_fields=["reminder_days"])

    class Meta:
        ordering = ["name_nl"]
        verbose_name = _("product")
        verbose_name_plural = _("producten")
        permissions = [("manage_products", "Kan producten, tijden, leges en kostprijzen beheren")]
        constraints = [
            # Leges are cost recovery: no channel's fee above its cost price.
            *(
                models.CheckConstraint(
                    condition=Q(**{f"fee_{ch}__isnull": True})
                    | Q(**{f"cost_{ch}__isnull": True})
                    | Q(**{f"fee_{ch}__lte": F(f"cost_{ch}")}),
                    name=f"product_fee_{ch}_within_cost",
                )
                for ch in ("counter", "online", "phone", "post")
            ),
            models.CheckConstraint(
                condition=Q(fee_online__isnull=True)
                | Q(fee_counter__isnull=True)
                | Q(fee_online__lte=F("fee_counter")),
                name="product_online_fee_not_above_counter",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "nl").startswith("en") else self.name_nl

    @property
    def online_requirements(self) -> str:
        lang_en = (get_language() or "nl").startswith("en")
        return self.online_requirements_en if lang_en else self.online_requirements_nl

    @property
    def reminder_day_list(self) -> list[int]:
        """The days before the appointment to remind on; empty means the municipality's default."""
        return [int(day) for day in self.reminder_days.split(",") if day.strip()]

    @property
    def checklist(self) -> list[str]:
        text = self.checklist_en if (get_language() or "nl").startswith("en") else self.checklist_nl
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def has_online_alternative(self) -> bool:
        return bool(self.online_url)

    def fee(self, channel: str) -> Decimal | None:
        return getattr(self, f"fee_{channel}")

    def cost(self, channel: str) -> Decimal | None:
        return getattr(self, f"cost_{channel}")


class Desk(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="desks", verbose_name=_("vestiging"))
    name = models.CharField(_("naam"), max_length=50)
    products = models.ManyToManyField(Product, related_name="desks", blank=True, verbose_name=_("producten"))
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        ordering = ["location", "name"]
        verbose_name = _("balie")
        verbose_name_plural = _("balies")
        permissions = [("plan_schedules", "Kan openingstijden, balieproducten, sluitingen en feestdagen plannen")]
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="desk_unique_name_per_location")]

    def __str__(self) -> str:
        return f"{self.location.name} – {self.name}"


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("maandag")
        TUESDAY = 1, _("dinsdag")
        WEDNESDAY = 2, _("woensdag")
        THURSDAY = 3, _("donderdag")
        FRIDAY = 4, _("vrijdag")
        SATURDAY = 5, _("zaterdag")
        SUNDAY = 6, _("zondag")

    desk = models.ForeignKey(Desk, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("balie"))
    weekday = models.PositiveSmallIntegerField(_("weekdag"), choices=Weekday.choices)
    opens = models.TimeField(_("open vanaf"))
    closes = models.TimeField(_("open tot"))
    valid_from = models.DateField(_("geldig vanaf"))
    valid_until = models.DateField(_("geldig tot en met"), null=True, blank=True)

    class Meta:
        ordering = ["desk", "weekday", "opens"]
        verbose_name = _("openingstijd")
        verbose_name_plural = _("openingstijden")
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="opening_hours_opens_before_closes"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="opening_hours_valid_range",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.desk} {self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """The location (desk empty) or one desk is closed during [starts_at, ends_at)."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="closures", verbose_name=_("vestiging")
    )
    desk = models.ForeignKey(
        Desk, on_delete=models.CASCADE, related_name="closures", null=True, blank=True, verbose_name=_("balie")
    )
    starts_at = models.DateTimeField(_("gesloten vanaf"))
    ends_at = models.DateTimeField(_("gesloten tot"))
    reason = models.CharField(_("reden"), max_length=200)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("sluiting")
        verbose_name_plural = _("sluitingen")
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="closure_starts_before_ends"),
        ]
        indexes = [models.Index(fields=["location", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.desk or self.location}: {self.reason}"


class HolidayOpening(models.Model):
    """A planner's explicit decision to open a location on a Dutch public holiday."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="holiday_openings", verbose_name=_("vestiging")
    )
    date = models.DateField(_("datum"))
    note = models.CharField(_("toelichting"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("opening op feestdag")
        verbose_name_plural = _("openingen op feestdagen")
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="holiday_opening_unique")]

    def __str__(self) -> str:
        return f"{self.location} {self.date}"


class Appointment(models.Model):
    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("balie"))
    start = models.DateTimeField(_("begin"))
    end = models.DateTimeField(_("einde"))
    products = models.ManyToManyField(Product, related_name="appointments", verbose_name=_("producten"))
    persons = models.PositiveSmallIntegerField(_("aantal personen"), default=1, validators=[MinValueValidator(1)])
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices)
    # The integration client (an online form platform, …) that booked it; empty: our own pages
    # or staff. Channel figures and the audit trail show it.
    source_client = models.ForeignKey(
        "IntegrationClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("bron (koppeling)"),
    )
    status = models.CharField(_("status"), max_length=12, choices=AppointmentStatus.choices)
    hold_expires_at = models.DateTimeField(_("reservering verloopt"), null=True, blank=True)

    reference = models.CharField(_("referentie"), max_length=12, unique=True)
    manage_token = models.CharField(_("beheertoken"), max_length=64, unique=True)

    name = models.CharField(_("naam"), max_length=150, blank=True)
    email = models.EmailField(_("e-mailadres"), max_length=254, blank=True)
    # The mailbox the address delivers to (booking.cleaning.email_key): what the per-e-mail
    # limit compares, so case, dots in a Gmail address or a +tag make no second appointment.
    email_key = models.CharField(_("e-mailsleutel"), max_length=254, blank=True, editable=False)
    phone = models.CharField(_("telefoonnummer"), max_length=20, blank=True)
    # Who holds a hold (booking.limits): keyed hashes of the visitor's session and of the
    # client's address, never the address itself; emptied when the hold is booked.
    hold_session = models.CharField(max_length=64, blank=True, editable=False)
    hold_client = models.CharField(max_length=64, blank=True, editable=False)
    language = models.CharField(_("taal"), max_length=5, choices=settings.LANGUAGES, default="nl")
    remind_by_email = models.BooleanField(_("herinnering per e-mail"), default=True)
    remind_by_sms = models.BooleanField(
        _("herinnering per sms"), default=False, help_text=_("Alleen met telefoonnummer en toestemming.")
    )

    # Filled in at the desk when the visit is served.
    online_possible = models.CharField(
        _("had online gekund"), max_length=10, choices=OnlinePossible.choices, blank=True
    )
    online_reason = models.CharField(_("reden"), max_length=20, choices=OnlineReason.choices, blank=True)

    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)
    booked_at = models.DateTimeField(_("geboekt op"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("geannuleerd op"), null=True, blank=True)
    # The citizen said "I'm coming" (link in the reminder), so the desk can see it on the day
    # board. Cleared when the appointment moves: the promise was for the old time.
    confirmed_at = models.DateTimeField(_("komst bevestigd op"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("aangemeld om"), null=True, blank=True)
    handled_at = models.DateTimeField(_("afgehandeld om"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("geanonimiseerd op"), null=True, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("afspraak")
        verbose_name_plural = _("afspraken")
        permissions = [
            ("run_desk", "Kan de balie draaien: dagbord, aanmelden, afhandelen en inloop"),
            ("book_by_phone", "Kan afspraken maken, verzetten en annuleren namens bellers"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="appointment_start_before_end"),
            models.CheckConstraint(
                condition=~Q(status=AppointmentStatus.HELD) | Q(hold_expires_at__isnull=False),
                name="appointment_hold_has_expiry",
            ),
            # The last word on double bookings: two active appointments never overlap on one desk.
            PostgresExclusionConstraint(
                name="appointment_no_overlap_per_desk",
                expressions=[
                    (F("desk"), RangeOperators.EQUAL),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
        ]
        indexes = [
            models.Index(fields=["desk", "start"]),
            # What availability, free desks and the claim ask (booking.availability's
            # OVERLAP_SQL and BLOCKING_SQL): the active appointments of some desks by start,
            # answered from the index alone instead of every appointment's row in the span,
            # cancelled ones included (issue 14). SQLite (the demo) builds it without INCLUDE.
            models.Index(
                fields=["desk", "start"],
                include=["end", "status", "hold_expires_at", "id"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_active_desk_start",
            ),
            models.Index(fields=["status", "hold_expires_at"]),
            models.Index(fields=["email"]),
            models.Index(fields=["email_key"], name="appointment_email_key"),
            models.Index(
                fields=["hold_client"],
                name="appointment_hold_client",
                condition=Q(status=AppointmentStatus.HELD),
            ),
            models.Index(
                fields=["hold_session"],
                name="appointment_hold_session",
                condition=Q(status=AppointmentStatus.HELD),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class AppointmentEvent(models.Model):
    """Audit trail: who did what to an appointment, when, and what changed.

    Append-only. ``actor`` is the staff user; empty means the citizen (via the private link
    or the public API) or the system. ``changes`` holds {field: [old, new]} for what changed,
    never contact data.
    """

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="events", verbose_name=_("afspraak")
    )
    at = models.DateTimeField(_("tijdstip"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("medewerker"),
    )
    # The integration client that asked for it (through its API); empty otherwise.
    client = models.ForeignKey(
        "IntegrationClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("koppeling"),
    )
    action = models.CharField(_("actie"), max_length=20, choices=AppointmentAction.choices)
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices, blank=True)
    changes = models.JSONField(_("wijzigingen"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("afspraakgebeurtenis")
        verbose_name_plural = _("afspraakgebeurtenissen")
        indexes = [models.Index(fields=["appointment", "at"])]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class IntegrationClient(models.Model):
    """A system that calls Kanaalwijzer's APIs on its own behalf: an Open Formulieren
    installation, a KCC system, a channel platform. Only a SHA-256 of its token is stored; the
    token is shown once when the client is created (``booking.integrations``). ``scopes`` says
    which APIs it may use (``booking.integrations.scopes``: apps register theirs)."""

    name = models.CharField(_("naam"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("begin van het token"), max_length=8, editable=False)
    scopes = models.JSONField(_("rechten"), default=list, blank=True)
    is_active = models.BooleanField(_("actief"), default=True)
    send_confirmation_emails = models.BooleanField(
        _("bevestigingsmail sturen"),
        default=True,
        help_text=_(
            "De inwoner krijgt dezelfde bevestiging met beheerlink als bij een boeking op de eigen site. "
            "Uit als het platform van de koppeling zelf bevestigt."
        ),
    )
    requests_per_minute = models.PositiveIntegerField(
        _("verzoeken per minuut"),
        null=True,
        blank=True,
        help_text=_("Leeg: de standaard (API_THROTTLE_INTEGRATION)."),
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("laatst gebruikt"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("koppeling")
        verbose_name_plural = _("koppelingen")

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
