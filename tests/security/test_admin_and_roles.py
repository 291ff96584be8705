"""The admin and the roles (issue 11, item 10): appointments and their history are read-only
in the admin, only superusers change users, groups or permissions, and the README's role table
says what each role can really do."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from booking.staff import roles
from nudges.roles import nudges_roles_ensure
from tests.booking.staff.conftest import make_user
from tests.factories import AppointmentFactory
from tests.security.conftest import otp_verified_login

pytestmark = pytest.mark.django_db

COLUMNS = {
    "desk": "booking.run_desk",
    "phone": "booking.book_by_phone",
    "planning": "booking.plan_schedules",
    "products": "booking.manage_products",
    "capacity": "booking.view_capacity",
    "experiments": "nudges.manage_experiments",
    "admin": "booking.view_appointment",
    "outbox": "nudges.view_scheduledmessage",
    "contact channels": "nudges.change_contactchannel",
    "users and groups": "auth.change_user",
}


def readme_role_table() -> dict[str, dict[str, bool]]:
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| role | desk |"))
    lines = text[text.index(header) :].splitlines()
    names = [cell.strip() for cell in header.strip("|").split("|")][1:]
    table = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table[cells[0]] = {name: cell == "yes" for name, cell in zip(names, cells[1:], strict=True)}
    return table


@pytest.fixture
def groups():
    groups = roles.roles_ensure()
    nudges_roles_ensure()
    return groups


def test_the_readme_role_table_matches_the_permissions(groups):
    table = readme_role_table()
    assert set(table) == set(roles.ROLE_PERMISSIONS)
    for name, row in table.items():
        user = make_user(f"user-{name.lower()}", Group.objects.get(name=name))
        actual = {column: user.has_perm(permission) for column, permission in COLUMNS.items()}
        assert row == actual, name


def _admin(client, groups):
    user = make_user("beheerder", groups[roles.ADMINISTRATOR], is_staff=True)
    otp_verified_login(client, user)
    return user


def test_appointments_and_their_history_are_read_only_in_the_admin(client, groups):
    _admin(client, groups)
    appointment = AppointmentFactory()
    change_url = f"/admin/booking/appointment/{appointment.pk}/change/"
    assert client.get(change_url).status_code == 200  # to look at
    response = client.post(change_url, {"status": "cancelled", "persons": 5})
    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.persons != 5
    assert client.get("/admin/booking/appointment/add/").status_code == 403
    assert client.post(f"/admin/booking/appointment/{appointment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/booking/appointmentevent/add/").status_code == 403


def test_a_beheerder_cannot_make_itself_superuser(client, groups):
    user = _admin(client, groups)
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {"username": user.username, "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert not user.is_superuser
    assert client.get("/admin/auth/group/add/").status_code == 403
    assert not any(p.startswith("auth.") for p in user.get_all_permissions())


def test_the_beheerder_opens_the_outbox_as_the_readme_says(client, groups):
    _admin(client, groups)
    assert client.get("/admin/nudges/scheduledmessage/").status_code == 200


def test_a_superuser_still_manages_users(client, db):
    superuser = make_user("root", is_staff=True, is_superuser=True)
    otp_verified_login(client, superuser)
    assert client.get("/admin/auth/user/add/").status_code == 200


def test_roles_ensure_takes_auth_permissions_away_that_were_given_by_hand(groups):
    from django.contrib.auth.models import Permission

    groups[roles.ADMINISTRATOR].permissions.add(Permission.objects.get(codename="change_user"))
    roles.roles_ensure()
    assert not groups[roles.ADMINISTRATOR].permissions.filter(content_type__app_label="auth").exists()


def test_the_role_table_has_no_unknown_values():
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| role | desk |"))
    rows = text[text.index(header) :].split("\n\n")[0].splitlines()[2:]
    assert all(set(re.findall(r"\| (\w+) ", row)[1:]) <= {"yes", "no"} for row in rows)


def test_the_beheerder_adds_a_contact_channel_in_the_admin_as_the_readme_says(client, groups):
    from nudges.channels.selectors import contact_channels
    from nudges.models import ContactChannel

    _admin(client, groups)
    response = client.post(
        "/admin/nudges/contactchannel/add/",
        {
            "code": "chat",
            "name_nl": "Chat op de website",
            "name_en": "Website chat",
            "kind": ContactChannel._meta.get_field("kind").choices[0][0],
            "cost_channel": "",
            "position": "90",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    chat = ContactChannel.objects.get(code="chat")
    assert chat in contact_channels()
    # The code is what integrations send: fixed once the channel exists; channels are never deleted.
    page = client.get(f"/admin/nudges/contactchannel/{chat.pk}/change/").content.decode()
    assert 'name="code"' not in page and "Chat op de website" in page
    assert client.post(f"/admin/nudges/contactchannel/{chat.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ContactChannel.objects.filter(code="chat").exists()
