"""Fixtures for the cockpit: managers (with e-mail addresses), a desk user without the
cockpit permission, and a product whose phone fee has no cost price (breaks the cost rule)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from booking.staff import roles as booking_roles
from nudges.roles import nudges_roles_ensure
from tests.factories import DeskFactory, ProductFactory


@pytest.fixture
def groups(db):
    booking_roles.roles_ensure()
    nudges_roles_ensure()


@pytest.fixture
def manager(groups, django_user_model):
    user = django_user_model.objects.create_user("mila", email="mila@gemeente.example", password="pw-geheim-123")
    user.groups.add(Group.objects.get(name="Manager"))
    return user


@pytest.fixture
def second_manager(groups, django_user_model):
    user = django_user_model.objects.create_user("noor", email="noor@gemeente.example", password="pw-geheim-123")
    user.groups.add(Group.objects.get(name="Beheerder"))
    return user


@pytest.fixture
def desk_user(groups, django_user_model):
    user = django_user_model.objects.create_user("bente", email="bente@gemeente.example", password="pw-geheim-123")
    user.groups.add(Group.objects.get(name="Baliemedewerker"))
    return user


@pytest.fixture
def uncovered_fee(db):
    """A phone fee without a cost price: nobody can show it is cost recovery."""
    product = ProductFactory(code="rijbewijs", fee_phone=Decimal("5.00"), cost_phone=None)
    DeskFactory(products=[product])
    return product
