"""Items and their workflow: raise, move through transitions, run effects."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from peewee import JOIN

import forms
import rules
from engine.core import clock, i18n
from engine.core.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.checks import settable_problem
from engine.definitions.definitions import Runtime, applies_at, current_version, runtime
from engine.delivery.notify import notify_roles
from engine.org.actors import Actor
from engine.org.org import node_by_key
from engine.org.scope import (
    role_labels,
    visible_item_shape,
    visible_item_slotted,
)
from engine.records import attachments
from engine.store.db import write_transaction
from engine.store.models import (
    HANDLER_ROLE,
    Assignment,
    Definition,
    Event,
    Grant,
    Item,
    OrgNode,
    RuleFailure,
    User,
)
from engine.store.prepared import prepared, prepared_cursor
from engine.trail import audit, privacy
from engine.workflow import gates, kernel
from engine.workflow.context import item_doc, new_item_doc
from engine.workflow.deadlines import calendar_for
from engine.workflow.dispatch import cancel_open_summons, record_faults, summon


def _validate(
    schema: Mapping[str, Any], data: Any, doc: Mapping[str, Any], prefix: str
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise Invalid(
            _("Answers must be a JSON object."),
            [FieldProblem(prefix, _("Answers must be a JSON object."))],
        )
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


def raise_item(
    actor: Actor,
    type_key: str,
    node_key: str,
    data: Any,
    *,
    now: dt.datetime,
    raised_at: dt.datetime | None = None,
) -> Item:
    """Raise a new item of ``type_key`` at ``node_key`` under the type's newest version.

    :param raised_at: when the matter arose, if before ``now`` (an item imported from
        another platform); deadlines and the audit event still count from ``now``.

    :raises NotFound: unknown type or node.
    :raises Forbidden: the actor may not raise this type at this node.
    :raises Invalid: the type is not raised at this node (its kinds, or its ``scope``: path
        ``node``), or the answers do not validate (paths ``data/<field>``).
    """
    definition = Definition.get_or_none(
        (Definition.key == type_key) & (Definition.kind == "item_type")
    )
    if definition is None:
        raise NotFound(_("Item type %(key)s does not exist.") % {"key": type_key})
    node = node_by_key(node_key)
    version = current_version(definition)
    rt = runtime(version)
    if node.kind not in rt.body.get("node_kinds", ["compound"]):
        message = _("%(type)s cannot be raised at %(node)s.") % {
            "type": rt.body["name"],
            "node": node.name,
        }
        raise Invalid(message, [FieldProblem("node", message)])
    if not applies_at(rt.body, node.path):
        message = _("%(type)s is not used at %(node)s.") % {
            "type": rt.body["name"],
            "node": node.name,
        }
        raise Invalid(message, [FieldProblem("node", message)])
    allowed = rt.body.get("raise_roles") or []
    if not any(actor.reaches(role, node.path) for role in allowed):
        raise Forbidden(_("You may not raise %(type)s here.") % {"type": rt.body["name"]})
    doc = new_item_doc(
        node, data if isinstance(data, Mapping) else {}, type_key=type_key, actor=actor, now=now
    )
    cleaned = _validate(rt.body["schema"], data, doc, "data")
    doc["data"] = cleaned
    initial = rt.workflow["initial"]
    due_at = kernel.initial_due(rt, calendar_for(definition.id, rt.body), now)
    with write_transaction():
        item = Item.create(
            definition=definition,
            version=version,
            node=node,
            node_path=node.path,
            title=kernel.title(rt, doc, cleaned),
            state=initial,
            data=cleaned,
            raised_by=actor.user,
            raised_at=raised_at or now,
            state_since=now,
            due_at=due_at,
        )
        attachments.claim(attachments.ids_in(rt.body["schema"], cleaned), actor, item=item)
        audit.record(
            "item.raise",
            at=now,
            actor=actor.user,
            item=item,
            target=f"item:{item.id}",
            after={"state": initial, "data": cleaned, "version": rt.number},
        )
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


def _may_take(
    actor: Actor, item: Item, spec: Mapping[str, Any], assignments: list[Assignment] | None = None
) -> bool:
    for role in spec["roles"]:
        if role == "raiser" and item.raised_by_id == actor.user.id:
            return True
        if role == HANDLER_ROLE and item.handler_id is not None:
            # A reassigned item is handled by its handler alone, wherever they work.
            if item.handler_id == actor.user.id:
                return True
            continue
        if role == "assignee" and any(
            actor.reaches(a.role, a.unit_path)
            for a in (item.assignments if assignments is None else assignments)
            if a.open
        ):
            return True
        if actor.reaches(role, item.node_path):
            return True
    return False


def _guard(
    item: Item, rt: Runtime, spec: Mapping[str, Any], doc: Mapping[str, Any], now: dt.datetime
) -> tuple[bool, str]:
    if "guard" not in spec:
        return True, ""
    try:
        ok = rules.truthy(rules.compile(spec["guard"])(doc))
    except rules.RuleError as exc:
        index = rt.workflow["transitions"].index(spec)
        where = f"/workflow/transitions/{index}/guard{exc.path}"
        RuleFailure.create(
            at=now,
            definition=rt.key,
            version=rt.number,
            item=item,
            where=where,
            message=exc.template,
            params=exc.params,
        )
        return False, _(
            "This step's condition could not be checked (%(problem)s). The district office"
            " sees it among the rule failures."
        ) % {"problem": exc.text(_)}
    return ok, "" if ok else spec.get("guard_message") or _("Not allowed yet.")


def offers(
    actor: Actor,
    item: Item,
    *,
    now: dt.datetime,
    assignments: list[Assignment] | None = None,
) -> list[Offer]:
    """The transitions ``actor`` may see on ``item`` in its current state.

    :param assignments: all the item's summonses, when the caller has them already.
    """
    rt = runtime(item.version_id)
    doc = item_doc(item, actor=actor, now=now, assignments=assignments)
    result = []
    for spec in rt.workflow["transitions"]:
        if item.state not in spec["from"] or not _may_take(actor, item, spec, assignments):
            continue
        ok, reason = (
            (True, "")
            if "form" in spec and _guard_reads_form(spec)
            else _guard(item, rt, spec, doc, now)
        )
        result.append(Offer(spec["key"], spec["label"], spec, ok, reason))
    return result


def _guard_reads_form(spec: Mapping[str, Any]) -> bool:
    return any(v.startswith("form.") for v in rules.vars_used(spec.get("guard", True)))


def get_item(actor: Actor, item_id: int) -> Item:
    """An item in ``actor``'s scope, with its type, node and raiser, which every page shows
    (a prepared statement per way of seeing: ``visible_item_shape``).

    :raises NotFound: no such item, or not visible to the actor (no existence leak).
    """
    ways, values = visible_item_shape(actor)

    def build(item: Any, **slots: Any) -> Any:
        raiser = User.alias()
        return (
            visible_item_slotted(ways, slots)
            .select_extend(
                *Definition._meta.sorted_fields,
                *OrgNode._meta.sorted_fields,
                *(getattr(raiser, f.name) for f in User._meta.sorted_fields),
            )
            .join(Definition, on=(Item.definition == Definition.id))
            .switch(Item)
            .join(OrgNode, on=(Item.node == OrgNode.id))
            .switch(Item)
            .join(raiser, JOIN.LEFT_OUTER, on=(Item.raised_by == raiser.id))
            .where(Item.id == item)
            .limit(1)
        )

    item = next(iter(prepared(("get_item", ways), build, item=item_id, **values)), None)
    if item is None:
        raise NotFound(_("Item %(id)s does not exist.") % {"id": item_id})
    return item  # type: ignore[no-any-return]


def transition(
    actor: Actor,
    item_id: int,
    key: str,
    data: Any = None,
    *,
    expected: int | None,
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
            raise NotFound(
                _("%(type)s has no action %(key)s.") % {"type": rt.body["name"], "key": key}
            )
        if expected is not None and expected != item.lock:
            raise Conflict(
                _(
                    "The item has changed since you opened it (version %(now)s, you had %(had)s); reload the page."
                )
                % {"now": item.lock, "had": expected}
            )
        if item.state not in spec["from"]:
            raise Conflict(
                _("The item is now %(state)s; %(action)s is not possible.")
                % {"state": rt.state_label(item.state), "action": spec["label"]}
            )
        if not _may_take(actor, item, spec):
            raise Forbidden(
                _("You may not take the action %(action)s on this item.")
                % {"action": spec["label"]}
            )
        doc = item_doc(item, actor=actor, now=now)
        form = (
            _validate(spec["form"], data or {}, {**doc, "data": data or {}}, "data")
            if "form" in spec
            else {}
        )
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


def time_out(item_id: int, *, now: dt.datetime) -> Item | None:
    """Take the ``on_timeout`` transition of the item's state as the system, if its deadline
    has passed (超时自动流转: e.g. a resolved item nobody rated in 72 h is closed unrated).

    The same kernel moves it as a person's transition would — guard, branches, effects, one
    audited event with no actor — in one transaction that re-reads the item under its lock;
    None when the item has meanwhile moved, closed or had its deadline changed.
    """
    with write_transaction():
        item = Item.get_or_none(Item.id == item_id)
        if item is None or item.closed or item.due_at is None or item.due_at >= now:
            return None
        rt = runtime(item.version_id)
        key = rt.states.get(item.state, {}).get("on_timeout")
        spec = rt.transition(key) if key else None
        if spec is None or item.state not in spec["from"]:
            return None
        doc = item_doc(item, actor=None, now=now)
        doc["form"] = {}
        ok, _reason = _guard(item, rt, spec, doc, now)
        if not ok:
            return None
        target = _target(item, rt, spec, doc, now)
        _apply_move(item, rt, spec, target, {}, actor=None, now=now)
        doc = item_doc(Item.get_by_id(item.id), actor=None, now=now, form={})
        _run_effects(item, rt, spec.get("effects", []), doc, actor=None, now=now)
    return Item.get_by_id(item.id)


def _target(
    item: Item, rt: Runtime, spec: Mapping[str, Any], doc: Mapping[str, Any], now: dt.datetime
) -> str:
    to, faults = kernel.target(rt, spec, doc)
    record_faults(rt, item, faults, now)
    return to


def _apply_move(
    item: Item,
    rt: Runtime,
    spec: Mapping[str, Any],
    target: str,
    form: Mapping[str, Any],
    *,
    actor: Actor | None,
    now: dt.datetime,
) -> None:
    """Write the kernel's move: one conditional UPDATE (the lock), the summonses it
    cancels, its audit event (``actor`` None: the system, on a timeout)."""
    planned = kernel.move(
        rt, item, spec, target, form, calendar=calendar_for(item.definition_id, rt.body), now=now
    )
    # The lock condition makes the snapshot the kernel planned on the row it updates.
    won = (
        Item.update(**planned.changes)
        .where((Item.id == item.id) & (Item.lock == item.lock))
        .execute()
    )
    if not won:
        raise Conflict(_("Someone else changed the item at the same moment; reload the page."))
    if planned.closes:
        cancel_open_summons(item, actor=actor, now=now)
    if planned.gate is not None:
        gates.record(item, planned.gate, actor=actor, now=now)
    event = planned.event
    audit.record(
        event["action"],
        at=now,
        actor=actor.user if actor else None,
        item=item,
        target=f"item:{item.id}",
        before=event["before"],
        after=event["after"],
        detail=event["detail"],
    )


Effect = Callable[[Item, Runtime, Any, dict[str, Any], "Actor | None", dt.datetime], None]


def _summon_effect(
    item: Item, rt: Runtime, table: Any, doc: dict[str, Any], actor: Actor | None, now: dt.datetime
) -> None:
    summon(Item.get_by_id(item.id), table, doc, now=now, actor=actor)


def _notify_effect(
    item: Item, rt: Runtime, spec: Any, doc: dict[str, Any], actor: Actor | None, now: dt.datetime
) -> None:
    message = spec.get("message") or kernel.summons_message(rt.body["name"], item.title)
    notify_roles(item, spec["roles"], message, now=now)


def _set_effect(
    item: Item, rt: Runtime, values: Any, doc: dict[str, Any], actor: Actor | None, now: dt.datetime
) -> None:
    _set_fields(item, rt, values, doc, actor=actor, now=now)
    # Later effects (a summons after a set) see the values just set.
    doc.update(item_doc(Item.get_by_id(item.id), actor=actor, now=now, form=doc.get("form")))


# Every effect a workflow may name, by its key in the definition (docs/pack-format.md).
EFFECTS: dict[str, Effect] = {
    "summon": _summon_effect,
    "notify": _notify_effect,
    "set": _set_effect,
}


def _run_effects(
    item: Item,
    rt: Runtime,
    effects: list[Mapping[str, Any]],
    doc: dict[str, Any],
    *,
    actor: Actor | None,
    now: dt.datetime,
) -> None:
    doc = dict(doc)
    for effect in effects:
        for name, argument in effect.items():
            EFFECTS[name](item, rt, argument, doc, actor, now)


def _set_fields(
    item: Item,
    rt: Runtime,
    assignments: Mapping[str, Any],
    doc: Mapping[str, Any],
    *,
    actor: Actor | None,
    now: dt.datetime,
) -> None:
    fresh = Item.get_by_id(item.id)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, rule in assignments.items():
        try:
            value = rules.compile(rule)(doc)
        except rules.RuleError as exc:
            RuleFailure.create(
                at=now,
                definition=rt.key,
                version=rt.number,
                item=item,
                where=f"set/{name}{exc.path}",
                message=exc.template,
                params=exc.params,
            )
            continue
        wrong = settable_problem(name, value)
        if wrong is not None:
            # Recorded like a failing rule (the admin page lists it) and skipped: a value
            # the column cannot hold must not stop every transition with a 500.
            RuleFailure.create(
                at=now,
                definition=rt.key,
                version=rt.number,
                item=item,
                where=f"set/{name}",
                message=wrong,
            )
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
        audit.record(
            "item.set",
            at=now,
            actor=actor.user if actor else None,
            item=item,
            target=f"item:{item.id}",
            before=before,
            after=after,
        )


def reveal(actor: Actor, item: Item, view: privacy.Sight, *, now: dt.datetime) -> privacy.Sight:
    """Show ``item``'s personal data whole to one who needs it; audited (``item.reveal``).

    :raises Forbidden: the actor does not need the data, or the item is anonymous and
        the actor is not its commissioner.
    """
    if view.whole:
        return view
    if not view.may_reveal:
        raise Forbidden(_("You may not see this item's personal data."))
    rt = runtime(item.version_id)
    with write_transaction():
        audit.record(
            "item.reveal",
            at=now,
            actor=actor.user,
            item=item,
            target=f"item:{item.id}",
            after={"fields": sorted(privacy.personal_names(rt) & set(item.data or {}))},
        )
    return view.revealed()


def timeline(item: Item) -> list[Any]:
    """Every audit event of the item, oldest first."""
    return list(
        Event.select(Event, User)
        .join(User, join_type=JOIN.LEFT_OUTER, on=(Event.actor == User.id))
        .where(Event.item == item)
        .order_by(Event.at, Event.id)
    )


class TimelineEvent(NamedTuple):
    """An audit event of an item as its pages show it: the columns they read, the actor's
    name along (not the event and user models with every column)."""

    at: dt.datetime
    action: str
    actor_id: int | None
    actor_name: str | None
    before: Any
    after: Any
    detail: Any

    @classmethod
    def of(cls, event: Event) -> TimelineEvent:
        """An event model (``audit.since``'s) as a timeline row."""
        name = event.actor.name if event.actor_id is not None else None
        return cls(
            event.at, event.action, event.actor_id, name, event.before, event.after, event.detail
        )


def timeline_rows(item: Item) -> list[TimelineEvent]:
    """Every audit event of the item, oldest first, as :class:`TimelineEvent` rows (one
    prepared statement)."""

    def build(item: Any) -> Any:
        return (
            Event.select(
                Event.at,
                Event.action,
                Event.actor,
                User.name,
                Event.before,
                Event.after,
                Event.detail,
            )
            .join(User, join_type=JOIN.LEFT_OUTER, on=(Event.actor == User.id))
            .where(Event.item == item)
            .order_by(Event.at, Event.id)
            .tuples()
        )

    rows = prepared_cursor("timeline_rows", build, item=item.id)
    at = Event.at.python_value
    return [
        TimelineEvent(at(when), action, actor, name, _part(before), _part(after), _part(detail))
        for when, action, actor, name, before, after, detail in rows
    ]


# An event's before, after and detail decoded, by their JSON text: events are never changed
# and an item page reads the same few dozen again on every visit (decoding them was a tenth
# of its own time). Shared between requests, so read only; bounded.
_PARTS: dict[str, Any] = {}


def _part(text: Any) -> Any:
    """An event part's JSON ``text`` decoded (kept by its text; None stays None)."""
    if text is None or not isinstance(text, str):
        return text  # PostgreSQL's driver may hand JSON over decoded
    found = _PARTS.get(text)
    if found is None:
        if len(_PARTS) >= 4096:
            _PARTS.clear()
        found = _PARTS[text] = json.loads(text)
    return found


def role_names(
    item: Item, user_ids: set[int], *, unit_paths: list[str] | None = None
) -> dict[int, str]:
    """For each of ``user_ids``, the label of a role they hold over ``item`` (at its node or
    a summoned unit), as a resident is told who acted: "小区专员", not a name (one query).

    :param unit_paths: the paths of every unit the item summoned, when the caller has them.
    """
    if not user_ids:
        return {}
    if unit_paths is None:
        unit_paths = [
            a.unit_path
            for a in Assignment.select(Assignment.unit_path).where(Assignment.item == item)
        ]
    paths = [item.node_path, *unit_paths]
    labels = role_labels()
    found: dict[int, str] = {}
    users = list(user_ids)
    rows = prepared(  # one statement per number of users
        ("role_names", len(users)),
        lambda **slots: (
            Grant.select(Grant.user, Grant.role, OrgNode.path)
            .join(OrgNode)
            .where(Grant.user.in_([slots[f"user{i}"] for i in range(len(users))]))
            .order_by(Grant.id)
            .tuples()
        ),
        **{f"user{i}": user for i, user in enumerate(users)},
    )
    for user_id, role, path in rows:
        if user_id not in found and any(p.startswith(path) for p in paths):
            found[user_id] = labels.get(role, role)
    return found


def assignments_of(item: Item) -> list[Assignment]:
    """The item's summonses with their units, in order (one prepared statement). A unit is
    read with its id, key, name, kind and path only: pages name it, never read its file.

    The rows are made into models here, each value converted by its field as peewee does,
    without peewee's attribute-by-attribute assignment (about 15 µs a row of 23 columns)."""
    rows = prepared_cursor(
        "assignments_of_rows",
        lambda item: (
            Assignment.select(*_ASSIGNMENT_FIELDS, *_UNIT_FIELDS)
            .join(OrgNode)
            .where(Assignment.item == item)
            .order_by(Assignment.id)
        ),
        item=item.id,
    )
    split = len(_ASSIGNMENT_FIELDS)
    found = []
    for row in rows:
        assignment, unit = Assignment(__no_default__=True), OrgNode(__no_default__=True)
        assignment.__data__ = {
            f.name: f.python_value(v) for f, v in zip(_ASSIGNMENT_FIELDS, row[:split], strict=True)
        }
        unit.__data__ = {f.name: f.python_value(v) for f, v in zip(_UNIT_FIELDS, row[split:])}
        assignment.__rel__["unit"] = unit
        found.append(assignment)
    return found


_ASSIGNMENT_FIELDS = tuple(Assignment._meta.sorted_fields)
_UNIT_FIELDS = (OrgNode.id, OrgNode.key, OrgNode.name, OrgNode.kind, OrgNode.path)
