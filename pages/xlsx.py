"""Excel (.xlsx) export of a table, written with openpyxl in memory."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font


def workbook(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, note: str = "") -> io.BytesIO:
    """One sheet: an optional note line, a bold header row, then ``rows`` as they are."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    if note:
        sheet.append([note])
    sheet.append(list(headers))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = sheet.cell(row=sheet.max_row - len(rows) + 1, column=2)
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[index - 1] or "")) for r in rows]) + 4
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(width * 1.6, 40)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out
