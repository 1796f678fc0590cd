"""Evolving an item type whose items are running: open items sitting in a state the new
version removes are either refused (no mapping) or migrated with an explicit mapping.

Migrating moves such an item onto the new version, into the state the mapping names, in the
same transaction as the publish; every moved item gets an ``item.migrate`` audit event
("migrated from vN state X to vM state Y"). Items in states the new version keeps stay
pinned to their own version, and so do items outside the new version's ``scope``: a street's
edit of its definition never moves items of another street (raised before the scope was set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from peewee import fn

from engine.core import i18n
from engine.core.errors import Conflict, FieldProblem
from engine.definitions.definitions import scope_path
from engine.definitions.runtimes import runtime
from engine.org.scope import path_under
from engine.store.models import Definition, DefinitionVersion, Item, User
from engine.trail import audit
from engine.workflow.deadlines import calendar_for
from engine.workflow.kernel import deadline_calendar


def _new_states(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    workflow = body.get("workflow") if isinstance(body, Mapping) else None
    states = workflow.get("states") if isinstance(workflow, Mapping) else None
    return states if isinstance(states, Mapping) else None


def _where_used(query: Any, body: Mapping[str, Any]) -> Any:
    """Only the items at nodes where ``body`` applies (definitions.applies_at, in SQL)."""
    within = scope_path(body)
    return query if within is None else query.where(path_under(Item.node_path, within))


def stranded_states(definition: Definition, body: Mapping[str, Any]) -> dict[str, int]:
    """State → number of open items sitting in it, for the states ``body`` no longer has."""
    states = _new_states(body)
    if definition.kind != "item_type" or not definition.current or states is None:
        return {}
    query = _where_used(
        Item.select(Item.state, fn.COUNT(Item.id)).where(
            (Item.definition == definition) & (Item.closed == False)
        ),
        body,
    )
    query = query.group_by(Item.state).tuples()
    return {state: count for state, count in query if state not in states}


def mapping_targets(body: Mapping[str, Any]) -> dict[str, str]:
    """The states a stranded item may be moved to: the new version's states that are not final."""
    states = _new_states(body) or {}
    return {
        k: str((v or {}).get("label", k))
        for k, v in states.items()
        if isinstance(v, Mapping) and not v.get("final")
    }


def stranded_problems(
    definition: Definition, body: Mapping[str, Any], mapping: Mapping[str, str] | None = None
) -> list[FieldProblem]:
    """A problem per removed state that holds open items and has no valid mapping."""
    targets = mapping_targets(body)
    problems = []
    stranded = stranded_states(definition, body)
    labels = _published_labels(definition) if stranded else {}
    for state, count in sorted(stranded.items()):
        target = (mapping or {}).get(state)
        if target in targets:
            continue
        words = {"count": count, "state": labels.get(state, state), "target": target}
        if target:
            message = (
                i18n.gettext(
                    "%(count)s open item(s) are in the state %(state)s, which this version removes; "
                    "%(target)s is not a state of this version they can move to"
                )
                % words
            )
        else:
            message = (
                i18n.gettext(
                    "%(count)s open item(s) are in the state %(state)s, which this version removes; "
                    "keep the state, or choose the state of this version they move to"
                )
                % words
            )
        problems.append(FieldProblem(f"/workflow/states/{state}", message))
    return problems


def _published_labels(definition: Definition) -> dict[str, str]:
    """State key → label in the definition's published version (where stranded items sit)."""
    return _version_labels(definition, definition.current, {})


def _version_labels(
    definition: Definition, number: int, known: dict[int, dict[str, str]]
) -> dict[str, str]:
    """State key → label in version ``number`` of ``definition``, remembered in ``known``."""
    if number not in known:
        version = DefinitionVersion.get_or_none(
            (DefinitionVersion.definition == definition) & (DefinitionVersion.number == number)
        )
        states = runtime(version).states if version else {}
        known[number] = {k: str((v or {}).get("label", k)) for k, v in states.items()}
    return known[number]


def migrate(
    definition: Definition,
    version: DefinitionVersion,
    mapping: Mapping[str, str],
    *,
    by: User | None,
    now: dt.datetime,
) -> list[Item]:
    """Move the open items of the removed, mapped states onto ``version``; call inside the
    publish's transaction (a concurrent change of one of them raises Conflict and undoes all).

    :raises Conflict: an item changed meanwhile.
    """
    body = version.body
    states = _new_states(body)
    if definition.kind != "item_type" or states is None:
        return []
    calendar = calendar_for(definition.id, body)
    moved = []
    query = _where_used(
        Item.select(Item, DefinitionVersion.number)
        .join(DefinitionVersion)
        .where(
            (Item.definition == definition)
            & (Item.closed == False)
            & (Item.state.in_([s for s in mapping if s not in states]))
        ),
        body,
    )
    query = query.order_by(Item.id)
    labels: dict[int, dict[str, str]] = {}
    for item in list(query):
        old_number, old_state = item.version.number, item.state
        target = mapping[old_state]
        won = (
            Item.update(
                version=version,
                state=target,
                state_since=now,
                lock=item.lock + 1,
                due_at=deadline_calendar(calendar, states[target]).due(
                    now, states[target].get("hours")
                ),
            )
            .where((Item.id == item.id) & (Item.lock == item.lock) & (Item.state == old_state))
            .execute()
        )
        if not won:
            raise Conflict(f"item {item.id} changed while it was being migrated; publish again")
        audit.record(
            "item.migrate",
            at=now,
            actor=by,
            item=item,
            target=f"item:{item.id}",
            before={
                "version": old_number,
                "state": old_state,
                "label": _version_labels(definition, old_number, labels).get(old_state, old_state),
            },
            after={"version": version.number, "state": target},
            detail={
                "message": f"migrated from v{old_number} state {old_state} to "
                f"v{version.number} state {target}",
                "definition": definition.key,
            },
        )
        moved.append(item)
    return moved
