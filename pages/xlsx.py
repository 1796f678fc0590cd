"""Tables to Excel workbooks (.xlsx, openpyxl): every dashboard table exports the rows it shows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

# Text that a spreadsheet would read as a formula is written with a leading quote.
FORMULA_START = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float):
        value = str(value)  # lazy translations and anything else a sheet cannot hold
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def workbook(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet: a bold header row, then the rows as values."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31] or "Sheet1"
    sheet.append([str(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for i, header in enumerate(headers, 1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(10, min(60, len(str(header)) * 2 + 4))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
