"""Contacts on every channel: the import rules (all or nothing, idempotent, per-row errors),
appointments and online completions counted without double entry, and no citizen data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from booking import hooks
from booking.constants import AppointmentStatus, Channel
from booking.staff import services as staff_services
from nudges.channels import selectors
from nudges.channels.services import ContactInput, ContactsRejected, client_source, contacts_import
from nudges.constants import OutcomeKind
from nudges.experiments import logs as nudge_logs
from nudges.models import Contact, ContactChannel, ContactOutcome
from tests.factories import AppointmentFactory, DeskFactory

pytestmark = pytest.mark.django_db


def rows(n, *, product="uittreksel-brp", channel="telefoon", prefix="call", moment=None):
    moment = moment or timezone.now() - timedelta(hours=1)
    return [
        ContactInput(
            channel=channel,
            products=[product] if product else [],
            moment=moment,
            outcome=ContactOutcome.ANSWERED,
            handling_seconds=290,
            external_id=f"{prefix}-{i}",
        )
        for i in range(n)
    ]


def test_a_batch_is_stored_once_and_posting_it_again_changes_nothing(brp):
    first = contacts_import(rows=rows(50), source=client_source(7), client_id=7)
    again = contacts_import(rows=rows(50), source=client_source(7), client_id=7)

    assert (first.created, first.unchanged) == (50, 0)
    assert (again.created, again.unchanged) == (0, 50)
    assert Contact.objects.count() == 50
    contact = Contact.objects.first()
    assert [p.code for p in contact.products.all()] == ["uittreksel-brp"]
    assert (contact.channel.code, contact.client_id, contact.handling_seconds) == ("telefoon", 7, 290)
    assert contact.day == timezone.localdate(contact.moment)


def test_the_same_external_id_from_another_client_is_another_contact(brp):
    contacts_import(rows=rows(3), source=client_source(1))
    assert contacts_import(rows=rows(3), source=client_source(2)).created == 3
    assert Contact.objects.count() == 6


def test_a_batch_with_bad_rows_stores_nothing_and_says_what_per_row(brp):
    batch = rows(4)
    batch[1].channel = "postduif"
    batch[2].products = ["onbekend"]
    batch[3].moment = timezone.now() + timedelta(days=1)
    batch.append(rows(1)[0])  # the same external id as row 0

    with pytest.raises(ContactsRejected) as rejected:
        contacts_import(rows=batch, source="csv")

    errors = rejected.value.errors
    assert set(errors) == {1, 2, 3, 4}
    assert "Onbekend kanaal" in errors[1]["channel"][0]
    assert "Onbekend product" in errors[2]["products"][0]
    assert "toekomst" in errors[3]["moment"][0]
    assert "rij 1" in errors[4]["external_id"][0]
    assert not Contact.objects.exists()


def test_a_general_question_has_no_product(brp):
    contacts_import(rows=rows(1, product=None, channel="whatsapp"), source="csv")
    contact = Contact.objects.get()
    assert contact.products.count() == 0
    assert contact.channel.code == "whatsapp"


def test_online_and_phone_bookings_count_as_contacts_on_their_channel(brp):
    online = AppointmentFactory(products=[brp], channel=Channel.ONLINE, booked_at=timezone.now())
    phone = AppointmentFactory(products=[brp], channel=Channel.PHONE, booked_at=timezone.now())
    for appointment in (online, phone, online):  # a repeated event counts once
        with transaction.atomic():
            hooks.emit(hooks.APPOINTMENT_BOOKED, appointment.pk)

    found = dict(Contact.objects.values_list("appointment_id", "channel__code"))
    assert found == {online.pk: "internet", phone.pk: "telefoon"}
    assert set(Contact.objects.values_list("outcome", flat=True)) == {ContactOutcome.APPOINTMENT_MADE}
    contact = Contact.objects.get(appointment_id=online.pk)
    assert [p.code for p in contact.products.all()] == ["uittreksel-brp"]
    assert (contact.moment, contact.day) == (online.booked_at, timezone.localdate(online.booked_at))
    assert (contact.source, contact.external_id) == ("appointment", f"{online.pk}:booked")


def test_a_booking_on_a_channel_that_is_gone_is_not_counted_and_says_so(brp, caplog):
    ContactChannel.objects.filter(code="internet").delete()  # no contacts on it yet
    online = AppointmentFactory(products=[brp], channel=Channel.ONLINE, booked_at=timezone.now())

    with transaction.atomic():
        hooks.emit(hooks.APPOINTMENT_BOOKED, online.pk)

    assert not Contact.objects.exists()
    assert "No contact channel 'internet'" in caplog.text


def test_a_walk_in_counts_once_at_the_counter_and_undo_takes_it_back(brp, django_user_model):
    desk = DeskFactory(products=[brp])
    user = django_user_model.objects.create_user("balie1")

    walk_in = staff_services.walk_in_register(actor=user, location=desk.location, products=[brp], served=True)

    contact = Contact.objects.get()
    assert (contact.channel.code, contact.outcome, contact.appointment_id) == ("balie", "answered", walk_in.pk)
    assert walk_in.status == AppointmentStatus.SERVED
    staff_services.appointment_undo_status(appointment=walk_in, actor=user)
    assert not Contact.objects.exists()


def test_an_online_completion_is_an_internet_contact(brp):
    nudge_logs.outcome_report(kind=OutcomeKind.COMPLETED_ONLINE, product=brp)

    contact = Contact.objects.get()
    assert (contact.channel.code, contact.outcome) == ("internet", ContactOutcome.COMPLETED_ONLINE)
    assert [p.code for p in contact.products.all()] == ["uittreksel-brp"]


def test_the_daily_roll_up_counts_per_day_channel_product_and_outcome(brp, passport):
    yesterday = timezone.now() - timedelta(days=1)
    contacts_import(rows=rows(3, moment=yesterday), source="csv")
    contacts_import(rows=rows(2, product="paspoort", channel="balie", prefix="b", moment=yesterday), source="csv")

    counts = selectors.contact_counts_per_day(date_from=timezone.localdate(yesterday), date_to=timezone.localdate())

    assert sorted((c.channel, c.product, c.contacts, c.handling_seconds) for c in counts) == [
        ("balie", "paspoort", 2, 580),
        ("telefoon", "uittreksel-brp", 3, 870),
    ]


PERSONAL = re.compile(r"name|naam|e_?mail|phone|telefoon|address|adres|postcode|ip_|_ip$|bsn|birth|geboorte")


def test_contact_records_hold_no_personal_data():
    """The contact itself: no field for a citizen's name, number, address or the like, and no
    link to the appointment row (which holds contact data until retention erases it)."""
    fields = [f for f in Contact._meta.get_fields() if f.concrete]
    assert [f.name for f in fields if PERSONAL.search(f.name)] == []
    related = {f.related_model._meta.label for f in fields if f.is_relation}
    assert related == {"nudges.ContactChannel", "booking.Product", "auth.User"}


def test_contacts_for_older_days_reach_the_cockpit_roll_ups(brp, django_capture_on_commit_callbacks):
    """The 15-minute roll-up covers yesterday and today; a batch for an older day (a CSV export
    caught up later) has its days rebuilt after commit, so the cockpit counts it."""
    from nudges.cockpit.rollups import rollups_refresh
    from nudges.models import DailyContactVolume

    rollups_refresh()
    long_ago = timezone.now() - timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contacts_import(rows=rows(4, moment=long_ago), source="csv")
    assert len(callbacks) == 1
    rolled = DailyContactVolume.objects.get(day=timezone.localdate(long_ago))
    assert (rolled.channel, rolled.product_code, rolled.contacts) == ("telefoon", "uittreksel-brp", 4)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contacts_import(rows=rows(2, prefix="today"), source="csv")
    assert callbacks == []  # today's contacts wait for the 15-minute job, as before
