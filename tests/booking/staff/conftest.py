"""Fixtures for the staff pages: the role groups, one user per role, and a small location.

Service tests run at a fixed ``NOW`` (Wednesday 3 March 2027, 10:02 in Amsterdam) so the
outcome does not depend on the day the suite runs. Page tests use the real clock and build
their appointments around it.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from booking.staff import roles
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")
WEDNESDAY = datetime(2027, 3, 3).date()
NOW = datetime(2027, 3, 3, 10, 2, tzinfo=AMS)
ALL_DAY = {wd: (time(0), time(23, 59)) for wd in range(7)}


def at(hour, minute=0, day=WEDNESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture(autouse=True)
def role_groups(db):
    # Transactional tests elsewhere in the suite flush the tables the data migration filled.
    return roles.roles_ensure()


def make_user(username, group=None, **extra):
    user = get_user_model().objects.create_user(username=username, password="geheim-wachtwoord-1", **extra)
    if group is not None:
        user.groups.add(group)
    return user


@pytest.fixture
def desk_user(role_groups):
    return make_user("balie", role_groups[roles.DESK_STAFF], first_name="Bente")


@pytest.fixture
def phone_user(role_groups):
    return make_user("kcc", role_groups[roles.PHONE_AGENT], first_name="Karim")


@pytest.fixture
def planner_user(role_groups):
    return make_user("planner", role_groups[roles.PLANNER])


@pytest.fixture
def manager_user(role_groups):
    return make_user("manager", role_groups[roles.MANAGER])


@pytest.fixture
def admin_user_(role_groups):
    return make_user("beheerder", role_groups[roles.ADMINISTRATOR], is_staff=True)


@pytest.fixture
def nobody_user(db):
    return make_user("zonderrol")


@pytest.fixture
def users(desk_user, phone_user, planner_user, manager_user, admin_user_, nobody_user):
    return {
        "desk": desk_user,
        "phone": phone_user,
        "planner": planner_user,
        "manager": manager_user,
        "admin": admin_user_,
        "none": nobody_user,
    }


@pytest.fixture
def product():
    return ProductFactory(code="paspoort", name_nl="Paspoort", minutes_per_person=15, min_notice_minutes=0)


@pytest.fixture
def brp():
    return ProductFactory(code="uittreksel-brp", name_nl="Uittreksel BRP", minutes_per_person=10, online=True)


@pytest.fixture
def location():
    return LocationFactory(name="Stadhuis", grid_minutes=10)


@pytest.fixture
def desk(location, product, brp):
    """Open Monday–Friday 09:00–17:00."""
    return DeskFactory(location=location, name="Balie 1", products=[product, brp])


@pytest.fixture
def open_desk(location, product, brp):
    """Open every day, all day: for page tests on the real clock."""
    return DeskFactory(location=location, name="Balie 1", products=[product, brp], weekdays=ALL_DAY)


def today_at(hour, minute=0):
    return datetime.combine(timezone.localdate(), time(hour, minute), tzinfo=AMS)


@pytest.fixture
def todays_appointment(open_desk, product):
    """Booked for today at 00:00–00:15: always today, and always begun (a no-show is possible)."""
    start = today_at(0)
    return AppointmentFactory(
        desk=open_desk, start=start, end=start + timedelta(minutes=15), products=[product], name="Anouk de Vries"
    )
