"""Reminder wording as an experiment: the appointment is the unit, the exposure is logged when
the e-mail actually goes out (once for both reminders), the wording's figures come from data,
and booking's hooks record cancelled, attended, no-show and done-online for the reminder unit."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from scipy.stats import chisquare

from booking.constants import AppointmentStatus, CancelReason, Channel
from booking.services import appointment_cancel
from booking.staff.services import appointment_mark_no_show, appointment_mark_served
from nudges.constants import (
    ContentKind,
    ExperimentStatus,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Metric,
    OutcomeKind,
    Principle,
    Touchpoint,
)
from nudges.exceptions import CannotStart
from nudges.experiments import logs, selectors, services
from nudges.experiments.assignment import appointment_unit_hash, assign, unit_hash
from nudges.experiments.results import experiment_results
from nudges.models import DeliveryAttempt, Exposure, Intervention, Outcome, ScheduledMessage, UnitAppointment
from nudges.outbox import dispatch as messaging
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.reminders.planning import reminders_plan
from tests.factories import AppointmentFactory, ProductFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)
START = datetime(2027, 3, 10, 10, 0, tzinfo=AMS)
# Appointments start from START on, ten minutes apart: at these times every 5-day reminder is
# due (and no 1-day one), then every 1-day reminder, while no appointment has started.
FIRST_SEND = datetime(2027, 3, 6, 9, 0, tzinfo=AMS)
SECOND_SEND = datetime(2027, 3, 10, 9, 59, tzinfo=AMS)

COST_NL = "Een afspraak die niet wordt gebruikt kost de gemeente {cost} en een andere inwoner een plek."
COST_EN = "An appointment that is not used costs the municipality {cost} and another resident a place."
WAITING_NL = (
    "In de afgelopen {period_days} dagen zijn er {bookings} andere afspraken voor {product} gemaakt bij {location}."
)
WAITING_EN = "In the last {period_days} days, {bookings} other appointments for {product} were made at {location}."


def reminder_intervention(code, kind, principle, products, headline, message_nl, message_en):
    intervention = Intervention.objects.create(
        code=code,
        name=code,
        touchpoint=Touchpoint.REMINDER,
        kind=kind,
        principle=principle,
        headline_nl=headline,
        headline_en=headline,
        message_nl=message_nl,
        message_en=message_en,
    )
    intervention.full_clean()
    intervention.products.set(products)
    return intervention


@pytest.fixture
def reminder_interventions(brp, passport):
    products = [brp, passport]
    return {
        "cost": reminder_intervention(
            "kosten", ContentKind.REMINDER_COST, Principle.ATTRACTIVE, products, "Kosten", COST_NL, COST_EN
        ),
        "waiting": reminder_intervention(
            "anderen-zoeken",
            ContentKind.REMINDER_WAITING,
            Principle.SOCIAL,
            products,
            "Anderen zoeken ook een tijd",
            WAITING_NL,
            WAITING_EN,
        ),
    }


def start_reminder_experiment(products, interventions, *, start=True, **fields):
    design = {
        "name": "Herinnering",
        "purpose_nl": "Minder gemiste afspraken.",
        "hypothesis": "Noemen wat een gemiste afspraak kost verlaagt het aandeel dat niet verschijnt.",
        "touchpoint": Touchpoint.REMINDER,
        "primary_metric": Metric.NO_SHOW,
        "guardrail_metrics": [Metric.CANCELLED, Metric.ATTENDED],
        "planned_sample_per_variant": 1000,
        **fields,
    }
    variants = [
        {"key": "controle", "intervention": None, "weight": 1},
        {"key": "kosten", "intervention": interventions["cost"], "weight": 1},
        {"key": "anderen-zoeken", "intervention": interventions["waiting"], "weight": 1},
    ]
    experiment = services.experiment_create(products=products, variants=variants, **design)
    return services.experiment_start(experiment=experiment) if start else experiment


@pytest.fixture
def reminder_experiment(brp, passport, reminder_interventions):
    # A passport needs presence: a reminder experiment may still cover it (it never nudges away).
    return start_reminder_experiment([brp, passport], reminder_interventions)


class Appointments:
    """Appointments on one desk, ten minutes apart, and the arm each one is assigned to."""

    def __init__(self, desk, products):
        self.desk, self.products, self.count = desk, products, 0

    def make(self, **fields):
        start = fields.pop("start", START + timedelta(minutes=10 * self.count))
        self.count += 1
        return AppointmentFactory(
            desk=self.desk, start=start, end=start + timedelta(minutes=10), products=self.products, **fields
        )

    def in_arm(self, experiment, key, **fields):
        for _ in range(200):
            appointment = self.make(**fields)
            if selectors.assigned_variant(experiment, appointment_unit_hash(appointment.pk)).key == key:
                return appointment
        raise AssertionError(f"no appointment landed in {key}")


@pytest.fixture
def appointments(desk, brp):
    return Appointments(desk, [brp])


def send_first_reminder(appointment):
    reminders_plan(appointment.pk, now=NOW)
    before = len(mail.outbox)
    assert messages_dispatch_due(now=FIRST_SEND) == 1
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


def exposures(experiment):
    return list(Exposure.objects.filter(experiment=experiment))


def outcome_kinds(experiment, appointment):
    unit = appointment_unit_hash(appointment.pk)
    return set(Outcome.objects.filter(experiment=experiment, unit_hash=unit).values_list("kind", flat=True))


# --- no experiment ----------------------------------------------------------------------------


def test_without_a_running_experiment_the_plain_reminder_goes_out_and_nothing_is_logged(
    appointments, reminder_interventions, brp, passport
):
    draft = start_reminder_experiment([brp, passport], reminder_interventions, start=False)
    email = send_first_reminder(appointments.make())

    assert "kost de gemeente" not in email.body and "Anderen zoeken" not in email.body
    assert "Ik kom" in email.body  # the plain reminder, with its links
    assert not Exposure.objects.exists()
    assert draft.status == ExperimentStatus.DRAFT


def test_a_paused_experiment_logs_nothing_either(appointments, reminder_experiment):
    services.experiment_pause(experiment=reminder_experiment)
    appointment = appointments.in_arm(reminder_experiment, "kosten")

    email = send_first_reminder(appointment)

    assert "kost de gemeente" not in email.body
    assert not Exposure.objects.exists()


# --- the wording in the sent e-mail -------------------------------------------------------------


def test_each_arm_gets_its_wording_in_the_sent_email(appointments, reminder_experiment, settings, brp, desk):
    settings.NUDGES_REMINDER_DEMAND_MIN = 3
    for i in range(4):  # four other bookings for the extract at this location, last week
        appointments.make(booked_at=NOW - timedelta(days=i + 1), start=START + timedelta(days=1, minutes=10 * i))
    control = appointments.in_arm(reminder_experiment, "controle")
    cost = appointments.in_arm(reminder_experiment, "kosten", persons=2)
    waiting = appointments.in_arm(reminder_experiment, "anderen-zoeken")

    control_email = send_first_reminder(control)
    cost_email = send_first_reminder(cost)
    waiting_email = send_first_reminder(waiting)

    assert "kost de gemeente" not in control_email.body and "andere afspraken" not in control_email.body
    why = f"/transparantie/#experiment-{reminder_experiment.pk}"
    assert why not in control_email.body
    assert why in cost_email.body and why in cost_email.alternatives[0][0] and why in waiting_email.body
    # The counter cost price of the extract (9.40) for two persons, from the catalogue.
    cost_sentence = COST_NL.format(cost="€ 18,80")
    assert cost_sentence in cost_email.body
    assert cost_sentence in cost_email.alternatives[0][0]
    location = desk.location.name
    waiting_sentence = WAITING_NL.format(period_days=14, location=location, bookings=4, product="Uittreksel BRP")
    assert waiting_sentence in waiting_email.body
    assert "Anderen zoeken ook een tijd" in waiting_email.alternatives[0][0]
    logged = {e.variant.key: e for e in exposures(reminder_experiment)}
    assert set(logged) == {"controle", "kosten", "anderen-zoeken"}
    assert not any(e.fallback for e in logged.values())
    assert {e.touchpoint for e in logged.values()} == {Touchpoint.REMINDER}
    assert logged["kosten"].unit_hash == appointment_unit_hash(cost.pk)
    assert logged["kosten"].exposed_at == FIRST_SEND


def test_the_wording_follows_the_citizens_language(appointments, reminder_experiment, brp):
    appointment = appointments.in_arm(reminder_experiment, "kosten", language="en")

    email = send_first_reminder(appointment)

    assert COST_EN.format(cost="€ 9.40") in email.body
    assert '<html lang="en">' in email.alternatives[0][0]


def test_the_cost_sentence_is_left_out_when_a_cost_price_is_unknown(desk, reminder_experiment, brp):
    unknown = ProductFactory(code="onbekende-kosten", cost_counter=None)
    desk.products.add(unknown)
    reminder_experiment.products.add(unknown)  # through the ORM: the design is locked otherwise
    appointment = Appointments(desk, [brp, unknown]).in_arm(reminder_experiment, "kosten")

    email = send_first_reminder(appointment)

    assert "kost de gemeente" not in email.body
    (exposure,) = exposures(reminder_experiment)
    assert exposure.variant.key == "kosten" and exposure.fallback


def test_others_are_looking_only_when_the_bookings_say_so(appointments, reminder_experiment, settings):
    settings.NUDGES_REMINDER_DEMAND_MIN = 3
    # Two recent bookings, one too old, one held, one at the counter: not enough to say it.
    appointments.make(booked_at=NOW - timedelta(days=2), start=START + timedelta(days=1))
    appointments.make(booked_at=NOW - timedelta(days=3), start=START + timedelta(days=1, minutes=10))
    appointments.make(booked_at=NOW - timedelta(days=30), start=NOW - timedelta(days=20))
    appointments.make(
        booked_at=NOW - timedelta(days=1),
        start=START + timedelta(days=1, minutes=20),
        status=AppointmentStatus.HELD,
        hold_expires_at=NOW,
    )
    appointments.make(
        booked_at=NOW - timedelta(days=1), start=START + timedelta(days=1, minutes=30), channel=Channel.COUNTER
    )
    thin = appointments.in_arm(reminder_experiment, "anderen-zoeken")

    email = send_first_reminder(thin)

    assert "Anderen zoeken" not in email.body and "andere afspraken" not in email.body
    assert exposures(reminder_experiment)[0].fallback

    appointments.make(booked_at=NOW - timedelta(days=4), start=START + timedelta(days=2))
    enough = appointments.in_arm(reminder_experiment, "anderen-zoeken")
    email = send_first_reminder(enough)
    assert "zijn er 3 andere afspraken voor Uittreksel BRP gemaakt bij" in email.body


# --- one exposure per appointment, when sent -----------------------------------------------------


def test_one_exposure_for_both_reminders_with_the_same_wording(appointments, reminder_experiment):
    appointment = appointments.in_arm(reminder_experiment, "kosten")
    reminders_plan(appointment.pk, now=NOW)
    assert not Exposure.objects.exists()  # planned is not sent

    messages_dispatch_due(now=FIRST_SEND)
    messages_dispatch_due(now=SECOND_SEND)

    first, second = mail.outbox
    sentence = COST_NL.format(cost="€ 9,40")
    assert sentence in first.body and sentence in second.body
    (exposure,) = exposures(reminder_experiment)
    assert exposure.exposed_at == FIRST_SEND
    assert ScheduledMessage.objects.filter(appointment=appointment, status=MessageStatus.SENT).count() == 2


def test_a_reminder_that_failed_to_send_is_no_exposure(appointments, reminder_experiment, monkeypatch, settings):
    from django.core.mail.backends.locmem import EmailBackend

    settings.NUDGES_MESSAGE_MAX_ATTEMPTS = 1

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    reminders_plan(appointments.in_arm(reminder_experiment, "kosten").pk, now=NOW)

    assert messages_dispatch_due(now=FIRST_SEND) == 0
    assert ScheduledMessage.objects.filter(status=MessageStatus.FAILED).count() == 1
    assert not Exposure.objects.exists()


def test_an_sms_reminder_carries_no_wording_and_is_no_exposure(appointments, reminder_experiment):
    appointment = appointments.in_arm(reminder_experiment, "kosten", email="", phone="0612345678", remind_by_sms=True)
    reminders_plan(appointment.pk, now=NOW)
    assert {m.channel for m in ScheduledMessage.objects.filter(appointment=appointment)} == {MessageChannel.SMS}

    assert messages_dispatch_due(now=FIRST_SEND) == 1

    assert not Exposure.objects.exists()


def test_an_error_after_sending_is_logged_and_the_row_stays_sent(appointments, reminder_experiment, monkeypatch):
    def broken(message, outgoing, now):
        raise RuntimeError("logging broke")

    monkeypatch.setitem(messaging._sent_callbacks, MessageKind.REMINDER, broken)
    reminders_plan(appointments.make().pk, now=NOW)

    assert messages_dispatch_due(now=FIRST_SEND) == 1

    assert len(mail.outbox) == 1
    assert ScheduledMessage.objects.get(status=MessageStatus.SENT)
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == ["sent"]


# --- outcomes from booking's hooks ------------------------------------------------------------


def test_cancelled_in_advance_is_recorded_for_the_reminder_unit(
    appointments, reminder_experiment, django_capture_on_commit_callbacks
):
    appointment = appointments.in_arm(reminder_experiment, "anderen-zoeken")
    send_first_reminder(appointment)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, now=FIRST_SEND + timedelta(hours=2))

    assert outcome_kinds(reminder_experiment, appointment) == {OutcomeKind.CANCELLED}
    (outcome,) = Outcome.objects.filter(experiment=reminder_experiment)
    assert outcome.variant.key == "anderen-zoeken"


def test_attended_and_no_show_are_recorded_from_the_desk(
    appointments, reminder_experiment, django_capture_on_commit_callbacks
):
    came = appointments.make()
    missed = appointments.make()
    send_first_reminder(came)
    send_first_reminder(missed)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_mark_served(appointment=came, actor=None, online_possible="no", now=came.start)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_mark_no_show(appointment=missed, actor=None, now=missed.start + timedelta(minutes=15))

    assert outcome_kinds(reminder_experiment, came) == {OutcomeKind.ATTENDED}
    assert outcome_kinds(reminder_experiment, missed) == {OutcomeKind.NO_SHOW}


def test_no_outcome_without_an_exposure(appointments, reminder_experiment, django_capture_on_commit_callbacks):
    appointment = appointments.make()  # its reminder was never sent
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, now=NOW)

    assert not Outcome.objects.exists()


def test_a_closure_cancelling_the_appointment_is_not_the_citizens_cancellation(
    appointments, reminder_experiment, django_capture_on_commit_callbacks
):
    appointment = appointments.make()
    send_first_reminder(appointment)

    with django_capture_on_commit_callbacks(execute=True):
        # How booking.staff's closure service cancels: no citizen channel.
        appointment_cancel(appointment=appointment, channel="", now=FIRST_SEND + timedelta(hours=1))

    assert outcome_kinds(reminder_experiment, appointment) == set()


def test_done_online_records_completed_online_for_the_reminder_and_the_web_unit(
    appointments, reminder_experiment, experiment, brp, django_capture_on_commit_callbacks
):
    # The visitor saw the web experiment's control page, then booked at the counter anyway.
    appointment = appointments.make(booked_at=NOW + timedelta(minutes=5))
    web_unit = unit_hash("bezoeker-met-cookie")
    control = selectors.assigned_variant(experiment, web_unit)
    logs.exposure_log(experiment=experiment, variant=control, unit_hash=web_unit, product=brp, now=NOW)
    UnitAppointment.objects.create(appointment_id=appointment.pk, unit_hash=web_unit, linked_at=NOW)
    send_first_reminder(appointment)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, reason=CancelReason.DONE_ONLINE, now=FIRST_SEND)

    assert outcome_kinds(reminder_experiment, appointment) == {OutcomeKind.CANCELLED, OutcomeKind.COMPLETED_ONLINE}
    web = set(Outcome.objects.filter(experiment=experiment, unit_hash=web_unit).values_list("kind", "source"))
    assert web == {(OutcomeKind.CANCELLED, "web"), (OutcomeKind.COMPLETED_ONLINE, "web")}


def test_a_plain_cancellation_of_a_web_unit_is_logged_as_before(
    appointments, experiment, brp, django_capture_on_commit_callbacks
):
    appointment = appointments.make(booked_at=NOW)  # booked right after the exposure
    web_unit = unit_hash("bezoeker-zonder-herinnering")
    variant = selectors.assigned_variant(experiment, web_unit)
    logs.exposure_log(experiment=experiment, variant=variant, unit_hash=web_unit, product=brp, now=NOW)
    UnitAppointment.objects.create(appointment_id=appointment.pk, unit_hash=web_unit, linked_at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, now=NOW)

    kinds = set(Outcome.objects.filter(unit_hash=web_unit).values_list("kind", flat=True))
    assert kinds == {OutcomeKind.CANCELLED}


# --- assignment ---------------------------------------------------------------------------------


def test_assignment_by_appointment_is_deterministic_and_balanced():
    """3,000 appointments over control and two wordings (1:1:1): chi-square against the weights."""
    arms = [("controle", 1), ("kosten", 1), ("anderen-zoeken", 1)]
    ids = range(10_001, 13_001)
    first = [assign(salt="herinnering", unit_hash=appointment_unit_hash(i), arms=arms) for i in ids]
    again = [assign(salt="herinnering", unit_hash=appointment_unit_hash(i), arms=arms) for i in ids]
    assert first == again
    counts = [first.count(key) for key, _weight in arms]
    assert chisquare(counts, f_exp=[1000, 1000, 1000]).pvalue > 0.001, counts
    # The unit is keyed and kept apart from cookie ids.
    assert appointment_unit_hash(10_001) != unit_hash("10001")
    assert "10001" not in appointment_unit_hash(10_001)


# --- design rules and the dashboard ----------------------------------------------------------------


def test_a_reminder_experiment_needs_reminder_wording_and_a_reminder_metric(brp, reminder_interventions, interventions):
    with pytest.raises(CannotStart) as web_kind:
        start_reminder_experiment([brp], {**reminder_interventions, "waiting": interventions["easy"]})
    assert any("Interventie easy hoort bij een ander moment" in p for p in web_kind.value.problems)
    with pytest.raises(CannotStart) as booked:
        start_reminder_experiment([brp], reminder_interventions, primary_metric=Metric.BOOKED)
    assert any("Kies bij een herinnering" in p for p in booked.value.problems)


def test_integration_clients_do_not_decide_reminders(reminder_experiment, brp):
    """The outbox decides a reminder's wording, per appointment; the API's decision stays empty."""
    decision = selectors.decide(products=[brp], unit_hash=unit_hash("api-unit-1"), touchpoint=Touchpoint.REMINDER)

    assert decision.experiment is None and decision.content is None
    assert not Exposure.objects.exists()


def test_reminder_wording_cannot_be_used_after_the_product_choice(brp):
    with pytest.raises(ValidationError, match="past niet bij dit moment"):
        Intervention(
            code="x",
            name="x",
            touchpoint=Touchpoint.PRODUCT_CHOICE,
            kind=ContentKind.REMINDER_COST,
            principle=Principle.ATTRACTIVE,
            headline_nl="x",
            headline_en="x",
            message_nl="{cost}",
            message_en="{cost}",
        ).full_clean()


def test_the_dashboard_shows_the_reminder_results(
    client, manager_user, appointments, reminder_experiment, django_capture_on_commit_callbacks
):
    missed = appointments.make()
    send_first_reminder(missed)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_mark_no_show(appointment=missed, actor=None, now=missed.start + timedelta(minutes=15))

    results = experiment_results(reminder_experiment)
    assert results.primary.metric == Metric.NO_SHOW and results.primary.lower_is_better
    assert results.total_exposures == 1
    assert sum(arm.conversions for arm in results.primary.analysis.arms) == 1
    # After a reminder, cancelling in time and attending are the good outcomes.
    assert {m.metric: m.lower_is_better for m in results.guardrails} == {
        Metric.CANCELLED: False,
        Metric.ATTENDED: False,
    }
    # Booked and abandoned mean nothing after a reminder: not shown.
    assert [m.metric for m in results.descriptive] == [Metric.COMPLETED_ONLINE]

    client.force_login(manager_user)
    page = client.get(reverse("nudges:manager-detail", args=[reminder_experiment.pk])).content.decode()
    assert "Primaire maat: Niet verschenen (lager is beter)" in " ".join(page.split())
    assert "Vooraf geannuleerd" in page and "Verschenen" in page
    assert "Afgehaakt" not in page
    assert "Herinnering (e-mail/sms)" in page


def test_the_demo_starts_a_reminder_experiment(db):
    from booking.demo import seed_reference_data
    from nudges.demo import REMINDER_NAME, seed_reminder_experiment

    seed_reference_data()
    experiment = seed_reminder_experiment(now=NOW)

    assert experiment.name == REMINDER_NAME and experiment.status == ExperimentStatus.RUNNING
    assert [v.key for v in selectors.arms(experiment)] == ["controle", "kosten", "anderen-zoeken"]
    assert experiment.primary_metric == Metric.NO_SHOW
    assert experiment.planned_sample_per_variant > 1000
    assert seed_reminder_experiment(now=NOW).pk == experiment.pk  # idempotent
    assert experiment.products.filter(code="paspoort").exists()  # presence required: still reminded
