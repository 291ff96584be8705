"""The links in the reminder e-mail: "I'm coming", "cancel" and "already arranged online?".
Each opens a page that asks first (mail scanners open every link); only a POST acts."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from booking.constants import AppointmentAction, AppointmentStatus
from booking.models import Appointment, AppointmentEvent
from booking.selectors import appointment_cancellation
from booking.services import appointment_reschedule
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.reminders.planning import reminders_plan
from tests.booking.views.conftest import at
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

LABELS = ("Ik kom", "Ik kan niet komen: annuleren", "Al online geregeld? Annuleer dan deze afspraak")


@pytest.fixture
def appointment(location, brp, day):
    return AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10), products=[brp])


@pytest.fixture
def passport_appointment(location, passport, day):
    return AppointmentFactory(desk=location.desks.get(), start=at(day, 11), end=at(day, 11, 15), products=[passport])


def url(appointment, action=""):
    return f"/afspraak/{appointment.manage_token}/{action}"


def send_reminder(appointment):
    """Plan the reminders and send the first one through the outbox; returns the e-mail."""
    reminders_plan(appointment.pk, now=timezone.now())
    first = ScheduledMessage.objects.filter(appointment=appointment).order_by("due_at").first()
    assert messages_dispatch_due(now=first.due_at) == 1
    return mail.outbox[-1]


def links(text, appointment):
    """The paths of this appointment's links in a text, in order."""
    token = re.escape(appointment.manage_token)
    return re.findall(rf"https?://[^\s\"<>]+(/afspraak/{token}/[^\s\"<>]*)", text)


def snapshot(appointment):
    row = Appointment.objects.get(pk=appointment.pk)
    events = AppointmentEvent.objects.filter(appointment=appointment).count()
    return (row.status, row.start, row.confirmed_at, row.updated_at, events)


def main(response):
    """The page's own content, without the language switch (a form too) and the footer."""
    html = response.content.decode()
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def in_english(text):
    with translation.override("en"):
        return gettext(text)


# --- the e-mail ---------------------------------------------------------------------------


def test_the_reminder_links_to_come_cancel_and_done_online_in_text_and_html(appointment):
    email = send_reminder(appointment)
    html = email.alternatives[0][0]

    expected = [url(appointment, "ik-kom/"), url(appointment, "annuleren/"), url(appointment, "al-online-geregeld/")]
    assert links(email.body, appointment) == [*expected, url(appointment)]
    assert links(html, appointment) == [*expected, url(appointment)]
    for label in LABELS:
        assert label in email.body and label in html
    assert "Uw identiteitsbewijs" in email.body  # what to bring
    assert "Markt 1" in email.body  # the address


def test_the_online_link_only_when_every_product_can_be_done_online(passport_appointment, location, brp, passport, day):
    email = send_reminder(passport_appointment)
    both = AppointmentFactory(
        desk=location.desks.get(), start=at(day, 13), end=at(day, 13, 25), products=[brp, passport]
    )
    email_both = send_reminder(both)

    for message, appt in ((email, passport_appointment), (email_both, both)):
        assert "al-online-geregeld" not in message.body and "al-online-geregeld" not in message.alternatives[0][0]
        assert "Al online geregeld?" not in message.body
        assert url(appt, "ik-kom/") in message.body and url(appt, "annuleren/") in message.body


def test_the_reminder_links_in_english(appointment):
    appointment.language = "en"
    appointment.save(update_fields=["language"])

    email = send_reminder(appointment)
    html = email.alternatives[0][0]

    assert email.subject.startswith("Reminder") and '<html lang="en">' in html
    assert len(links(email.body, appointment)) == 4 and len(links(html, appointment)) == 4
    for label in LABELS:  # in English as soon as locale/en has them
        assert in_english(label) in email.body and in_english(label) in html


# --- opening the links changes nothing --------------------------------------------------------


def test_opening_the_links_changes_nothing(client, appointment):
    """Mail scanners open every link in an e-mail: GETs and HEADs must be harmless."""
    before = snapshot(appointment)

    for action in ("ik-kom/", "annuleren/", "al-online-geregeld/"):
        assert client.get(url(appointment, action)).status_code == 200
        assert client.head(url(appointment, action)).status_code in (200, 405)

    assert snapshot(appointment) == before


def test_the_pages_ask_with_one_button(client, appointment):
    come = main(client.get(url(appointment, "ik-kom/")))
    online = main(client.get(url(appointment, "al-online-geregeld/")))

    assert "Komt u naar uw afspraak?" in come and "Ja, ik kom" in come
    assert come.count('method="post"') == 1
    assert f'action="{url(appointment, "ik-kom/")}"' in come
    assert "zodat iemand anders deze tijd kan gebruiken" in online
    assert "Ja, ik heb het online geregeld: annuleer mijn afspraak" in online
    assert online.count('method="post"') == 1
    response = client.get(url(appointment, "ik-kom/"))
    assert '<meta name="robots" content="noindex">' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


# --- "I'm coming" -------------------------------------------------------------------------------


def test_confirming_from_the_reminder_records_it_once(appointment, day):
    email = send_reminder(appointment)
    confirm_path = links(email.body, appointment)[0]
    browser = Client(enforce_csrf_checks=True)
    browser.get(confirm_path)
    token = browser.cookies["csrftoken"].value

    response = browser.post(confirm_path, {"csrfmiddlewaretoken": token})
    again = browser.post(confirm_path, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302 and response["Location"] == confirm_path
    assert again.status_code == 302
    row = Appointment.objects.get(pk=appointment.pk)
    assert row.status == AppointmentStatus.BOOKED and row.confirmed_at is not None
    events = AppointmentEvent.objects.filter(appointment=appointment, action=AppointmentAction.CONFIRMED)
    assert events.count() == 1 and events.get().actor is None
    thanks = main(browser.get(confirm_path))
    assert "Bedankt, tot ziens op" in thanks and "om 10:00" in thanks
    assert 'method="post"' not in thanks
    assert "Uw identiteitsbewijs" in thanks


def test_confirming_needs_the_csrf_token(appointment):
    response = Client(enforce_csrf_checks=True).post(url(appointment, "ik-kom/"))

    assert response.status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).confirmed_at is None


def test_moving_the_appointment_clears_the_confirmation(client, appointment, day, django_capture_on_commit_callbacks):
    client.post(url(appointment, "ik-kom/"))
    assert Appointment.objects.get(pk=appointment.pk).confirmed_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=appointment, start=at(day, 14))

    assert Appointment.objects.get(pk=appointment.pk).confirmed_at is None
    assert "Komt u naar uw afspraak?" in client.get(url(appointment, "ik-kom/")).content.decode()


# --- "cancel": the existing confirming page -------------------------------------------------------


def test_the_cancel_link_opens_the_existing_confirmation_and_the_post_cancels(client, appointment):
    email = send_reminder(appointment)
    cancel_path = links(email.body, appointment)[1]

    page = client.get(cancel_path).content.decode()
    response = client.post(cancel_path)

    assert "Weet u zeker dat u deze afspraak wilt annuleren?" in page
    assert response.status_code == 302 and response["Location"] == url(appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert appointment_cancellation(appointment.pk).reason == ""


# --- "already arranged online?" ---------------------------------------------------------------------


def test_done_online_cancels_with_the_reason_in_the_audit_trail(client, appointment):
    response = client.post(url(appointment, "al-online-geregeld/"))

    assert response.status_code == 302 and response["Location"] == url(appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    event = AppointmentEvent.objects.get(appointment=appointment, action=AppointmentAction.CANCELLED)
    assert event.changes == {"status": ["booked", "cancelled"], "cancel_reason": ["", "done_online"]}
    assert event.channel == "online" and event.actor is None
    after = client.get(url(appointment)).content.decode()
    assert "Fijn dat u het online heeft geregeld." in after and "Deze afspraak is geannuleerd." in after


def test_done_online_is_not_offered_for_a_product_that_needs_the_counter(client, passport_appointment):
    before = snapshot(passport_appointment)

    page = client.get(url(passport_appointment, "al-online-geregeld/"))
    post = client.post(url(passport_appointment, "al-online-geregeld/"))

    assert page.status_code == 302 and page["Location"] == url(passport_appointment)
    assert post.status_code == 302
    assert snapshot(passport_appointment) == before


# --- no longer booked, unknown links, language, rate limits --------------------------------------


@pytest.mark.parametrize("action", ["ik-kom/", "al-online-geregeld/", "annuleren/"])
def test_a_handled_or_started_appointment_shows_a_message_instead_of_buttons(client, location, brp, action):
    started = AppointmentFactory(
        desk=location.desks.get(),
        start=timezone.now() - timedelta(minutes=5),
        end=timezone.now() + timedelta(minutes=5),
        products=[brp],
    )
    served = AppointmentFactory(
        desk=location.desks.get(),
        start=timezone.now() - timedelta(hours=2),
        end=timezone.now() - timedelta(hours=1, minutes=50),
        products=[brp],
        status=AppointmentStatus.SERVED,
    )
    for appt in (started, served):
        before = snapshot(appt)
        page = main(client.get(url(appt, action)))
        posted = client.post(url(appt, action))

        assert "Deze afspraak kan niet meer worden gewijzigd." in page
        assert 'method="post"' not in page
        assert posted.status_code == 200 and 'method="post"' not in main(posted)
        assert snapshot(appt) == before


def test_a_cancelled_appointment_says_so_instead_of_buttons(client, appointment):
    client.post(url(appointment, "annuleren/"))
    before = snapshot(appointment)

    for action in ("ik-kom/", "al-online-geregeld/"):
        page = main(client.get(url(appointment, action)))
        posted = main(client.post(url(appointment, action)))
        assert "Deze afspraak is geannuleerd." in page and "Deze afspraak is geannuleerd." in posted
        assert 'method="post"' not in page and 'method="post"' not in posted

    assert snapshot(appointment) == before


@pytest.mark.parametrize("action", ["ik-kom/", "al-online-geregeld/"])
def test_unknown_links_are_a_friendly_404(client, location, action):
    for token in ("bestaat-niet", "x" * 65):
        response = client.get(f"/afspraak/{token}/{action}")
        assert response.status_code == 404
        assert "Deze link werkt niet" in response.content.decode()
    assert client.post(f"/afspraak/bestaat-niet/{action}").status_code == 404


def test_the_pages_open_in_the_appointments_language_unless_the_visitor_chose(appointment):
    appointment.language = "en"
    appointment.save(update_fields=["language"])

    page = Client().get(url(appointment, "ik-kom/")).content.decode()
    chosen = Client()
    chosen.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    dutch = chosen.get(url(appointment, "ik-kom/")).content.decode()

    assert '<html lang="en">' in page and in_english("Komt u naar uw afspraak?") in page
    assert '<html lang="nl">' in dutch and "Komt u naar uw afspraak?" in dutch


def test_the_posts_are_rate_limited_like_other_citizen_posts(client, settings, appointment):
    settings.BOOKING_RATELIMIT_ACTIONS = "2/m"

    statuses = [client.post(url(appointment, "ik-kom/")).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert client.post(url(appointment, "al-online-geregeld/")).status_code == 429
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


# --- what the desk sees -----------------------------------------------------------------------


@pytest.fixture
def desk_client(db):
    from django.contrib.auth import get_user_model

    from booking.staff import roles

    groups = roles.roles_ensure()
    user = get_user_model().objects.create_user(username="balie", password="geheim-wachtwoord-1")
    user.groups.add(groups[roles.DESK_STAFF])
    staff = Client()
    staff.force_login(user)
    return staff


def test_the_day_board_and_the_history_show_the_citizens_answer(
    client, desk_client, appointment, location, passport, day
):
    other = AppointmentFactory(desk=location.desks.get(), start=at(day, 12), end=at(day, 12, 15), products=[passport])
    client.post(url(appointment, "ik-kom/"))
    client.post(url(other, "al-online-geregeld/"))  # no online alternative for its product: nothing happens
    board = desk_client.get(f"/medewerkers/balie/?location={location.pk}&day={day.isoformat()}").content.decode()

    mine = board.split(f'id="afspraak-{appointment.reference}"')[1].split("</li>")[0]
    theirs = board.split(f'id="afspraak-{other.reference}"')[1].split("</li>")[0]
    assert "komst bevestigd" in mine and "komst bevestigd" not in theirs

    client.post(url(appointment, "al-online-geregeld/"))
    history = desk_client.get(f"/medewerkers/afspraken/{appointment.reference}/").content.decode()
    assert "Komst bevestigd" in history
    assert "Reden van annuleren: – → Al online geregeld" in history
