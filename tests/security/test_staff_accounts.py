"""Staff accounts (issue 11, item 4): lockout per (user name, address) on every login, the
admin's included; idle and absolute session limits; 12-character passwords; TOTP required for
Manager and Beheerder and offered to everyone; a fresh code for the admin."""

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.staff.accounts import SESSION_LOGIN_AT, SESSION_SEEN_AT, SESSION_VERIFIED_AT
from tests.booking.staff.conftest import admin_user_, desk_user, manager_user, role_groups  # noqa: F401 - fixtures
from tests.conftest import password_only_force_login

pytestmark = pytest.mark.django_db
PASSWORD = "geheim-wachtwoord-1"


# The staff suite's users: "balie" (desk), "manager", "beheerder" (admin, is_staff).
desk = desk_user
manager = manager_user
beheerder = admin_user_


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


# --- lockout -------------------------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.RATELIMIT_ENABLE = False  # the per-address page limit is tested elsewhere


@pytest.mark.parametrize("login_url", ["/medewerkers/inloggen/", "/admin/login/"])
def test_wrong_passwords_lock_that_user_name_from_that_address_only(client, desk, axes_on, login_url):
    attacker = {"REMOTE_ADDR": "198.51.100.66"}
    codes = [
        client.post(login_url, {"username": "balie", "password": "fout"}, **attacker).status_code for _ in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]  # AXES_FAILURE_LIMIT = 5
    locked = client.post(login_url, {"username": "balie", "password": PASSWORD}, **attacker)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session

    # The colleague at their own desk is not locked out by the stranger.
    response = client.post(
        "/medewerkers/inloggen/", {"username": "balie", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(desk.pk)


def test_a_spoofed_forwarded_header_does_not_escape_the_lockout(client, desk, axes_on):
    for n in range(5):
        client.post(
            "/medewerkers/inloggen/",
            {"username": "balie", "password": "fout"},
            REMOTE_ADDR="198.51.100.66",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = client.post(
        "/medewerkers/inloggen/",
        {"username": "balie", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.66",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert response.status_code == 429


# --- sessions ------------------------------------------------------------------------------


def _age_session(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_a_staff_session_ends_after_30_idle_minutes(client, desk):
    client.force_login(desk)
    assert client.get("/medewerkers/balie/").status_code == 200
    _age_session(client, **{SESSION_SEEN_AT: 31 * 60})
    response = client.get("/medewerkers/balie/")
    assert response.status_code == 302
    assert response["Location"].startswith("/medewerkers/inloggen/")
    assert "_auth_user_id" not in client.session


def test_a_click_within_30_minutes_keeps_it_but_the_board_refresh_does_not(client, desk):
    client.force_login(desk)
    _age_session(client, **{SESSION_SEEN_AT: 29 * 60})
    assert client.get("/medewerkers/", HTTP_X_REQUESTED_WITH="fetch").status_code == 200
    assert time.time() - client.session[SESSION_SEEN_AT] > 28 * 60  # the refresh did not count
    assert client.get("/medewerkers/balie/").status_code == 200
    assert time.time() - client.session[SESSION_SEEN_AT] < 60


def test_a_staff_session_ends_12_hours_after_login_however_busy(client, desk):
    client.force_login(desk)
    _age_session(client, **{SESSION_LOGIN_AT: 12 * 3600 + 1, SESSION_SEEN_AT: 10})
    assert client.get("/medewerkers/balie/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError):
        validate_password("kort-wacht1")  # 11
    validate_password("lang-genoeg-1")


# --- two-step verification -----------------------------------------------------------------


def test_a_manager_with_only_a_password_is_asked_to_set_up_a_code(client, manager):
    password_only_force_login(client, manager)
    response = client.get("/medewerkers/capaciteit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/medewerkers/tweestapsverificatie/")

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "QR-code" in html  # drawn on the server
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert device.config_url.split("secret=")[1].split("&")[0][:4] in html.replace(" ", "")

    wrong = client.post("/medewerkers/tweestapsverificatie/", {"code": "000000", "next": "/medewerkers/capaciteit/"})
    assert wrong.status_code == 200 and "klopt niet" in wrong.content.decode()
    time.sleep(1.1)  # django-otp slows down guessing: 1 s after a wrong code, doubling
    right = client.post(
        "/medewerkers/tweestapsverificatie/", {"code": code_for(device), "next": "/medewerkers/capaciteit/"}
    )
    assert right.status_code == 302 and right["Location"] == "/medewerkers/capaciteit/"
    assert TOTPDevice.objects.get(user=manager).confirmed
    assert client.get("/medewerkers/capaciteit/").status_code == 200


def test_after_setup_the_next_login_asks_for_a_code(client, manager):
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    password_only_force_login(client, manager)
    response = client.get("/medewerkers/capaciteit/")
    assert response["Location"].startswith("/medewerkers/tweestapsverificatie/controleren/")
    assert client.post(response["Location"], {"code": "123456"}).status_code == 200
    assert client.get("/medewerkers/capaciteit/").status_code == 302
    time.sleep(1.1)
    done = client.post(response["Location"], {"code": code_for(device)})
    assert done.status_code == 302
    assert client.get("/medewerkers/capaciteit/").status_code == 200


def test_desk_staff_are_offered_a_code_but_not_forced(client, desk):
    password_only_force_login(client, desk)
    home = client.get("/medewerkers/")
    assert home.status_code == 200
    assert "/medewerkers/tweestapsverificatie/" in home.content.decode()
    assert client.get("/medewerkers/tweestapsverificatie/").status_code == 200


def test_the_admin_wants_a_recent_code(client, beheerder):
    client.force_login(beheerder)  # with a code, just now
    assert client.get("/admin/").status_code == 200
    _age_session(client, **{SESSION_VERIFIED_AT: 16 * 60})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/medewerkers/tweestapsverificatie/controleren/")
    device = TOTPDevice.objects.get(user=beheerder)
    assert client.post(response["Location"], {"code": code_for(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_enrol_page_speaks_english(client, desk):
    client.force_login(desk)
    client.cookies["django_language"] = "en"
    html = client.get("/medewerkers/tweestapsverificatie/").content.decode()
    assert "Set up two-step verification" in html


def test_the_demo_manager_logs_in_with_the_printed_code(client, settings):
    from django.core.management import call_command

    from booking.staff.demo import DEMO_PASSWORD, seed_staff_users

    settings.RATELIMIT_ENABLE = False
    seed_staff_users()
    assert client.post("/medewerkers/inloggen/", {"username": "manager", "password": DEMO_PASSWORD}).status_code == 302
    response = client.get("/medewerkers/capaciteit/")
    assert response["Location"].startswith("/medewerkers/tweestapsverificatie/controleren/")

    from io import StringIO

    out = StringIO()
    call_command("demo_code", stdout=out)
    code = dict(line.split(": ") for line in out.getvalue().splitlines())["manager"]
    assert client.post(response["Location"], {"code": code}).status_code == 302
    assert client.get("/medewerkers/capaciteit/").status_code == 200
