"""The process's catalogue of active products and locations (issue 14): bookings and
availability misses resolve codes without a query, and it is never wrong for longer than a
schedule change takes to announce itself."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import selectors
from booking.availability import invalidate_availability
from booking.exceptions import InvalidRequest
from booking.models import Product
from booking.selectors import location_get, products_by_codes
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_codes_and_locations_are_resolved_from_memory_after_the_first_read():
    ProductFactory(code="paspoort")
    location = LocationFactory()
    products_by_codes(["paspoort"]), location_get(location.pk)

    with CaptureQueriesContext(connection) as queries:
        product, found = products_by_codes(["paspoort"])[0], location_get(location.pk)

    assert len(queries) == 0
    assert (product.code, found.pk) == ("paspoort", location.pk)
    assert products_by_codes(["paspoort"])[0] is not product  # each request its own instance


def test_a_product_or_location_added_after_the_read_is_found_at_once():
    ProductFactory(code="paspoort")
    products_by_codes(["paspoort"])

    ProductFactory(code="id-kaart")
    location = LocationFactory()

    assert [p.code for p in products_by_codes(["id-kaart", "paspoort"])] == ["id-kaart", "paspoort"]
    assert location_get(location.pk) == location


def test_a_product_switched_off_in_the_admin_is_refused_at_once():
    product = ProductFactory(code="paspoort")
    location = LocationFactory()
    products_by_codes(["paspoort"]), location_get(location.pk)

    product.is_active, location.is_active = False, False
    product.save(), location.save()
    invalidate_availability()  # what the admin does after every save (booking.admin)

    with pytest.raises(InvalidRequest) as unknown_product:
        products_by_codes(["paspoort"])
    with pytest.raises(InvalidRequest) as unknown_location:
        location_get(location.pk)
    assert (unknown_product.value.field, unknown_location.value.field) == ("products", "location")


@pytest.mark.parametrize("location_id", [0, -1, "abc", None, 10**12])
def test_an_unknown_location_is_a_field_error(location_id):
    LocationFactory()
    with pytest.raises(InvalidRequest) as error:
        location_get(location_id)
    assert error.value.field == "location"


def test_another_process_sees_a_product_switched_off_there_within_a_second(monkeypatch):
    product = ProductFactory(code="paspoort")
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    products_by_codes(["paspoort"])  # this process reads the schedule version at t = 1000 s

    # Another process saves the product in the admin: the row, then the version it bumps.
    Product.objects.filter(pk=product.pk).update(is_active=False)
    cache.set("availability:v:global", "bumped-by-another-process", timeout=None)

    clock[0] += 0.9
    assert products_by_codes(["paspoort"])[0].pk == product.pk  # not checked again yet
    clock[0] += 0.2
    with pytest.raises(InvalidRequest):
        products_by_codes(["paspoort"])
