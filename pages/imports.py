"""/import — Excel imports of the org tree, compound files and households (admins
anywhere, supervisors inside their subtree), and of items of every type whose definition
allows it (``import``, e.g. petitions exported from the provincial platform): template
download, upload, a report of every rejected row; a file with any rejected row imports
nothing."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from engine.core import clock
from engine.records import imports
from engine.records.imports import Rejection, Row
from engine.workflow import item_imports
from pages import xlsx
from pages.auth import requires

bp = Blueprint("imports", __name__, url_prefix="/import")
KINDS = {
    "org": _l("Org tree (communities, compounds, buildings)"),
    "profiles": _l("Compound files"),
    "households": _l("Households"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITEMS = "items-"


def _item_types() -> dict[str, Any]:
    """Importable item types for the current actor, by their import kind ``items-<key>``."""
    return {ITEMS + v.definition.key: v.body for v in item_imports.importable(g.actor)}


def _kinds() -> dict[str, Any]:
    found: dict[str, Any] = dict(KINDS)
    for kind, body in _item_types().items():
        found[kind] = _("%(name)s (from a platform's export)", name=body["name"])
    return found


def _kind(kind: str) -> str:
    if kind not in _kinds():
        abort(404)
    return kind


def _columns(kind: str) -> list[tuple[str, Any]]:
    if kind.startswith(ITEMS):
        return item_imports.columns(_item_types()[kind])
    return imports.columns(kind)


@bp.route("/")
@requires("import")
def index() -> Any:
    return render_template("imports/index.html", kinds=_kinds(), outcome=None)


@bp.route("/<kind>/template.xlsx")
@requires("import")
def template(kind: str) -> Any:
    cols = _columns(_kind(kind))
    note = _(
        "One row per record under the header row; delete the example row. %(kind)s",
        kind=_kinds()[kind],
    )
    body = xlsx.workbook(kind, [c for c, _x in cols], [[v for _c, v in cols]], note=note)
    return Response(
        body,
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.xlsx"'},
    )


def read_rows(
    data: bytes, expected: list[str], *, strict: bool = True
) -> tuple[list[Row], list[Rejection]]:
    """The rows under the header row (the first row naming a known column), by Excel row number.

    :param strict: refuse columns not in ``expected``; a platform's export (an item
        import) has columns of its own, which are ignored instead.
    """
    try:
        return _rows(data, expected, strict)
    except Exception:  # noqa: BLE001 - openpyxl reads lazily and fails on broken files in many ways
        return [], [Rejection(0, "", _("This is not an .xlsx file."))]


def _rows(data: bytes, expected: list[str], strict: bool) -> tuple[list[Row], list[Rejection]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    header: list[str] | None = None
    rows: list[Row] = []
    problems: list[Rejection] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        cells = ["" if v is None else v for v in values]
        if header is None:
            names = [str(c).strip() for c in cells]
            if expected[0] in names:
                header = names
                problems += [
                    Rejection(number, n, _("Unknown column."))
                    for n in names
                    if strict and n and n not in expected
                ]
            continue
        if all(c == "" for c in cells):
            continue
        rows.append(
            (number, {name: cell for name, cell in zip(header, cells, strict=False) if name})
        )
    if header is None:
        problems.append(
            Rejection(0, expected[0], _("No header row naming %(column)s.", column=expected[0]))
        )
    return rows, problems


@bp.route("/<kind>", methods=["POST"])
@requires("import")
def upload(kind: str) -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400)
    items = _kind(kind).startswith(ITEMS)
    expected = [c for c, _x in _columns(kind)]
    rows, problems = read_rows(upload.read(), expected, strict=not items)
    if problems:
        outcome = imports.Outcome(kind, rows=len(rows), rejected=problems)
    elif items:
        outcome = item_imports.run(g.actor, kind.removeprefix(ITEMS), rows, now=clock.now())
    else:
        outcome = imports.run(g.actor, kind, rows, now=clock.now())
    status = 200 if outcome.imported else 422
    return render_template(
        "imports/index.html", kinds=_kinds(), outcome=outcome, chosen=kind
    ), status
