"""The hot path's appointment questions can be answered from the partial covering index
``appointment_active_desk_start`` (issue 14): its condition is the first clause of
``BLOCKING_SQL`` and every column the questions read is in it. Should a change to the SQL or
the index break that, PostgreSQL would fall back to reading every appointment row of the span,
cancelled ones included; these tests see it in the plan."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from booking.availability import _BUSY_SQL, overlap_params
from booking.locks import _CLAIM_SQL
from tests.factories import AppointmentFactory, DeskFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=AMS)


def plan(sql, params):
    with connection.cursor() as cursor:
        # What matters is whether the index can be used at all: on tiny test tables a sequential
        # scan, or any index on the desk, is as cheap, and which one the planner takes follows
        # statistics earlier tests left behind. So within this test's transaction (rolled back
        # after it) the other plain indexes are dropped and sequential scans are off.
        cursor.execute(
            """SELECT indexname FROM pg_indexes WHERE tablename = 'booking_appointment'
               AND indexname <> 'appointment_active_desk_start'
               AND indexname NOT IN (SELECT conname FROM pg_constraint
                                     WHERE conrelid = 'booking_appointment'::regclass)"""
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        return json.dumps(cursor.fetchone()[0])


def scans(text):
    nodes = []

    def walk(node):
        if "Relation Name" in node:
            nodes.append((node["Relation Name"], node["Node Type"], node.get("Index Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(text)[0]["Plan"])
    return nodes


def test_the_busy_query_reads_the_active_appointments_index_only():
    desk = DeskFactory()
    AppointmentFactory(desk=desk, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=2, minutes=10))
    params = overlap_params([desk.pk], NOW, NOW + timedelta(days=42), now=NOW, exclude_appointment_id=None)

    found = scans(plan(_BUSY_SQL, params))

    assert found == [("booking_appointment", "Index Only Scan", "appointment_active_desk_start")]


def test_the_claims_blocking_question_uses_it_too():
    desk = DeskFactory()
    params = overlap_params([desk.pk], NOW, NOW + timedelta(minutes=10), now=NOW, exclude_appointment_id=None)
    params.update(closures=True, location=desk.location_id)

    blocking, expired_holds = [scan for scan in scans(plan(_CLAIM_SQL, params)) if scan[0] == "booking_appointment"]

    assert blocking == ("booking_appointment", "Index Only Scan", "appointment_active_desk_start")
    assert expired_holds[1] != "Seq Scan"  # holds have small indexes of their own
