"""The KCC work instruction and the one product knowledge base.

End to end: a caller steered online by the script, who completes the form from the link they
were given, shows up as a phone contact "referred online" with a completed online outcome,
through the real online-completion callback."""

from __future__ import annotations

import re
from datetime import time, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from booking.constants import Channel
from booking.integrations import integration_client_create
from booking.models import Appointment
from booking.notifications import confirmation_email
from nudges.channels import selectors
from nudges.constants import ContentKind, ExemptionReason, Metric, OutcomeKind, Principle, Source, Touchpoint
from nudges.exceptions import InvalidInput
from nudges.experiments import selectors as experiment_selectors
from nudges.experiments import services as experiment_services
from nudges.experiments.assignment import unit_hash
from nudges.models import Contact, Exemption, Experiment, Exposure, OnlineLink, Outcome, UnitAppointment
from nudges.outbox.dispatch import messages_dispatch_due
from tests.factories import AppointmentFactory, DeskFactory
from tests.nudges.conftest import build_experiment, make_intervention

pytestmark = pytest.mark.django_db


@pytest.fixture
def knowledge_brp(brp):
    brp.description_nl = "Een uittreksel uit de Basisregistratie Personen."
    brp.checklist_nl = "Geldig identiteitsbewijs"
    brp.online_requires_digid = True
    brp.online_requires_payment = True
    brp.online_requirements_nl = "Een e-mailadres voor de bevestiging"
    brp.kcc_text_nl = "U kunt dit uittreksel ook online aanvragen, met DigiD."
    brp.save()
    return brp


@pytest.fixture
def kcc_experiment(knowledge_brp):
    script = make_intervention(
        "kcc-script", ContentKind.EASY_LINK, Principle.EASY, [knowledge_brp], "Werkinstructie", "{product}"
    )
    script.touchpoint = Touchpoint.KCC_CALL
    script.save()
    return build_experiment(
        [knowledge_brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "script", "intervention": script, "weight": 1},
        ],
        touchpoint=Touchpoint.KCC_CALL,
    )


ALL_DAY = {weekday: (time(0), time(23, 59)) for weekday in range(7)}


def book_query(desk, product="uittreksel-brp", day=None) -> dict:
    day = day or timezone.localdate()
    return {"products": product, "persons": 1, "location": desk.location.pk, "day": day.isoformat()}


def book_page(client, desk, product="uittreksel-brp", day=None):
    return client.get(reverse("staff:phone_book"), book_query(desk, product, day))


def call_with_script(client, desk):
    """Start calls until one lands in the script arm (the assignment is random per call)."""
    for _ in range(60):
        client.get(reverse("staff:phone"))  # a new call
        page = book_page(client, desk).content.decode()
        if "Werkinstructie" in page:
            return page
    raise AssertionError("no call was assigned the script")


def call_in_arm(client, experiment, key: str) -> str:
    """Start calls until one is assigned ``key``; the calls passed over never open a product's
    page, so they are never exposed. Returns the call's unit hash."""
    for _ in range(60):
        client.get(reverse("staff:phone"))  # a new call
        unit = unit_hash(client.session["kcc_call"]["unit"])
        if experiment_selectors.assigned_variant(experiment, unit).key == key:
            return unit
    raise AssertionError(f"no call was assigned {key}")


def book_in_call(client, desk, email: str) -> str:
    """The agent opens the product's page for the caller and books the first free time;
    returns the page the agent saw before booking. Booking's after-commit callbacks run in the
    agent's request, as in production: the test needs real commits (``transaction=True``)."""
    day = timezone.localdate() + timedelta(days=2)
    page = book_page(client, desk, day=day).content.decode()
    start = re.search(r'name="start" id="tijd-1" value="([^"]+)"', page).group(1)
    response = client.post(
        f"{reverse('staff:phone_book')}?{urlencode(book_query(desk, day=day))}",
        {"start": start, "name": "Jan Jansen", "email": email, "language": "nl"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("arm", ["controle", "script"])
def test_a_phone_booking_during_the_call_is_the_calls_booked_outcome_in_either_arm(
    client, phone_user, kcc_experiment, arm
):
    desk = DeskFactory(products=[kcc_experiment.products.get()], weekdays=ALL_DAY)
    client.force_login(phone_user)
    unit = call_in_arm(client, kcc_experiment, arm)

    before = timezone.now()
    page = book_in_call(client, desk, "beller@example.nl")

    # Exposed in both arms at the same moment: when the product's page opened, before the
    # booking, whether or not the agent saw the script.
    assert ("Werkinstructie" in page) is (arm == "script")
    exposure = Exposure.objects.get(experiment=kcc_experiment, unit_hash=unit)
    assert (exposure.variant.key, exposure.source) == (arm, Source.KCC)
    appointment = Appointment.objects.get(email="beller@example.nl")
    assert appointment.channel == Channel.PHONE
    assert before <= exposure.exposed_at <= appointment.booked_at
    # The booking is the call's "booked", in the call's arm, and linked to the call's unit.
    outcome = Outcome.objects.get(experiment=kcc_experiment)
    assert (outcome.unit_hash, outcome.kind, outcome.variant.key, outcome.source) == (
        unit,
        OutcomeKind.BOOKED,
        arm,
        Source.KCC,
    )
    assert UnitAppointment.objects.get(appointment_id=appointment.pk).unit_hash == unit


@pytest.mark.django_db(transaction=True)
def test_the_results_compare_counter_appointments_per_call_and_only_describe_the_script_answers(
    client, phone_user, manager_user, kcc_experiment
):
    desk = DeskFactory(products=[kcc_experiment.products.get()], weekdays=ALL_DAY)
    client.force_login(phone_user)
    for arm in ("controle", "script"):
        call_in_arm(client, kcc_experiment, arm)
        book_in_call(client, desk, f"{arm}@example.nl")
        call_in_arm(client, kcc_experiment, arm)  # a call that ends without a booking
        book_page(client, desk)
    client.get(reverse("staff:phone"))  # the last call ended

    client.force_login(manager_user)
    html = client.get(reverse("nudges:manager-detail", args=[kcc_experiment.pk])).content.decode()

    primary, descriptive = html.split("Overige uitkomsten (beschrijvend)")
    primary = primary.split("<h3>Primaire maat: ")[1]
    assert primary.startswith("Balieafspraak geboekt")
    for arm in ("controle", "script"):
        # Both calls of each arm exposed, one of them with a counter appointment.
        row = re.search(rf'<th scope="row">{arm}.*?</th>\s*<td>(\d+)</td>\s*<td>(\d+)</td>', primary, re.S)
        assert row.groups() == ("2", "1"), arm
    for label in ("Online gekozen", "Doorgegaan naar de balie", "Online afgerond"):
        assert label not in primary and f"<h4>{label}</h4>" in descriptive
    assert "bestaan alleen in de scriptgroep" in descriptive


@pytest.mark.parametrize("metric", [Metric.CHOSE_ONLINE, Metric.CONTINUED_TO_COUNTER, Metric.COMPLETED_ONLINE])
def test_a_kcc_experiment_measured_by_an_outcome_of_the_script_arm_only_is_refused(knowledge_brp, metric):
    def create():
        return experiment_services.experiment_create(
            name="Werkinstructie",
            purpose_nl="Minder baliebezoek.",
            products=[knowledge_brp],
            variants=[{"key": "controle", "intervention": None, "weight": 1}],
            touchpoint=Touchpoint.KCC_CALL,
            primary_metric=metric,
        )

    with pytest.raises(InvalidInput) as refused:
        create()
    assert refused.value.field == "primary_metric"
    assert "alleen in de scriptgroep" in str(refused.value.message)
    with translation.override("en"), pytest.raises(InvalidInput) as refused_en:
        create()
    assert "only in the script arm" in str(refused_en.value.message)
    assert not Experiment.objects.exists()
    # Nor can a draft be changed into one.
    draft = experiment_services.experiment_create(
        name="Werkinstructie",
        purpose_nl="Minder baliebezoek.",
        products=[knowledge_brp],
        variants=[{"key": "controle", "intervention": None, "weight": 1}],
        touchpoint=Touchpoint.KCC_CALL,
        primary_metric=Metric.BOOKED,
    )
    with pytest.raises(InvalidInput) as refused_update:
        experiment_services.experiment_update(experiment=draft, primary_metric=metric)
    assert refused_update.value.field == "primary_metric"
    draft.refresh_from_db()
    assert draft.primary_metric == Metric.BOOKED


def test_a_caller_steered_online_shows_up_as_referred_online_and_completed(
    client, phone_user, kcc_experiment, django_capture_on_commit_callbacks
):
    desk = DeskFactory(products=[kcc_experiment.products.get()])
    client.force_login(phone_user)
    call_with_script(client, desk)
    unit = client.session["kcc_call"]["unit"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contacts:script-answer"),
            {
                "answer": "will_online",
                "product": "uittreksel-brp",
                "unit": unit,
                "send": "email",
                "address": "beller@example.nl",
                "next": reverse("staff:phone"),
            },
        )
    assert response.status_code == 302
    online_url = client.session["kcc_call"]["online_url"]
    reference = parse_qs(urlsplit(online_url).query)["kw_ref"][0]
    assert online_url.startswith("https://formulieren.example.nl/uittreksel")
    # The link went out through the outbox, and the address went with it.
    messages_dispatch_due()
    (email,) = mail.outbox
    assert email.to == ["beller@example.nl"] and f"kw_ref={reference}" in email.body
    assert OnlineLink.objects.get().address == ""

    # The online form reports completion with the reference from the link.
    _client, token = integration_client_create(name="Online formulieren", scopes=["nudges"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    completed = api.post(
        "/api/v1/nudges/outcomes/", {"reference": reference, "kind": "completed_online"}, format="json"
    )
    assert completed.status_code == 201

    contact = selectors.contacts_with_online_completion().get(channel__code="telefoon")
    assert (contact.outcome, contact.script_answer, contact.registered_by) == (
        "referred_online",
        "will_online",
        phone_user,
    )
    assert contact.completed_online is True
    kinds = set(Outcome.objects.filter(experiment=kcc_experiment).values_list("kind", flat=True))
    assert kinds == {OutcomeKind.CHOSE_ONLINE, OutcomeKind.COMPLETED_ONLINE}
    assert Contact.objects.filter(channel__code="internet", outcome="completed_online").count() == 1


def test_cannot_do_it_online_ends_the_script_for_the_call_and_is_logged_apart(client, phone_user, kcc_experiment):
    desk = DeskFactory(products=[kcc_experiment.products.get()])
    client.force_login(phone_user)
    call_with_script(client, desk)
    unit = client.session["kcc_call"]["unit"]
    exposures = Exposure.objects.filter(experiment=kcc_experiment).count()

    client.post(
        reverse("contacts:script-answer"), {"answer": "cannot_online", "product": "uittreksel-brp", "unit": unit}
    )

    page = book_page(client, desk).content.decode()
    assert "Werkinstructie" not in page
    assert Exemption.objects.filter(experiment=kcc_experiment, reason=ExemptionReason.NEEDS_HELP).count() == 1
    assert Exposure.objects.filter(experiment=kcc_experiment).count() == exposures
    assert Contact.objects.get().script_answer == "cannot_online"


def test_a_presence_product_never_gets_the_script(client, phone_user, passport):
    desk = DeskFactory(products=[passport])
    client.force_login(phone_user)
    client.get(reverse("staff:phone"))
    assert "Werkinstructie" not in book_page(client, desk, "paspoort").content.decode()


def _fees_and_requirements(html: str) -> tuple[list[str], list[str]]:
    fees = re.findall(r'<li data-channel="(\w+)">([^<]+)</li>', html)
    requirements = re.search(r'<ul class="knowledge__requirements">(.*?)</ul>', html, re.S)
    return [f"{c}:{' '.join(t.split())}" for c, t in fees], re.findall(r"<li>([^<]+)</li>", requirements.group(1))


def test_the_citizen_page_the_email_the_kcc_script_and_the_desk_show_the_same_fees_and_requirements(
    client, phone_user, knowledge_brp
):
    desk = DeskFactory(products=[knowledge_brp])
    citizen_page = client.get(reverse("booking:product", args=["uittreksel-brp"])).content.decode()
    appointment = AppointmentFactory(desk=desk, products=[knowledge_brp], booked_at=timezone.now())
    email = confirmation_email(appointment.pk)
    client.force_login(phone_user)
    client.get(reverse("staff:phone"))
    script = book_page(client, desk).content.decode()
    appointment_page = client.get(reverse("staff:appointment", args=[appointment.reference])).content.decode()

    page_facts = _fees_and_requirements(citizen_page)
    assert page_facts == _fees_and_requirements(email.html) == _fees_and_requirements(script)
    assert page_facts == _fees_and_requirements(appointment_page)  # the desk and the phone
    fees, requirements = page_facts
    assert fees == ["online:Online: €&nbsp;6,90 per persoon", "counter:Aan de balie: €&nbsp;9,40 per persoon"]
    assert requirements == ["Inloggen met DigiD", "Betalen met iDEAL", "Een e-mailadres voor de bevestiging"]
    for line in ("- Online: € 6,90 per persoon", "- Aan de balie: € 9,40 per persoon", "- Inloggen met DigiD"):
        assert line in email.text
    assert "U kunt dit uittreksel ook online aanvragen, met DigiD." in script
