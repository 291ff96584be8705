"""Fixed vocabularies of channel steering: touchpoints, EAST principles, experiment states,
outcome kinds and the metrics built on them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Touchpoint(models.TextChoices):
    BOOKING_START = "booking_start", _("Start van het boeken")
    PRODUCT_CHOICE = "product_choice", _("Na de productkeuze")
    CONFIRMATION = "confirmation", _("Bevestigingspagina")
    REMINDER = "reminder", _("Herinnering (e-mail/sms)")
    DESK_CHECKOUT = "desk_checkout", _("Afhandeling aan de balie")
    # The KCC work instruction during a call (nudges.channels.kcc); the unit is the call.
    KCC_CALL = "kcc_call", _("Telefoongesprek (werkinstructie KCC)")


class Principle(models.TextChoices):
    """The EAST framework (Behavioural Insights Team)."""

    EASY = "easy", _("Easy: makkelijk")
    ATTRACTIVE = "attractive", _("Attractive: aantrekkelijk")
    SOCIAL = "social", _("Social: sociaal")
    TIMELY = "timely", _("Timely: op het juiste moment")


class ContentKind(models.TextChoices):
    """How a variant's content is built; each has its template in templates/nudges/experiments/variants/."""

    EASY_LINK = "easy_link", _("Directe link naar het online formulier, met wat ervoor nodig is")
    DIGITAL_DISCOUNT = "digital_discount", _("Beide leges naast elkaar, online als digitale korting")
    SOCIAL_NORM = "social_norm", _("Aandeel inwoners dat dit online deed (eigen gegevens)")
    # Reminder wording (touchpoint REMINDER); the control is the plain reminder.
    REMINDER_COST = "reminder_cost", _("Herinnering: wat een gemiste afspraak kost (kostprijs balie)")
    REMINDER_WAITING = "reminder_waiting", _("Herinnering: anderen zoeken ook een tijd (eigen gegevens)")


# The principle a content kind stands for, keyed by the value a model field stores.
KIND_PRINCIPLE: dict[str, Principle] = {
    ContentKind.EASY_LINK: Principle.EASY,
    ContentKind.DIGITAL_DISCOUNT: Principle.ATTRACTIVE,
    ContentKind.SOCIAL_NORM: Principle.SOCIAL,
    ContentKind.REMINDER_COST: Principle.ATTRACTIVE,
    ContentKind.REMINDER_WAITING: Principle.SOCIAL,
}
# Content kinds written into the reminder e-mail; the others are shown on a page.
REMINDER_KINDS = (ContentKind.REMINDER_COST, ContentKind.REMINDER_WAITING)

# Placeholders a wording may use ({name}); everything else is refused, and so is a typed-in
# percentage: figures are computed, never written by hand.
PLACEHOLDERS = {
    "product",
    "requirements",
    "fee_online",
    "fee_counter",
    "discount",
    "share",
    "online_cases",
    "cases",
    "period_days",
    "since",
    "until",
    # reminders: the appointment's counter cost price, recent bookings at its location
    "cost",
    "bookings",
    "location",
}


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", _("Concept")
    RUNNING = "running", _("Loopt")
    PAUSED = "paused", _("Gepauzeerd")
    FINISHED = "finished", _("Afgerond")


# Outcomes are only recorded while an experiment collects data.
COLLECTING_STATUSES = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


class OutcomeKind(models.TextChoices):
    CHOSE_ONLINE = "chose_online", _("Koos online")
    CONTINUED_TO_COUNTER = "continued_to_counter", _("Ging door naar de balie")
    BOOKED = "booked", _("Boekte een balieafspraak")
    CANCELLED = "cancelled", _("Annuleerde vooraf")
    ATTENDED = "attended", _("Verscheen")
    NO_SHOW = "no_show", _("Verscheen niet")
    COMPLETED_ONLINE = "completed_online", _("Rondde online af")


# What an integration client may report (abandoned is computed, never reported).
REPORTABLE_OUTCOMES = tuple(OutcomeKind)


class ExemptionReason(models.TextChoices):
    CHANNEL = "channel", _("Boeking via telefoon of balie")
    NEEDS_HELP = "needs_help", _("Inwoner heeft hulp nodig of kan het niet online")
    PRESENCE_REQUIRED = "presence_required", _("Product vraagt een bezoek aan de balie")


class Source(models.TextChoices):
    WEB = "web", _("Eigen website")
    API = "api", _("Koppeling (API)")
    KCC = "kcc", _("KCC (telefoon)")


class Metric(models.TextChoices):
    BOOKED = "booked", _("Balieafspraak geboekt")
    ABANDONED = "abandoned", _("Afgehaakt")
    CANCELLED = "cancelled", _("Vooraf geannuleerd")
    ATTENDED = "attended", _("Verschenen")
    NO_SHOW = "no_show", _("Niet verschenen")
    CHOSE_ONLINE = "chose_online", _("Online gekozen")
    CONTINUED_TO_COUNTER = "continued_to_counter", _("Doorgegaan naar de balie")
    COMPLETED_ONLINE = "completed_online", _("Online afgerond")


@dataclass(frozen=True)
class MetricSpec:
    lower_is_better: bool
    # False: only nudge groups can produce it (the control group sees no online link), so a
    # comparison with control would be meaningless; shown per group, never tested.
    comparable: bool


METRICS: dict[str, MetricSpec] = {
    Metric.BOOKED: MetricSpec(lower_is_better=True, comparable=True),
    Metric.ABANDONED: MetricSpec(lower_is_better=True, comparable=False),
    Metric.CANCELLED: MetricSpec(lower_is_better=True, comparable=True),
    Metric.ATTENDED: MetricSpec(lower_is_better=True, comparable=True),
    Metric.NO_SHOW: MetricSpec(lower_is_better=True, comparable=True),
    Metric.CHOSE_ONLINE: MetricSpec(lower_is_better=False, comparable=False),
    Metric.CONTINUED_TO_COUNTER: MetricSpec(lower_is_better=True, comparable=False),
    Metric.COMPLETED_ONLINE: MetricSpec(lower_is_better=False, comparable=False),
}
COMPARABLE_METRICS = [m for m in Metric if METRICS[m].comparable]
# At the KCC call (touchpoint KCC_CALL) these arise in the script arm only: the control arm's
# panel shows nothing to answer and sends no online link. Never the primary metric there (the
# comparison is the counter appointment made in the call, "booked"); shown as descriptive.
KCC_SCRIPT_ONLY_METRICS = (Metric.CHOSE_ONLINE, Metric.CONTINUED_TO_COUNTER, Metric.COMPLETED_ONLINE)

# What a reminder can change: whether people come, or cancel in time when they cannot. Here
# cancelling in advance and attending are the good outcomes (after the product choice, fewer
# counter visits are the aim), so their direction differs by touchpoint.
REMINDER_METRICS = (Metric.NO_SHOW, Metric.CANCELLED, Metric.ATTENDED, Metric.COMPLETED_ONLINE)
REMINDER_METRIC_SPECS: dict[str, MetricSpec] = {
    Metric.CANCELLED: MetricSpec(lower_is_better=False, comparable=True),
    Metric.ATTENDED: MetricSpec(lower_is_better=False, comparable=True),
}


def metric_spec(metric: str, touchpoint: str) -> MetricSpec:
    if touchpoint == Touchpoint.REMINDER:
        return REMINDER_METRIC_SPECS.get(metric, METRICS[metric])
    return METRICS[metric]


def metrics_for(touchpoint: str) -> list[str]:
    """The metrics that mean something at this touchpoint (booked or abandoned after a
    reminder would only be noise on the dashboard)."""
    return list(REMINDER_METRICS) if touchpoint == Touchpoint.REMINDER else list(Metric)


# The first-party cookie holding a web visitor's random unit id (stored only as a keyed hash).
UNIT_COOKIE = "kw_eenheid"
# Query parameter appended to the online form's URL: the opaque reference.
REFERENCE_PARAM = "kw_ref"


class MessageKind(models.TextChoices):
    REMINDER = "reminder", _("Herinnering")
    CONFIRMATION = "confirmation", _("Bevestiging")
    CLOSURE_APOLOGY = "closure_apology", _("Excuses bij sluiting")
    SATISFACTION = "satisfaction", _("Tevredenheidsvraag")
    WAITLIST_OFFER = "waitlist_offer", _("Aanbod eerdere tijd")
    WAITLIST_TAKEN = "waitlist_taken", _("Eerdere tijd al vergeven")
    WAITLIST_CONFIRM = "waitlist_confirm", _("Bevestiging wachtlijstaanmelding")
    ONLINE_LINK = "online_link", _("Online link voor een beller")
    BOUND_BREACH = "bound_breach", _("Kader overschreden")


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Sms")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Gepland")
    SENDING = "sending", _("Wordt verzonden")
    SENT = "sent", _("Verzonden")
    FAILED = "failed", _("Mislukt")
    CANCELLED = "cancelled", _("Geannuleerd")


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Verzonden")
    RETRY = "retry", _("Tijdelijke fout, later opnieuw")
    FAILED = "failed", _("Mislukt")
    SKIPPED = "skipped", _("Overgeslagen")
    UNKNOWN = "unknown", _("Onbekende uitkomst")


# The integration scope (booking.integrations) of clients that use the nudge API.
SCOPE_NUDGES = "nudges"
