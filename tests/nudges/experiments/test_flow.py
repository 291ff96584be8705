"""The nudge step in the citizen booking flow (Django test client): one consistent variant
per visitor, the counter always one action away, exemptions never nudged, control exposures
logged, the tracked redirect and the booking outcome linked to the unit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from booking.models import Appointment
from nudges.constants import REFERENCE_PARAM, UNIT_COOKIE, ExemptionReason, OutcomeKind
from nudges.models import Exemption, Exposure, OnlineReference, Outcome, UnitAppointment
from tests.nudges.visitors import choose, unit_of, visitor_in

pytestmark = pytest.mark.django_db

COUNTER_BUTTON = "Toch een afspraak aan de balie maken"


@pytest.mark.parametrize("variant", ["easy", "attractive", "social"])
def test_every_variant_shows_the_counter_path_and_the_why_link(desk, brp, experiment, variant):
    client = visitor_in(variant, brp.code)
    page = client.get(reverse("nudges:step"))
    html = page.content.decode()
    assert page.status_code == 200
    assert COUNTER_BUTTON in html
    assert f'action="{reverse("nudges:counter")}"' in html
    assert reverse("nudges:register") + f"#experiment-{experiment.pk}" in html
    assert reverse("nudges:online", args=[brp.code]) in html
    assert f'data-variant="{variant}"' in html
    if variant == "attractive":
        assert "6,90" in html and "9,40" in html and "2,50" in html
    if variant == "social":
        # 120 online completions, no counter visits in the fixture: 120 of 120, with period and denominator.
        assert "120 van de 120" in html and "Bron: eigen gegevens" in html

    # "Counter anyway" is one action and lands on the location step.
    response = client.post(reverse("nudges:counter"), {"reden": "balie"})
    assert response.url == reverse("booking:location")
    assert Outcome.objects.get(experiment=experiment, kind=OutcomeKind.CONTINUED_TO_COUNTER).unit_hash == unit_of(
        client
    )


def test_a_visitor_sees_the_same_variant_on_every_visit(desk, brp, experiment):
    client = visitor_in("easy", brp.code)
    for _ in range(3):
        assert client.get(reverse("nudges:step")).context["decision"].variant.key == "easy"
        assert choose(client, brp.code).url == reverse("nudges:step")
    assert Exposure.objects.filter(experiment=experiment, unit_hash=unit_of(client)).count() == 1


def test_control_sees_no_nudge_but_its_exposure_is_logged(desk, brp, experiment):
    client = visitor_in("controle", brp.code)
    exposure = Exposure.objects.get(experiment=experiment, unit_hash=unit_of(client))
    assert exposure.variant.key == "controle" and exposure.variant.is_control
    assert choose(client, brp.code).url == reverse("nudges:step")
    assert client.get(reverse("nudges:step")).url == reverse("booking:location")  # no nudge page
    assert Exposure.objects.filter(experiment=experiment, unit_hash=unit_of(client)).count() == 1


def test_nudge_logs_hold_no_personal_data(desk, brp, experiment):
    client = visitor_in("easy", brp.code)
    raw = client.cookies[UNIT_COOKIE].value
    exposure = Exposure.objects.get(experiment=experiment, unit_hash=unit_of(client))
    assert raw not in exposure.unit_hash and len(exposure.unit_hash) == 64
    fields = {f.name for model in (Exposure, Exemption, Outcome) for f in model._meta.fields}
    assert not fields & {"ip", "ip_address", "email", "name", "phone", "bsn"}


def test_visitors_who_need_help_are_never_nudged(desk, brp, experiment):
    for _ in range(20):
        client = Client()
        response = choose(client, brp.code, needs_help="on")
        assert response.url == reverse("booking:location")
        assert client.get(reverse("nudges:step")).status_code == 302
    assert not Exposure.objects.exists()
    assert Exemption.objects.filter(reason=ExemptionReason.NEEDS_HELP).count() == 20


def test_presence_products_are_never_nudged(desk, brp, passport, experiment):
    for _ in range(20):
        client = Client()
        assert choose(client, brp.code, passport.code).url == reverse("booking:location")
    assert not Exposure.objects.exists()
    assert Exemption.objects.filter(reason=ExemptionReason.PRESENCE_REQUIRED).count() == 20


def test_i_need_help_on_the_nudge_page_stops_all_further_nudges(desk, brp, experiment):
    client = visitor_in("attractive", brp.code)
    client.post(reverse("nudges:counter"), {"reden": "hulp"})
    assert Exemption.objects.filter(reason=ExemptionReason.NEEDS_HELP).count() == 1
    assert choose(client, brp.code).url == reverse("booking:location")
    assert client.get(reverse("nudges:step")).url == reverse("booking:location")


def test_without_a_running_experiment_the_flow_is_untouched(desk, brp):
    client = Client()
    assert choose(client, brp.code).url == reverse("booking:location")
    assert UNIT_COOKIE not in client.cookies


def test_the_tracked_redirect_logs_the_choice_and_appends_an_opaque_reference(desk, brp, experiment):
    client = visitor_in("easy", brp.code)
    response = client.get(reverse("nudges:online", args=[brp.code]))
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.netloc == "formulieren.example.nl"
    query = parse_qs(target.query)
    assert query["bron"] == ["gemeente"]  # the form's own parameters are kept
    reference = OnlineReference.objects.get(experiment=experiment, unit_hash=unit_of(client))
    assert query[REFERENCE_PARAM] == [reference.reference]
    assert len(reference.reference) >= 20
    assert Outcome.objects.filter(experiment=experiment, kind=OutcomeKind.CHOSE_ONLINE).count() == 1
    # Clicking again reuses the reference and logs nothing twice.
    assert client.get(reverse("nudges:online", args=[brp.code])).url == response.url
    assert Outcome.objects.filter(experiment=experiment, kind=OutcomeKind.CHOSE_ONLINE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_booking_after_a_nudge_counts_as_booked_for_that_unit(desk, brp, experiment):
    """The whole flow: nudge, counter anyway, location, time, details, check: booked."""
    client = visitor_in("social", brp.code)
    client.post(reverse("nudges:counter"), {"reden": "balie"})
    client.post(reverse("booking:location"), {"location": desk.location_id})
    time_page = client.get(reverse("booking:time"))
    start = time_page.context["picker"].first_free.value
    assert client.post(reverse("booking:time"), {"start": start}).url == reverse("booking:details")
    details = {"name": "Test Inwoner", "email": "test@example.nl", "phone": "", "privacy": "on"}
    client.post(reverse("booking:details"), details)
    response = client.post(reverse("booking:check"))
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get(email="test@example.nl")
    link = UnitAppointment.objects.get(appointment_id=appointment.pk)
    assert link.unit_hash == unit_of(client)
    assert Outcome.objects.filter(experiment=experiment, kind=OutcomeKind.BOOKED).count() == 1

    client.post(reverse("booking:manage_cancel", kwargs={"token": appointment.manage_token}))
    assert Outcome.objects.filter(experiment=experiment, kind=OutcomeKind.CANCELLED).count() == 1


def test_attendance_and_no_show_reach_the_linked_unit(desk, brp, experiment):
    from datetime import timedelta

    from django.utils import timezone

    from booking.constants import AppointmentStatus
    from nudges.experiments import listeners
    from tests.factories import AppointmentFactory

    client = visitor_in("easy", brp.code)
    unit = unit_of(client)
    served = AppointmentFactory(desk=desk, products=[brp], status=AppointmentStatus.SERVED)
    missed = AppointmentFactory(
        desk=desk, products=[brp], status=AppointmentStatus.NO_SHOW, start=timezone.now() + timedelta(days=2)
    )
    for appointment in (served, missed):
        UnitAppointment.objects.create(appointment_id=appointment.pk, unit_hash=unit, linked_at=timezone.now())
        listeners.appointment_status_changed(appointment.pk)
    kinds = set(Outcome.objects.filter(experiment=experiment, unit_hash=unit).values_list("kind", flat=True))
    assert {OutcomeKind.ATTENDED, OutcomeKind.NO_SHOW} <= kinds


def test_a_phone_booking_is_never_attributed_to_a_web_unit(desk, brp, experiment):
    from booking.constants import Channel
    from nudges.experiments import listeners
    from nudges.experiments.unit import reset_current_unit_hash, set_current_unit_hash
    from tests.factories import AppointmentFactory

    client = visitor_in("easy", brp.code)
    appointment = AppointmentFactory(desk=desk, products=[brp], channel=Channel.PHONE)
    token = set_current_unit_hash(unit_of(client))  # e.g. a KCC agent who once walked the citizen flow
    try:
        listeners.appointment_booked(appointment.pk)
    finally:
        reset_current_unit_hash(token)
    assert not UnitAppointment.objects.exists()
    assert not Outcome.objects.filter(kind=OutcomeKind.BOOKED).exists()
