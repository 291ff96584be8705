"""The citizen pages in a real browser (phone-sized Chromium): book in Dutch and English, move
and cancel by the private link, a time taken meanwhile, and a booking with the keyboard only.
Every page passes axe-core's WCAG 2.1 A/AA rules; each step is saved as a screenshot."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from booking.availability import availability_for_products
from booking.constants import AppointmentStatus, Channel
from booking.demo import seed_reference_data
from booking.exceptions import SlotUnavailable
from booking.models import Appointment, Location, Product
from booking.services import appointment_book

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def demo_municipality():
    seed_reference_data()


def visit(page, name: str) -> None:
    """Every citizen page: no WCAG violations, and a screenshot for people to look at."""
    check_accessibility(page)
    screenshot(page, name)


def assert_title(page, start: str) -> None:
    """Wait for the page whose title starts so (a click only starts the navigation)."""
    expect(page).to_have_title(re.compile("^" + re.escape(start)))


def assert_fits(page, *, width: int) -> None:
    """On the narrowest phones nothing scrolls sideways (WCAG 1.4.10, reflow)."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": before["height"]})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.set_viewport_size(before)


def follow(page, link) -> None:
    """Click a link and wait for the page it leads to."""
    with page.expect_navigation():
        link.click()


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def choose_first_time_of_the_day(page) -> str:
    """Click the first free time of the selected day; return its form value."""
    radio = page.locator("#tijden input[name=start]").first
    value = radio.get_attribute("value")
    page.locator(f"label[for='{radio.get_attribute('id')}']").click()
    return value


def free_slots(code: str, location: str, days: int = 21):
    today = timezone.localdate()
    return availability_for_products(
        products=[Product.objects.get(code=code)],
        persons=1,
        location_id=Location.objects.get(name=location).pk,
        date_from=today,
        date_to=today + timedelta(days=days),
        use_cache=False,
    )


def book_directly(start, *, code="uittreksel-brp", email="ander@example.nl") -> Appointment:
    return appointment_book(
        products=[Product.objects.get(code=code)],
        persons=1,
        location=Location.objects.get(name="Stadhuis"),
        start=start,
        name="Iemand Anders",
        email=email,
        channel=Channel.PHONE,
    )


def take_at_every_desk(start) -> int:
    """Other people book this time at every desk that has it free."""
    taken = 0
    while True:
        try:
            book_directly(start, email=f"ander-{start:%H%M}-{taken}@example.nl")
        except SlotUnavailable:
            return taken
        taken += 1


def calendar_event(ics: bytes | str):
    return icalendar.Calendar.from_ical(ics).events[0]


def test_book_end_to_end_in_dutch(page):
    page.goto(page.base_url + "/")
    visit(page, "nl-0-start")
    page.get_by_role("link", name="Paspoort").click()
    expect(page.get_by_text("Een recente pasfoto (niet ouder dan 6 maanden)")).to_be_visible()
    expect(page.get_by_text("€ 84,70 per persoon")).to_be_visible()
    visit(page, "nl-0-product")
    page.get_by_role("link", name="Afspraak maken voor Paspoort").click()

    assert_title(page, "Stap 1 van 5: Wat wilt u regelen?")
    expect(page.get_by_label("Paspoort")).to_be_checked()
    page.get_by_label("Paspoort").uncheck()
    button(page, "Verder").click()
    assert_title(page, "Fout: Stap 1 van 5")
    assert page.locator(".error-summary").evaluate("el => el === document.activeElement")
    visit(page, "nl-1-products-error")
    page.get_by_role("link", name="Kies ten minste één product.").click()
    assert page.evaluate("document.activeElement.id") == "id_products_0"
    page.get_by_label("Paspoort").check()
    page.get_by_label("Voor hoeveel personen?").select_option("2")
    visit(page, "nl-1-products")
    button(page, "Verder").click()

    assert_title(page, "Stap 2 van 5: Vestiging")
    page.get_by_label("Stadhuis").check()
    visit(page, "nl-2-location")
    button(page, "Verder").click()

    assert_title(page, "Stap 3 van 5: Datum en tijd")
    visit(page, "nl-3-time")
    assert_fits(page, width=320)
    follow(page, page.get_by_role("link", name="Volgende week"))
    visit(page, "nl-3-time-next-week")
    follow(page, page.get_by_role("link", name="Vorige week"))
    chosen = choose_first_time_of_the_day(page)
    button(page, "Deze tijd kiezen").click()

    assert_title(page, "Stap 4 van 5: Uw gegevens")
    hold = Appointment.objects.get(status=AppointmentStatus.HELD)
    until = timezone.localtime(hold.hold_expires_at).strftime("%H:%M")
    expect(page.get_by_text(f"voor u vast tot {until} uur")).to_be_visible()
    page.get_by_label("Naam").fill("Anouk de Vries")
    page.get_by_label("E-mailadres").fill("anouk-niet-geldig")
    button(page, "Verder").click()
    assert_title(page, "Fout: Stap 4 van 5")
    visit(page, "nl-4-details-error")
    expect(page.get_by_label("Naam")).to_have_value("Anouk de Vries")
    page.get_by_label("E-mailadres").fill("anouk@example.nl")
    page.get_by_label("Telefoonnummer").fill("06 12345678")
    page.get_by_label("Stuur mij een herinnering per sms").check()
    visit(page, "nl-4-details")
    button(page, "Verder").click()

    assert_title(page, "Stap 5 van 5: Controleren")
    expect(page.get_by_text("Per e-mail en per sms")).to_be_visible()
    visit(page, "nl-5-check")
    button(page, "Afspraak bevestigen").click()

    assert_title(page, "Uw afspraak is gemaakt")
    appointment = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert appointment.start == datetime.fromisoformat(chosen)
    assert (appointment.persons, appointment.channel, appointment.language) == (2, Channel.ONLINE, "nl")
    assert appointment.remind_by_sms
    expect(page.get_by_text(appointment.reference).first).to_be_visible()
    visit(page, "nl-6-confirmed")
    assert_fits(page, width=320)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Zet de afspraak in uw agenda")).click()
    assert download.value.suggested_filename == f"afspraak-{appointment.reference}.ics"
    assert calendar_event(Path(download.value.path()).read_bytes()).start == appointment.start

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anouk@example.nl"] and appointment.reference in message.subject
    assert f"/afspraak/{appointment.manage_token}/" in message.body
    event = calendar_event(message.attachments[0][1])
    assert event.start == appointment.start  # the right instant, whatever the season
    assert event.end == appointment.end


def test_book_end_to_end_in_english(new_page):
    page = new_page()
    page.goto(page.base_url + "/")
    button(page, "English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    visit(page, "en-0-start")
    page.get_by_role("link", name="Book an appointment").first.click()

    assert_title(page, "Step 1 of 5: What do you need?")
    page.get_by_label("BRP extract").check()
    visit(page, "en-1-products")
    button(page, "Continue").click()
    page.get_by_label("Wijkkantoor Noord").check()
    visit(page, "en-2-location")
    button(page, "Continue").click()
    assert_title(page, "Step 3 of 5: Date and time")
    visit(page, "en-3-time")
    button(page, "Choose the first free time").click()
    assert_title(page, "Step 4 of 5: Your details")
    page.get_by_label("Name").fill("Sam Smith")
    page.get_by_label("Email address").fill("sam@example.com")
    visit(page, "en-4-details")
    button(page, "Continue").click()
    assert_title(page, "Step 5 of 5: Check")
    visit(page, "en-5-check")
    button(page, "Confirm appointment").click()

    assert_title(page, "Your appointment is booked")
    visit(page, "en-6-confirmed")
    appointment = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert appointment.language == "en"
    message = mail.outbox[0]
    assert message.subject.startswith("Your appointment at Civil Affairs")
    assert "Your identity document" in message.body
    assert calendar_event(message.attachments[0][1]).start == appointment.start

    page.goto(page.base_url + f"/afspraak/{appointment.manage_token}/")
    expect(page.get_by_role("heading", name="Your appointment", exact=True)).to_be_visible()
    visit(page, "en-7-manage")


def test_move_and_cancel_by_the_private_link(page):
    slot = free_slots("uittreksel-brp", "Stadhuis")[0]
    appointment = book_directly(slot.start, email="anouk@example.nl")
    manage = page.base_url + f"/afspraak/{appointment.manage_token}/"

    page.goto(manage)
    assert_title(page, "Uw afspraak")
    expect(page.get_by_text(appointment.reference)).to_be_visible()
    visit(page, "manage-0-appointment")

    follow(page, page.get_by_role("link", name="Afspraak verzetten"))
    assert_title(page, "Afspraak verzetten")
    visit(page, "manage-1-reschedule")
    last = page.locator("#tijden input[name=start]").last
    new_start = last.get_attribute("value")
    page.locator(f"label[for='{last.get_attribute('id')}']").click()
    button(page, "Naar deze tijd verzetten").click()
    expect(page.get_by_text("Uw afspraak is verzet.")).to_be_visible()
    visit(page, "manage-2-moved")
    moved = Appointment.objects.get(pk=appointment.pk)
    assert moved.start == datetime.fromisoformat(new_start)
    assert calendar_event(mail.outbox[-1].attachments[0][1]).start == moved.start

    page.get_by_role("link", name="Afspraak annuleren").click()
    expect(page.get_by_role("heading", name="Weet u zeker dat u deze afspraak wilt annuleren?")).to_be_visible()
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    visit(page, "manage-3-cancel-confirm")
    button(page, "Ja, annuleer mijn afspraak").click()
    expect(page.get_by_text("Deze afspraak is geannuleerd.")).to_be_visible()
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    visit(page, "manage-4-cancelled")

    page.goto(page.base_url + "/afspraak/bestaat-niet/")
    expect(page.get_by_role("heading", name="Deze link werkt niet")).to_be_visible()
    visit(page, "manage-5-unknown-link")


def test_time_taken_meanwhile(page):
    page.goto(page.base_url + "/afspraak-maken/")
    page.get_by_label("Uittreksel BRP").check()
    button(page, "Verder").click()
    page.get_by_label("Stadhuis").check()
    button(page, "Verder").click()

    # The visitor picks a time; before they press the button, a caller books it by phone.
    first = choose_first_time_of_the_day(page)
    assert take_at_every_desk(datetime.fromisoformat(first)) > 0
    button(page, "Deze tijd kiezen").click()

    assert_title(page, "Fout: Stap 3 van 5")
    expect(page.get_by_text("Deze tijd is niet (meer) beschikbaar.").first).to_be_visible()
    expect(page.get_by_role("group", name="Vrije tijden dichtbij uw keuze")).to_be_visible()
    visit(page, "taken-1-alternatives")

    alternative = page.locator("input[id^=a]").first
    chosen = alternative.get_attribute("value")
    page.locator(f"label[for='{alternative.get_attribute('id')}']").click()
    page.locator(".panel--warning").get_by_role("button", name="Deze tijd kiezen").click()
    assert_title(page, "Stap 4 van 5")
    page.get_by_label("Naam").fill("Anouk de Vries")
    page.get_by_label("E-mailadres").fill("anouk@example.nl")
    button(page, "Verder").click()

    # Between choice and confirm the hold runs out and another visitor takes the time.
    Appointment.objects.filter(status=AppointmentStatus.HELD).update(hold_expires_at=timezone.now())
    assert take_at_every_desk(datetime.fromisoformat(chosen)) > 0
    button(page, "Afspraak bevestigen").click()

    assert_title(page, "Fout: Stap 3 van 5")
    expect(page.get_by_text("De reservering van deze tijd is verlopen.").first).to_be_visible()
    visit(page, "taken-2-hold-expired")
    alternative = page.locator("input[id^=a]").first
    page.locator(f"label[for='{alternative.get_attribute('id')}']").click()
    page.locator(".panel--warning").get_by_role("button", name="Deze tijd kiezen").click()
    expect(page.get_by_label("E-mailadres")).to_have_value("anouk@example.nl")  # details kept
    button(page, "Verder").click()
    button(page, "Afspraak bevestigen").click()
    assert_title(page, "Uw afspraak is gemaakt")
    assert Appointment.objects.filter(email="anouk@example.nl", status=AppointmentStatus.BOOKED).count() == 1


# --- keyboard only ---------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  // A focus ring on the control itself, or on its label where the control is drawn by the label.
  const hidden = getComputedStyle(el).opacity === "0";
  const rings = [...(hidden ? [] : [el]), ...(el.labels || [])].map((node) => getComputedStyle(node));
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", id: el.id, name: el.name || "",
    text: (el.innerText || label || el.value || "").trim(),
    checked: !!el.checked,
    visibleFocus: rings.some((style) =>
      (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none"),
  };
}"""


def tab_to(page, matches, *, limit: int = 80) -> dict:
    """Press Tab until the focused element matches; every stop must show where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] != "body":
            assert focused["visibleFocus"], f"focus not visible on {focused}"
        if matches(focused):
            return focused
    raise AssertionError("never reached the element with Tab")


def test_keyboard_only_booking(page):
    page.goto(page.base_url + "/")
    tab_to(page, lambda f: f["text"].startswith("Afspraak maken") and f["tag"] == "a")
    page.keyboard.press("Enter")

    page.wait_for_url("**/afspraak-maken/")
    tab_to(page, lambda f: f["type"] == "checkbox" and f["text"].startswith("Uittreksel BRP"))
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["text"] == "Verder")
    page.keyboard.press("Enter")

    page.wait_for_url("**/vestiging/")
    focused = tab_to(page, lambda f: f["type"] == "radio")
    if not focused["checked"]:
        page.keyboard.press("Space")
    tab_to(page, lambda f: f["text"] == "Verder")
    page.keyboard.press("Enter")

    page.wait_for_url("**/tijd/")
    first = tab_to(page, lambda f: f["type"] == "radio" and f["name"] == "start")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")  # the next time in the group
    second = page.evaluate(FOCUSED)
    assert second["checked"] and second["id"] != first["id"]
    screenshot(page, "keyboard-3-time")
    tab_to(page, lambda f: f["text"] == "Deze tijd kiezen")
    page.keyboard.press("Enter")

    page.wait_for_url("**/gegevens/")
    tab_to(page, lambda f: f["id"] == "id_name")
    page.keyboard.type("Daan Jansen")
    tab_to(page, lambda f: f["id"] == "id_email")
    page.keyboard.type("daan@example.nl")
    tab_to(page, lambda f: f["text"] == "Verder")
    page.keyboard.press("Enter")

    page.wait_for_url("**/controleren/")
    tab_to(page, lambda f: f["text"] == "Afspraak bevestigen")
    page.keyboard.press("Enter")

    page.wait_for_url("**/bevestigd/")
    appointment = Appointment.objects.get(email="daan@example.nl")
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.start.astimezone(timezone.get_current_timezone()).strftime("%H:%M") == second["text"]
    screenshot(page, "keyboard-6-confirmed")
    check_accessibility(page)


def test_statements_are_accessible(page):
    for path, name in (("/toegankelijkheid/", "statement"), ("/privacy/", "privacy")):
        page.goto(page.base_url + path)
        visit(page, f"page-{name}")
    page.goto(page.base_url + "/afspraak-maken/bevestigd/")  # nothing booked: back to the start page
    assert page.url == page.base_url + "/"
