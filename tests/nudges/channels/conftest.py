import pytest

from booking.staff import roles
from nudges.channels.services import contact_channels_ensure
from nudges.roles import contacts_roles_ensure


@pytest.fixture(autouse=True)
def contact_channels(db):
    # Transactional tests elsewhere in the suite flush the rows the data migrations made.
    roles.roles_ensure()
    contacts_roles_ensure()
    contact_channels_ensure()


def staff(django_user_model, username, group):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, password="geheim-wachtwoord-1")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def desk_user(django_user_model):
    return staff(django_user_model, "balie", roles.DESK_STAFF)


@pytest.fixture
def phone_user(django_user_model):
    return staff(django_user_model, "kcc", roles.PHONE_AGENT)
