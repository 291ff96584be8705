"""The manager's cockpit in a real browser (desktop-sized Chromium), logged in as the demo
manager: every page passes axe-core's WCAG 2.1 A/AA rules in Dutch and in English, works
without JavaScript (the charts are server-side SVG images), raises no CSP violation and is
saved as a screenshot."""

from __future__ import annotations

import importlib
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.demo import seed_reference_data
from booking.staff.demo import DEMO_PASSWORD, seed_staff_users
from nudges.cockpit.demo import seed_cockpit
from nudges.demo import seed_interventions
from nudges.models import ContactChannel
from nudges.roles import nudges_roles_ensure

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PAGES = [
    ("/medewerkers/cockpit/", "Kaders"),
    ("/medewerkers/cockpit/kanalen/?period=week", "Kanaalmix"),
    ("/medewerkers/cockpit/kosten/?period=month&product=uittreksel-brp&percent=20", "Kosten per product per kanaal"),
    ("/medewerkers/cockpit/nudges/", "Wat de nudges opleverden"),
    ("/medewerkers/cockpit/rapport/", "Kanaalsturing: maandrapport"),
]


def contact_channels_ensure() -> None:
    """The channels data migration 0015 creates; a transactional test before this one emptied them."""
    frozen = importlib.import_module("nudges.migrations.0015_contact_channels_and_permission").CHANNELS
    for code, name_nl, name_en, kind, cost_channel, position in frozen:
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


@pytest.fixture(autouse=True)
def demo():
    contact_channels_ensure()
    seed_reference_data()
    seed_staff_users()
    nudges_roles_ensure()
    seed_interventions()
    seed_cockpit(history_days=21)


def log_in(new_page, *, locale: str = "nl-NL", javascript: bool = True):
    page = new_page(viewport=DESKTOP, locale=locale)
    if not javascript:
        page.context.route("**/*.js", lambda route: route.abort())
    page.goto(page.base_url + "/medewerkers/")
    page.get_by_label(re.compile("Gebruikersnaam|Username")).fill("manager")
    page.get_by_label(re.compile("Wachtwoord|Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("Inloggen|Log in")).click()
    # Managers give a code from their authenticator app after the password (the demo's device).
    device = TOTPDevice.objects.filter(user__username="manager", confirmed=True).first()
    page.get_by_label(re.compile("Code uit uw app|Code from your app")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name=re.compile("Doorgaan|Continue")).click()
    return page


def test_every_cockpit_page_is_accessible_in_dutch(new_page):
    page = log_in(new_page)
    page.get_by_role("link", name="Cockpit").first.click()
    for path, heading in PAGES:
        page.goto(page.base_url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        check_accessibility(page)
        screenshot(page, "cockpit-" + heading)
    page.goto(page.base_url + "/medewerkers/cockpit/")
    expect(page.locator(".status--breached").first).to_be_visible()


def test_the_charts_and_tables_are_there_without_javascript_and_in_english(new_page):
    page = log_in(new_page, javascript=False)
    page.goto(page.base_url + "/medewerkers/cockpit/nudges/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What the nudges achieved")
    expect(page.locator("figure img.chart[alt]")).to_have_count(1)
    expect(page.locator("figcaption").first).not_to_be_empty()
    check_accessibility(page)
    for path, _heading in PAGES[1:3]:
        page.goto(page.base_url + path)
        expect(page.locator("figure img.chart[alt]")).to_have_count(1)
        check_accessibility(page)
        screenshot(page, "cockpit-en-" + path.split("/")[3])
