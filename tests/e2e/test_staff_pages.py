"""The staff pages in a real browser (tablet-sized Chromium), logged in through the login page
as the demo roles: a check-in and checkout at the desk, a walk-in, a booking by phone, and a
closure that cancels the appointments it hits and e-mails each citizen. Every page passes
axe-core's WCAG 2.1 A/AA rules; each step is saved as a screenshot.

The clock is fixed at Wednesday 16 January 2030, 10:02 in Amsterdam (an ordinary working day),
so the desk's "today" and the free times do not depend on when the suite runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from booking.availability import availability_for_products
from booking.constants import AppointmentAction, AppointmentStatus, Channel
from booking.demo import seed_reference_data
from booking.models import Appointment, AppointmentEvent, Location, Product
from booking.services import appointment_book
from booking.staff.demo import DEMO_PASSWORD, seed_staff_users

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMS = ZoneInfo("Europe/Amsterdam")
TODAY = date(2030, 1, 16)  # a Wednesday
NOW = datetime.combine(TODAY, time(10, 2), tzinfo=AMS)
TABLET = {"width": 1024, "height": 768}


@pytest.fixture(autouse=True)
def demo(monkeypatch):
    """The demo municipality and staff accounts, on a fixed clock (shared with the live server:
    it runs in a thread of this process)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(ZoneInfo("UTC")))
    seed_reference_data(valid_from=date(2029, 1, 1))
    seed_staff_users()


def at(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def book(code: str, start: datetime, *, location: str = "Stadhuis", email: str = "anouk@example.nl", **extra):
    return appointment_book(
        products=[Product.objects.get(code=code)],
        persons=1,
        location=Location.objects.get(name=location),
        start=start,
        name=extra.pop("name", "Anouk de Vries"),
        email=email,
        now=at(7),
        **extra,
    )


def log_in(new_page, username: str):
    page = new_page(viewport=TABLET)
    page.goto(page.base_url + "/medewerkers/")
    expect(page).to_have_title(re.compile("^Inloggen"))
    check_accessibility(page)
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medewerkers Burgerzaken")
    return page


def visit(page, name: str) -> None:
    check_accessibility(page)
    screenshot(page, name)


def row(page, appointment: Appointment):
    return page.locator(f"#afspraak-{appointment.reference}")


def test_desk_checks_in_and_serves_with_the_online_tag(new_page):
    appointment = book("uittreksel-brp", at(10, 30))
    page = log_in(new_page, "balie")

    page.get_by_role("link", name="Dagbord").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("woensdag 16 januari 2030 (vandaag)")
    card = row(page, appointment)
    expect(card).to_contain_text("Anouk de Vries")
    expect(card).to_contain_text("Uittreksel BRP")
    expect(card.locator(".status")).to_have_text("Geboekt")
    visit(page, "staff-board")

    card.get_by_role("button", name=re.compile("^Aanmelden")).click()
    expect(page.get_by_role("status")).to_contain_text(f"{appointment.reference} is aangemeld.")
    card = row(page, appointment)
    expect(card.locator(".status")).to_have_text("Aangemeld")

    # Served, with the keyboard only: open the tag form, choose "Gedeeltelijk" and a reason.
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    card.get_by_label("Gedeeltelijk").check()
    card.get_by_label(re.compile("^Reden")).select_option("no_digid")
    visit(page, "staff-board-served-tag")
    card.get_by_role("button", name=re.compile("^Afronden als geholpen")).focus()
    page.keyboard.press("Enter")

    expect(row(page, appointment).locator(".status")).to_have_text("Geholpen")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SERVED
    assert (appointment.online_possible, appointment.online_reason) == ("partly", "no_digid")
    actions = list(appointment.events.values_list("action", "actor__username"))
    assert actions[-2:] == [(AppointmentAction.CHECKED_IN, "balie"), (AppointmentAction.SERVED, "balie")]

    # The appointment page shows the audit trail.
    row(page, appointment).get_by_role("link", name="Anouk de Vries").click()
    expect(page.get_by_role("heading", name="Geschiedenis")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Bente (balie)")
    visit(page, "staff-appointment")


def test_walk_in_is_placed_at_the_first_free_desk_time(new_page):
    brp = Product.objects.get(code="uittreksel-brp")
    # Balies 1 and 2 (the first desks that serve a BRP extract) are busy from 10:10.
    assert book("paspoort", at(10, 10), email="a@example.nl").desk.name == "Balie 1"
    assert book("paspoort", at(10, 10), email="b@example.nl").desk.name == "Balie 2"
    page = log_in(new_page, "balie")
    page.goto(page.base_url + "/medewerkers/balie/")

    page.get_by_text("Inloop registreren").click()
    page.get_by_label("Product").select_option(str(brp.pk))
    page.get_by_label("Naam").fill("Sem Bakker")
    visit(page, "staff-walk-in-form")
    page.get_by_role("button", name="Plaatsen op eerstvolgende vrije tijd").click()

    walk_in = Appointment.objects.get(channel=Channel.COUNTER)
    expect(page.get_by_role("status")).to_contain_text(f"Inloop {walk_in.reference}")
    assert walk_in.start == at(10, 10)  # 10:02 → the next grid time, at a free desk
    assert walk_in.desk.name == "Balie 3"
    assert walk_in.status == AppointmentStatus.CHECKED_IN
    card = row(page, walk_in)
    expect(card).to_contain_text("Sem Bakker")
    expect(card.locator(".status")).to_have_text("Aangemeld")
    visit(page, "staff-board-after-walk-in")


def test_phone_agent_books_for_a_caller(new_page):
    page = log_in(new_page, "kcc")
    page.get_by_role("link", name="Telefoon").first.click()
    page.get_by_role("link", name="Nieuwe afspraak maken").click()
    page.get_by_label("Uittreksel BRP").check()
    page.get_by_label("Vestiging").select_option(label="Wijkkantoor Noord")
    page.get_by_label("Datum").fill((TODAY + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Vrije tijden tonen").click()
    expect(page.get_by_role("heading", name=re.compile("^Vrije tijden bij Wijkkantoor Noord"))).to_be_visible()
    # A caller is never nudged: no online route on the agent's page.
    expect(page.get_by_text("formulieren.voorbeeldstad.nl")).to_have_count(0)
    page.locator("label[for='tijd-1']").click()
    page.get_by_label("Naam van de beller").fill("Johanna Pieters")
    page.get_by_label("E-mailadres").fill("johanna@example.nl")
    page.get_by_label("Telefoonnummer").fill("06 12345678")
    visit(page, "staff-phone-booking")
    page.get_by_role("button", name="Afspraak maken").click()

    expect(page.get_by_role("status")).to_contain_text("de beller krijgt een bevestiging per e-mail")
    appointment = Appointment.objects.get(email="johanna@example.nl")
    assert appointment.channel == Channel.PHONE
    assert appointment.start == at(9, day=TODAY + timedelta(days=1))
    assert appointment.desk.location.name == "Wijkkantoor Noord"
    expect(page.get_by_role("heading", level=1)).to_contain_text(appointment.reference)
    expect(page.locator("table")).to_contain_text("Karim (KCC)")
    assert [m.to for m in mail.outbox] == [["johanna@example.nl"]]
    visit(page, "staff-phone-booked")


def test_closure_cancels_the_appointments_it_hits_and_mails_each_citizen(new_page):
    friday = TODAY + timedelta(days=2)
    hit = [
        book("paspoort", at(10, day=friday), email="een@example.nl"),
        book("uittreksel-brp", at(13, day=friday), email="twee@example.nl", language="en"),
    ]
    spared = book("paspoort", at(16, day=friday), email="drie@example.nl")
    stadhuis = Location.objects.get(name="Stadhuis")
    page = log_in(new_page, "planner")

    page.get_by_role("link", name="Planning").first.click()
    visit(page, "staff-schedules")
    page.get_by_role("link", name="Sluiting toevoegen").click()
    page.get_by_label("Van (datum)").fill(friday.isoformat())
    page.get_by_label("Tot en met (datum)").fill(friday.isoformat())
    page.get_by_label("Tot (tijd)").fill("15:00")
    page.get_by_label("Reden").fill("Storing in het reisdocumentensysteem")
    page.get_by_role("button", name="Controleren").click()

    expect(page.get_by_role("heading", name="2 afspraken worden geannuleerd")).to_be_visible()
    for appointment in hit:
        expect(page.locator("table")).to_contain_text(appointment.reference)
    expect(page.locator("table")).not_to_contain_text(spared.reference)
    visit(page, "staff-closure-preview")
    page.get_by_role("button", name="Sluiten en 2 afspraken annuleren").click()

    expect(page.get_by_role("status")).to_contain_text("2 afspraken zijn geannuleerd")
    for appointment in hit:
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CANCELLED
        assert AppointmentEvent.objects.get(appointment=appointment, action=AppointmentAction.CANCELLED).actor
    spared.refresh_from_db()
    assert spared.status == AppointmentStatus.BOOKED
    # Each citizen got an apology in their own language, with the reason and a link to rebook.
    assert sorted(m.to[0] for m in mail.outbox) == ["een@example.nl", "twee@example.nl"]
    for message in mail.outbox:
        assert "Storing in het reisdocumentensysteem" in message.body
        assert "http://" in message.body
    # The closed hours are gone from availability; the rest of the day is still offered.
    slots = availability_for_products(
        products=[Product.objects.get(code="paspoort")],
        persons=1,
        location_id=stadhuis.pk,
        date_from=friday,
        date_to=friday,
        use_cache=False,
    )
    starts = [s.start for s in slots]
    assert starts and min(starts) == at(15, day=friday)
    visit(page, "staff-schedules-after-closure")


def test_board_refreshes_itself_but_not_under_the_user(new_page, monkeypatch):
    monkeypatch.setattr("booking.staff.views.BOARD_REFRESH_SECONDS", 1)
    first = book("paspoort", at(11), email="een@example.nl")
    page = log_in(new_page, "balie")
    page.goto(page.base_url + "/medewerkers/balie/")
    expect(row(page, first)).to_be_visible()
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    later = book("paspoort", at(12), email="twee@example.nl", name="Later Geboekt")
    expect(row(page, later)).to_contain_text("Later Geboekt", timeout=5000)
    assert navigations == []  # fetched, not reloaded

    # While a form on the board is open, the board stays as it is.
    row(page, first).locator("summary").click()
    third = book("paspoort", at(14), email="drie@example.nl")
    page.wait_for_timeout(2500)
    expect(row(page, third)).to_have_count(0)
    expect(row(page, first).get_by_label("Ja")).to_be_visible()
