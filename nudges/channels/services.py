"""Writes for contacts. Every path (the registration page, the API, the CSV import, the
demo data, booking's hooks) ends in ``contacts_import`` or ``_contact_create``: one set of
rules.

Idempotency: a row with an ``external_id`` is stored once per ``source``; delivering it again
changes nothing. A batch with any invalid row stores nothing and says what is wrong per row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.constants import AppointmentStatus, Channel
from booking.models import Product
from booking.selectors import appointment_facts, product_ids_by_code
from nudges.exceptions import InvalidInput
from nudges.models import Contact, ContactChannel, ContactOutcome, ScriptAnswer
from nudges.satisfaction import services as satisfaction

logger = logging.getLogger(__name__)

MAX_BATCH = 5000
# A telephony platform's clock may run a little ahead of ours.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=400)
MAX_HANDLING_SECONDS = 8 * 3600

SOURCE_STAFF = "staff"
SOURCE_CSV = "csv"
SOURCE_APPOINTMENT = "appointment"
SOURCE_ONLINE = "online"
SOURCE_DEMO = "demo"


def client_source(client_id: int) -> str:
    return f"client:{client_id}"


# Booking channel -> contact channel code (data migration 0012 creates these codes).
APPOINTMENT_CHANNEL_CODES: dict[str, str] = {
    Channel.ONLINE: "internet",
    Channel.PHONE: "telefoon",
    Channel.POST: "post",
}
COUNTER_CODE = "balie"
ONLINE_CODE = "internet"


# The channels every municipality starts with (data migration 0012 holds a frozen copy); the
# beheerder adds more in the admin.
CHANNELS = (
    # code, name NL, name EN, kind, cost channel, position
    ("balie", "Balie", "Counter", "counter", "counter", 10),
    ("telefoon", "Telefoon", "Phone", "phone", "phone", 20),
    ("e-mail", "E-mail", "E-mail", "email", "", 30),
    ("internet", "Internet", "Internet", "web", "online", 40),
    ("social-media", "Sociale media", "Social media", "social", "", 50),
    ("whatsapp", "WhatsApp", "WhatsApp", "messaging", "", 60),
    ("post", "Post", "Post", "post", "post", 70),
)


def contact_channels_ensure() -> None:
    """Create the standard channels where missing (demo data, tests that empty the tables)."""
    for code, name_nl, name_en, kind, cost_channel, position in CHANNELS:
        ContactChannel.objects.get_or_create(
            code=code,
            defaults={
                "name_nl": name_nl,
                "name_en": name_en,
                "kind": kind,
                "cost_channel": cost_channel,
                "position": position,
            },
        )


@dataclass
class ContactInput:
    channel: str
    moment: datetime
    outcome: str
    products: Sequence[str] = ()
    handling_seconds: int | None = None
    external_id: str = ""
    survey_consent: bool = False


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    # Row number (0-based, in the order given) -> field -> messages.
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class ContactsRejected(InvalidInput):
    """A batch with invalid rows: nothing was stored; ``errors`` says what, per row."""

    code = "contacts_rejected"

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        self.errors = errors
        super().__init__(_("%(n)d rij(en) ongeldig; niets opgeslagen.") % {"n": len(errors)})


def _validate(
    rows: Sequence[ContactInput], *, channels: dict[str, ContactChannel], products: dict[str, int], now: datetime
) -> dict[int, dict[str, list[str]]]:
    errors: dict[int, dict[str, list[str]]] = {}
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        problems: dict[str, list[str]] = {}
        if row.channel not in channels:
            problems["channel"] = [_("Onbekend kanaal: %(code)s.") % {"code": str(row.channel)[:40]}]
        unknown = [code for code in row.products if code not in products]
        if unknown:
            problems["products"] = [
                _("Onbekend product: %(codes)s.") % {"codes": ", ".join(c[:40] for c in unknown[:5])}
            ]
        if row.outcome not in ContactOutcome.values:
            problems["outcome"] = [_("Onbekende afloop: %(value)s.") % {"value": str(row.outcome)[:40]}]
        if row.moment is None or timezone.is_naive(row.moment):
            problems["moment"] = [_("Geef een moment met tijdzone.")]
        elif row.moment > now + FUTURE_TOLERANCE:
            problems["moment"] = [_("Dit moment ligt in de toekomst.")]
        elif row.moment < now - MAX_AGE:
            problems["moment"] = [_("Dit moment ligt meer dan 400 dagen terug.")]
        if row.handling_seconds is not None and not 0 <= row.handling_seconds <= MAX_HANDLING_SECONDS:
            problems["handling_seconds"] = [_("Afhandeltijd moet tussen 0 en 8 uur liggen.")]
        if row.external_id:
            if len(row.external_id) > 100:
                problems["external_id"] = [_("Het kenmerk is langer dan 100 tekens.")]
            elif row.external_id in seen:
                problems["external_id"] = [
                    _("Dubbel kenmerk: ook in rij %(row)d.") % {"row": seen[row.external_id] + 1}
                ]
            else:
                seen[row.external_id] = i
        if problems:
            errors[i] = problems
    return errors


def _insert(contacts: list[Contact], product_ids: list[Sequence[int]]) -> None:
    created = Contact.objects.bulk_create(contacts, batch_size=2000)
    through = Contact.products.through
    through.objects.bulk_create(
        [
            through(contact_id=c.pk, product_id=pid)
            for c, pids in zip(created, product_ids, strict=True)
            for pid in pids
        ],
        batch_size=5000,
    )


def _rollups_catch_up(days: set, now: datetime) -> None:
    """The cockpit's roll-ups are rebuilt for yesterday and today every few minutes; contacts
    stored for earlier days get their days rebuilt by a task after commit."""
    from nudges.tasks import refresh_cockpit_rollup_days

    late = sorted(day for day in days if day < timezone.localdate(now) - timedelta(days=1))
    if late:
        first, last = late[0].isoformat(), late[-1].isoformat()
        transaction.on_commit(lambda: refresh_cockpit_rollup_days.delay(first, last))


def contacts_import(
    *,
    rows: Sequence[ContactInput],
    source: str,
    client_id: int | None = None,
    registered_by=None,
    now: datetime | None = None,
) -> ImportResult:
    """Store a batch of contacts: all valid rows, or none (then ``ContactsRejected`` with the
    errors per row). Rows whose ``external_id`` is already stored for ``source`` are left
    alone (counted as unchanged): posting a batch twice changes nothing."""
    now = now or timezone.now()
    if len(rows) > MAX_BATCH:
        raise InvalidInput(_("Hooguit %(n)d contacten per keer.") % {"n": MAX_BATCH}, field="contacts")
    channels = {c.code: c for c in ContactChannel.objects.filter(is_active=True)}
    codes = {code for row in rows for code in row.products}
    products = product_ids_by_code(codes)
    errors = _validate(rows, channels=channels, products=products, now=now)
    if errors:
        raise ContactsRejected(errors)
    for _attempt in range(2):
        external_ids = [row.external_id for row in rows if row.external_id]
        known = set(
            Contact.objects.filter(source=source, external_id__in=external_ids).values_list("external_id", flat=True)
        )
        new = [row for row in rows if not row.external_id or row.external_id not in known]
        contacts = [
            Contact(
                channel=channels[row.channel],
                moment=row.moment,
                day=timezone.localdate(row.moment),
                outcome=row.outcome,
                handling_seconds=row.handling_seconds,
                registered_by=registered_by,
                client_id=client_id,
                source=source,
                external_id=row.external_id,
                survey_consent=row.survey_consent,
            )
            for row in new
        ]
        try:
            with transaction.atomic():
                _insert(contacts, [[products[code] for code in dict.fromkeys(row.products)] for row in new])
                _rollups_catch_up({contact.day for contact in contacts}, now)
        except IntegrityError:
            continue  # the same ids delivered at the same moment by a second request: look again
        return ImportResult(created=len(contacts), unchanged=len(rows) - len(contacts))
    raise InvalidInput(_("Deze contacten worden tegelijk al verwerkt; probeer het opnieuw."), field="contacts")


def contact_register(
    *,
    channel: ContactChannel,
    products: Iterable[Product],
    outcome: str,
    registered_by,
    moment: datetime | None = None,
    handling_seconds: int | None = None,
    script_answer: str = "",
    online_reference: str = "",
    survey_consent: bool = False,
    survey_email: str = "",
    survey_language: str = "nl",
) -> Contact:
    """One contact registered by a staff member (the registration panel, the KCC script).
    With ``survey_email`` the citizen agreed to one satisfaction question after it: the
    survey (with the consent and the address) is planned in the same transaction."""
    moment = moment or timezone.now()
    if outcome not in ContactOutcome.values:
        raise InvalidInput(_("Kies hoe het contact afliep."), field="outcome")
    if script_answer and script_answer not in ScriptAnswer.values:
        raise InvalidInput(_("Onbekend antwoord."), field="script_answer")
    if handling_seconds is not None and not 0 <= handling_seconds <= MAX_HANDLING_SECONDS:
        raise InvalidInput(_("Afhandeltijd moet tussen 0 en 8 uur liggen."), field="minutes")
    products = list(products)
    with transaction.atomic():
        contact = Contact.objects.create(
            channel=channel,
            moment=moment,
            day=timezone.localdate(moment),
            outcome=outcome,
            handling_seconds=handling_seconds,
            registered_by=registered_by,
            source=SOURCE_STAFF,
            script_answer=script_answer,
            online_reference=online_reference,
            survey_consent=survey_consent or bool(survey_email),
        )
        contact.products.set(products)
        if survey_email:
            satisfaction.contact_survey_plan(
                contact=contact, address=survey_email, consented_by=registered_by, language=survey_language, now=moment
            )
    return contact


def contacts_correct(
    *,
    user,
    contact_ids: Sequence[int],
    channel: ContactChannel | None = None,
    outcome: str = "",
    delete: bool = False,
    now: datetime | None = None,
) -> int:
    """Bulk correction by the person who registered the contacts, on the same day only.
    Returns how many contacts changed; others' contacts and earlier days are left alone."""
    now = now or timezone.now()
    if outcome and outcome not in ContactOutcome.values:
        raise InvalidInput(_("Onbekende afloop."), field="outcome")
    if not (delete or channel or outcome):
        raise InvalidInput(_("Kies wat u wilt corrigeren."), field="action")
    mine = Contact.objects.filter(
        pk__in=list(contact_ids), registered_by=user, source=SOURCE_STAFF, day=timezone.localdate(now)
    )
    with transaction.atomic():
        if delete:
            count, _per_model = mine.delete()
            return len(contact_ids) if count else 0
        changes: dict[str, ContactChannel | str] = {}
        if channel is not None:
            changes["channel"] = channel
        if outcome:
            changes["outcome"] = outcome
        return mine.update(**changes)


# --- contacts the app already knows (booking's hooks; the online channel's reports) ---------


# One statement on the booking's hot path (issue 14): the channel by its code, the row unless
# it exists already (source + external id), its id back. It replaced a channel read, a
# get_or_create (read, savepoint, insert) and products.set() (read, insert): five round trips
# and their ORM compilation inside every booking's transaction. Columns not named here take
# the model's defaults, written out: an insert outside the ORM does not know them. Portable
# (PostgreSQL and the demo's SQLite): the conflict target names the partial unique index by its
# own condition.
_CONTACT_ONCE_SQL = f"""
    INSERT INTO {Contact._meta.db_table}
        (channel_id, moment, day, outcome, handling_seconds, appointment_id, source, external_id,
         registered_by_id, client_id, script_answer, online_reference, survey_consent, created_at)
    SELECT id, %(moment)s, %(day)s, %(outcome)s, %(handling_seconds)s, %(appointment_id)s, %(source)s,
           %(external_id)s, NULL, NULL, '', '', false, %(now)s
    FROM {ContactChannel._meta.db_table} WHERE code = %(channel_code)s
    ON CONFLICT (source, external_id) WHERE NOT (external_id = '') DO NOTHING
    RETURNING id
"""  # noqa: S608 (table names from the models; values are parameters)


def _contact_once(
    *,
    source: str,
    external_id: str,
    channel_code: str,
    moment: datetime,
    outcome: str,
    handling_seconds: int | None = None,
    appointment_id: int | None = None,
    product_ids: Iterable[int] = (),
) -> None:
    """Count a contact the app knows of itself, once per (source, external id)."""
    ops = connection.ops  # values as the ORM would store them (the demo's SQLite keeps text)
    params: dict[str, Any] = {
        "moment": ops.adapt_datetimefield_value(moment),
        "day": ops.adapt_datefield_value(timezone.localdate(moment)),
        "outcome": outcome,
        "handling_seconds": handling_seconds,
        "appointment_id": appointment_id,
        "source": source,
        "external_id": external_id,
        "now": ops.adapt_datetimefield_value(timezone.now()),
        "channel_code": channel_code,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CONTACT_ONCE_SQL, params)
        row = cursor.fetchone()
    if row is None:  # counted before, or the channel is gone
        if not ContactChannel.objects.filter(code=channel_code).exists():
            logger.warning("No contact channel %r; contact %s/%s not counted", channel_code, source, external_id)
        return
    links = Contact.products.through
    links.objects.bulk_create([links(contact_id=row[0], product_id=pk) for pk in dict.fromkeys(product_ids)])


def appointment_booked(appointment_id: int) -> None:
    """An appointment booked online or by phone is a contact on that channel ("appointment
    made"). Walk-ins count once, when served at the counter (``appointment_status_changed``)."""
    facts = appointment_facts(appointment_id)
    if facts is None or facts.channel not in APPOINTMENT_CHANNEL_CODES:
        return
    _contact_once(
        source=SOURCE_APPOINTMENT,
        external_id=f"{appointment_id}:booked",
        channel_code=APPOINTMENT_CHANNEL_CODES[facts.channel],
        moment=facts.booked_at or timezone.now(),
        outcome=ContactOutcome.APPOINTMENT_MADE,
        appointment_id=appointment_id,
        product_ids=facts.product_ids,
    )


def appointment_status_changed(appointment_id: int) -> None:
    """A visit served at the counter is a counter contact (answered); undoing "served" at the
    desk takes it back."""
    facts = appointment_facts(appointment_id)
    if facts is None:
        return
    external_id = f"{appointment_id}:served"
    if facts.status != AppointmentStatus.SERVED:
        Contact.objects.filter(source=SOURCE_APPOINTMENT, external_id=external_id).delete()
        return
    handled = facts.handled_at or timezone.now()
    seconds = int((handled - facts.checked_in_at).total_seconds()) if facts.checked_in_at else None
    _contact_once(
        source=SOURCE_APPOINTMENT,
        external_id=external_id,
        channel_code=COUNTER_CODE,
        moment=handled,
        outcome=ContactOutcome.ANSWERED,
        handling_seconds=seconds if seconds and 0 < seconds <= MAX_HANDLING_SECONDS else None,
        appointment_id=appointment_id,
        product_ids=facts.product_ids,
    )


def online_completion_recorded(*, completion_id: int, product_id: int, completed_at: datetime) -> None:
    """The online channel reported a form finished: a contact on the internet channel."""
    _contact_once(
        source=SOURCE_ONLINE,
        external_id=str(completion_id),
        channel_code=ONLINE_CODE,
        moment=completed_at,
        outcome=ContactOutcome.COMPLETED_ONLINE,
        product_ids=(product_id,),
    )
