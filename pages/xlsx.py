"""Tables to Excel workbooks (.xlsx, openpyxl): every exported table holds the rows it shows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

# Text a spreadsheet would read as a formula is written with a leading quote (CSV/formula
# injection: a resident's answer must never run in an officer's Excel).
FORMULA_START = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float):
        value = str(value)  # lazy translations and anything else a sheet cannot hold
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def workbook(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, note: str = "") -> bytes:
    """One sheet: an optional note line, a bold header row, then the rows as values."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31] or "Sheet1"
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
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(10, min(width * 1.6, 60))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
