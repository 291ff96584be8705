"""Every cockpit table as CSV, XLSX or ODS (tablib with openpyxl and odfpy).

Formula injection: a text cell that a spreadsheet would read as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe,
so ``=HYPERLINK(…)`` in a product name arrives as text. Numbers stay numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import tablib
from django.http import HttpResponse

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def dataset(*, title: str, headers: Sequence[str], rows: Sequence[Sequence]) -> tablib.Dataset:
    data = tablib.Dataset(headers=[safe_cell(str(h)) for h in headers], title=title[:31])
    for row in rows:
        data.append([safe_cell(v) for v in row])
    return data


def export_response(data: tablib.Dataset, *, name: str, fmt: str) -> HttpResponse:
    content = data.export(fmt)
    if fmt == "csv":
        content = "\ufeff" + content  # so spreadsheet programs read UTF-8
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
