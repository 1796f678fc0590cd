"""Which form of a draft the form builder edits.

A target is named in the URL by a code: ``main`` (an item type's or profile's ``schema``,
a checklist's ``row_schema``), ``t<i>`` (transition *i*'s own ``form``), either followed
by ``~<field>`` for the columns of that form's repeated-rows field. The builder reads a
target's rows, writes them back into the draft, and previews the whole form they are in.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from flask import abort
from flask_babel import gettext as _

from forms.builder import FieldRow, FormRows, rows_from_schema, schema_from_rows

CODE = re.compile(r"^(main|t(\d{1,4}))(?:~([A-Za-z][A-Za-z0-9_]{0,59}))?$")
EMPTY = {"type": "object", "properties": {}}


@dataclass
class Target:
    code: str
    base: str  # "main" or "t<i>"
    transition: int | None  # the transition's index
    group: str | None  # the repeated-rows field whose columns are edited
    title: str
    pointer: str  # JSON Pointer of the whole form in the draft

    @property
    def scope(self) -> str:
        """What conditions between these fields name: ``data.x``, or ``row.x`` between columns."""
        return "row" if self.group else "data"

    @property
    def inner(self) -> str:
        """Where these fields are inside the whole form's schema."""
        return f"/properties/{self.group}/items" if self.group else ""

    def of_group(self, name: str) -> str:
        return f"{self.base}~{name}"


def schema_key(body: dict[str, Any]) -> str:
    return "row_schema" if body.get("kind") == "checklist" else "schema"


def has_form(body: dict[str, Any]) -> bool:
    """Whether the definition has a form the builder edits (KPI lists and indices do not)."""
    return body.get("kind") in (
        "item_type",
        "profile",
        "meeting",
        "opinion",
        "listing",
        "directory",
    ) or (
        body.get("kind") in ("checklist", "disclosure")
        and isinstance(body.get(schema_key(body)), dict)
    )


def target_of(code: str, body: dict[str, Any]) -> Target:
    """The target a code names in ``body``; 404 when it names nothing there."""
    found = CODE.match(code)
    if found is None:
        abort(404)
    base, index, group = found.group(1), found.group(2), found.group(3)
    transition = int(index) if index is not None else None
    if transition is None:
        if not has_form(body):
            abort(404)
        title, pointer = _("Form"), "/" + schema_key(body)
    else:
        transitions = (body.get("workflow") or {}).get("transitions") or []
        if transition >= len(transitions):
            abort(404)
        spec = transitions[transition]
        title = _("Form of transition %(name)s", name=spec.get("label") or spec.get("key"))
        pointer = f"/workflow/transitions/{transition}/form"
    target = Target(code, base, transition, group, title, pointer)
    if group is not None:
        row = _group_row(whole_rows(target, body), group)
        if row is None:
            abort(404)
        target.title = _("%(form)s · columns of %(name)s", form=title, name=row.label or row.name)
    return target


def whole_schema(target: Target, body: dict[str, Any]) -> dict[str, Any]:
    """The schema of the whole form the target is in (what the preview shows)."""
    if target.transition is None:
        return body.get(schema_key(body)) or dict(EMPTY)
    return body["workflow"]["transitions"][target.transition].get("form") or dict(EMPTY)


def whole_rows(target: Target, body: dict[str, Any]) -> FormRows:
    return rows_from_schema(whole_schema(target, body))


def _group_row(form: FormRows, name: str) -> FieldRow | None:
    return next((r for r in form.rows if r.name == name and r.kind == "group"), None)


def rows_of(target: Target, body: dict[str, Any]) -> FormRows:
    """The rows the target edits."""
    form = whole_rows(target, body)
    if target.group is None:
        return form
    row = _group_row(form, target.group)
    assert row is not None
    return FormRows(row.children, {}, list(row.required_order))


def store(target: Target, body: dict[str, Any], rows: FormRows) -> None:
    """Write the target's rows into ``body`` (in place)."""
    if target.group is not None:
        form = whole_rows(target, body)
        row = _group_row(form, target.group)
        assert row is not None
        row.children, row.required_order = rows.rows, rows.required_order
        old_items = row.extra.get("items")
        if isinstance(old_items, dict):
            # Keywords on the row object the builder does not own (kept as written).
            kept = {
                k: v for k, v in old_items.items() if k not in ("type", "properties", "required")
            }
            written = schema_from_rows(FormRows(rows.rows, kept, rows.required_order))
            row.extra["items"] = written
        rows = form
    schema = schema_from_rows(rows)
    if target.transition is None:
        body[schema_key(body)] = schema
        return
    spec = body["workflow"]["transitions"][target.transition]
    if rows.rows or rows.extra:
        spec["form"] = schema
    else:
        spec.pop("form", None)


def stored(target: Target, body: dict[str, Any], rows: FormRows) -> dict[str, Any]:
    """A copy of ``body`` with the rows written."""
    body = copy.deepcopy(body)
    store(target, body, rows)
    return body
