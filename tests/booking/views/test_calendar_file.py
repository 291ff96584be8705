"""The calendar file: the right instant on both sides of both daylight-saving changes, read
back with icalendar, both through the known TZID and through the file's own VTIMEZONE."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from booking.ics import appointment_ics
from tests.factories import AppointmentFactory

from .conftest import AMS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2027, 3, 26, 9, 0, tzinfo=AMS), datetime(2027, 3, 26, 8, 0, tzinfo=UTC)),  # before spring
        (datetime(2027, 3, 29, 9, 0, tzinfo=AMS), datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),  # after spring
        (datetime(2027, 10, 29, 16, 50, tzinfo=AMS), datetime(2027, 10, 29, 14, 50, tzinfo=UTC)),  # before autumn
        (datetime(2027, 11, 1, 9, 0, tzinfo=AMS), datetime(2027, 11, 1, 8, 0, tzinfo=UTC)),  # after autumn
    ],
)
def test_dtstart_is_the_right_instant_across_daylight_saving(location, brp, local, utc):
    appointment = AppointmentFactory(
        desk=location.desks.get(), start=local, end=local + timedelta(minutes=10), products=[brp]
    )

    raw = appointment_ics(appointment, manage_url="https://example.nl/afspraak/x/")
    calendar = icalendar.Calendar.from_ical(raw)
    event = calendar.events[0]

    assert f"DTSTART;TZID=Europe/Amsterdam:{local:%Y%m%dT%H%M%S}" in raw.decode()
    assert event.start == utc
    assert event.end == utc + timedelta(minutes=10)
    # The file's own VTIMEZONE (for calendars that do not know the zone name) agrees.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Amsterdam"
    own_tz = vtimezone.to_tz()
    assert local.replace(tzinfo=None).replace(tzinfo=own_tz).astimezone(UTC) == utc


def test_calendar_file_is_in_the_citizens_language(location, brp):
    start = datetime(2027, 5, 12, 10, 0, tzinfo=AMS)
    appointment = AppointmentFactory(
        desk=location.desks.get(), start=start, end=start + timedelta(minutes=10), products=[brp], language="en"
    )

    event = icalendar.Calendar.from_ical(appointment_ics(appointment, manage_url="https://x/")).events[0]

    assert str(event["SUMMARY"]) == "Appointment at Civil Affairs: BRP extract"
    assert "Your identity document" in str(event["DESCRIPTION"])
    assert str(event["UID"]) == f"{appointment.reference}@kanaalwijzer"
