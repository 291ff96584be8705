"""The staff pages with the Django test client: the day board (fast, PRG, keyboard-usable
forms), walk-ins, the served tag, phone bookings, closures, products and capacity."""

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from booking.constants import AppointmentAction, AppointmentStatus, Channel
from booking.models import Appointment, AppointmentEvent, Closure, Product
from booking.staff import selectors
from tests.factories import AppointmentFactory, DeskFactory, ProductFactory

from .conftest import ALL_DAY, today_at

pytestmark = pytest.mark.django_db


def board_url(location, day=None):
    day = day or timezone.localdate()
    return f"{reverse('staff:board')}?location={location.pk}&day={day.isoformat()}"


# --- day board ------------------------------------------------------------------------------


def test_board_shows_each_desk_in_time_order_with_products_and_status(client, users, location, open_desk, product, brp):
    second = DeskFactory(location=location, name="Balie 2", products=[brp], weekdays=ALL_DAY)
    late = AppointmentFactory(desk=open_desk, start=today_at(11), end=today_at(11, 15), products=[product], name="Late")
    early = AppointmentFactory(
        desk=open_desk, start=today_at(9), end=today_at(9, 25), products=[product, brp], persons=2, name="Vroeg"
    )
    other = AppointmentFactory(desk=second, start=today_at(10), end=today_at(10, 10), products=[brp], name="Ander")
    AppointmentFactory(desk=open_desk, start=today_at(12), end=today_at(12, 10), products=[brp], cancelled=True)
    AppointmentFactory(desk=open_desk, start=today_at(13), end=today_at(13, 10), products=[brp], held=True)
    client.force_login(users["desk"])

    html = client.get(board_url(location)).content.decode()
    html = html[html.index('id="board"') :]

    assert html.index("Balie 1") < html.index(early.reference) < html.index(late.reference) < html.index("Balie 2")
    assert html.index("Balie 2") < html.index(other.reference)
    assert "Paspoort, Uittreksel BRP" in html and "2 personen" in html
    assert "3 afspraken" in html  # not the cancelled one, not the hold
    assert f'action="/medewerkers/afspraken/{early.reference}/aanmelden/"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_board_is_a_fixed_number_of_queries(
    client, users, location, open_desk, product, brp, django_assert_max_num_queries
):
    client.force_login(users["desk"])

    def fill(n, hour):
        for i in range(n):
            start = today_at(hour, 0) + timedelta(minutes=10 * i)
            AppointmentFactory(desk=open_desk, start=start, end=start + timedelta(minutes=10), products=[product, brp])

    fill(2, 8)
    client.get(board_url(location))  # the first visit also remembers the location in the session
    # Session, user, permissions, location, desks with today's hours, closures, appointments with
    # their products, and the form's choices: about twenty, whatever the number of appointments.
    with django_assert_max_num_queries(22) as few:
        assert client.get(board_url(location)).status_code == 200
    fill(40, 10)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(board_url(location))
    assert response.content.decode().count('class="appt ') == 42
    assert len(many.captured_queries) == len(few.captured_queries)


def test_board_fragment_is_only_the_desks(client, users, location, todays_appointment):
    client.force_login(users["desk"])
    response = client.get(
        f"{reverse('staff:board_fragment')}?location={location.pk}&day={timezone.localdate().isoformat()}"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert todays_appointment.reference in html
    assert "<html" not in html and "Inloop registreren" not in html


def test_board_remembers_the_location_and_accepts_any_date(client, users, location, open_desk):
    client.force_login(users["desk"])
    day = timezone.localdate() + timedelta(days=3)
    assert client.get(board_url(location, day)).status_code == 200
    assert location.name in client.get(reverse("staff:board")).content.decode()
    assert client.get(reverse("staff:board") + "?day=not-a-date").status_code == 200


def test_check_in_from_the_board_redirects_back_to_the_row(client, users, location, todays_appointment):
    client.force_login(users["desk"])
    back = board_url(location)

    response = client.post(
        reverse("staff:check_in", args=[todays_appointment.reference]), {"next": back + "#afspraak-x"}
    )

    assert response.status_code == 302 and response["Location"] == back + "#afspraak-x"
    todays_appointment.refresh_from_db()
    assert todays_appointment.status == AppointmentStatus.CHECKED_IN
    page = client.get(back).content.decode()
    assert "is aangemeld" in page and "Terugdraaien" in page


def test_next_never_leaves_the_staff_pages(client, users, todays_appointment):
    client.force_login(users["desk"])
    response = client.post(
        reverse("staff:check_in", args=[todays_appointment.reference]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("staff:appointment", args=[todays_appointment.reference])


def test_served_without_the_tag_shows_a_field_error(client, users, todays_appointment):
    client.force_login(users["desk"])

    response = client.post(reverse("staff:served", args=[todays_appointment.reference]), {"online_reason": ""})

    assert response.status_code == 400
    assert "Kies of dit bezoek online had gekund." in response.content.decode()
    todays_appointment.refresh_from_db()
    assert todays_appointment.status == AppointmentStatus.BOOKED

    response = client.post(
        reverse("staff:served", args=[todays_appointment.reference]),
        {"online_possible": "yes", "online_reason": "unaware"},
    )
    assert response.status_code == 302
    todays_appointment.refresh_from_db()
    assert (todays_appointment.status, todays_appointment.online_possible) == (AppointmentStatus.SERVED, "yes")


def test_an_impossible_action_is_a_clear_message_not_a_500(client, users, todays_appointment):
    todays_appointment.status = AppointmentStatus.CANCELLED
    todays_appointment.save()
    client.force_login(users["desk"])

    response = client.post(reverse("staff:check_in", args=[todays_appointment.reference]))

    assert response.status_code == 409
    assert "Alleen een geboekte afspraak kan worden aangemeld." in response.content.decode()


def test_walk_in_served_directly_from_the_board(client, users, location, open_desk, product):
    client.force_login(users["desk"])
    response = client.post(
        reverse("staff:walk_in") + f"?location={location.pk}",
        {"inloop-product": product.pk, "inloop-persons": "1", "action": "served", "inloop-online_possible": "no"},
    )
    assert response.status_code == 302
    walk_in = Appointment.objects.get(channel=Channel.COUNTER)
    assert (walk_in.status, walk_in.online_possible) == (AppointmentStatus.SERVED, "no")
    assert AppointmentEvent.objects.get(appointment=walk_in).actor == users["desk"]


def test_walk_in_without_a_product_shows_the_form_again(client, users, location, open_desk):
    client.force_login(users["desk"])
    response = client.post(reverse("staff:walk_in") + f"?location={location.pk}", {"inloop-persons": "1"})
    assert response.status_code == 400
    assert "Kies een product." in response.content.decode()


def test_appointment_page_shows_the_audit_trail(client, users, todays_appointment):
    from booking.staff import services

    services.appointment_check_in(appointment=todays_appointment, actor=users["desk"])
    services.appointment_undo_status(appointment=todays_appointment, actor=users["desk"])
    client.force_login(users["phone"])

    html = client.get(reverse("staff:appointment", args=[todays_appointment.reference])).content.decode()

    assert "Geschiedenis" in html
    assert "Teruggedraaid" in html and "Aangemeld" in html and "Bente" in html
    assert "Status: Aangemeld → Geboekt" in html
    assert todays_appointment.email in html


# --- phone ----------------------------------------------------------------------------------


def test_phone_search_by_reference_name_email_or_date(client, users, todays_appointment, open_desk, product):
    AppointmentFactory(desk=open_desk, start=today_at(2), end=today_at(2, 15), products=[product], name="Bram Visser")
    client.force_login(users["phone"])

    def found(**params):
        response = client.get(reverse("staff:phone"), params)
        return response.content.decode()

    assert todays_appointment.reference in found(q=todays_appointment.reference.lower())
    assert todays_appointment.reference in found(q="de vries")
    assert todays_appointment.reference in found(q=todays_appointment.email.upper())
    by_date = found(day=timezone.localdate().isoformat())
    assert todays_appointment.reference in by_date and "Bram Visser" in by_date
    assert todays_appointment.reference not in found(q="Visser")
    assert "Vul een referentie" in found(q="")


def test_phone_booking_through_the_pages(
    client, users, location, open_desk, product, django_capture_on_commit_callbacks
):
    client.force_login(users["phone"])
    day = timezone.localdate() + timedelta(days=2)
    query = f"products={product.code}&persons=1&location={location.pk}&day={day.isoformat()}"

    page = client.get(f"{reverse('staff:phone_book')}?{query}").content.decode()
    assert 'name="start"' in page
    start = today_at(14) + timedelta(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{reverse('staff:phone_book')}?{query}",
            {"start": start.isoformat(), "name": "Jan Jansen", "email": "jan@example.nl", "language": "nl"},
        )

    assert response.status_code == 302
    appointment = Appointment.objects.get(email="jan@example.nl")
    assert (appointment.channel, appointment.start) == (Channel.PHONE, start)
    assert response["Location"] == reverse("staff:appointment", args=[appointment.reference])
    assert len(mail.outbox) == 1
    # Never nudged: the online alternative is nowhere on the agent's pages.
    assert "formulieren.example.nl" not in page


def test_phone_booking_of_a_taken_time_shows_alternatives(client, users, location, open_desk, product):
    client.force_login(users["phone"])
    day = timezone.localdate() + timedelta(days=2)
    start = today_at(14) + timedelta(days=2)
    AppointmentFactory(desk=open_desk, start=start, end=start + timedelta(minutes=15), products=[product])
    query = f"products={product.code}&persons=1&location={location.pk}&day={day.isoformat()}"

    response = client.post(
        f"{reverse('staff:phone_book')}?{query}",
        {"start": start.isoformat(), "name": "Jan Jansen", "email": "jan@example.nl", "language": "nl"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "niet (meer) beschikbaar" in html and "in de buurt" in html
    assert not Appointment.objects.filter(email="jan@example.nl").exists()


def test_phone_move_and_cancel_through_the_pages(client, users, open_desk, product):
    start = today_at(11) + timedelta(days=3)
    appointment = AppointmentFactory(desk=open_desk, start=start, end=start + timedelta(minutes=15), products=[product])
    client.force_login(users["phone"])
    new_start = start + timedelta(hours=2)

    page = client.get(reverse("staff:phone_reschedule", args=[appointment.reference]) + f"?day={start.date()}")
    assert new_start.astimezone(UTC).isoformat() in page.content.decode()
    response = client.post(
        reverse("staff:phone_reschedule", args=[appointment.reference]) + f"?day={start.date()}",
        {"start": new_start.isoformat()},
    )
    assert response.status_code == 302
    response = client.post(reverse("staff:phone_cancel", args=[appointment.reference]))
    assert response.status_code == 302

    appointment.refresh_from_db()
    assert (appointment.start, appointment.status) == (new_start, AppointmentStatus.CANCELLED)
    assert list(appointment.events.values_list("action", flat=True)) == [
        AppointmentAction.RESCHEDULED,
        AppointmentAction.CANCELLED,
    ]


# --- schedules ------------------------------------------------------------------------------


def test_closure_preview_then_confirm_cancels_and_mails(
    client, users, location, open_desk, product, django_capture_on_commit_callbacks
):
    day = timezone.localdate() + timedelta(days=4)
    first = AppointmentFactory(
        desk=open_desk,
        start=today_at(10) + timedelta(days=4),
        end=today_at(10, 15) + timedelta(days=4),
        products=[product],
    )
    client.force_login(users["planner"])
    data = {"start_date": day.isoformat(), "end_date": day.isoformat(), "reason": "Verbouwing", "desk": ""}
    url = reverse("staff:closure_new", args=[location.pk])

    preview = client.post(url, {**data, "step": "preview"})
    html = preview.content.decode()
    assert preview.status_code == 200 and first.reference in html and "1 afspraak wordt geannuleerd" in html
    assert not Closure.objects.exists()

    # Someone books while the planner reads the list: the confirmation is refused and shows it.
    second = AppointmentFactory(
        desk=open_desk,
        start=today_at(12) + timedelta(days=4),
        end=today_at(12, 15) + timedelta(days=4),
        products=[product],
    )
    again = client.post(url, {**data, "step": "confirm", "expected": [first.pk]})
    assert again.status_code == 200 and second.reference in again.content.decode()
    assert "Controleer de lijst opnieuw" in again.content.decode()
    assert not Closure.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**data, "step": "confirm", "expected": [first.pk, second.pk]})
    assert done.status_code == 302
    assert Closure.objects.get().reason == "Verbouwing"
    assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.CANCELLED}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])
    assert "2 afspraken zijn geannuleerd" in client.get(done["Location"]).content.decode()


def test_closure_form_errors_are_shown(client, users, location):
    client.force_login(users["planner"])
    response = client.post(
        reverse("staff:closure_new", args=[location.pk]),
        {"start_date": "2030-01-02", "end_date": "2030-01-01", "reason": "", "step": "preview"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Het einde moet na het begin liggen." in html and "Geef een reden op." in html


def test_schedule_page_actions(client, users, location, open_desk, product, brp):
    client.force_login(users["planner"])
    page = client.get(reverse("staff:schedule", args=[location.pk])).content.decode()
    assert "Balie 1" in page and "Feestdagen" in page and "Eerste kerstdag" in page

    response = client.post(
        reverse("staff:desk_products", args=[open_desk.pk]), {f"balie{open_desk.pk}-products": [brp.pk]}
    )
    assert response.status_code == 302
    assert list(open_desk.products.all()) == [brp]

    response = client.post(
        reverse("staff:hours_add", args=[location.pk]),
        {
            "uren-desk": open_desk.pk,
            "uren-weekday": 0,
            "uren-opens": "23:00",
            "uren-closes": "23:30",
            "uren-valid_from": "2030-01-01",
        },
    )
    assert response.status_code == 400 and "overlappen" in response.content.decode()


def test_holiday_toggle(client, users, location, open_desk):
    christmas = selectors.holidays_upcoming(location=location, today=timezone.localdate())[0].day
    client.force_login(users["planner"])
    url = reverse("staff:holiday", args=[location.pk, christmas.isoformat()])

    assert client.post(url, {"open": "1", "note": "Extra openstelling"}).status_code == 302
    assert location.holiday_openings.get().note == "Extra openstelling"
    assert client.post(url, {"open": "0"}).status_code == 302
    assert not location.holiday_openings.exists()


# --- products -------------------------------------------------------------------------------


def product_data(product, **changes):
    data = {
        "name_nl": product.name_nl,
        "name_en": product.name_en,
        "minutes_per_person": product.minutes_per_person,
        "buffer_minutes": 0,
        "booking_horizon_days": 90,
        "min_notice_minutes": 60,
        "fee_counter": "9.40",
        "cost_counter": "12.00",
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_product_prices_above_cost_are_field_errors_never_a_500(client, users, brp):
    client.force_login(users["manager"])
    url = reverse("staff:product_edit", args=[brp.code])

    response = client.post(
        url, product_data(brp, fee_online="10.00", cost_online="7.00", fee_phone="20", cost_phone="15")
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "De leges mogen niet hoger zijn dan de kostprijs (€ 7.00)." in html
    assert "De leges mogen niet hoger zijn dan de kostprijs (€ 15" in html
    assert 'id="id_fee_online_error"' in html
    brp.refresh_from_db()
    assert brp.fee_online == Decimal("6.90")

    response = client.post(url, product_data(brp, fee_online="9.50", cost_online="10.00"))
    assert response.status_code == 400
    assert "niet hoger zijn dan de leges aan de balie" in response.content.decode()

    response = client.post(url, product_data(brp, minutes_per_person=12, fee_online="6.50", cost_online="7.00"))
    assert response.status_code == 302
    brp.refresh_from_db()
    assert (brp.minutes_per_person, brp.fee_online) == (12, Decimal("6.50"))


def test_new_product(client, users):
    client.force_login(users["planner"])
    product = ProductFactory.build(code="huwelijk", name_nl="Huwelijk", name_en="Marriage", minutes_per_person=30)
    response = client.post(reverse("staff:product_new"), {"code": "huwelijk", **product_data(product)})
    assert response.status_code == 302
    assert Product.objects.get(code="huwelijk").minutes_per_person == 30
    again = client.post(reverse("staff:product_new"), {"code": "huwelijk", **product_data(product)})
    assert again.status_code == 400 and "bestaat al" in again.content.decode()


# --- capacity -------------------------------------------------------------------------------


def test_capacity_week(location, desk, product):
    from .conftest import NOW, WEDNESDAY, at

    AppointmentFactory(desk=desk, start=at(10), end=at(10, 30), products=[product])
    AppointmentFactory(desk=desk, start=at(11), end=at(11, 30), products=[product], status=AppointmentStatus.NO_SHOW)
    AppointmentFactory(desk=desk, start=at(12), end=at(13), products=[product], cancelled=True)

    week = selectors.capacity_week(location=location, week_start=WEDNESDAY, now=NOW)

    assert week.week_start.weekday() == 0
    (row,) = week.desks
    assert row.open_minutes == 5 * 8 * 60
    assert row.booked_minutes == 60
    assert week.utilisation == pytest.approx(60 / 2400)
    lead = {lt.product.code: lt for lt in week.lead_times}
    assert lead["paspoort"].first_free == at(10, 30)  # 10:02 + no notice → 10:10 is taken until 10:30
    assert lead["paspoort"].days == 0


def test_capacity_page(client, users, location, open_desk):
    client.force_login(users["manager"])
    html = client.get(reverse("staff:capacity") + f"?location={location.pk}").content.decode()
    assert "Bezetting per balie" in html and "Eerstvolgende vrije tijd per product" in html


def test_phone_booking_cleans_the_name_and_greets_with_it(
    client, users, location, open_desk, product, django_capture_on_commit_callbacks
):
    client.force_login(users["phone"])
    day = timezone.localdate() + timedelta(days=2)
    query = f"products={product.code}&persons=1&location={location.pk}&day={day.isoformat()}"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{reverse('staff:phone_book')}?{query}",
            {
                "start": (today_at(14) + timedelta(days=2)).isoformat(),
                "name": "Jan\r\nJansen\u202e",
                "email": "jan@example.nl",
                "language": "nl",
            },
        )

    assert response.status_code == 302
    assert Appointment.objects.get(email="jan@example.nl").name == "Jan Jansen"
    # Typed by staff: the confirmation greets by name.
    assert "Beste Jan Jansen," in mail.outbox[0].body
