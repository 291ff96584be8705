"""Times across both daylight-saving changes of 2027, read by the plugin stand-in running in a
process whose time zone is UTC (Open Formulieren's container) or Europe/Amsterdam: it is offered
exactly the times our own pages offer, and books exactly the time it was offered.

The plugin computes ``datetime.combine(day, time.fromisoformat(entry)).astimezone(branch_tz)``;
a naive "09:00" would be read in the process's own zone and move by one or two hours under UTC.
"""

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking.availability import availability_for_products
from booking.models import Appointment, HolidayOpening
from tests.factories import DeskFactory, LocationFactory

from .conftest import EVERY_DAY, product

pytestmark = pytest.mark.django_db(transaction=True)
AMS = ZoneInfo("Europe/Amsterdam")
PLUGIN = Path(__file__).resolve().parents[3] / "qmatic_plugin.py"
# Either side of the spring change (Sunday 28 March, Easter: opened on purpose) and of the
# autumn change (Sunday 31 October).
DAYS = [
    date(2027, 3, 27),
    date(2027, 3, 28),
    date(2027, 3, 29),
    date(2027, 10, 30),
    date(2027, 10, 31),
    date(2027, 11, 1),
]
OFFSETS = {3: {27: "+01:00", 28: "+02:00", 29: "+02:00"}, 10: {30: "+02:00", 31: "+01:00"}, 11: {1: "+01:00"}}


def run_plugin(process_tz: str, command: dict) -> dict:
    env = {**os.environ, "TZ": process_tz}
    done = subprocess.run(  # noqa: S603 (our own script, with the interpreter running the tests)
        [sys.executable, str(PLUGIN)], input=json.dumps(command), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def branch():
    location = LocationFactory(name="Stadhuis", postcode="1234 AB")
    DeskFactory(location=location, products=[product("paspoort", 20)], weekdays=EVERY_DAY)
    for day in (date(2027, 3, 28), date(2027, 3, 29)):  # Easter Sunday and Monday
        HolidayOpening.objects.create(location=location, date=day)
    return location


@pytest.mark.parametrize("process_tz", ["UTC", "Europe/Amsterdam"])
def test_the_plugin_is_offered_and_books_our_times_in_any_process_time_zone(
    process_tz, live_server, forms_client, branch
):
    paspoort = branch.desks.get().products.get()
    # What a citizen sees on our own pages for those days (the same engine), before the plugin books.
    ours = {
        day: [
            s.start
            for s in availability_for_products(
                products=[paspoort], persons=1, location_id=branch.pk, date_from=day, date_to=day
            )
        ]
        for day in DAYS
    }
    answer = run_plugin(
        process_tz,
        {
            "api_root": live_server.url + "/qmatic/calendar-backend/public/api/",
            "token": forms_client.token,
            "branch": str(branch.pk),
            "services": ["paspoort"],
            "customers": 1,
            "days": [d.isoformat() for d in DAYS],
            "book_index": 0,
        },
    )
    assert answer["local_tz"] == ("UTC" if process_tz == "UTC" else "CET")
    booked = {a.start for a in Appointment.objects.all()}
    for day in DAYS:
        result = answer["days"][day.isoformat()]
        offered = [datetime.fromisoformat(t) for t in result["times"]]
        assert result["offered"]
        assert offered[0] == datetime.combine(day, time(9), tzinfo=AMS)
        assert offered[-1] == datetime.combine(day, time(16, 40), tzinfo=AMS)
        assert offered == ours[day]
        assert all(t.isoformat().endswith(OFFSETS[day.month][day.day]) for t in offered)
        # It booked exactly the time it was offered, and reads the same instant back.
        chosen = datetime.fromisoformat(result["booked"]["chosen"])
        assert chosen == offered[0]
        assert datetime.fromisoformat(result["booked"]["start"]) == chosen
        assert chosen in booked
    assert len(booked) == len(DAYS)
