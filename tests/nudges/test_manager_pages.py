"""nudges' staff pages (experiments, satisfaction, waiting list): open for the roles with
``nudges.manage_experiments`` only, and shown in the staff frame with the staff navigation."""

import pytest
from django.urls import reverse_lazy

from nudges.roles import nudges_roles_ensure
from tests.booking.staff.conftest import (  # noqa: F401 - the staff roles and users as fixtures
    admin_user_,
    desk_user,
    manager_user,
    nobody_user,
    phone_user,
    planner_user,
    role_groups,
    users,
)

pytestmark = pytest.mark.django_db

ROLES = ["desk", "phone", "planner", "manager", "admin", "none"]
MANAGERS = {"manager", "admin"}
PAGES = [
    reverse_lazy("nudges:manager-list"),
    reverse_lazy("nudges:manager-create"),
    reverse_lazy("nudges:manager-satisfaction"),
    reverse_lazy("nudges:manager-waitlist"),
]


@pytest.fixture(autouse=True)
def _nudges_roles(role_groups):  # noqa: F811
    nudges_roles_ensure()  # transactional tests elsewhere may have emptied the groups' permissions


@pytest.mark.parametrize("role", ROLES)
def test_the_manager_pages_open_for_their_roles_only(client, users, role):  # noqa: F811
    client.force_login(users[role])
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == (200 if role in MANAGERS else 403), (role, url, response.status_code)


def test_the_manager_pages_send_anonymous_visitors_to_the_login_page(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "?next=" in response["Location"], url


def test_the_manager_pages_are_staff_pages_with_the_staff_navigation(client, users):  # noqa: F811
    client.force_login(users["manager"])
    for url in PAGES:
        page = client.get(url).content.decode()
        assert 'class="staff-nav"' in page, url
        assert 'href="/medewerkers/"' in page and "Uitloggen" in page, url
        # The nudges pages of the navigation are there, the current one marked.
        assert f'href="{url}" aria-current="page"' in page or url == PAGES[1], url


def test_no_access_is_shown_in_the_staff_frame_too(client, users):  # noqa: F811
    client.force_login(users["desk"])
    page = client.get(PAGES[0]).content.decode()
    assert 'class="staff-nav"' in page and "Dagbord" in page
