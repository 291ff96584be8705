"""The window of dates and times any input may name, and the one way to read a day from a
query string. Dates far outside it (year 1 or 9999) cannot be an appointment, an opening hour
or a report, and date arithmetic on them overflows (a 500): forms, serializers and query
strings all refuse them here. Public for other apps' forms."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
OUT_OF_WINDOW = _("Kies een datum tussen %(min)s en %(max)s.")


def date_in_window(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def validate_date_window(value: date | datetime) -> None:
    """A validator for form and serializer fields (DateField, DateTimeField)."""
    if not date_in_window(value):
        raise ValidationError(
            OUT_OF_WINDOW, code="date_window", params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}
        )


def day_parse(value: str | None) -> date | None:
    """A YYYY-MM-DD query value as a date, or None when it is missing, malformed or outside the window."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and date_in_window(day) else None


def datetime_parse(value: str | None) -> datetime | None:
    """An ISO 8601 moment as a datetime, or None when it is malformed or outside the window."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and date_in_window(moment) else None
