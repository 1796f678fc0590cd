"""Task, coordination and difficulty lists (任务清单/协同清单/破难清单) per compound.

The pack defines each list (``list_kind`` task|coordination|difficulty) with a
``row_schema``; the commissioner and the three parties of a compound add and update
rows through the generated form; supervisors see the roll-up below their node. A row
is done when its status field holds one of the list's ``done_values``, overdue when it
is not done and its deadline (a local date) has passed. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import forms
from engine.core import clock, i18n
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import current_version, current_versions
from engine.org.actors import Actor
from engine.org.permissions import can, roles_of
from engine.org.scope import path_under
from engine.records import attachments
from engine.store.db import database
from engine.store.models import Definition, DefinitionVersion, OrgNode
from engine.store.tables import ChecklistRow
from engine.trail import audit

ROW_KINDS = ("task", "coordination", "difficulty")
EDIT_ROLES = roles_of("lists.edit")
VIEW_ROLES = roles_of("lists.view")


@dataclass(frozen=True)
class Progress:
    total: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        return round(100 * self.done / self.total, 2) if self.total else None


def row_lists() -> list[DefinitionVersion]:
    """The current version of every task, coordination and difficulty list."""
    versions = current_versions("checklist")
    return [v for v in versions if v.body.get("list_kind") in ROW_KINDS]


def row_list(key: str) -> DefinitionVersion:
    found = next((v for v in row_lists() if v.body["key"] == key), None)
    if found is None:
        raise NotFound(_("No such list."))
    return found


def may_edit(actor: Actor, node: OrgNode) -> bool:
    return can(actor, "lists.edit", node)


def may_view(actor: Actor, node: OrgNode) -> bool:
    return can(actor, "lists.view", node)


@attachments.record_kind("checklist-row")
def may_read_row(actor: Actor, row_id: int) -> bool:
    """Who sees a checklist row sees its evidence."""
    row = ChecklistRow.get_or_none(ChecklistRow.id == row_id)
    return row is not None and may_view(actor, row.node)


def today(now: dt.datetime) -> str:
    local = clock.local(now)
    assert local is not None
    return local.date().isoformat()


def is_overdue(row: ChecklistRow, now: dt.datetime) -> bool:
    return not row.done and bool(row.deadline) and row.deadline < today(now)


def rows_of(node: OrgNode, list_key: str) -> list[ChecklistRow]:
    return list(
        ChecklistRow.select()
        .join(Definition)
        .where((ChecklistRow.node == node) & (Definition.key == list_key))
        .order_by(ChecklistRow.done, ChecklistRow.deadline, ChecklistRow.id)
    )


def progress(rows: list[ChecklistRow], now: dt.datetime) -> Progress:
    return Progress(
        len(rows), sum(1 for r in rows if r.done), sum(1 for r in rows if is_overdue(r, now))
    )


def _clean(
    version: DefinitionVersion, node: OrgNode, data: Any, actor: Actor, now: dt.datetime
) -> dict[str, Any]:
    context = {
        "node": {"key": node.key, "kind": node.kind, "name": node.name},
        "actor": {"roles": sorted(actor.roles_at(node.path))},
        "now": now.isoformat(),
    }
    cleaned, errors = forms.validate(
        version.body["row_schema"], data, context=context, gettext=i18n.gettext
    )
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"data/{e.path}" if e.path else "data", e.message) for e in errors],
        )
    return dict(cleaned)


def derived(body: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """A row's ``done`` and ``deadline`` columns, read from its answers as the list says."""
    status = data.get(body.get("status_field", "status"))
    deadline = data.get(body.get("deadline_field", "deadline"))
    return {
        "done": int(status in body.get("done_values", ())),
        "deadline": str(deadline)[:10] if deadline else None,
    }


def add_row(
    actor: Actor, list_key: str, node: OrgNode, data: Any, *, now: dt.datetime
) -> ChecklistRow:
    """Add a row to ``node``'s list through the list's row form.

    :raises Forbidden: the actor is not the compound's commissioner or one of its parties.
    :raises Invalid: the answers do not pass the row form.
    """
    if not may_edit(actor, node):
        raise Forbidden(_("You may not edit the lists of this compound."))
    return write_row(actor, list_key, node, data, now=now)


def write_row(
    actor: Actor,
    list_key: str,
    node: OrgNode,
    data: Any,
    *,
    now: dt.datetime,
    detail: Mapping[str, Any] | None = None,
) -> ChecklistRow:
    """Add a row through the list's row form for a caller that has checked who may (a
    confirmed match of a need and a resource becomes a project row: engine/residents).

    :raises Invalid: the answers do not pass the row form.
    """
    version = row_list(list_key)
    cleaned = _clean(version, node, data, actor, now)
    with database.atomic():
        row = ChecklistRow.create(
            definition=version.definition_id,
            node=node,
            node_path=node.path,
            data=cleaned,
            created_by=actor.user,
            created_at=now,
            updated_at=now,
            **derived(version.body, cleaned),
        )
        attachments.claim(
            attachments.ids_in(version.body["row_schema"], cleaned),
            actor,
            record=attachments.record_ref("checklist-row", row.id),
        )
        audit.record(
            "checklist.row.add",
            at=now,
            actor=actor.user,
            target=attachments.record_ref("checklist-row", row.id),
            after=cleaned,
            detail={"list": list_key, "node": node.key, **(detail or {})},
        )
    return row


def update_row(
    actor: Actor, row_id: int, data: Any, *, expected: int | None, now: dt.datetime
) -> ChecklistRow:
    """Replace a row's answers; ``expected`` is the lock the form was shown with.

    :raises Conflict: someone saved the row in between.
    """
    row = get_row(actor, row_id)
    if not may_edit(actor, row.node):
        raise Forbidden(_("You may not edit the lists of this compound."))
    version = current_version(row.definition)
    cleaned = _clean(version, row.node, data, actor, now)
    with database.atomic():
        changed = (
            ChecklistRow.update(
                data=cleaned,
                updated_at=now,
                lock=ChecklistRow.lock + 1,
                **derived(version.body, cleaned),
            )
            .where((ChecklistRow.id == row.id) & (ChecklistRow.lock == (expected or row.lock)))
            .execute()
        )
        if not changed:
            raise Conflict(_("Someone else changed this row; reload it."))
        attachments.claim(
            attachments.ids_in(version.body["row_schema"], cleaned),
            actor,
            record=attachments.record_ref("checklist-row", row.id),
        )
        audit.record(
            "checklist.row.update",
            at=now,
            actor=actor.user,
            target=attachments.record_ref("checklist-row", row.id),
            before=row.data,
            after=cleaned,
            detail={"list": row.definition.key, "node": row.node.key},
        )
    return ChecklistRow.get_by_id(row.id)


def get_row(actor: Actor, row_id: int) -> ChecklistRow:
    """A row the actor may see.

    :raises NotFound: no such row, or not in the actor's view.
    """
    row = ChecklistRow.get_or_none(ChecklistRow.id == row_id)
    if row is None or not may_view(actor, row.node):
        raise NotFound(_("No such row."))
    return row


def rollup(node: OrgNode, *, now: dt.datetime) -> dict[int, dict[str, Progress]]:
    """Progress per list key for ``node`` and every node below it, by node id.

    Each compound's rows count at the compound and at every ancestor in the tree.
    """
    counts: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    keys = {
        d.id: d.key
        for d in Definition.select(Definition.id, Definition.key).where(
            Definition.kind == "checklist"
        )
    }
    day = today(now)
    query = (
        ChecklistRow.select(
            ChecklistRow.definition,
            ChecklistRow.node_path,
            ChecklistRow.done,
            ChecklistRow.deadline,
        )
        .where(path_under(ChecklistRow.node_path, node.path))
        .tuples()
    )
    for def_id, path, done, deadline in query:
        ids = [int(p) for p in path.strip("/").split("/")]
        overdue = int(not done and bool(deadline) and deadline < day)
        for node_id in ids:
            c = counts[node_id][keys[def_id]]
            c[0] += 1
            c[1] += done
            c[2] += overdue
    return {n: {k: Progress(*v) for k, v in by_list.items()} for n, by_list in counts.items()}


def total(by_list: Mapping[str, Progress] | None) -> Progress:
    values = list((by_list or {}).values())
    return Progress(
        sum(p.total for p in values), sum(p.done for p in values), sum(p.overdue for p in values)
    )


def facts_for(now: dt.datetime) -> dict[int, dict[str, Any]]:
    """The ``checklists`` part of every node's facts (all lists together and per list)."""
    root = OrgNode.select().where(OrgNode.parent.is_null()).order_by(OrgNode.id)
    out: dict[int, dict[str, Any]] = {}
    for top in root:
        for node_id, by_list in rollup(top, now=now).items():
            all_lists = total(by_list)
            out[node_id] = {
                "rows": all_lists.total,
                "done": all_lists.done,
                "overdue": all_lists.overdue,
                "completion_rate": all_lists.rate,
                "by_list": {
                    k: {
                        "rows": p.total,
                        "done": p.done,
                        "overdue": p.overdue,
                        "completion_rate": p.rate,
                    }
                    for k, p in sorted(by_list.items())
                },
            }
    return out
