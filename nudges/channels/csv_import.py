"""CSV import of a channel system's day export, for systems without an API (the staff page
and ``manage.py import_contacts``).

Columns (header row required, comma or semicolon separated, UTF-8):
``external_id, channel, products, moment, outcome, handling_seconds``; ``products`` holds
product codes separated by ``|`` (empty: a general question); ``moment`` is ISO 8601, with a
time zone or in local time (Europe/Amsterdam). Idempotent per source (the system's name) and
``external_id``: importing the same file twice changes nothing. All or nothing: a file with
any bad row stores nothing and the errors name the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from nudges.exceptions import InvalidInput

from .services import MAX_BATCH, ContactInput, ContactsRejected, ImportResult, contacts_import

MAX_CSV_BYTES = 10 * 1024 * 1024
MAX_CSV_ROWS = 100_000
COLUMNS = ("external_id", "channel", "products", "moment", "outcome", "handling_seconds")


def csv_source(system: str) -> str:
    return f"csv:{system.strip()[:30]}"


def _moment(value: str) -> datetime | None:
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _rows(lines: Iterable[str]) -> tuple[list[ContactInput], list[int], dict[int, dict[str, list[str]]]]:
    """The good rows, the data line (from 0) each came from, and the problems per bad line."""
    lines = iter(lines)
    first = next(lines, "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(_chain(first, lines), delimiter=delimiter)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])[: len(COLUMNS) + 10]]
    missing = [c for c in missing if c != "handling_seconds"]
    if missing:
        raise InvalidInput(_("Kolommen ontbreken: %(names)s.") % {"names": ", ".join(missing)}, field="file")
    rows: list[ContactInput] = []
    row_lines: list[int] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, record in enumerate(reader):
        if index >= MAX_CSV_ROWS:
            raise InvalidInput(_("Hooguit %(n)d regels per bestand.") % {"n": MAX_CSV_ROWS}, field="file")
        problems: dict[str, list[str]] = {}
        moment = _moment(record.get("moment") or "")
        if moment is None:
            problems["moment"] = [_("Geen geldige datum en tijd (bijvoorbeeld 2026-12-07 10:15).")]
        seconds_text = (record.get("handling_seconds") or "").strip()
        seconds = None
        if seconds_text:
            if seconds_text.isdigit():
                seconds = int(seconds_text)
            else:
                problems["handling_seconds"] = [_("Geef een geheel aantal seconden.")]
        if not (record.get("external_id") or "").strip():
            problems["external_id"] = [_("Elke regel heeft een eigen kenmerk nodig.")]
        if problems or moment is None:  # no moment is one of the problems
            errors[index] = problems
            continue
        rows.append(
            ContactInput(
                channel=(record.get("channel") or "").strip(),
                products=[code.strip() for code in (record.get("products") or "").split("|") if code.strip()],
                moment=moment,
                outcome=(record.get("outcome") or "").strip(),
                handling_seconds=seconds,
                external_id=record["external_id"].strip(),
            )
        )
        row_lines.append(index)
    return rows, row_lines, errors


def _chain(first: str, rest: Iterable[str]):
    yield first
    yield from rest


def contacts_import_csv(*, data: bytes, system: str, registered_by=None, now: datetime | None = None) -> ImportResult:
    """Import one CSV file; ``ContactsRejected`` (errors keyed by data line, from 1) when any
    row is wrong, and then nothing is stored."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(_("Het bestand is groter dan 10 MB; splits de export per dag."), field="file")
    if not system.strip():
        raise InvalidInput(_("Geef de naam van het systeem waar de export vandaan komt."), field="system")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("Het bestand is geen UTF-8-tekst."), field="file") from None
    rows, lines, errors = _rows(io.StringIO(text))
    # Duplicates over the whole file (a large file is stored in batches, and each batch only
    # sees its own rows), named by line; they win over a batch's own duplicate message.
    first_line: dict[str, int] = {}
    for row, at in zip(rows, lines, strict=True):
        if row.external_id in first_line:
            message = _("Dubbel kenmerk: ook in regel %(line)d.") % {"line": first_line[row.external_id] + 1}
            errors.setdefault(at, {})["external_id"] = [message]
        elif row.external_id:
            first_line[row.external_id] = at
    result = ImportResult()
    with transaction.atomic():
        for start in range(0, len(rows), MAX_BATCH):
            chunk = rows[start : start + MAX_BATCH]
            try:
                part = contacts_import(rows=chunk, source=csv_source(system), registered_by=registered_by, now=now)
            except ContactsRejected as rejected:
                for offset, problems in rejected.errors.items():
                    at = lines[start + offset]
                    errors[at] = {**problems, **errors.get(at, {})}
                continue
            result.created += part.created
            result.unchanged += part.unchanged
        if errors:
            raise ContactsRejected({line + 1: problems for line, problems in sorted(errors.items())})
    if not rows:
        raise InvalidInput(_("Het bestand bevat geen contacten."), field="file")
    return result
