"""Items from a spreadsheet (批量导入): any item type whose definition has ``import``.

The sheet is one exported from another platform (a provincial petition platform, say):
one row per item, a column naming the compound (its key or its name) and one column per
form field, headed as the definition's ``import.columns`` says or by the field's title.
Every row is raised through :func:`engine.workflow.items.raise_item`, so the form's
checks, who may raise the type where, and the audit trail are the page's own. All or
nothing, as the other imports: one rejected row and nothing is written. A row whose
``import.unique`` answer is already an item of the type is skipped, so the same export
can be imported again; ``import.raised_at`` names the date field the item was raised on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from engine.core import clock
from engine.core.errors import Forbidden, Invalid
from engine.core.i18n import gettext as _
from engine.definitions.definitions import applies_for, current_versions
from engine.org.actors import Actor
from engine.records.forms_cells import cell_value
from engine.records.imports import Outcome, Rejection, Row, node_problems
from engine.store.db import database
from engine.store.models import Definition, DefinitionVersion, Item, OrgNode
from engine.workflow import items

NODE_COLUMN = "compound"


def importable(actor: Actor) -> list[DefinitionVersion]:
    """The current versions of the item types that may be imported and apply for ``actor``."""
    return [
        v
        for v in current_versions("item_type")
        if "import" in v.body and applies_for(actor, v.body)
    ]


def _fields(body: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(header, field name, field schema) of every answer a row may carry."""
    named = body["import"].get("columns", {})
    return [
        (named.get(name) or spec.get("title") or name, name, spec)
        for name, spec in body["schema"].get("properties", {}).items()
        if spec.get("type") in ("string", "integer", "number", "boolean")
        and not spec.get("readOnly")
    ]


def node_column(body: Mapping[str, Any]) -> str:
    return str(body["import"].get("node_column") or NODE_COLUMN)


def columns(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The template's headers and an example value each (the compound column first)."""
    compound = (
        OrgNode.select(OrgNode.name).where(OrgNode.kind == "compound").order_by(OrgNode.id).first()
    )
    examples = {"boolean": "是", "integer": 1, "number": 1.5, "string": "…"}
    cols: list[tuple[str, Any]] = [(node_column(body), compound.name if compound else "")]
    for header, _name, spec in _fields(body):
        if spec.get("enum"):
            example: Any = spec["enum"][0]
        elif spec.get("format") == "date":
            example = clock.local(clock.now()).date().isoformat()  # type: ignore[union-attr]
        else:
            example = examples[spec["type"]]
        cols.append((header, example))
    return cols


def _raised_at(value: Any) -> dt.datetime | None:
    """A date (local midnight) or a date-time answer as naive UTC."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.LOCAL)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


class _Compounds:
    """Compounds by key and by name, read once for the whole sheet."""

    def __init__(self) -> None:
        self.by_key: dict[str, OrgNode] = {}
        self.by_name: dict[str, list[OrgNode]] = defaultdict(list)
        for node in OrgNode.select().where(OrgNode.kind == "compound"):
            self.by_key[node.key] = node
            self.by_name[node.name].append(node)

    def find(self, actor: Actor, text: str, column: str) -> tuple[OrgNode | None, list[Any]]:
        node = self.by_key.get(text)
        if node is None:
            named = self.by_name.get(text, [])
            if len(named) > 1:
                return None, [
                    (
                        column,
                        _("Several compounds are named %(name)s; use its key.") % {"name": text},
                    )
                ]
            node = named[0] if named else None
        problems = node_problems(actor, node, text, "compound", column)
        return (None if problems else node), problems


def run(actor: Actor, type_key: str, rows: Iterable[Row], *, now: dt.datetime) -> Outcome:
    """Raise an item of ``type_key`` per row, all or nothing.

    :param actor: who imports; they must be allowed to raise the type at each row's compound.
    :param now: the time of the import (deadlines and audit events count from it).
    :returns: the counts (``created``, ``skipped``) and every rejected row, each naming
        its column; when there is one nothing was written.
    :raises Invalid: the type does not exist or may not be imported.
    """
    version = next((v for v in importable(actor) if v.definition.key == type_key), None)
    if version is None:
        raise Invalid(_("Items of %(key)s cannot be imported.") % {"key": type_key})
    body = version.body
    spec = body["import"]
    fields = _fields(body)
    header_of = {name: header for header, name, _s in fields}
    unique = spec.get("unique")
    known = _known_answers(type_key, unique) if unique else set()
    compounds = _Compounds()
    outcome = Outcome(f"items-{type_key}")
    seen: set[str] = set()
    with database.atomic() as transaction:
        for number, row in rows:
            outcome.rows += 1
            problems = _row(
                actor, body, row, fields, header_of, compounds, known, seen, outcome, now
            )
            outcome.rejected += [Rejection(number, c, m) for c, m in problems]
        if outcome.rejected:
            transaction.rollback()
            outcome.created = outcome.skipped = 0
    return outcome


def _known_answers(type_key: str, field: str) -> set[str]:
    query = Item.select(Item.data).join(Definition).where(Definition.key == type_key).tuples()
    return {
        str((data or {}).get(field)) for (data,) in query if (data or {}).get(field) is not None
    }


def _row(
    actor: Actor,
    body: Mapping[str, Any],
    row: Mapping[str, Any],
    fields: list[tuple[str, str, Mapping[str, Any]]],
    header_of: Mapping[str, str],
    compounds: _Compounds,
    known: set[str],
    seen: set[str],
    outcome: Outcome,
    now: dt.datetime,
) -> list[tuple[str, str]]:
    spec = body["import"]
    column = node_column(body)
    where = "" if row.get(column) is None else str(row.get(column)).strip()
    if not where:
        return [(column, _("This field is required."))]
    node, problems = compounds.find(actor, where, column)
    data: dict[str, Any] = {}
    for header, name, field in fields:
        value = row.get(header)
        if value is None or value == "":
            continue
        converted, problem = cell_value(field, value)
        if problem:
            problems.append((header, problem))
        else:
            data[name] = converted.strip() if isinstance(converted, str) else converted
    unique = spec.get("unique")
    if unique and data.get(unique) is not None:
        answer = str(data[unique])
        if answer in seen:
            problems.append((header_of[unique], _("This value appears twice in the file.")))
        seen.add(answer)
        if answer in known and not problems:
            outcome.skipped += 1
            return []
    raised_at = None
    if spec.get("raised_at") and data.get(spec["raised_at"]):
        raised_at = _raised_at(data[spec["raised_at"]])
        if raised_at is not None and raised_at > now:
            problems.append((header_of[spec["raised_at"]], _("This date lies in the future.")))
    if problems or node is None:
        return problems
    try:
        items.raise_item(actor, body["key"], node.key, data, now=now, raised_at=raised_at)
    except Invalid as exc:
        return [
            (header_of.get(p.path.removeprefix("data/").split("/")[0], column), p.message)
            for p in (exc.fields or [])
        ] or [(column, exc.message)]
    except Forbidden as exc:
        return [(column, exc.message)]
    outcome.created += 1
    return []
