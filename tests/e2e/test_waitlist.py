"""The waiting list in a real browser (phone-sized Chromium): join it from the booking's time
step, confirm the address with the e-mailed link (double opt-in), get the freed time of a cancelled appointment offered by e-mail, accept it, and see a
second accept told politely that the time has gone. Every page passes axe-core's WCAG 2.1
A/AA rules; each step is saved as a screenshot."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from booking.availability import availability_for_products
from booking.constants import AppointmentStatus
from booking.demo import seed_reference_data
from booking.models import Appointment, Location, Product
from booking.services import appointment_book, appointment_cancel
from nudges.models import WaitlistEntry, WaitlistStatus
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.waitlist.services import waitlist_entry_confirm, waitlist_join

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFER_LINK = re.compile(r"https?://\S+/wachtlijst/aanbod/[\w-]+/")
CONFIRM_LINK = re.compile(r"https?://\S+/wachtlijst/[\w-]+/bevestigen/")


@pytest.fixture(autouse=True)
def demo_municipality():
    seed_reference_data()


def visit(page, name: str) -> None:
    check_accessibility(page)
    screenshot(page, name)


def click(page, role: str, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=True).click()


def test_join_the_waiting_list_and_accept_a_freed_time(page, new_page, settings):
    settings.SITE_URL = page.base_url
    stadhuis = Location.objects.get(name="Stadhuis")
    passport = Product.objects.get(code="paspoort")
    today = timezone.localdate()
    slot = availability_for_products(
        products=[passport],
        persons=1,
        location_id=stadhuis.pk,
        date_from=today + timedelta(days=2),
        date_to=today + timedelta(days=16),
    )[0]
    someone_else = appointment_book(
        products=[passport],
        persons=1,
        location=stadhuis,
        start=slot.start,
        name="Vera Vrijgever",
        email="vera@example.nl",
    )

    # Through the booking flow to the time step, then "Zet u op de wachtlijst".
    page.goto(page.base_url + "/afspraak-maken/")
    page.get_by_label("Paspoort").check()
    click(page, "button", "Verder")
    page.get_by_label("Stadhuis").check()
    click(page, "button", "Verder")
    click(page, "link", "Zet u op de wachtlijst")
    expect(page.get_by_role("heading", level=1)).to_have_text("Op de wachtlijst")
    expect(page.get_by_label("Paspoort")).to_be_checked()
    visit(page, "waitlist-join")

    # A mistake first: the error is shown next to its field and in the summary.
    page.get_by_label("Naam", exact=True).fill("Noor Wachter")
    page.get_by_label("E-mailadres", exact=True).fill("noor@example.nl")
    click(page, "button", "Zet mij op de wachtlijst")
    expect(page.locator("#id_consent_error")).to_contain_text("Geef toestemming")
    expect(page.locator(".error-summary")).to_be_visible()
    visit(page, "waitlist-join-error")
    page.get_by_label(re.compile("^Ik wil een e-mail krijgen")).check()
    click(page, "button", "Zet mij op de wachtlijst")
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw e-mail")
    visit(page, "waitlist-joined")
    noor = WaitlistEntry.objects.get(email="noor@example.nl")
    assert noor.status == WaitlistStatus.UNCONFIRMED

    # Double opt-in: the link in the e-mail opens a page; only its button confirms.
    messages_dispatch_due()  # in case the immediate dispatch has not run yet
    (confirm_mail,) = [m for m in mail.outbox if m.to == ["noor@example.nl"]]
    page.goto(CONFIRM_LINK.search(confirm_mail.body).group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bevestig uw aanmelding voor de wachtlijst")
    visit(page, "waitlist-confirm")
    noor.refresh_from_db()
    assert noor.status == WaitlistStatus.UNCONFIRMED  # opening the link changed nothing
    click(page, "button", "Ja, bevestig mijn aanmelding")
    expect(page.get_by_role("heading", level=1)).to_have_text("U staat op de wachtlijst")
    expect(page.get_by_role("status")).to_contain_text("uw aanmelding is bevestigd")
    visit(page, "waitlist-confirmed")
    noor.refresh_from_db()
    assert noor.status == WaitlistStatus.ACTIVE
    rival = waitlist_join(products=[passport], persons=1, location=None, name="Sem Sneller", email="sem@example.nl")
    waitlist_entry_confirm(entry=rival)
    mail.outbox.clear()

    # Someone cancels: the time is held and offered; the outbox sends the e-mails at once.
    appointment_cancel(appointment=someone_else)
    messages_dispatch_due()  # in case the immediate dispatch has not run yet
    assert sorted(m.to[0] for m in mail.outbox) == ["noor@example.nl", "sem@example.nl"]
    (offer_mail,) = [m for m in mail.outbox if m.to == ["noor@example.nl"]]
    offer_url = OFFER_LINK.search(offer_mail.body).group(0)

    page.goto(offer_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Een eerdere tijd voor u")
    visit(page, "waitlist-offer")
    click(page, "button", "Ja, ik neem deze tijd")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw afspraak")
    expect(page.get_by_role("status")).to_contain_text("de eerdere tijd is van u")
    visit(page, "waitlist-accepted")
    booked = Appointment.objects.get(email="noor@example.nl")
    assert (booked.status, booked.start) == (AppointmentStatus.BOOKED, slot.start)
    noor.refresh_from_db()
    assert noor.status == WaitlistStatus.SERVED and noor.email == ""

    # The other person's link now says, politely, that the time has gone.
    rival_mail, taken_mail = [m for m in mail.outbox if m.to == ["sem@example.nl"]]
    assert "al vergeven" in taken_mail.subject
    other = new_page()
    other.goto(OFFER_LINK.search(rival_mail.body).group(0))
    expect(other.get_by_role("heading", level=1)).to_have_text("Deze tijd is al vergeven")
    visit(other, "waitlist-offer-gone")
    rival.refresh_from_db()
    assert rival.status == WaitlistStatus.ACTIVE
