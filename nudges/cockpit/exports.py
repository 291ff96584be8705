"""Every cockpit table as CSV, XLSX or ODS (tablib with odfpy for ODS, openpyxl for XLSX).

Formula injection: a text such as ``=HYPERLINK(…)`` in a product name must arrive as text.

- In a spreadsheet (XLSX, ODS) every text is written as a string cell, never as a formula, so
  the program shows the original text and evaluates nothing (checked with LibreOffice).
- A CSV file has no cell types: a text that a spreadsheet would read as a formula (it starts
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe.

Numbers stay numbers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import openpyxl
import tablib
from django.http import HttpResponse
from openpyxl.styles import Font

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain_cell(value):
    """A number as a number, a date as ISO text, anything else as its text (unchanged)."""
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
    return str(value)


def csv_cell(value):
    """``plain_cell``, with a leading apostrophe before a text a spreadsheet would run."""
    value = plain_cell(value)
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _xlsx(*, title: str, headers: Sequence[str], rows: Sequence[Sequence]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(h) for h in headers])
    for row in rows:
        sheet.append([plain_cell(v) for v in row])
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl takes a text starting with "=" for a formula
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_content(*, title: str, headers: Sequence[str], rows: Sequence[Sequence], fmt: str) -> str | bytes:
    if fmt == "xlsx":
        return _xlsx(title=title, headers=headers, rows=rows)
    cell = csv_cell if fmt == "csv" else plain_cell
    data = tablib.Dataset(headers=[cell(str(h)) for h in headers], title=title[:31])
    for row in rows:
        data.append([cell(v) for v in row])
    content = data.export(fmt)
    return "\ufeff" + content if fmt == "csv" else content  # the BOM: spreadsheet programs read UTF-8


def export_response(
    *, title: str, headers: Sequence[str], rows: Sequence[Sequence], name: str, fmt: str
) -> HttpResponse:
    content = export_content(title=title, headers=headers, rows=rows, fmt=fmt)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
