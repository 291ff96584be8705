"""The manager's cockpit in a real browser (desktop-sized Chromium), logged in as the demo
manager: every page passes axe-core's WCAG 2.1 A/AA rules in Dutch and in English, works
without JavaScript (the charts are server-side SVG images), reflows at 320 px (WCAG 1.4.10:
the page never scrolls sideways; a wide table scrolls in its own named, focusable region),
raises no CSP violation and is saved as a screenshot. The cockpit's home links each of the
manager's five questions to the place that answers it."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from booking.demo import seed_reference_data
from booking.selectors import products_by_codes
from booking.staff.demo import DEMO_PASSWORD, seed_staff_users
from nudges.cockpit.demo import seed_cockpit
from nudges.cockpit.portfolio import experiment_snapshots_refresh
from nudges.constants import Metric, Touchpoint
from nudges.demo import seed_interventions, synthetic_logs
from nudges.experiments import services as experiment_services
from nudges.models import ContactChannel
from nudges.roles import nudges_roles_ensure

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 720}
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
    interventions = seed_interventions()
    seed_cockpit(history_days=21)
    # A running experiment far below its planned sample: the portfolio shows the sample so far.
    brp = products_by_codes(["uittreksel-brp"])
    experiment = experiment_services.experiment_create(
        name="Directe link, tweede ronde",
        purpose_nl="Nagaan of een directe link minder baliebezoek geeft.",
        products=brp,
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["direct-online-link"], "weight": 1},
        ],
        hypothesis="Een directe link verlaagt het aandeel balieboekingen.",
        primary_metric=Metric.BOOKED,
        planned_sample_per_variant=2000,
        touchpoint=Touchpoint.PRODUCT_CHOICE,
    )
    experiment = experiment_services.experiment_start(experiment=experiment)
    now = timezone.now()
    synthetic_logs(
        experiment=experiment,
        product=brp[0],
        arms=((400, 244, 0), (396, 198, 0)),
        exposed_at=lambda i: now - timedelta(minutes=10 + i),
    )
    experiment_snapshots_refresh()


def log_in(new_page, *, locale: str = "nl-NL", javascript: bool = True, viewport: dict = DESKTOP):
    page = new_page(viewport=viewport, locale=locale)
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


def test_the_cockpit_home_links_each_question_to_its_answer(new_page):
    page = log_in(new_page)
    page.goto(page.base_url + "/medewerkers/cockpit/")
    questions = page.get_by_role("region", name="Vijf vragen, en waar het antwoord staat")
    expect(questions.get_by_role("listitem")).to_have_count(5)
    expect(questions).to_contain_text("1 kader overschreden")
    for name, heading in [
        ("Wat kost elk product per kanaal", "Kosten per product per kanaal"),
        ("Welke interventies veranderden gedrag", "Wat de nudges opleverden"),
    ]:
        page.goto(page.base_url + "/medewerkers/cockpit/")
        page.get_by_role("link", name=re.compile(name)).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    page.goto(page.base_url + "/medewerkers/cockpit/")
    for name, heading in [
        ("Welke minimale dienstverlening", "Minimale dienstverlening aan de balie"),
        ("Hoeveel ongemak is acceptabel", "Acceptabel ongemak"),
        ("Hoeveel lager mag de tevredenheid zijn", "Tevredenheid per kanaal"),
    ]:
        page.get_by_role("link", name=re.compile(name)).click()
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_in_viewport()
    page.goto(page.base_url + "/medewerkers/cockpit/nudges/")
    in_short = page.get_by_role("region", name="Kort gezegd")
    expect(in_short).to_contain_text(
        "Directe link, tweede ronde: nog geen oordeel: de kleinste groep heeft 396 van de geplande 2.000"
    )
    expect(page.locator("#portfolio-caption").locator("xpath=ancestor::table")).to_contain_text("396 van")
    check_accessibility(page)


def test_every_cockpit_page_reflows_at_320_px(new_page):
    page = log_in(new_page, viewport=NARROW)
    for path, heading in PAGES:
        page.goto(page.base_url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path} scrolls sideways at 320 px ({width} px wide)"
        # Every table too wide for the screen scrolls in a region a keyboard can reach and a
        # screen reader can name.
        loose = page.evaluate(
            """() => [...document.querySelectorAll('table')].filter(t => {
                 const box = t.closest('.table-scroll');
                 const named = box && box.getAttribute('role') === 'region' && box.getAttribute('tabindex') === '0'
                     && (box.getAttribute('aria-labelledby') || box.getAttribute('aria-label'));
                 return !named && t.getBoundingClientRect().width > document.documentElement.clientWidth;
               }).map(t => t.caption ? t.caption.textContent : '?')"""
        )
        assert not loose, f"{path}: tables wider than the screen outside a named scroll region: {loose}"
        check_accessibility(page)
        screenshot(page, "cockpit-320-" + heading)
