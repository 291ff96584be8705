"""Attribution (issue 15): an outcome counts in an experiment only where a nudge could have
caused it: the appointment's products overlap the experiment's, the unit was exposed before
the booking, the outcome falls in the running window. One query per booking; a waiting-list
move keeps the person's units; control and nudge arms are logged at the same moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.constants import AppointmentStatus
from nudges.constants import UNIT_COOKIE, ExperimentStatus, OutcomeKind
from nudges.exceptions import InvalidInput
from nudges.experiments import listeners, logs, selectors, services, statistics
from nudges.experiments.assignment import unit_hash
from nudges.experiments.unit import reset_current_unit_hash, set_current_unit_hash
from nudges.models import Experiment, Exposure, Outcome, UnitAppointment
from tests.factories import AppointmentFactory, ProductFactory
from tests.nudges.conftest import make_intervention

pytestmark = pytest.mark.django_db


def running(products, intervention, *, name: str, started_at) -> Experiment:
    """A running experiment, started by hand: attribution is under test here, not governance."""
    experiment = services.experiment_create(
        name=name,
        purpose_nl="Test",
        products=products,
        variants=[
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "nudge", "intervention": intervention, "weight": 1},
        ],
        primary_metric="booked",
        planned_sample_per_variant=100,
    )
    Experiment.objects.filter(pk=experiment.pk).update(status=ExperimentStatus.RUNNING, started_at=started_at)
    experiment.refresh_from_db()
    return experiment


def expose(experiment, unit, product, at):
    variant = selectors.assigned_variant(experiment, unit)
    return logs.exposure_log(experiment=experiment, variant=variant, unit_hash=unit, product=product, now=at)[0]


def kinds(experiment, unit):
    return set(Outcome.objects.filter(experiment=experiment, unit_hash=unit).values_list("kind", flat=True))


@pytest.fixture
def verhuizing():
    return ProductFactory(code="verhuizing", online=True)


@pytest.fixture
def two_experiments(brp, verhuizing, interventions):
    start = timezone.now() - timedelta(days=10)
    moving = make_intervention("moving", "easy_link", "easy", [verhuizing], "Online", "{product}")
    return (
        running([brp], interventions["easy"], name="BRP", started_at=start),
        running([verhuizing], moving, name="Verhuizing", started_at=start),
    )


def test_an_outcome_reaches_only_experiments_on_the_appointments_products(desk, brp, verhuizing, two_experiments):
    """Flaw 3: a no-show for an uittreksel-BRP appointment showed up in the verhuizing experiment."""
    on_brp, on_moving = two_experiments
    unit = unit_hash("bezoeker-twee-experimenten")
    exposed = timezone.now() - timedelta(days=2)
    expose(on_brp, unit, brp, exposed)
    expose(on_moving, unit, verhuizing, exposed)
    appointment = AppointmentFactory(desk=desk, products=[brp], booked_at=exposed + timedelta(minutes=5))
    UnitAppointment.objects.create(appointment_id=appointment.pk, unit_hash=unit, linked_at=exposed)
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.save()
    listeners.appointment_status_changed(appointment.pk)
    assert kinds(on_brp, unit) == {OutcomeKind.NO_SHOW}
    assert kinds(on_moving, unit) == set()


def test_an_integration_client_unit_follows_the_same_rule(brp, verhuizing, two_experiments):
    """Flaw 3, for outcomes reported by unit without naming the experiment."""
    on_brp, on_moving = two_experiments
    unit = unit_hash("api-eenheid")
    exposed = timezone.now() - timedelta(days=1)
    expose(on_brp, unit, brp, exposed)
    expose(on_moving, unit, verhuizing, exposed)
    with pytest.raises(InvalidInput):
        logs.outcome_report(kind=OutcomeKind.ATTENDED, unit_hash=unit)
    logs.outcome_report(kind=OutcomeKind.ATTENDED, unit_hash=unit, product=brp)
    assert kinds(on_brp, unit) == {OutcomeKind.ATTENDED} and kinds(on_moving, unit) == set()


def test_an_outcome_of_an_appointment_booked_before_the_exposure_does_not_count(desk, brp, interventions):
    """Flaw 4: booked during an earlier experiment, served after exposure in a later one."""
    start = timezone.now() - timedelta(days=30)
    earlier = running([brp], interventions["easy"], name="Eerder", started_at=start)
    unit = unit_hash("bezoeker-oud-en-nieuw")
    expose(earlier, unit, brp, start + timedelta(days=1))
    appointment = AppointmentFactory(desk=desk, products=[brp], booked_at=start + timedelta(days=1, minutes=5))
    UnitAppointment.objects.create(appointment_id=appointment.pk, unit_hash=unit, linked_at=appointment.booked_at)
    services.experiment_finish(experiment=earlier, now=start + timedelta(days=10))
    later = running([brp], interventions["attractive"], name="Later", started_at=start + timedelta(days=11))
    expose(later, unit, brp, start + timedelta(days=12))

    appointment.status = AppointmentStatus.SERVED
    appointment.save()
    listeners.appointment_status_changed(appointment.pk)
    assert kinds(later, unit) == set()
    assert kinds(earlier, unit) == set()  # finished: outside its running window


def test_booked_counts_whoever_else_was_exposed_in_one_query(desk, brp, verhuizing, interventions):
    """Flaw 6: the booked outcome depended on strangers' exposures and took a double join."""
    both = running(
        [brp, verhuizing], interventions["easy"], name="Beide", started_at=timezone.now() - timedelta(days=3)
    )
    exposed = timezone.now() - timedelta(hours=1)
    for i in range(30):  # strangers, all exposed for verhuizing
        expose(both, unit_hash(f"vreemde-{i:03d}"), verhuizing, exposed)
    unit = unit_hash("bezoeker-verhuizing")
    expose(both, unit, verhuizing, exposed)
    appointment = AppointmentFactory(desk=desk, products=[brp], booked_at=timezone.now())
    token = set_current_unit_hash(unit)
    try:
        with CaptureQueriesContext(connection) as queries:
            listeners.appointment_booked(appointment.pk)
    finally:
        reset_current_unit_hash(token)
    assert kinds(both, unit) == {OutcomeKind.BOOKED}
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len([q for q in reads if "nudges_exposure" in q]) == 1
    assert len(queries.captured_queries) == 3  # the lookup, the link, the outcome


def test_a_waiting_list_move_keeps_the_unit_and_its_exposure(desk, brp, interventions):
    """Flaw 5: the moved appointment became a new unit, possibly in another arm."""
    exposed = timezone.now() - timedelta(days=1)
    experiment = running([brp], interventions["easy"], name="Web", started_at=exposed - timedelta(days=1))
    unit = unit_hash("bezoeker-wachtlijst")
    expose(experiment, unit, brp, exposed)
    old = AppointmentFactory(desk=desk, products=[brp], booked_at=exposed + timedelta(minutes=5))
    UnitAppointment.objects.create(appointment_id=old.pk, unit_hash=unit, linked_at=old.booked_at)
    new = AppointmentFactory(desk=desk, products=[brp], booked_at=timezone.now(), start=old.start - timedelta(hours=2))
    logs.appointment_moved(original_id=old.pk, appointment_id=new.pk)

    assert selectors.reminder_unit_hash(new.pk) == selectors.reminder_unit_hash(old.pk)
    assert UnitAppointment.objects.get(appointment_id=new.pk).unit_hash == unit
    new.status = AppointmentStatus.SERVED
    new.save()
    listeners.appointment_status_changed(new.pk)
    assert kinds(experiment, unit) == {OutcomeKind.ATTENDED}


def test_control_and_nudge_are_logged_at_the_same_moment_so_dropouts_keep_the_split_clean(
    desk, brp, experiment, settings
):
    """Flaw 7: control was logged on the product form, a nudge only when its page loaded."""
    settings.BOOKING_RATELIMIT_ACTIONS = "1000/m"  # 60 visitors from one test address
    followed = {v.key: 0 for v in experiment.variants.all()}
    for i in range(60):
        client = Client()
        response = client.post(reverse("booking:products"), {"products": [brp.code], "persons": 1})
        assert response.status_code == 302
        if i % 2:  # half the visitors close the tab before the next page loads
            continue
        client.get(response.url)
        exposure = Exposure.objects.get(experiment=experiment, unit_hash=unit_hash(client.cookies[UNIT_COOKIE].value))
        followed[exposure.variant.key] += 1
    logged = {v.key: Exposure.objects.filter(variant=v).count() for v in experiment.variants.all()}
    assert logged == followed and sum(logged.values()) == 30
    arms = [statistics.ArmCounts(k, k == "controle", 1, n, 0) for k, n in logged.items()]
    assert not statistics.sample_ratio_check(arms, alpha=0.001).mismatch
