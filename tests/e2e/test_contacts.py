"""Registering a contact by keyboard alone, timed: a desk employee and a KCC agent each open
the registration page, pick the product with the keyboard and press Enter — under 5 seconds,
no mouse. The page passes axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from booking.demo import seed_reference_data
from booking.staff.demo import seed_staff_users
from nudges.channels.services import contact_channels_ensure
from nudges.models import Contact
from nudges.roles import contacts_roles_ensure

from .conftest import check_accessibility, screenshot
from .test_staff_pages import TABLET, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def demo():
    seed_reference_data()
    seed_staff_users()
    contacts_roles_ensure()
    contact_channels_ensure()


@pytest.mark.parametrize(
    ("username", "keys", "channel"),
    [
        ("balie", ["ArrowDown", "Enter"], "balie"),  # arrow keys move through the product group
        ("kcc", ["2", "Enter"], "telefoon"),  # a digit picks the product (JavaScript shortcut)
    ],
)
def test_a_contact_is_registered_by_keyboard_in_under_five_seconds(new_page, username, keys, channel):
    page = log_in(new_page, username)
    page.goto(page.base_url + "/medewerkers/contacten/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contact registreren")
    check_accessibility(page)
    focused = page.evaluate("document.activeElement.name")
    assert focused == "product"  # the product group has the focus on arrival
    expected = page.evaluate(
        "(n) => document.querySelectorAll('input[name=product]')[n].value", 1 if keys[0] == "ArrowDown" else 2
    )

    started = time.perf_counter()
    for key in keys:
        page.keyboard.press(key)
    expect(page.get_by_text(re.compile("Contact geregistreerd"))).to_be_visible()
    elapsed = time.perf_counter() - started

    assert elapsed < 5, f"{username} took {elapsed:.1f} s"
    contact = Contact.objects.get(registered_by__username=username)
    assert contact.channel.code == channel
    assert [p.code for p in contact.products.all()] == [expected]
    assert contact.outcome == "answered"
    expect(page.get_by_role("table")).to_contain_text("Beantwoord")
    check_accessibility(page)
    screenshot(page, f"contacts-registered-{username}")


def test_the_panel_on_the_day_board_registers_at_the_counter(new_page):
    page = log_in(new_page, "balie")
    page.set_viewport_size(TABLET)
    page.goto(page.base_url + "/medewerkers/balie/")
    page.get_by_text("Contact registreren", exact=True).first.click()
    check_accessibility(page)
    page.get_by_role("button", name="Contact registreren").click()
    expect(page.get_by_text(re.compile("Contact geregistreerd"))).to_be_visible()
    assert Contact.objects.get().channel.code == "balie"
