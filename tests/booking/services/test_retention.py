"""AVG retention: names, e-mail addresses and phone numbers go BOOKING_RETENTION_DAYS after the
appointment; what statistics need stays; nothing still to come is touched; the job is
idempotent, has a dry run, works in batches and never waits for staff at work."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from booking.constants import AppointmentAction, AppointmentStatus, Channel, OnlinePossible, OnlineReason
from booking.models import Appointment, AppointmentEvent
from booking.retention import appointments_anonymise_expired, personal_data_erase_expired, retention_cutoff
from booking.tasks import erase_expired_personal_data
from tests.factories import AppointmentFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 4, 10, 3, 30, tzinfo=AMS)
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture(autouse=True)
def _thirty_days(settings):
    settings.BOOKING_RETENTION_DAYS = 30


def visit(start, **fields):
    fields.setdefault("phone", "0612345678")
    return AppointmentFactory(start=start, end=start + timedelta(minutes=10), **fields)


@pytest.fixture
def product():
    return ProductFactory(code="uittreksel-ret", name_nl="Uittreksel")


@pytest.fixture
def old_served(product, django_user_model):
    appointment = visit(
        CUTOFF - timedelta(days=1),
        products=[product],
        channel=Channel.PHONE,
        status=AppointmentStatus.SERVED,
        language="en",
        persons=2,
        checked_in_at=CUTOFF - timedelta(days=1),
        handled_at=CUTOFF - timedelta(days=1) + timedelta(minutes=12),
        online_possible=OnlinePossible.YES,
        online_reason=OnlineReason.NO_DIGID,
        name="Sanne Jansen",
        email="sanne@example.nl",
    )
    clerk = django_user_model.objects.create_user("balie-ret")
    AppointmentEvent.objects.create(
        appointment=appointment,
        action=AppointmentAction.SERVED,
        actor=clerk,
        channel=Channel.COUNTER,
        changes={"status": ["checked_in", "served"], "email": ["sanne@example.nl", ""], "phone": ["06", ""]},
    )
    return appointment


def statistics_facts(appointment):
    appointment.refresh_from_db()
    return (
        appointment.status,
        appointment.channel,
        appointment.start,
        appointment.end,
        appointment.persons,
        appointment.language,
        appointment.desk_id,
        appointment.reference,
        appointment.booked_at,
        appointment.checked_in_at,
        appointment.handled_at,
        appointment.online_possible,
        appointment.online_reason,
        sorted(appointment.products.values_list("code", flat=True)),
    )


@pytest.mark.django_db
def test_old_appointments_lose_their_personal_data_and_keep_their_statistics(old_served):
    facts = statistics_facts(old_served)
    token = old_served.manage_token

    assert appointments_anonymise_expired(now=NOW) == 1

    old_served.refresh_from_db()
    assert (old_served.name, old_served.email, old_served.phone) == ("", "", "")
    assert old_served.anonymised_at == NOW
    assert old_served.manage_token != token and len(old_served.manage_token) >= 32
    assert statistics_facts(old_served) == facts
    served_event = old_served.events.get(action=AppointmentAction.SERVED)
    assert served_event.changes == {"status": ["checked_in", "served"]}  # contact keys gone, facts kept
    assert served_event.actor is not None  # who at the desk did it stays (staff audit)
    erased = old_served.events.get(action=AppointmentAction.ANONYMISED)
    assert erased.actor is None and erased.changes == {}


@pytest.mark.django_db
def test_every_past_status_is_erased_but_nothing_recent_future_or_held(product):
    day_before_cutoff = CUTOFF - timedelta(hours=1)
    expired = [
        visit(day_before_cutoff - timedelta(minutes=10), status=AppointmentStatus.NO_SHOW),
        visit(day_before_cutoff - timedelta(days=3), status=AppointmentStatus.CANCELLED),
        visit(day_before_cutoff - timedelta(days=60), status=AppointmentStatus.BOOKED),  # never handled
        visit(day_before_cutoff - timedelta(days=400), status=AppointmentStatus.CHECKED_IN),
    ]
    kept = [
        visit(CUTOFF - timedelta(minutes=10), status=AppointmentStatus.SERVED),  # ends exactly at the cutoff
        visit(NOW - timedelta(days=29), status=AppointmentStatus.SERVED),
        visit(NOW + timedelta(days=5), status=AppointmentStatus.BOOKED),
        visit(NOW + timedelta(hours=1), status=AppointmentStatus.CHECKED_IN),
        visit(
            NOW + timedelta(days=1),
            held=True,
            hold_expires_at=NOW + timedelta(minutes=5),
            phone="",
        ),
    ]
    before = {a.pk: (a.name, a.email, a.phone, a.manage_token) for a in kept}

    assert appointments_anonymise_expired(now=NOW) == len(expired)

    for appointment in expired:
        appointment.refresh_from_db()
        assert appointment.anonymised_at == NOW and appointment.email == "" and appointment.name == ""
    for appointment in kept:
        appointment.refresh_from_db()
        assert appointment.anonymised_at is None
        assert (appointment.name, appointment.email, appointment.phone, appointment.manage_token) == before[
            appointment.pk
        ]
    assert kept[2].name and kept[2].email  # the future appointment still has its contact data


@pytest.mark.django_db
def test_running_twice_erases_once(old_served):
    assert appointments_anonymise_expired(now=NOW) == 1
    token = Appointment.objects.get(pk=old_served.pk).manage_token

    assert appointments_anonymise_expired(now=NOW + timedelta(days=1)) == 0

    old_served.refresh_from_db()
    assert old_served.anonymised_at == NOW and old_served.manage_token == token
    assert old_served.events.filter(action=AppointmentAction.ANONYMISED).count() == 1


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(old_served):
    before = list(Appointment.objects.values())
    events = AppointmentEvent.objects.count()

    report = personal_data_erase_expired(now=NOW, dry_run=True)

    assert report.dry_run and report.appointments == 1 and report.cutoff == CUTOFF
    assert list(Appointment.objects.values()) == before
    assert AppointmentEvent.objects.count() == events


@pytest.mark.django_db
def test_batches_cover_everything():
    for days in range(7):
        visit(CUTOFF - timedelta(days=days + 1), status=AppointmentStatus.SERVED)

    assert appointments_anonymise_expired(now=NOW, batch_size=3) == 7
    assert not Appointment.objects.filter(anonymised_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_retention_period_is_a_setting(settings):
    settings.BOOKING_RETENTION_DAYS = 90
    appointment = visit(NOW - timedelta(days=60), status=AppointmentStatus.SERVED)
    assert retention_cutoff(now=NOW) == NOW - timedelta(days=90)
    assert appointments_anonymise_expired(now=NOW) == 0
    settings.BOOKING_RETENTION_DAYS = 30
    assert appointments_anonymise_expired(now=NOW) == 1
    appointment.refresh_from_db()
    assert appointment.anonymised_at == NOW


@pytest.mark.django_db
def test_the_old_manage_link_opens_nothing_any_more(client, old_served):
    token = old_served.manage_token
    assert client.get(f"/afspraak/{token}/").status_code == 200

    appointments_anonymise_expired(now=NOW)

    assert client.get(f"/afspraak/{token}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_row_staff_are_changing_is_passed_over_and_erased_next_time():
    busy = visit(CUTOFF - timedelta(days=2), status=AppointmentStatus.SERVED)
    free = visit(CUTOFF - timedelta(days=3), status=AppointmentStatus.SERVED)
    locked, release = threading.Event(), threading.Event()

    def staff_edit():
        try:
            with transaction.atomic():
                Appointment.objects.select_for_update().get(pk=busy.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=staff_edit)
    worker.start()
    try:
        assert locked.wait(10)
        assert appointments_anonymise_expired(now=NOW) == 1  # did not wait for the lock
    finally:
        release.set()
        worker.join()

    assert Appointment.objects.get(pk=free.pk).anonymised_at == NOW
    assert Appointment.objects.get(pk=busy.pk).anonymised_at is None
    assert appointments_anonymise_expired(now=NOW) == 1
    assert Appointment.objects.get(pk=busy.pk).email == ""


@pytest.mark.django_db
def test_the_command_prints_how_many_and_has_a_dry_run():
    old_served = visit(timezone.now() - timedelta(days=31), status=AppointmentStatus.SERVED)
    out = StringIO()
    call_command("anonymise_expired", "--dry-run", stdout=out)
    assert "1 would be anonymised" in out.getvalue() and "nothing was changed" in out.getvalue()
    assert Appointment.objects.get(pk=old_served.pk).anonymised_at is None

    out = StringIO()
    call_command("anonymise_expired", stdout=out)
    assert "1 anonymised" in out.getvalue()
    assert Appointment.objects.get(pk=old_served.pk).email == ""

    out = StringIO()
    call_command("anonymise_expired", stdout=out)
    assert "0 anonymised" in out.getvalue()


@pytest.mark.django_db
def test_the_nightly_task_runs_the_job_and_is_scheduled():
    old = visit(timezone.now() - timedelta(days=31), status=AppointmentStatus.SERVED)
    recent = visit(timezone.now() - timedelta(days=2), status=AppointmentStatus.SERVED)

    result = erase_expired_personal_data()

    assert result["appointments"] == 1
    assert Appointment.objects.get(pk=old.pk).anonymised_at is not None
    assert Appointment.objects.get(pk=recent.pk).anonymised_at is None
    assert erase_expired_personal_data()["appointments"] == 0
    entry = settings.CELERY_BEAT_SCHEDULE["erase-expired-personal-data"]
    assert entry["task"] == "booking.tasks.erase_expired_personal_data"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})
