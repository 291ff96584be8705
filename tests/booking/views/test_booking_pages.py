"""The citizen booking pages, step by step, through the Django test client."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.http import HttpResponse
from django.utils import timezone

from booking import flow
from booking.constants import AppointmentStatus, Channel
from booking.models import Appointment
from booking.services import appointment_book
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory

from .conftest import at

pytestmark = pytest.mark.django_db


def expire_hold(client, hold):
    """Let the visitor's hold run out, in the database and in what their session remembers."""
    expired = timezone.now() - timedelta(seconds=1)
    Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=expired)
    session = client.session
    session[flow.SESSION_KEY] = {**session[flow.SESSION_KEY], "hold_expires_at": expired.isoformat()}
    session.save()


def test_home_lists_products_linking_to_product_pages(client, location):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/producten/paspoort/"' in html
    assert 'href="/afspraak-maken/"' in html
    assert 'href="/toegankelijkheid/"' in html and 'href="/privacy/"' in html


def test_product_page_shows_what_to_bring_and_the_fee_at_the_counter(client, location):
    response = client.get("/producten/paspoort/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Paspoort</h1>" in html
    assert "Uw huidige paspoort" in html and "Een recente pasfoto" in html
    assert "84,70" in html
    assert "Stadhuis, Markt 1, 1234 AB Voorbeeldstad" in html
    assert 'href="/afspraak-maken/?product=paspoort"' in html


def test_unknown_product_page_is_a_friendly_404(client, location):
    response = client.get("/producten/bestaat-niet/")

    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.content.decode()


def test_step_one_preselects_the_product_from_the_product_page(client, location):
    response = client.get("/afspraak-maken/?product=paspoort")

    html = response.content.decode()
    assert "<title>Stap 1 van 5: Wat wilt u regelen?" in html
    passport_box = html.split('value="paspoort"')[1].split(">")[0]
    brp_box = html.split('value="uittreksel-brp"')[1].split(">")[0]
    assert "checked" in passport_box and "checked" not in brp_box


def test_step_one_without_a_product_shows_the_error_next_to_the_field_and_in_a_summary(client, location):
    response = client.post("/afspraak-maken/", {"persons": "2"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Fout: Stap 1 van 5" in html
    assert 'class="error-summary"' in html
    assert '<a href="#id_products_0">Kies ten minste één product.</a>' in html
    assert 'id="id_products_error"' in html
    assert '<option value="2" selected>' in html  # input kept


def test_products_no_desk_serves_together_are_refused(client, location):
    ProductFactory(code="rijbewijs")
    DeskFactory(location=LocationFactory(name="Wijkkantoor"), products=[ProductFactory(code="rijbewijs")])

    response = client.post("/afspraak-maken/", {"products": ["paspoort", "rijbewijs"], "persons": 1})

    assert response.status_code == 200
    assert "kunnen niet samen in één afspraak" in response.content.decode()


@pytest.mark.parametrize("path", ["vestiging/", "tijd/", "gegevens/", "controleren/"])
def test_a_later_step_without_the_earlier_ones_sends_the_visitor_back(client, location, path):
    response = client.get("/afspraak-maken/" + path)

    assert response.status_code == 302
    assert response["Location"] == "/afspraak-maken/"


def test_time_step_offers_days_and_labelled_radio_times_and_the_next_free_time(citizen, client, day):
    citizen.choose_products("uittreksel-brp")
    citizen.choose_location()

    response = client.get(f"/afspraak-maken/tijd/?week={day.isoformat()}&dag={day.isoformat()}")

    html = response.content.decode()
    assert "<title>Stap 3 van 5: Datum en tijd" in html
    assert "Eerste vrije tijd" in html
    value = at(day, 9).isoformat()
    key = at(day, 9).strftime("%Y%m%d%H%M")
    assert f'<input type="radio" name="start" id="t{key}" value="{value}">' in html
    assert f'<label for="t{key}">09:00</label>' in html
    assert "<legend>Ochtend</legend>" in html and "<legend>Middag</legend>" in html
    assert 'aria-current="date"' in html
    assert "Volgende week" in html


def test_choosing_a_time_holds_it_and_the_details_page_says_until_when(citizen, client, day):
    before = timezone.now()
    response = citizen.up_to_details(at(day, 10))

    assert response["Location"] == "/afspraak-maken/gegevens/"
    hold = Appointment.objects.get()
    assert hold.status == AppointmentStatus.HELD
    assert hold.start == at(day, 10)
    assert hold.hold_expires_at > before + timedelta(minutes=9)
    page = client.get("/afspraak-maken/gegevens/").content.decode()
    until = timezone.localtime(hold.hold_expires_at).strftime("%H:%M")
    assert f"tot {until} uur" in page
    assert client.session[flow.SESSION_KEY]["hold_token"] == hold.manage_token


def test_a_visitor_has_at_most_one_hold(citizen, day):
    citizen.up_to_details(at(day, 10))
    citizen.choose_time(at(day, 11))
    citizen.choose_time(at(day, 12))

    holds = Appointment.objects.filter(status=AppointmentStatus.HELD)
    assert [h.start for h in holds] == [at(day, 12)]


def test_booking_end_to_end_records_channel_language_and_reminders_and_sends_the_email(
    citizen, client, day, django_capture_on_commit_callbacks
):
    citizen.up_to_check(at(day, 10), "uittreksel-brp", phone="06 12345678", remind_by_sms="on")
    check = client.get("/afspraak-maken/controleren/").content.decode()
    assert "<title>Stap 5 van 5: Controleren" in check
    assert "Anouk de Vries" in check and "anouk@example.nl" in check and "Per e-mail en per sms" in check

    with django_capture_on_commit_callbacks(execute=True):
        response = citizen.confirm()

    assert response.status_code == 302
    assert response["Location"] == "/afspraak-maken/bevestigd/"
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.channel == Channel.ONLINE
    assert (appointment.language, appointment.remind_by_email, appointment.remind_by_sms) == ("nl", True, True)
    assert appointment.phone == "06 12345678"
    assert flow.SESSION_KEY not in client.session  # contact details leave the session

    page = client.get("/afspraak-maken/bevestigd/").content.decode()
    assert appointment.reference in page
    assert f"/afspraak/{appointment.manage_token}/" in page
    assert f"/afspraak/{appointment.manage_token}/afspraak.ics" in page
    assert "Uw identiteitsbewijs" in page

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anouk@example.nl"]
    assert appointment.reference in message.subject
    assert f"http://127.0.0.1:8000/afspraak/{appointment.manage_token}/" in message.body
    assert "Uw identiteitsbewijs" in message.body
    html = message.alternatives[0].content
    assert '<html lang="nl">' in html and appointment.reference in html
    (filename, content, mimetype) = message.attachments[0]
    assert filename == f"afspraak-{appointment.reference}.ics" and mimetype == "text/calendar"
    event = icalendar.Calendar.from_ical(content).events[0]
    assert event.start == at(day, 10)
    assert event.end == at(day, 10, 10)


def test_no_contact_details_ever_appear_in_a_url(citizen, client, day):
    redirects = [
        citizen.choose_products("uittreksel-brp"),
        citizen.choose_location(),
        citizen.choose_time(at(day, 10)),
        citizen.fill_details(),
        citizen.confirm(),
    ]

    for response in redirects:
        assert response.status_code == 302
        assert "anouk" not in response["Location"].lower() and "vries" not in response["Location"].lower()


def test_time_taken_meanwhile_says_so_and_offers_the_nearest_free_times(citizen, location, day):
    citizen.choose_products("uittreksel-brp")
    citizen.choose_location()
    AppointmentFactory(desk=location.desks.get(), start=at(day, 10), end=at(day, 10, 10))

    response = citizen.choose_time(at(day, 10))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Fout: Stap 3 van 5" in html
    assert "Deze tijd is niet (meer) beschikbaar" in html
    assert '<a href="#kies-tijd">' in html
    assert "Vrije tijden dichtbij uw keuze" in html
    for alternative in (at(day, 9, 50), at(day, 10, 10)):
        assert f'value="{alternative.isoformat()}"' in html
    assert not Appointment.objects.filter(status=AppointmentStatus.HELD).exists()


def test_hold_expired_and_time_taken_at_confirm_returns_to_the_time_step(citizen, client, location, day):
    citizen.up_to_check(at(day, 10))
    hold = Appointment.objects.get(status=AppointmentStatus.HELD)
    expire_hold(client, hold)
    appointment_book(
        products=list(hold.products.all()),
        persons=1,
        location=location,
        start=at(day, 10),
        name="Iemand Anders",
        email="ander@example.nl",
    )
    assert "niet langer voor u vastgehouden" in client.get("/afspraak-maken/controleren/").content.decode()

    response = citizen.confirm()

    assert response.status_code == 200
    html = response.content.decode()
    assert "De reservering van deze tijd is verlopen" in html
    assert "Vrije tijden dichtbij uw keuze" in html
    # Shown at the confirm URL, but every form and day link leads to the time step.
    assert html.count('action="/afspraak-maken/tijd/"') == 1 + html.count("Eerste vrije tijd")
    assert 'href="?' not in html and 'href="/afspraak-maken/tijd/?week=' in html
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    # The visitor picks again and books.
    assert citizen.choose_time(at(day, 11)).status_code == 302
    assert citizen.confirm().status_code == 302
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED, email="anouk@example.nl").count() == 1


def test_hold_expired_but_time_still_free_books_all_the_same(citizen, client, day):
    citizen.up_to_check(at(day, 10))
    expire_hold(client, Appointment.objects.get())

    response = citizen.confirm()

    assert response.status_code == 302
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_too_many_active_appointments_shows_next_to_the_email_field(citizen, brp, location, day):
    AppointmentFactory(
        desk=location.desks.get(), start=at(day, 15), end=at(day, 15, 10), email="anouk@example.nl", products=[brp]
    )
    citizen.up_to_check(at(day, 10))

    response = citizen.confirm()

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Fout: Stap 4 van 5" in html
    assert 'id="id_email_error"' in html
    assert "Er staat al een afspraak voor dit product op dit e-mailadres" in html
    assert '<a href="#id_email">' in html
    assert 'value="anouk@example.nl"' in html  # input kept
    assert 'aria-describedby="id_email_hint id_email_error"' in html
    assert 'action="/afspraak-maken/gegevens/"' in html


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        ({"name": "  "}, "name", "Vul uw naam in."),
        ({"email": "geen-adres"}, "email", "Vul een geldig e-mailadres in"),
        ({"phone": "bel me maar"}, "phone", "Vul een geldig telefoonnummer in"),
        ({"remind_by_sms": "on"}, "phone", "als u een herinnering per sms wilt"),
        ({"remind_by_sms": "on", "phone": "020 123 4567"}, "phone", "mobiel nummer nodig"),
    ],
)
def test_details_errors_sit_next_to_their_field_and_keep_the_input(citizen, day, details, field, message):
    citizen.up_to_details(at(day, 10))

    response = citizen.fill_details(**details)

    assert response.status_code == 200
    html = response.content.decode()
    error = html.split(f'id="id_{field}_error"')[1].split("</p>")[0]
    assert message in error
    assert f'<a href="#id_{field}">' in html
    assert 'aria-invalid="true"' in html
    if field != "email":
        assert 'value="anouk@example.nl"' in html


def test_changing_the_products_forgets_the_chosen_time(citizen, client, day):
    citizen.up_to_check(at(day, 10))

    citizen.choose_products("paspoort")

    draft = client.session[flow.SESSION_KEY]
    assert draft["start"] is None and draft["location_id"] is None
    assert client.get("/afspraak-maken/controleren/")["Location"] == "/afspraak-maken/vestiging/"


def test_the_nudge_hook_may_show_its_own_page_after_the_product_step(citizen, client):
    seen = []

    def step(request, choice):
        seen.append(([p.code for p in choice.products], choice.persons, choice.continue_url))
        return HttpResponse("nudge page")

    flow.register_product_step(step)
    try:
        response = citizen.choose_products("uittreksel-brp", persons=2)
    finally:
        flow.unregister_product_step(step)

    assert response.content == b"nudge page"
    assert seen == [(["uittreksel-brp"], 2, "/afspraak-maken/vestiging/")]
    assert client.get("/afspraak-maken/vestiging/").status_code == 200  # the way on works


def test_a_failing_nudge_hook_never_blocks_the_booking(citizen):
    def broken(request, choice):
        raise RuntimeError("boom")

    flow.register_product_step(broken)
    try:
        response = citizen.choose_products("uittreksel-brp")
    finally:
        flow.unregister_product_step(broken)

    assert response.status_code == 302
    assert response["Location"] == "/afspraak-maken/vestiging/"


def test_confirmation_page_without_a_booking_goes_home(client, location):
    response = client.get("/afspraak-maken/bevestigd/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_garbage_input_never_causes_a_500(citizen, client, day):
    citizen.choose_products("uittreksel-brp")
    citizen.choose_location()

    assert client.post("/afspraak-maken/tijd/", {"start": "gisteren"}).status_code == 200
    assert client.post("/afspraak-maken/tijd/", {"start": "2027-01-01T10:00:00"}).status_code == 200
    assert client.post("/afspraak-maken/tijd/", {"start": at(day, 10, 5).isoformat()}).status_code == 200
    assert client.get("/afspraak-maken/tijd/?week=gisteren&dag=31-02-2027").status_code == 200
    assert client.post("/afspraak-maken/vestiging/", {"location": "stadhuis"}).status_code == 200
    assert client.post("/afspraak-maken/", {"products": ["x" * 500], "persons": "99"}).status_code == 200
    session = client.session
    session[flow.SESSION_KEY] = {"products": ["weg"], "unexpected": 1}
    session.save()
    assert client.get("/afspraak-maken/tijd/").status_code == 302


def test_statements_are_linked_and_say_what_is_stored(client):
    privacy = client.get("/privacy/").content.decode()
    statement = client.get("/toegankelijkheid/").content.decode()

    assert "30 dagen na de afspraak" in privacy
    assert "geen IP-adressen" in privacy
    assert "WCAG" in statement
