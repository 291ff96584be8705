"""A location on a 10-minute grid with one desk (Monday–Friday 09:00–17:00) serving one
10-minute product without notice: the world of the availability tests."""

import pytest

from tests.factories import DeskFactory, LocationFactory, ProductFactory


@pytest.fixture
def location():
    return LocationFactory(grid_minutes=10)


@pytest.fixture
def product():
    return ProductFactory(minutes_per_person=10, min_notice_minutes=0, booking_horizon_days=120)


@pytest.fixture
def desk(location, product):
    return DeskFactory(location=location, products=[product])  # Monday–Friday 09:00–17:00
