"""The experiment unit's path to the "booked" outcome, step by step (see nudges/experiments/unit.py):
cookie -> ``NudgeUnitMiddleware`` -> ``current_unit_hash()`` -> booking's after-commit
``APPOINTMENT_BOOKED`` callback, run inside the same request -> ``listeners.appointment_booked``.
The whole flow is walked in test_flow.py; these tests pin each link, so that moving the
listener out of the request (a Celery task, a transactional hook) fails here with a reason."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from booking import hooks
from booking.constants import Channel
from nudges.constants import UNIT_COOKIE, OutcomeKind
from nudges.experiments import listeners, selectors
from nudges.experiments.assignment import unit_hash
from nudges.experiments.logs import exposure_log
from nudges.experiments.unit import (
    NudgeUnitMiddleware,
    current_unit_hash,
    reset_current_unit_hash,
    set_current_unit_hash,
)
from nudges.models import Outcome, UnitAppointment
from tests.factories import AppointmentFactory

RAW_UNIT = "bezoeker-0001"


def test_the_middleware_makes_the_cookies_unit_current_for_one_request_only():
    seen = []
    middleware = NudgeUnitMiddleware(lambda request: seen.append(current_unit_hash()) or HttpResponse())
    request = RequestFactory().get("/")
    request.COOKIES[UNIT_COOKIE] = RAW_UNIT

    middleware(request)

    assert seen == [unit_hash(RAW_UNIT)]
    assert current_unit_hash() is None
    assert "nudges.experiments.unit.NudgeUnitMiddleware" in settings.MIDDLEWARE


def test_the_booked_listener_is_an_after_commit_callback_run_in_the_request():
    """booking runs after-commit callbacks synchronously in the request that booked; only there
    is the visitor's unit current. A listener wrapped in a task or made transactional would no
    longer be registered here as itself."""
    assert listeners.appointment_booked in hooks._listeners[hooks.APPOINTMENT_BOOKED]
    assert listeners.appointment_booked not in hooks._transactional_listeners[hooks.APPOINTMENT_BOOKED]


@pytest.mark.django_db
def test_the_listener_links_a_booking_only_while_the_visitors_unit_is_current(desk, brp, experiment):
    unit = unit_hash(RAW_UNIT)
    variant = selectors.assigned_variant(experiment, unit)
    exposure_log(experiment=experiment, variant=variant, unit_hash=unit, product=brp)
    appointment = AppointmentFactory(desk=desk, products=[brp], channel=Channel.ONLINE)

    listeners.appointment_booked(appointment.pk)  # as a worker would run it: no request, no unit
    assert not UnitAppointment.objects.exists()

    token = set_current_unit_hash(unit)  # as inside the visitor's request
    try:
        listeners.appointment_booked(appointment.pk)
    finally:
        reset_current_unit_hash(token)
    assert UnitAppointment.objects.get().unit_hash == unit
    assert Outcome.objects.filter(experiment=experiment, unit_hash=unit, kind=OutcomeKind.BOOKED).count() == 1


def test_the_middleware_makes_the_session_current_unread_and_the_call_listener_runs_in_the_request():
    """The KCC call's unit is in the agent's session: the middleware hands the session to
    ``current_session`` without reading it (no ``Vary: Cookie`` on pages that never ask), and
    ``kcc.call_appointment_booked`` is an after-commit callback, run in the agent's request."""
    from django.contrib.sessions.backends.db import SessionStore

    from nudges.channels import kcc
    from nudges.experiments.unit import current_session

    seen = []
    middleware = NudgeUnitMiddleware(lambda request: seen.append(current_session()) or HttpResponse())
    request = RequestFactory().get("/")
    request.session = SessionStore()

    middleware(request)

    assert seen == [request.session] and not request.session.accessed
    assert current_session() is None
    assert kcc.call_appointment_booked in hooks._listeners[hooks.APPOINTMENT_BOOKED]
    assert kcc.call_appointment_booked not in hooks._transactional_listeners[hooks.APPOINTMENT_BOOKED]
