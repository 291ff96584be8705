"""The registration page and its panels on booking's staff pages, and same-day corrections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from nudges.models import Contact
from tests.factories import DeskFactory

pytestmark = pytest.mark.django_db


def test_the_desk_registers_a_contact_with_the_counter_as_default(client, desk_user, brp):
    client.force_login(desk_user)
    page = client.get(reverse("contacts:register")).content.decode()
    assert 'value="balie" id="id_channel_0" checked' in page or 'value="balie"' in page

    response = client.post(
        reverse("contacts:register"), {"product": "uittreksel-brp", "outcome": "answered", "channel": "balie"}
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.channel.code, contact.outcome, contact.registered_by) == ("balie", "answered", desk_user)
    assert [p.code for p in contact.products.all()] == ["uittreksel-brp"]
    assert contact.day == timezone.localdate()


def test_the_form_defaults_to_the_role_channel(client, desk_user, phone_user, brp):
    for user, channel in ((desk_user, "balie"), (phone_user, "telefoon")):
        client.force_login(user)
        page = client.get(reverse("contacts:register")).content.decode()
        assert f'value="{channel}" id="id_channel_' in page
        checked = page.split(f'value="{channel}" id="id_channel_')[1].split(">")[0]
        assert "checked" in checked


def test_bad_minutes_show_a_message_next_to_the_field(client, phone_user, brp):
    client.force_login(phone_user)
    response = client.post(
        reverse("contacts:register"),
        {"product": "", "outcome": "answered", "channel": "telefoon", "minutes": "9999"},
    )
    assert response.status_code == 400
    assert "error-message" in response.content.decode()
    assert not Contact.objects.exists()


def test_the_panel_appears_on_the_phone_page_and_the_day_board(client, phone_user, desk_user, brp):
    client.force_login(phone_user)
    phone = client.get(reverse("staff:phone")).content.decode()
    assert 'id="contact-registreren"' in phone
    DeskFactory(products=[brp])
    client.force_login(desk_user)
    board = client.get(reverse("staff:board")).content.decode()
    assert 'id="contact-registreren"' in board
    assert 'value="balie" id="panel-id_channel_0" checked' in board


def test_corrections_only_touch_ones_own_contacts_of_today(client, phone_user, desk_user, brp):
    client.force_login(phone_user)
    for _ in range(3):
        client.post(reverse("contacts:register"), {"product": "", "outcome": "answered", "channel": "telefoon"})
    mine = list(Contact.objects.values_list("pk", flat=True))
    old = Contact.objects.get(pk=mine[0])
    old.day = timezone.localdate() - timedelta(days=1)
    old.save()
    client.force_login(desk_user)
    client.post(reverse("contacts:register"), {"product": "", "outcome": "answered", "channel": "balie"})
    theirs = Contact.objects.get(registered_by=desk_user)

    client.force_login(phone_user)
    response = client.post(
        reverse("contacts:correct"),
        {"contacts": mine[1:], "action": "outcome", "outcome": "back_office"},
    )

    assert response.status_code == 302
    assert set(Contact.objects.filter(pk__in=mine[1:]).values_list("outcome", flat=True)) == {"back_office"}
    assert Contact.objects.get(pk=mine[0]).outcome == "answered"  # yesterday: not correctable
    response = client.post(reverse("contacts:correct"), {"contacts": [theirs.pk], "action": "delete"})
    assert response.status_code == 400  # not in my list
    assert Contact.objects.filter(pk=theirs.pk).exists()
    client.post(reverse("contacts:correct"), {"contacts": mine[1:2], "action": "delete"})
    assert not Contact.objects.filter(pk=mine[1]).exists()


def test_only_staff_with_the_permission_open_the_page(client, django_user_model):
    assert client.get(reverse("contacts:register")).status_code == 302
    client.force_login(django_user_model.objects.create_user("niemand"))
    assert client.get(reverse("contacts:register")).status_code == 403
