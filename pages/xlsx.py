"""Tables to Excel workbooks (.xlsx, openpyxl): every exported table holds the rows it shows."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

# Text a spreadsheet would read as a formula is written with a leading quote (CSV/formula
# injection: a resident's answer must never run in an officer's Excel).
FORMULA_START = ("=", "+", "-", "@")
# Excel refuses sheet names with these, longer than 31 characters, or quoted at either end.
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_title(title: str) -> str:
    """``title`` as a name Excel accepts for a sheet (a list named 治理/台账 is one)."""
    name = SHEET_FORBIDDEN.sub("_", str(title)).strip().strip("'")[:31].strip("'")
    return name or "Sheet1"


def _cell(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float):
        value = str(value)  # lazy translations and anything else a sheet cannot hold
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def workbook(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, note: str = ""
) -> bytes:
    """One sheet: an optional note line, a bold header row, then the rows as values."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(title)
    if note:
        sheet.append([_cell(note)])
    sheet.append([str(h) for h in headers])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = sheet.cell(row=sheet.max_row - len(rows) + 1, column=2)
    for i, header in enumerate(headers, 1):
        width = max([len(str(header))] + [len(str(r[i - 1] or "")) for r in rows]) + 4
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(
            10, min(width * 1.6, 60)
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
