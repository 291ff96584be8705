"""Waiting list: a cancelled time reaches the first matching people on the list (only those who
confirmed their address: double opt-in), one hold for all offers, the first accept gets it
(also when several race on PostgreSQL), the others are told it is gone; moving an existing
appointment is all or nothing; the pages (a join never reveals who waits), the e-mails through
the outbox, retention and the manager's figures."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from booking.availability import public_holidays
from booking.constants import AppointmentStatus
from booking.models import Appointment
from booking.retention import _steps as retention_steps
from booking.services import appointment_book, appointment_cancel
from nudges.constants import MessageKind, MessageStatus
from nudges.models import OfferStatus, ScheduledMessage, WaitlistEntry, WaitlistOffer, WaitlistStatus
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.tasks import dispatch_due_messages, waitlist_offers_for_freed_time
from nudges.waitlist.offers import OfferAlreadyAccepted, OfferGone, waitlist_offer_accept, waitlist_offers_make
from nudges.waitlist.report import waitlist_figures
from nudges.waitlist.selectors import offer_state
from nudges.waitlist.services import waitlist_entry_confirm, waitlist_erase_expired, waitlist_join, waitlist_leave
from tests.concurrency import race
from tests.factories import DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")


def working_day(min_days_ahead: int = 5):
    day = timezone.localdate() + timedelta(days=min_days_ahead)
    holidays = public_holidays(day, day + timedelta(days=14))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


DAY = working_day()
LATER_DAY = working_day(12)


def at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture
def paspoort():
    return ProductFactory(code="paspoort-wl", name_nl="Paspoort", name_en="Passport", minutes_per_person=15)


@pytest.fixture
def uittreksel():
    return ProductFactory(code="brp-wl", name_nl="Uittreksel BRP", name_en="BRP extract", minutes_per_person=10)


@pytest.fixture
def rijbewijs():
    return ProductFactory(code="rijbewijs-wl", name_nl="Rijbewijs", name_en="Driving licence", minutes_per_person=10)


@pytest.fixture
def stadhuis(paspoort, uittreksel):
    location = LocationFactory(name="Stadhuis WL", street="Markt 1", postcode="1234 AB", city="Voorbeeldstad")
    DeskFactory(location=location, name="Balie 1", products=[paspoort, uittreksel])
    return location


@pytest.fixture
def noord(paspoort, uittreksel, rijbewijs):
    location = LocationFactory(name="Noord WL")
    DeskFactory(location=location, name="Balie A", products=[paspoort, uittreksel, rijbewijs])
    return location


def book(location, start, *products, email="vrijgever@example.nl", persons=1, name="Vera Vrijgever"):
    return appointment_book(
        products=list(products), persons=persons, location=location, start=start, name=name, email=email
    )


def confirmed(entry, now=None):
    """The owner used the link in the confirmation e-mail (double opt-in)."""
    entry = waitlist_entry_confirm(entry=entry, now=now)
    assert entry.status == WaitlistStatus.ACTIVE
    return entry


def join_unconfirmed(products, *, location=None, email, persons=1, language="nl", **extra):
    return waitlist_join(
        products=products,
        persons=persons,
        location=location,
        name=f"Wachtende {email.split('@')[0]}",
        email=email,
        language=language,
        **extra,
    )


def join(products, **kwargs):
    """Join and confirm: an active entry, as the owner of the address would have."""
    return confirmed(join_unconfirmed(products, **kwargs), now=kwargs.get("now"))


def holds():
    return Appointment.objects.filter(status=AppointmentStatus.HELD)


def outbox(kind):
    return ScheduledMessage.objects.filter(kind=kind)


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    """Cancel through booking's service and run the after-commit hooks (the waiting list)."""

    def run(appointment):
        with django_capture_on_commit_callbacks(execute=True):
            appointment_cancel(appointment=appointment)
        return list(WaitlistOffer.objects.filter(freed_appointment_id=appointment.pk).order_by("pk"))

    return run


# --- a freed time reaches the list ----------------------------------------------------------


@pytest.mark.django_db
def test_cancel_offers_the_time_to_the_first_matching_entries_only(
    settings, cancel, stadhuis, noord, paspoort, uittreksel, rijbewijs
):
    settings.NUDGES_WAITLIST_OFFERS_PER_SLOT = 2
    freed = book(stadhuis, at(10), paspoort)  # 15 minutes at the Stadhuis
    not_served_here = join([rijbewijs], email="rijbewijs@example.nl")
    other_location = join([paspoort], location=noord, email="noord@example.nl")
    too_late = join([paspoort], email="laat@example.nl", wanted_before=at(9, 30))
    too_long = join([paspoort], email="twee@example.nl", persons=2)
    first = join([uittreksel], email="eerste@example.nl")  # 10 minutes fit in 15
    second = join([paspoort], location=stadhuis, email="tweede@example.nl")
    third = join([paspoort], email="derde@example.nl")

    offers = cancel(freed)

    assert [o.entry for o in offers] == [first, second]
    (hold,) = holds()
    assert (hold.start, hold.end) == (at(10), at(10, 15))
    assert {o.hold_id for o in offers} == {hold.pk}
    expected_expiry = timezone.now() + timedelta(minutes=settings.NUDGES_WAITLIST_HOLD_MINUTES)
    assert abs((hold.hold_expires_at - expected_expiry).total_seconds()) < 60
    assert all(o.hold_expires_at == hold.hold_expires_at for o in offers)
    assert sorted(outbox(MessageKind.WAITLIST_OFFER).values_list("waitlist_offer_id", flat=True)) == [
        o.pk for o in offers
    ]
    for entry in (not_served_here, other_location, too_late, too_long, third):
        assert not entry.offers.exists()


@pytest.mark.django_db
def test_a_freed_time_is_offered_once_and_nobody_waiting_means_no_hold(cancel, stadhuis, paspoort, uittreksel):
    lonely = book(stadhuis, at(11), paspoort, email="alleen@example.nl")
    assert cancel(lonely) == []
    assert not holds().exists()

    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="wachter@example.nl")
    assert len(cancel(freed)) == 1
    assert waitlist_offers_make(freed_appointment_id=freed.pk) == []  # the hook ran twice
    assert waitlist_offers_for_freed_time(freed.pk) == 0  # so did its task
    assert holds().count() == 1 and WaitlistOffer.objects.count() == 1


@pytest.mark.django_db
def test_the_cancel_only_queues_the_offers_and_they_are_made_after_commit(
    django_capture_on_commit_callbacks, stadhuis, paspoort
):
    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="wachter@example.nl")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment_cancel(appointment=freed)
    assert not WaitlistOffer.objects.exists() and not holds().exists()  # nothing in the request itself
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:  # the commit: the hook queues the task (eager in tests), it runs
            callback()
    assert WaitlistOffer.objects.filter(freed_appointment_id=freed.pk).count() == 1


@pytest.mark.django_db
def test_unconfirmed_entries_get_no_offers(cancel, stadhuis, paspoort):
    unconfirmed = join_unconfirmed([paspoort], email="onbevestigd@example.nl")
    freed = book(stadhuis, at(10), paspoort)
    assert cancel(freed) == []
    assert not holds().exists()

    confirmed(unconfirmed)
    later = book(stadhuis, at(11), paspoort)
    assert [o.entry for o in cancel(later)] == [unconfirmed]


@pytest.mark.django_db
def test_an_entry_with_an_open_offer_is_not_offered_a_second_time_at_once(cancel, stadhuis, paspoort):
    one, two = book(stadhuis, at(10), paspoort, email="a@example.nl"), book(stadhuis, at(11), paspoort)
    busy = join([paspoort], email="druk@example.nl")
    waiting = join([paspoort], email="wacht@example.nl")
    assert [o.entry for o in cancel(one)] == [busy, waiting]
    assert cancel(two) == []  # both still have an open offer; the second time stays free


@pytest.mark.django_db
def test_no_offer_when_the_time_is_too_close_to_be_booked(stadhuis, paspoort):
    paspoort.min_notice_minutes = 60
    paspoort.save()
    freed = book(stadhuis, at(10), paspoort)
    Appointment.objects.filter(pk=freed.pk).update(status=AppointmentStatus.CANCELLED)
    join([paspoort], email="wachter@example.nl")
    # Two minutes before the notice runs out: not worth a hold nobody could answer in time.
    assert waitlist_offers_make(freed_appointment_id=freed.pk, now=at(8, 58)) == []
    assert not holds().exists()
    assert len(waitlist_offers_make(freed_appointment_id=freed.pk, now=at(8, 0))) == 1


# --- accepting ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_accept_books_the_held_time_and_the_others_are_told_it_is_gone(
    cancel, stadhuis, paspoort, uittreksel
):
    freed = book(stadhuis, at(10), paspoort)
    winner = join([uittreksel], email="winnaar@example.nl", language="en")
    loser = join([paspoort], email="verliezer@example.nl")
    mine, theirs = cancel(freed)

    appointment = waitlist_offer_accept(offer=mine)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert (appointment.start, appointment.end) == (at(10), at(10, 10))  # the entry's own product
    assert list(appointment.products.all()) == [uittreksel]
    assert (appointment.email, appointment.language) == ("winnaar@example.nl", "en")
    assert not holds().exists()  # the hold became the booking
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert (mine.status, mine.appointment_id) == (OfferStatus.ACCEPTED, appointment.pk)
    assert theirs.status == OfferStatus.GONE
    assert list(outbox(MessageKind.WAITLIST_TAKEN).values_list("waitlist_offer_id", flat=True)) == [theirs.pk]
    winner.refresh_from_db(), loser.refresh_from_db()
    assert (winner.status, winner.name, winner.email) == (WaitlistStatus.SERVED, "", "")
    assert loser.status == WaitlistStatus.ACTIVE and loser.email == "verliezer@example.nl"

    with pytest.raises(OfferGone):
        waitlist_offer_accept(offer=theirs)
    with pytest.raises(OfferAlreadyAccepted):
        waitlist_offer_accept(offer=mine)
    assert Appointment.objects.filter(start=at(10), status=AppointmentStatus.BOOKED).count() == 1


@pytest.mark.django_db
def test_an_accept_after_the_hold_ran_out_is_gone_and_keeps_the_person_on_the_list(cancel, stadhuis, paspoort):
    freed = book(stadhuis, at(10), paspoort)
    entry = join([paspoort], email="te-laat@example.nl")
    (offer,) = cancel(freed)

    with pytest.raises(OfferGone):
        waitlist_offer_accept(offer=offer, now=offer.hold_expires_at + timedelta(seconds=1))

    offer.refresh_from_db(), entry.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert entry.status == WaitlistStatus.ACTIVE
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED).exists()


@pytest.mark.django_db
def test_open_offers_count_as_expired_once_their_hold_has_run_out(cancel, stadhuis, paspoort):
    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="wacht@example.nl")
    (offer,) = cancel(freed)
    assert offer_state(offer) == OfferStatus.OFFERED
    assert offer_state(offer, now=offer.hold_expires_at) == OfferStatus.EXPIRED


@pytest.mark.django_db
def test_accepting_moves_an_existing_appointment_and_offers_its_old_time_onwards(
    cancel, django_capture_on_commit_callbacks, stadhuis, paspoort
):
    current = book(stadhuis, at(14, 0, LATER_DAY), paspoort, email="verzetter@example.nl", name="Ruben Verzet")
    mover = confirmed(
        waitlist_join(products=[], persons=1, location=None, name="", email=current.email, appointment=current)
    )
    assert mover.wanted_before == current.start
    next_in_line = join([paspoort], email="volgende@example.nl")
    freed = book(stadhuis, at(10), paspoort)
    offers = cancel(freed)
    mine = next(o for o in offers if o.entry == mover)

    with django_capture_on_commit_callbacks(execute=True):
        moved = waitlist_offer_accept(offer=mine)

    current.refresh_from_db()
    assert current.status == AppointmentStatus.CANCELLED
    assert (moved.status, moved.start, moved.name, moved.email) == (
        AppointmentStatus.BOOKED,
        at(10),
        "Ruben Verzet",
        "verzetter@example.nl",
    )
    # The old time was freed in turn: it reaches the next person waiting.
    old_time = WaitlistOffer.objects.get(freed_appointment_id=current.pk)
    assert (old_time.entry, old_time.start) == (next_in_line, current.start)
    # A move, not a cancellation: the audit trail says why (and the experiments skip it).
    from booking.constants import CancelReason
    from booking.selectors import appointment_cancellation

    assert appointment_cancellation(current.pk).reason == CancelReason.MOVED_EARLIER


@pytest.mark.django_db
def test_a_move_that_cannot_be_booked_changes_nothing(settings, cancel, stadhuis, noord, paspoort):
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = 1
    current = book(stadhuis, at(14, 0, LATER_DAY), paspoort, email="dubbel@example.nl")
    mover = confirmed(
        waitlist_join(products=[], persons=1, location=None, name="", email=current.email, appointment=current)
    )
    # Booked since, elsewhere, with the same address: after cancelling the current one the
    # limit still refuses the new booking, so the cancel must be undone too.
    Appointment.objects.filter(pk=book(noord, at(15, 0, LATER_DAY), paspoort, email="x@example.nl").pk).update(
        email=current.email, email_key=current.email_key
    )
    freed = book(stadhuis, at(10), paspoort)
    (offer,) = cancel(freed)

    with pytest.raises(OfferGone) as refused:
        waitlist_offer_accept(offer=offer)

    assert "al een afspraak" in str(refused.value.message)
    current.refresh_from_db(), offer.refresh_from_db(), mover.refresh_from_db()
    assert current.status == AppointmentStatus.BOOKED and current.start == at(14, 0, LATER_DAY)
    assert offer.status == OfferStatus.OFFERED and mover.status == WaitlistStatus.ACTIVE
    (hold,) = holds()
    assert hold.pk == offer.hold_id  # the time stays held for the others


@pytest.mark.django_db
def test_someone_who_left_cannot_accept(cancel, stadhuis, paspoort):
    freed = book(stadhuis, at(10), paspoort)
    entry = join([paspoort], email="weg@example.nl")
    (offer,) = cancel(freed)
    waitlist_leave(entry=entry)
    entry.refresh_from_db()
    assert (entry.status, entry.name, entry.email) == (WaitlistStatus.LEFT, "", "")
    with pytest.raises(OfferGone):
        waitlist_offer_accept(offer=offer)


# --- a real race ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_accepts_give_exactly_one_booking(settings, stadhuis, paspoort, uittreksel):
    settings.NUDGES_WAITLIST_OFFERS_PER_SLOT = 6
    entries = [join([paspoort if i % 2 else uittreksel], email=f"racer{i}@example.nl") for i in range(6)]
    freed = book(stadhuis, at(10), paspoort)
    appointment_cancel(appointment=freed)  # commits: the hook makes the offers for real
    offers = list(WaitlistOffer.objects.filter(freed_appointment_id=freed.pk).order_by("pk"))
    assert [o.entry_id for o in offers] == [e.pk for e in entries]

    outcomes = race(len(offers), lambda i: waitlist_offer_accept(offer=offers[i]))

    kinds = Counter("booked" if isinstance(o, Appointment) else type(o).__name__ for o in outcomes)
    assert kinds == {"booked": 1, "OfferGone": 5}, outcomes
    (won,) = [o for o in outcomes if isinstance(o, Appointment)]
    booked = Appointment.objects.filter(start__lt=at(10, 15), end__gt=at(10), status=AppointmentStatus.BOOKED)
    assert list(booked.values_list("pk", flat=True)) == [won.pk]
    assert not holds().exists()
    statuses = Counter(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == {OfferStatus.ACCEPTED: 1, OfferStatus.GONE: 5}
    assert outbox(MessageKind.WAITLIST_TAKEN).count() == 5
    assert Counter(WaitlistEntry.objects.values_list("status", flat=True)) == {
        WaitlistStatus.SERVED: 1,
        WaitlistStatus.ACTIVE: 5,
    }


# --- e-mails through the outbox ---------------------------------------------------------------


@pytest.mark.django_db
def test_offer_emails_go_out_in_each_persons_language_with_their_link(settings, cancel, stadhuis, paspoort):
    settings.SITE_URL = "https://afspraken.example.nl"
    freed = book(stadhuis, at(10), paspoort)
    dutch = join([paspoort], email="nl@example.nl")
    english = join([paspoort], email="en@example.nl", language="en")
    nl_offer, en_offer = cancel(freed)
    messages_dispatch_due()  # if the immediate dispatch after the cancel has not sent them yet

    assert len(mail.outbox) == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    nl_mail, en_mail = by_address["nl@example.nl"], by_address["en@example.nl"]
    assert "Eerder terecht" in nl_mail.subject and "Beste Wachtende nl" in nl_mail.body
    assert f"https://afspraken.example.nl/wachtlijst/aanbod/{nl_offer.token}/" in nl_mail.body
    assert f"https://afspraken.example.nl/wachtlijst/{dutch.token}/afmelden/" in nl_mail.body
    assert "Stadhuis WL" in nl_mail.body and "Paspoort" in nl_mail.body
    # The English e-mail: the product's English name (the wording follows the locale files).
    assert en_offer.token in en_mail.body and "Passport" in en_mail.body and "Paspoort" not in en_mail.body
    assert nl_offer.token not in en_mail.body and english.token in en_mail.body
    assert en_mail.alternatives and en_offer.token in en_mail.alternatives[0][0]


@pytest.mark.django_db
def test_the_taken_email_goes_only_to_people_whose_offer_was_sent(settings, cancel, stadhuis, paspoort, monkeypatch):
    settings.NUDGES_WAITLIST_OFFERS_PER_SLOT = 2
    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="winnaar@example.nl")
    loser = join([paspoort], email="verliezer@example.nl")
    join([paspoort], email="snel@example.nl")
    join([paspoort], email="traag@example.nl")
    first, second = cancel(freed)
    messages_dispatch_due()  # both offers go out
    mail.outbox.clear()
    waitlist_offer_accept(offer=first)

    assert messages_dispatch_due() == 2  # the winner's confirmation and the loser's "taken"
    confirmation, taken = sorted(mail.outbox, key=lambda m: "al vergeven" in m.subject)
    assert confirmation.to == ["winnaar@example.nl"] and confirmation.attachments
    assert taken.to == ["verliezer@example.nl"]
    assert "al vergeven" in taken.subject and "U blijft op de wachtlijst" in taken.body

    # An offer taken before its e-mail went out (the immediate dispatch was slow): neither
    # e-mail is sent.
    monkeypatch.setattr(dispatch_due_messages, "delay", lambda: None)
    freed = book(stadhuis, at(11), paspoort, email="ander@example.nl")
    waitlist_leave(entry=loser)
    quick, slow = cancel(freed)
    assert [quick.entry.email, slow.entry.email] == ["snel@example.nl", "traag@example.nl"]
    waitlist_offer_accept(offer=quick)
    mail.outbox.clear()
    messages_dispatch_due()
    assert [m.to for m in mail.outbox] == [["snel@example.nl"]]  # the winner's confirmation only
    assert set(ScheduledMessage.objects.filter(waitlist_offer=slow).values_list("kind", "status")) == {
        (MessageKind.WAITLIST_OFFER, MessageStatus.CANCELLED),
        (MessageKind.WAITLIST_TAKEN, MessageStatus.CANCELLED),
    }


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_join_page_shows_errors_next_to_the_fields_and_creates_nothing(client, stadhuis, paspoort):
    response = client.post(
        reverse("nudges:waitlist-join"),
        {"persons": "1", "location": "elke", "name": "", "email": "geen-adres", "wanted_before": "2001-01-01"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page
    for field, text in (
        ("products", "Kies ten minste één product."),
        ("name", "Vul uw naam in."),
        ("email", "Vul een geldig e-mailadres in"),
        ("wanted_before", "Kies vandaag of een dag in de toekomst."),
        ("consent", "Geef toestemming"),
    ):
        assert f'id="id_{field}_error"' in page, field
        assert text in page, field
    assert not WaitlistEntry.objects.exists()


def neutral(page):
    """A page without its per-request CSRF token, to compare two answers."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


@pytest.mark.django_db
def test_join_confirm_leave_and_a_second_join_with_the_same_address(client, stadhuis, paspoort, uittreksel):
    form = client.get(reverse("nudges:waitlist-join") + f"?product={paspoort.code}&vestiging={stadhuis.pk}&personen=2")
    page = form.content.decode()
    assert form.status_code == 200
    assert f'value="{paspoort.code}"' in page and "checked" in page
    data = {
        "products": [paspoort.code],
        "persons": "1",
        "location": str(stadhuis.pk),
        "wanted_before": (DAY + timedelta(days=3)).isoformat(),
        "name": " Anouk  de Vries ",
        "email": "Anouk@Example.nl",
        "consent": "on",
    }
    response = client.post(reverse("nudges:waitlist-join"), data)

    entry = WaitlistEntry.objects.get()
    joined = response.content.decode()
    assert response.status_code == 200 and "Controleer uw e-mail" in joined
    assert "Klik op de link" in joined and "bevestigen" in joined
    assert entry.token not in joined  # only the owner of the address gets the entry's links
    assert (entry.status, entry.name, entry.email, entry.location, entry.persons) == (
        WaitlistStatus.UNCONFIRMED,
        "Anouk de Vries",
        "anouk@example.nl",
        stadhuis,
        1,
    )
    assert entry.wanted_before == datetime.combine(DAY + timedelta(days=4), time(0), tzinfo=AMS)
    assert len(entry.token) >= 32
    assert list(outbox(MessageKind.WAITLIST_CONFIRM).values_list("waitlist_entry_id", flat=True)) == [entry.pk]

    # The same address again (for a product it already waits for): the same answer, nothing
    # new, and not a word about what the address waits for.
    again = client.post(reverse("nudges:waitlist-join"), data).content.decode()
    assert neutral(again) == neutral(joined)
    assert "Paspoort" not in again and "id_products_error" not in again
    assert WaitlistEntry.objects.count() == 1 and outbox(MessageKind.WAITLIST_CONFIRM).count() == 1

    # The confirm link: opening it changes nothing (mail scanners), the button confirms.
    confirm_url = reverse("nudges:waitlist-confirm", args=[entry.token])
    page = client.get(confirm_url)
    assert page.status_code == 200 and "Ja, bevestig mijn aanmelding" in page.content.decode()
    assert f'action="{confirm_url}"' in page.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.UNCONFIRMED
    entry_url = reverse("nudges:waitlist-entry", args=[entry.token])
    assert "nog niet bevestigd" in client.get(entry_url).content.decode()
    confirmed_response = client.post(confirm_url)
    assert confirmed_response.status_code == 302 and confirmed_response["Location"] == entry_url
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.ACTIVE
    confirmation = client.get(entry_url).content.decode()
    assert "U staat op de wachtlijst" in confirmation and "uw aanmelding is bevestigd" in confirmation
    assert reverse("nudges:waitlist-leave", args=[entry.token]) in confirmation
    # Twice is harmless; a confirmed entry's link shows "you are on the list".
    assert client.post(confirm_url).status_code == 302
    assert "U staat op de wachtlijst" in client.get(confirm_url, follow=True).content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.ACTIVE

    # Also neutral for a confirmed entry, and for a join that overlaps in one product only.
    data["products"] = [paspoort.code, uittreksel.code]
    assert neutral(client.post(reverse("nudges:waitlist-join"), data).content.decode()) == neutral(joined)
    assert WaitlistEntry.objects.count() == 1

    leave_url = reverse("nudges:waitlist-leave", args=[entry.token])
    assert "Wilt u zich afmelden" in client.get(leave_url).content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.ACTIVE  # opening the link changes nothing
    assert client.post(leave_url).status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.name, entry.email) == (WaitlistStatus.LEFT, "", "")
    assert "U staat niet meer op de wachtlijst" in client.get(entry_url).content.decode()
    assert client.post(confirm_url).status_code == 302  # a confirm after leaving changes nothing
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.LEFT
    assert client.get(reverse("nudges:waitlist-leave", args=["onbekend"])).status_code == 404
    assert client.get(reverse("nudges:waitlist-confirm", args=["onbekend"])).status_code == 404

    # Having left, the address can join again: a new, unconfirmed entry.
    client.post(reverse("nudges:waitlist-join"), data)
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.UNCONFIRMED).count() == 1


@pytest.mark.django_db
def test_an_unconfirmed_entry_can_be_removed_by_whoever_got_the_email(client, stadhuis, paspoort):
    entry = join_unconfirmed([paspoort], email="niet-ik@example.nl")
    assert client.post(reverse("nudges:waitlist-leave", args=[entry.token])).status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.name, entry.email) == (WaitlistStatus.LEFT, "", "")


@pytest.mark.django_db
def test_a_confirm_link_used_after_48_hours_ends_the_entry(stadhuis, paspoort):
    now = timezone.now()
    entry = join_unconfirmed([paspoort], email="traag@example.nl", now=now - timedelta(hours=49))
    entry = waitlist_entry_confirm(entry=entry, now=now)
    assert (entry.status, entry.name, entry.email) == (WaitlistStatus.EXPIRED, "", "")


@pytest.mark.django_db
def test_the_confirm_email_goes_out_through_the_outbox_with_its_link(settings, stadhuis, paspoort, monkeypatch):
    settings.SITE_URL = "https://afspraken.example.nl"
    monkeypatch.setattr(dispatch_due_messages, "delay", lambda: None)  # only the explicit run below sends
    entry = join_unconfirmed([paspoort], email="bevestig@example.nl")
    english = join_unconfirmed([paspoort], email="confirm@example.nl", language="en")
    confirmed(english)  # confirmed before its e-mail went out: that e-mail is dropped

    assert messages_dispatch_due() == 1
    (message,) = mail.outbox
    assert message.to == ["bevestig@example.nl"]
    assert "Bevestig uw aanmelding" in message.subject
    # Not confirmed yet: the name typed with the address never goes to it.
    assert "Beste inwoner," in message.body and "Wachtende" not in message.body and "Paspoort" in message.body
    assert "Wachtende" not in message.alternatives[0][0]
    assert f"https://afspraken.example.nl/wachtlijst/{entry.token}/bevestigen/" in message.body
    assert f"https://afspraken.example.nl/wachtlijst/{entry.token}/afmelden/" in message.body
    assert message.alternatives and f"/wachtlijst/{entry.token}/bevestigen/" in message.alternatives[0][0]
    assert set(outbox(MessageKind.WAITLIST_CONFIRM).values_list("waitlist_entry_id", "status")) == {
        (entry.pk, MessageStatus.SENT),
        (english.pk, MessageStatus.CANCELLED),
    }
    assert messages_dispatch_due() == 0  # sent once


@pytest.mark.django_db
def test_join_from_the_manage_page_links_the_appointment(client, stadhuis, paspoort):
    current = book(stadhuis, at(14, 0, LATER_DAY), paspoort, email="verzetter@example.nl")
    manage = client.get(reverse("booking:manage", args=[current.manage_token])).content.decode()
    url = reverse("nudges:waitlist-appointment", args=[current.manage_token])
    assert url in manage and "Eerder terecht?" in manage

    form = client.get(url).content.decode()
    assert current.reference in form and 'value="verzetter@example.nl"' in form
    assert 'name="products"' not in form  # the appointment decides what for
    response = client.post(url, {"location": "elke", "email": current.email, "wanted_before": "", "consent": "on"})

    entry = WaitlistEntry.objects.get()
    assert response.status_code == 200 and "Controleer uw e-mail" in response.content.decode()
    assert entry.status == WaitlistStatus.UNCONFIRMED  # the address is confirmed here too
    assert (entry.appointment_id, entry.wanted_before, entry.location) == (current.pk, current.start, None)
    assert list(entry.products.all()) == [paspoort] and entry.name == current.name
    assert client.get(reverse("nudges:waitlist-appointment", args=["onbekend"])).status_code == 404


@pytest.mark.django_db
def test_the_time_step_links_to_the_waiting_list(client, stadhuis, paspoort):
    client.post("/afspraak-maken/", {"products": [paspoort.code], "persons": 2})
    client.post("/afspraak-maken/vestiging/", {"location": stadhuis.pk})
    page = client.get("/afspraak-maken/tijd/").content.decode()
    assert "Geen geschikte tijd?" in page
    assert f"/wachtlijst/?product={paspoort.code}&amp;vestiging={stadhuis.pk}&amp;personen=2" in page


@pytest.mark.django_db
def test_the_offer_page_shows_the_time_and_only_a_post_accepts(client, cancel, stadhuis, paspoort):
    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="snel@example.nl")
    join([paspoort], email="traag@example.nl")
    quick, slow = cancel(freed)
    url = reverse("nudges:waitlist-offer", args=[quick.token])

    page = client.get(url).content.decode()
    assert "Een eerdere tijd voor u" in page and "10:00" in page and "Stadhuis WL" in page
    assert f'action="{url}"' in page
    quick.refresh_from_db()
    assert quick.status == OfferStatus.OFFERED  # opening the link changed nothing

    response = client.post(url)
    appointment = Appointment.objects.get(status=AppointmentStatus.BOOKED, email="snel@example.nl")
    assert response.status_code == 302
    assert response["Location"] == reverse("booking:manage", args=[appointment.manage_token])
    assert "de eerdere tijd is van u" in client.get(response["Location"]).content.decode()

    again = client.post(url)
    assert again.status_code == 200 and "U heeft deze tijd al aangenomen" in again.content.decode()
    too_late = client.post(reverse("nudges:waitlist-offer", args=[slow.token]))
    assert too_late.status_code == 200
    assert "Deze tijd is al vergeven" in too_late.content.decode()
    assert "U blijft op de wachtlijst" in too_late.content.decode()
    assert client.get(reverse("nudges:waitlist-offer", args=["x" * 32])).status_code == 404


# --- retention and figures --------------------------------------------------------------------


@pytest.mark.django_db
def test_entries_whose_wish_has_passed_or_never_confirmed_end_with_their_contact_data(
    settings, stadhuis, noord, paspoort, uittreksel, rijbewijs
):
    now = timezone.now()
    passed = join([paspoort], email="voorbij@example.nl", wanted_before=now + timedelta(days=1), now=now)
    old = join([uittreksel], email="oud@example.nl", now=now - timedelta(days=settings.NUDGES_WAITLIST_MAX_DAYS + 1))
    waiting = join([paspoort], email="wacht@example.nl")
    later = now + timedelta(days=2)
    never_confirmed = join_unconfirmed([rijbewijs], email="nooit@example.nl", now=later - timedelta(hours=49))
    not_yet_confirmed = join_unconfirmed([rijbewijs], email="straks@example.nl", now=later - timedelta(hours=47))

    assert waitlist_erase_expired(cutoff=later, dry_run=True, now=later) == 3
    assert waitlist_erase_expired(cutoff=later, now=later) == 3
    assert waitlist_erase_expired(cutoff=later, now=later) == 0  # idempotent
    for entry in (passed, old, never_confirmed):
        entry.refresh_from_db()
        assert (entry.status, entry.name, entry.email) == (WaitlistStatus.EXPIRED, "", "")
    waiting.refresh_from_db(), not_yet_confirmed.refresh_from_db()
    assert waiting.status == WaitlistStatus.ACTIVE and waiting.email
    assert not_yet_confirmed.status == WaitlistStatus.UNCONFIRMED and not_yet_confirmed.email
    assert retention_steps["waitlist_entries"] is waitlist_erase_expired


@pytest.mark.django_db
def test_manager_figures_per_product(client, django_user_model, cancel, stadhuis, paspoort, uittreksel):
    freed = book(stadhuis, at(10), paspoort)
    join([paspoort], email="a@example.nl")
    join([paspoort], email="b@example.nl")
    join([uittreksel], email="c@example.nl")
    first, second, third = cancel(freed)
    waitlist_offer_accept(offer=second, now=second.offered_at + timedelta(minutes=12))

    rows, total = waitlist_figures()
    by_label = {row.label: row for row in rows}
    passport_row = by_label["Paspoort"]
    assert (passport_row.waiting, passport_row.offers, passport_row.accepted, passport_row.gone) == (1, 2, 1, 1)
    assert passport_row.acceptance_rate == 0.5
    assert passport_row.median_minutes_to_accept == pytest.approx(12)
    assert (by_label["Uittreksel BRP"].waiting, by_label["Uittreksel BRP"].gone) == (1, 1)
    assert (total.waiting, total.offers, total.accepted, total.gone, total.expired) == (2, 3, 1, 2, 0)

    later, _ = waitlist_figures(now=timezone.now() + timedelta(days=1))
    assert all(row.open == 0 for row in later)

    url = reverse("nudges:manager-waitlist")
    assert client.get(url).status_code == 302  # to the login page
    from django.contrib.auth.models import Group

    from nudges.roles import nudges_roles_ensure

    nudges_roles_ensure()
    manager = django_user_model.objects.create_user("mila-wl", password="pw-geheim-123")
    manager.groups.add(Group.objects.get(name="Manager"))
    client.force_login(manager)
    page = client.get(url).content.decode()
    assert "Wachtlijst" in page and "Paspoort" in page and "50%" in page and "12 min" in page


@pytest.mark.django_db
def test_a_location_that_does_not_serve_the_product_is_refused_next_to_its_field(client, stadhuis, noord, rijbewijs):
    response = client.post(
        reverse("nudges:waitlist-join"),
        {
            "products": [rijbewijs.code],
            "persons": "1",
            "location": str(stadhuis.pk),
            "name": "Sem",
            "email": "sem@example.nl",
            "consent": "on",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_location_error"' in page and "Bij deze vestiging kunnen deze producten niet samen" in page
    assert not WaitlistEntry.objects.exists()


@pytest.mark.django_db
def test_the_demo_waiting_list_holds_confirmed_people():
    from booking.demo import seed_reference_data
    from nudges.waitlist.demo import WAITLIST, seed_waitlist

    seed_reference_data()
    assert seed_waitlist(now=timezone.now()) == len(WAITLIST)
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.ACTIVE}
    assert seed_waitlist(now=timezone.now()) == 0  # seeded once
