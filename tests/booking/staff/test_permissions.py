"""Every staff page and action checks its role: 403 for a logged-in user with the wrong role,
the login page for anonymous visitors; a citizen's manage token opens nothing here."""

from datetime import timedelta

import pytest
from django.urls import resolve, reverse

from booking.constants import AppointmentStatus
from booking.models import Appointment, Closure
from booking.staff import roles
from booking.staff.urls import urlpatterns
from tests.factories import ClosureFactory

pytestmark = pytest.mark.django_db

ROLES = ["desk", "phone", "planner", "manager", "admin", "none"]
STAFF = {"desk", "phone", "planner", "manager", "admin"}
DESK = {"desk", "admin"}
PHONE = {"phone", "admin"}
PLANNING = {"planner", "admin"}
PRODUCTS = {"planner", "manager", "admin"}
CAPACITY = {"planner", "manager", "admin"}


@pytest.fixture
def objects(todays_appointment, open_desk, location, product):
    closure = ClosureFactory(
        location=location, starts_at=todays_appointment.end, ends_at=todays_appointment.end + timedelta(hours=1)
    )
    hours = open_desk.opening_hours.first()
    return {
        "ref": todays_appointment.reference,
        "location": location.pk,
        "desk": open_desk.pk,
        "hours": hours.pk,
        "closure": closure.pk,
        "product": product.code,
    }


def pages(o):
    """(url, roles allowed) for every GET page."""
    return [
        (reverse("staff:home"), STAFF),
        (reverse("staff:board"), DESK),
        (reverse("staff:board_fragment"), DESK),
        (reverse("staff:appointment", args=[o["ref"]]), DESK | PHONE),
        (reverse("staff:served", args=[o["ref"]]), DESK),
        (reverse("staff:phone"), PHONE),
        (reverse("staff:phone") + "?q=de+Vries", PHONE),
        (reverse("staff:phone_book"), PHONE),
        (reverse("staff:phone_reschedule", args=[o["ref"]]), PHONE),
        (reverse("staff:schedules"), PLANNING),
        (reverse("staff:schedule", args=[o["location"]]), PLANNING),
        (reverse("staff:closure_new", args=[o["location"]]), PLANNING),
        (reverse("staff:products"), PRODUCTS),
        (reverse("staff:product_new"), PRODUCTS),
        (reverse("staff:product_edit", args=[o["product"]]), PRODUCTS),
        (reverse("staff:capacity"), CAPACITY),
    ]


def actions(o):
    """(url, roles allowed) for every POST action."""
    return [
        (reverse("staff:check_in", args=[o["ref"]]), DESK),
        (reverse("staff:served", args=[o["ref"]]), DESK),
        (reverse("staff:no_show", args=[o["ref"]]), DESK),
        (reverse("staff:undo", args=[o["ref"]]), DESK),
        (reverse("staff:walk_in"), DESK),
        (reverse("staff:phone_book"), PHONE),
        (reverse("staff:phone_reschedule", args=[o["ref"]]), PHONE),
        (reverse("staff:phone_cancel", args=[o["ref"]]), PHONE),
        (reverse("staff:hours_add", args=[o["location"]]), PLANNING),
        (reverse("staff:hours_end", args=[o["hours"]]), PLANNING),
        (reverse("staff:hours_delete", args=[o["hours"]]), PLANNING),
        (reverse("staff:desk_products", args=[o["desk"]]), PLANNING),
        (reverse("staff:closure_new", args=[o["location"]]), PLANNING),
        (reverse("staff:closure_delete", args=[o["closure"]]), PLANNING),
        (reverse("staff:holiday", args=[o["location"], "2030-12-25"]), PLANNING),
        (reverse("staff:product_new"), PRODUCTS),
        (reverse("staff:product_edit", args=[o["product"]]), PRODUCTS),
    ]


def test_the_matrices_cover_every_staff_url(objects):
    covered = {url.split("?")[0] for url, _ in pages(objects) + actions(objects)}
    # Login, logout and the two-step pages are open to every logged-in user (tests/security).
    named = {p.name for p in urlpatterns} - {"login", "logout", "mfa_enrol", "mfa_verify"}
    assert named == {resolve(url).url_name for url in covered}


@pytest.mark.parametrize("role", ROLES)
def test_pages_open_for_their_roles_only(client, users, objects, role):
    client.force_login(users[role])
    for url, allowed in pages(objects):
        response = client.get(url)
        if role in allowed:
            assert response.status_code in (200, 302), (role, url, response.status_code)
            if response.status_code == 302:
                assert "/inloggen/" not in response["Location"], (role, url)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert "Geen toegang" in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_actions_are_refused_for_other_roles_and_change_nothing(client, users, objects, role):
    client.force_login(users[role])
    before = (list(Appointment.objects.values_list("status", "start")), Closure.objects.count())
    for url, allowed in actions(objects):
        if role in allowed:
            continue
        response = client.post(url, {"online_possible": "yes", "valid_until": "2020-01-01", "open": "1"})
        assert response.status_code == 403, (role, url, response.status_code)
    after = (list(Appointment.objects.values_list("status", "start")), Closure.objects.count())
    assert before == after


def test_anonymous_visitors_are_sent_to_the_login_page(client, objects):
    for url, _allowed in pages(objects) + actions(objects):
        response = client.get(url) if url in dict(pages(objects)) else client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("staff:login") + "?next="), url
    assert Appointment.objects.get(reference=objects["ref"]).status == AppointmentStatus.BOOKED


def test_a_manage_token_opens_no_staff_page(client, users, todays_appointment):
    """The secret link is the citizen's key to their own appointment, never to staff data."""
    token = todays_appointment.manage_token
    assert client.get(f"/afspraak/{token}/").status_code == 200  # the citizen's own page works
    # A token is no reference at all: the URL resolver refuses it before any login question.
    assert client.get(f"/medewerkers/afspraken/{token}/").status_code == 404
    for path in (f"/medewerkers/balie/?token={token}", "/medewerkers/"):
        response = client.get(path)
        assert response.status_code == 302 and "/medewerkers/inloggen/" in response["Location"], path
    # Even staff cannot use a token as a reference.
    client.force_login(users["desk"])
    assert client.get(f"/medewerkers/afspraken/{token}/").status_code == 404


def test_the_citizen_never_sees_who_at_the_desk_did_what(client, users, todays_appointment):
    from booking.staff import services

    services.appointment_check_in(appointment=todays_appointment, actor=users["desk"])
    token = todays_appointment.manage_token

    page = client.get(f"/afspraak/{token}/").content.decode()
    api = client.get(f"/api/v1/appointments/{token}/").json()

    assert "Bente" not in page and "Bente" not in str(api)
    assert "events" not in api and "actor" not in str(api)


def test_login_page_and_redirect_to_the_start_page(client, users):
    response = client.get(reverse("staff:login"))
    assert response.status_code == 200
    response = client.post(reverse("staff:login"), {"username": "planner", "password": "geheim-wachtwoord-1"})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    home = client.get(reverse("staff:home")).content.decode()
    assert "Planning" in home and "Dagbord" not in home


def test_wrong_password_shows_an_error_not_a_500(client, users):
    response = client.post(reverse("staff:login"), {"username": "planner", "password": "fout"})
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()


def test_logout_needs_a_post(client, users):
    client.force_login(users["desk"])
    response = client.post(reverse("staff:logout"))
    assert response.status_code == 302
    assert client.get(reverse("staff:home")).status_code == 302


def test_the_roles_have_exactly_their_permissions(role_groups):
    for name, permissions in roles.ROLE_PERMISSIONS.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in role_groups[name].permissions.select_related("content_type")
        }
        custom = granted & set(roles.CUSTOM_PERMISSIONS)
        assert custom == set(permissions), name
    assert role_groups[roles.ADMINISTRATOR].permissions.filter(codename="change_appointment").exists()
    assert not role_groups[roles.PLANNER].permissions.filter(codename="change_appointment").exists()


@pytest.mark.parametrize("login_url", ["/medewerkers/inloggen/", "/admin/login/"])
def test_password_guessing_is_slowed_down(client, users, settings, login_url):
    """Per client address, whatever user names it tries, on the staff login and the admin's."""
    settings.RATELIMIT_ENABLE = True
    settings.STAFF_LOGIN_RATELIMIT = "3/m"
    for name in ("planner", "manager", "balie"):
        assert client.post(login_url, {"username": name, "password": "fout"}).status_code == 200

    response = client.post(login_url, {"username": "planner", "password": "geheim-wachtwoord-1"})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # One budget for both pages: the other login is closed to this address too.
    other = "/admin/login/" if login_url == "/medewerkers/inloggen/" else "/medewerkers/inloggen/"
    assert client.post(other, {"username": "planner", "password": "fout"}).status_code == 429


def test_another_app_can_add_its_staff_page_to_the_navigation(client, users, monkeypatch):
    from booking.staff import permissions

    monkeypatch.setattr(permissions, "_registered_nav", [])
    permissions.register_nav("staff:capacity", "Experimenten", "booking.view_capacity")
    permissions.register_nav("staff:capacity", "Experimenten", "booking.view_capacity")  # once is enough

    client.force_login(users["manager"])
    assert client.get(reverse("staff:home")).content.decode().count("Experimenten") == 2  # nav and card
    client.force_login(users["desk"])
    assert "Experimenten" not in client.get(reverse("staff:home")).content.decode()
