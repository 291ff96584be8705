import pytest

from booking.demo import seed_reference_data

from .conftest import check_accessibility, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_lists_products_and_switches_to_english(page):
    seed_reference_data()

    page.goto(page.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", name="Uittreksel BRP").is_visible()
    check_accessibility(page)
    screenshot(page, "home-nl")

    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="BRP extract").is_visible()
    check_accessibility(page)
