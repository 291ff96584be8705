"""The role groups (data migration and ``roles_ensure`` agree) and the demo staff accounts."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from booking.staff import roles
from booking.staff.demo import DEMO_PASSWORD, DEMO_USERS, seed_staff_users, seed_today_appointments

from .conftest import ALL_DAY

pytestmark = pytest.mark.django_db


def group_permissions():
    """Per group, its booking and auth permissions (other apps add their own in their own
    migrations, e.g. another app gives the Manager its own permission)."""
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
            if p.content_type.app_label in ("booking", "auth")
        }
        for group in Group.objects.prefetch_related("permissions")
    }


def test_the_data_migration_creates_the_same_groups_as_roles_ensure():
    expected = group_permissions()  # made by roles_ensure (autouse fixture)
    Group.objects.all().delete()

    importlib.import_module("booking.migrations.0003_staff_roles").create_roles(apps, None)
    importlib.import_module("booking.migrations.0007_beheerder_without_auth_permissions").revoke_auth_permissions(
        apps, None
    )

    assert group_permissions() == expected
    assert set(expected) == set(roles.ROLE_PERMISSIONS)


def test_demo_users_are_created_once_and_can_log_in(client):
    assert sorted(seed_staff_users()) == sorted(u for u, *_ in DEMO_USERS)
    planner = get_user_model().objects.get(username="planner")
    planner.set_password("mijn-eigen-wachtwoord")
    planner.save()

    assert seed_staff_users() == []  # idempotent: nothing new, and a changed password is kept

    assert get_user_model().objects.filter(username__in=[u for u, *_ in DEMO_USERS]).count() == 5
    assert client.login(username="planner", password="mijn-eigen-wachtwoord")
    expected_pages = {
        "balie": reverse("staff:board"),
        "kcc": reverse("staff:phone"),
        "planner": reverse("staff:schedules"),
        "manager": reverse("staff:capacity"),
        "beheerder": reverse("staff:board"),
    }
    for username, page in expected_pages.items():
        client.logout()
        if username != "planner":
            assert client.login(username=username, password=DEMO_PASSWORD), username
        else:
            client.login(username=username, password="mijn-eigen-wachtwoord")
        assert f'href="{page}"' in client.get(reverse("staff:home")).content.decode(), username
    assert get_user_model().objects.get(username="beheerder").is_staff
    assert not get_user_model().objects.get(username="balie").is_staff


def test_demo_day_board_gets_appointments_for_today(location, product, brp):
    from tests.factories import DeskFactory

    DeskFactory(location=location, products=[product, brp], weekdays=ALL_DAY)

    created = seed_today_appointments(share=0.5)

    today = timezone.localdate()
    todays = Appointment.objects.filter(start__date=today)
    assert created > 0 and todays.count() == created
    assert seed_today_appointments() == 0


def test_the_administrator_has_the_django_admin_with_a_read_only_audit_trail(client, todays_appointment):
    from booking.staff import services

    seed_staff_users()
    services.appointment_check_in(appointment=todays_appointment, actor=get_user_model().objects.get(username="balie"))
    client.login(username="beheerder", password=DEMO_PASSWORD)

    assert client.get("/admin/").status_code == 200
    changelist = client.get("/admin/booking/appointmentevent/")
    assert changelist.status_code == 200 and todays_appointment.reference in changelist.content.decode()
    event = todays_appointment.events.get()
    assert client.get(f"/admin/booking/appointmentevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/booking/appointmentevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/booking/appointmentevent/add/").status_code == 403
    client.logout()
    client.login(username="planner", password=DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 302  # not staff: the admin's own login page
