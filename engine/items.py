"""Items and their workflow: raise, move through transitions, run effects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

import forms
import rules
from engine import attachments, audit, clock, i18n
from engine.actors import Actor
from engine.checks import settable_problem
from engine.context import item_doc, new_item_doc
from engine.db import write_transaction
from engine.deadlines import calendar_for
from engine.definitions import Runtime, current_version, runtime
from engine.dispatch import cancel_open_summons, summon
from engine.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.i18n import gettext as _
from engine.models import (
    HANDLER_ROLE,
    Assignment,
    Definition,
    Event,
    Item,
    OrgNode,
    RuleFailure,
    User,
)
from engine.notify import notify_roles
from engine.org import node_by_key
from engine.scope import visible_items


def _validate(schema: Mapping[str, Any], data: Any, doc: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise Invalid(_("Answers must be a JSON object."), [FieldProblem(prefix, _("Answers must be a JSON object."))])
    context = {k: v for k, v in doc.items() if k != "data"}
    cleaned, errors = forms.validate(schema, dict(data), context=context, gettext=i18n.gettext)
    if errors:
        raise Invalid(
            _("Some answers need fixing."),
            [FieldProblem(f"{prefix}/{e.path}" if e.path else prefix, e.message) for e in errors],
        )
    return _with_offsets(schema, dict(cleaned))


def _with_offsets(schema: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Date-times typed in a browser carry no offset: they are the district's local time.

    Stored answers always carry one, so date operators in rules can use them.
    """
    for spec in forms.field_specs(schema):
        value = data.get(spec.name)
        if spec.kind == "datetime" and isinstance(value, str):
            data[spec.name] = clock.with_local_offset(value)
        elif spec.kind == "group" and isinstance(value, list):
            for row in value:
                for child in spec.children:
                    if child.kind == "datetime" and isinstance(row.get(child.name), str):
                        row[child.name] = clock.with_local_offset(row[child.name])
    return data


def _title(rt: Runtime, doc: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    if "title" in rt.body:
        try:
            value = rules.compile(rt.body["title"])(doc)
            if value:
                return str(value)[:300]
        except rules.RuleError:
            pass
    text = next((v for v in data.values() if isinstance(v, str) and v.strip()), "")
    return (text or rt.body["name"])[:300]


def raise_item(
    actor: Actor, type_key: str, node_key: str, data: Any, *, now: dt.datetime
) -> Item:
    """Raise a new item of ``type_key`` at ``node_key`` under the type's newest version.

    :raises NotFound: unknown type or node.
    :raises Forbidden: the actor may not raise this type at this node.
    :raises Invalid: the answers do not validate (paths ``data/<field>``).
    """
    definition = Definition.get_or_none((Definition.key == type_key) & (Definition.kind == "item_type"))
    if definition is None:
        raise NotFound(_("Item type %(key)s does not exist.") % {"key": type_key})
    node = node_by_key(node_key)
    version = current_version(definition)
    rt = runtime(version)
    if node.kind not in rt.body.get("node_kinds", ["compound"]):
        message = _("%(type)s cannot be raised at %(node)s.") % {"type": rt.body["name"], "node": node.name}
        raise Invalid(message, [FieldProblem("node", message)])
    allowed = rt.body.get("raise_roles") or []
    if not any(actor.reaches(role, node.path) for role in allowed):
        raise Forbidden(_("You may not raise %(type)s here.") % {"type": rt.body["name"]})
    doc = new_item_doc(node, data if isinstance(data, Mapping) else {}, type_key=type_key,
                       actor=actor, now=now)
    cleaned = _validate(rt.body["schema"], data, doc, "data")
    doc["data"] = cleaned
    initial = rt.workflow["initial"]
    due_at = calendar_for(definition.id, rt.body).due(now, rt.states[initial].get("hours"))
    with write_transaction():
        item = Item.create(
            definition=definition, version=version, node=node, node_path=node.path,
            title=_title(rt, doc, cleaned), state=initial, data=cleaned, raised_by=actor.user,
            raised_at=now, state_since=now, due_at=due_at,
        )
        attachments.claim(attachments.ids_in(rt.body["schema"], cleaned), actor, item=item)
        audit.record("item.raise", at=now, actor=actor.user, item=item, target=f"item:{item.id}",
                     after={"state": initial, "data": cleaned, "version": rt.number})
        doc = item_doc(item, actor=actor, now=now)
        _run_effects(item, rt, rt.workflow.get("on_create", []), doc, actor=actor, now=now)
    return Item.get_by_id(item.id)


@dataclass(frozen=True)
class Offer:
    """A transition as offered to an actor: allowed, or blocked by its guard."""

    key: str
    label: str
    spec: Mapping[str, Any]
    allowed: bool
    reason: str = ""


def _may_take(actor: Actor, item: Item, spec: Mapping[str, Any]) -> bool:
    for role in spec["roles"]:
        if role == "raiser" and item.raised_by_id == actor.user.id:
            return True
        if role == HANDLER_ROLE and item.handler_id is not None:
            # A reassigned item is handled by its handler alone, wherever they work.
            if item.handler_id == actor.user.id:
                return True
            continue
        if role == "assignee" and any(
            actor.reaches(a.role, a.unit_path) for a in item.assignments if a.open
        ):
            return True
        if actor.reaches(role, item.node_path):
            return True
    return False


def _guard(item: Item, rt: Runtime, spec: Mapping[str, Any], doc: Mapping[str, Any], now: dt.datetime) -> tuple[bool, str]:
    if "guard" not in spec:
        return True, ""
    try:
        ok = rules.truthy(rules.compile(spec["guard"])(doc))
    except rules.RuleError as exc:
        index = rt.workflow["transitions"].index(spec)
        where = f"/workflow/transitions/{index}/guard{exc.path}"
        RuleFailure.create(at=now, definition=rt.key, version=rt.number, item=item,
                           where=where, message=exc.message)
        return False, f"{rt.key} v{rt.number} {where}: {exc.message}"
    return ok, "" if ok else spec.get("guard_message") or _("Not allowed yet.")


def offers(actor: Actor, item: Item, *, now: dt.datetime) -> list[Offer]:
    """The transitions ``actor`` may see on ``item`` in its current state."""
    rt = runtime(item.version_id)
    doc = item_doc(item, actor=actor, now=now)
    result = []
    for spec in rt.workflow["transitions"]:
        if item.state not in spec["from"] or not _may_take(actor, item, spec):
            continue
        ok, reason = (True, "") if "form" in spec and _guard_reads_form(spec) else _guard(item, rt, spec, doc, now)
        result.append(Offer(spec["key"], spec["label"], spec, ok, reason))
    return result


def _guard_reads_form(spec: Mapping[str, Any]) -> bool:
    return any(v.startswith("form.") for v in rules.vars_used(spec.get("guard", True)))


def get_item(actor: Actor, item_id: int) -> Item:
    """An item in ``actor``'s scope.

    :raises NotFound: no such item, or not visible to the actor (no existence leak).
    """
    item = visible_items(actor).where(Item.id == item_id).first()
    if item is None:
        raise NotFound(_("Item %(id)s does not exist.") % {"id": item_id})
    return item


def transition(
    actor: Actor, item_id: int, key: str, data: Any = None, *, expected: int | None,
    now: dt.datetime,
) -> Item:
    """Take transition ``key`` on an item, atomically: one winner, the rest get 409.

    :param expected: the item ``version`` (lock) the actor saw; None skips the check.
    :raises Conflict: stale version, or the item has left the transition's source state.
    :raises Forbidden: the actor holds none of the transition's roles.
    :raises Invalid: the transition form's answers or its guard refuse.
    """
    with write_transaction():
        item = get_item(actor, item_id)
        rt = runtime(item.version_id)
        spec = rt.transition(key)
        if spec is None:
            raise NotFound(_("%(type)s has no action %(key)s.") % {"type": rt.body["name"], "key": key})
        if expected is not None and expected != item.lock:
            raise Conflict(_("The item has changed since you opened it (version %(now)s, you had %(had)s); reload the page.") % {"now": item.lock, "had": expected})
        if item.state not in spec["from"]:
            raise Conflict(_("The item is now %(state)s; %(action)s is not possible.") % {"state": rt.state_label(item.state), "action": spec["label"]})
        if not _may_take(actor, item, spec):
            raise Forbidden(_("You may not take the action %(action)s on this item.") % {"action": spec["label"]})
        doc = item_doc(item, actor=actor, now=now)
        form = _validate(spec["form"], data or {}, {**doc, "data": data or {}}, "data") if "form" in spec else {}
        doc["form"] = form
        ok, reason = _guard(item, rt, spec, doc, now)
        if not ok:
            raise Invalid(reason, [FieldProblem("guard", reason)])
        if form:
            attachments.claim(attachments.ids_in(spec["form"], form), actor, item=item)
        target = _target(item, rt, spec, doc, now)
        _apply_move(item, rt, spec, target, form, actor=actor, now=now)
        doc = item_doc(Item.get_by_id(item.id), actor=actor, now=now, form=form)
        _run_effects(item, rt, spec.get("effects", []), doc, actor=actor, now=now)
    return Item.get_by_id(item.id)


def _target(item: Item, rt: Runtime, spec: Mapping[str, Any], doc: Mapping[str, Any], now: dt.datetime) -> str:
    for index, branch in enumerate(spec.get("to_if", [])):
        try:
            if rules.truthy(rules.compile(branch["when"])(doc)):
                return str(branch["to"])
        except rules.RuleError as exc:
            t_index = rt.workflow["transitions"].index(spec)
            RuleFailure.create(at=now, definition=rt.key, version=rt.number, item=item,
                               where=f"/workflow/transitions/{t_index}/to_if/{index}/when{exc.path}",
                               message=exc.message)
    return str(spec["to"])


def _apply_move(
    item: Item, rt: Runtime, spec: Mapping[str, Any], target: str, form: Mapping[str, Any],
    *, actor: Actor, now: dt.datetime,
) -> None:
    before = {"state": item.state, "version": item.lock}
    changes: dict[str, Any] = {
        "state": target, "state_since": now, "lock": item.lock + 1,
        "due_at": calendar_for(item.definition_id, rt.body).due(now, rt.states[target].get("hours")),
        "closed": rt.is_final(target),
    }
    if rt.is_resolved(target) and item.resolved_at is None:
        changes["resolved_at"] = now
        changes["resolution_seconds"] = int((now - item.raised_at).total_seconds())
    elif not rt.is_resolved(target) and not rt.is_final(target) and item.resolved_at is not None:
        changes["resolved_at"] = None  # reopened: the next resolution counts from the raise
        changes["resolution_seconds"] = None
        changes["reopen_count"] = Item.reopen_count + 1
    won = Item.update(**changes).where((Item.id == item.id) & (Item.lock == item.lock)).execute()
    if not won:
        raise Conflict(_("Someone else changed the item at the same moment; reload the page."))
    if changes["closed"]:
        cancel_open_summons(item, actor=actor, now=now)
    audit.record(
        f"transition.{spec['key']}", at=now, actor=actor.user, item=item, target=f"item:{item.id}",
        before=before, after={"state": target, "version": item.lock + 1, "form": dict(form) or None},
        detail={"label": spec["label"], "definition": rt.key, "definition_version": rt.number},
    )


def _run_effects(
    item: Item, rt: Runtime, effects: list[Mapping[str, Any]], doc: dict[str, Any],
    *, actor: Actor | None, now: dt.datetime,
) -> None:
    for effect in effects:
        if "summon" in effect:
            summon(Item.get_by_id(item.id), effect["summon"], doc, now=now, actor=actor)
        elif "notify" in effect:
            spec = effect["notify"]
            message = spec.get("message") or f"[{rt.body['name']}] {item.title}"
            notify_roles(item, spec["roles"], message, now=now)
        elif "set" in effect:
            _set_fields(item, rt, effect["set"], doc, actor=actor, now=now)
            # Later effects (a summons after a set) see the values just set.
            doc = item_doc(Item.get_by_id(item.id), actor=actor, now=now, form=doc.get("form"))


def _set_fields(
    item: Item, rt: Runtime, assignments: Mapping[str, Any], doc: Mapping[str, Any],
    *, actor: Actor | None, now: dt.datetime,
) -> None:
    fresh = Item.get_by_id(item.id)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, rule in assignments.items():
        try:
            value = rules.compile(rule)(doc)
        except rules.RuleError as exc:
            RuleFailure.create(at=now, definition=rt.key, version=rt.number, item=item,
                               where=f"set/{name}{exc.path}", message=exc.message)
            continue
        wrong = settable_problem(name, value)
        if wrong is not None:
            # Recorded like a failing rule (the admin page lists it) and skipped: a value
            # the column cannot hold must not stop every transition with a 500.
            RuleFailure.create(at=now, definition=rt.key, version=rt.number, item=item,
                               where=f"set/{name}", message=wrong)
            continue
        if name.startswith("data."):
            field = name[5:]
            before[name] = fresh.data.get(field)
            fresh.data = {**fresh.data, field: value}
        else:
            before[name] = getattr(fresh, name)
            setattr(fresh, name, int(value) if value is not None else None)
        after[name] = value
    if after:
        fresh.save()
        audit.record("item.set", at=now, actor=actor.user if actor else None, item=item,
                     target=f"item:{item.id}", before=before, after=after)


def timeline(item: Item) -> list[Any]:
    """Every audit event of the item, oldest first."""
    return list(
        Event.select(Event, User).join(User, join_type=JOIN.LEFT_OUTER, on=(Event.actor == User.id))
        .where(Event.item == item).order_by(Event.at, Event.id)
    )


def assignments_of(item: Item) -> list[Assignment]:
    return list(
        Assignment.select(Assignment, OrgNode).join(OrgNode)
        .where(Assignment.item == item).order_by(Assignment.id)
    )
