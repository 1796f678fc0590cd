"""A deterministic synthetic district for demos and benchmarks (`sanfang demo`).

Everything is drawn from one ``random.Random(seed)`` and the pack's own definitions:
answers are generated from each item type's form schema and validated by the same
forms layer as real answers; items walk their own workflow; summons come from the
routing tables. The same seed gives the same district.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import forms
import rules
from engine import audit
from engine.db import database
from engine.definitions import current_version, runtime
from engine.models import Assignment, Definition, Event, Grant, Item, OrgNode, User
from engine.packs import read_pack
from engine.users import hash_password
from rules.routing import Route, Table

BATCH = 500
TYPE_WEIGHTS = {"bell": 5, "repair": 3, "whistle": 1.5, "emergency": 0.5}


def _text(rng: random.Random, pools: Mapping[str, Any], name: str, category: str | None, limit: int) -> str:
    summaries = pools.get("summaries", {})
    pool = summaries.get(category or "") or [s for v in summaries.values() for s in v] or ["demo"]
    if name in ("location", "address") and pools.get("locations"):
        return str(rng.choice(pools["locations"]))[:limit]
    if name == "building":
        return f"{rng.randint(1, 30)}幢"[:limit]
    if name in ("resolution", "result") and pools.get("resolutions"):
        return str(rng.choice(pools["resolutions"]))[:limit]
    if name == "comment" and pools.get("comments"):
        return str(rng.choice(pools["comments"].get("high") or ["满意"]))[:limit]
    return str(rng.choice(pool))[:limit]


def fake_answers(schema: Mapping[str, Any], rng: random.Random, pools: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Plausible answers for a form schema (validated and pruned by the caller)."""
    out: dict[str, Any] = {}
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    category = None
    for name, prop in props.items():
        if name not in required and rng.random() < 0.3:
            continue
        value = _value(name, prop, rng, pools, category, now)
        if value is not None:
            out[name] = value
            if name == "category":
                category = value
    return out


def _value(name: str, prop: Mapping[str, Any], rng: random.Random, pools: Mapping[str, Any], category: Any, now: dt.datetime) -> Any:
    kind = prop.get("type")
    if "enum" in prop:
        return rng.choice(prop["enum"])
    if "oneOf" in prop:
        return rng.choice(prop["oneOf"])["const"]
    if kind == "boolean":
        return rng.random() < 0.3
    if kind in ("integer", "number"):
        low = prop.get("minimum", 0)
        high = prop.get("maximum", max(low + 50, 50))
        number = rng.randint(int(low), int(high))
        return number if kind == "integer" else float(number)
    if kind == "array":
        items = prop.get("items", {})
        if "enum" in items:
            return sorted(set(rng.sample(items["enum"], k=rng.randint(1, min(2, len(items["enum"]))))))
        return None
    if kind == "string":
        fmt = prop.get("format")
        if fmt == "date":
            return (now - dt.timedelta(days=rng.randint(0, 30))).date().isoformat()
        if fmt == "date-time":
            return (now - dt.timedelta(hours=rng.randint(1, 200))).replace(microsecond=0).isoformat() + "+08:00"
        if fmt == "time":
            return f"{rng.randint(8, 20):02d}:00"
        if fmt == "phone":
            return "138" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        if fmt == "email":
            return f"demo{rng.randint(1, 999)}@example.com"
        if fmt in ("uri", "attachment"):
            return None
        limit = int(prop.get("maxLength", 200))
        return _text(rng, pools, name, category, limit) if limit >= int(prop.get("minLength", 0)) else None
    return None


def _valid_answers(schema: Mapping[str, Any], rng: random.Random, pools: Mapping[str, Any], now: dt.datetime) -> dict[str, Any] | None:
    for _ in range(5):
        cleaned, errors = forms.validate(schema, fake_answers(schema, rng, pools, now))
        if not errors:
            return dict(cleaned)
    return None


def _ensure_compounds(rng: random.Random, count: int, pools: Mapping[str, Any], password_hash: str) -> list[OrgNode]:
    """Add synthetic communities and compounds until the district has ``count`` compounds."""
    compounds = list(OrgNode.select().where(OrgNode.kind == "compound").order_by(OrgNode.id))
    streets = list(OrgNode.select().where(OrgNode.kind == "street").order_by(OrgNode.id))
    prefixes = pools.get("compound_prefixes") or ["和睦", "德胜", "新华"]
    suffixes = pools.get("compound_suffixes") or ["花园", "新村", "苑"]
    index = 0
    while len(compounds) < count and streets:
        street = streets[index % len(streets)]
        community_key = f"demo-{street.key}-{index // len(streets) // 5}"
        community = OrgNode.get_or_none(OrgNode.key == community_key)
        if community is None:
            community = OrgNode.create(key=community_key, name=f"{street.name[:-2]}{index // len(streets) // 5 + 1}社区",
                                       kind="community", parent=street, path="", keys=[])
            community.path, community.keys = f"{street.path}{community.id}/", [*street.keys, community_key]
            community.save()
        key = f"demo-c{index}"
        node = OrgNode.create(
            key=key, name=f"{rng.choice(prefixes)}{rng.choice(suffixes)}{index}", kind="compound",
            parent=community, path="", keys=[],
            profile={"households": rng.randint(200, 1500), "fee_collection_rate": round(rng.uniform(70, 99.5), 2)},
        )
        node.path, node.keys = f"{community.path}{node.id}/", [*community.keys, key]
        node.save()
        user = User.create(username=f"{key}-zy", name=f"{rng.choice(pools.get('surnames') or ['王'])}专员", password_hash=password_hash)
        Grant.create(user=user, role="commissioner", node=node)
        compounds.append(node)
        index += 1
    return compounds[:count] if count else compounds


def generate(pack_path: str | Path, *, compounds: int, items: int, seed: int, now: dt.datetime) -> str:
    """Generate the district once per seed; a second run with the same seed does nothing."""
    marker = f"demo:{seed}:{compounds}:{items}"
    if Event.select().where((Event.action == "demo.generate") & (Event.target == marker)).exists():
        return f"demo data for seed {seed} already present"
    pools = read_pack(pack_path).demo
    rng = random.Random(seed)
    password_hash = hash_password("demo1234")
    with database.atomic():
        nodes = _ensure_compounds(rng, compounds, pools, password_hash)
    types = [d for d in Definition.select().where(Definition.kind == "item_type").order_by(Definition.id) if d.current]
    weights = [TYPE_WEIGHTS.get(d.key, 1.0) for d in types]
    raisers = _raisers(nodes)
    actors = _Actors()
    made = 0
    while made < items and types and nodes:
        with database.atomic():
            for _ in range(min(BATCH, items - made)):
                definition = rng.choices(types, weights)[0]
                node = rng.choice(nodes)
                if _simulate(definition, node, raisers.get(node.id), rng, pools, now, actors):
                    made += 1
    audit.record("demo.generate", at=now, actor=None, target=marker, after={"compounds": len(nodes), "items": made})
    return f"demo: {len(nodes)} compounds, {made} items (seed {seed})"


def _raisers(nodes: list[OrgNode]) -> dict[int, int]:
    """Who raises demo items at each compound: its resident if any, else its commissioner."""
    found: dict[int, int] = {}
    for role in ("commissioner", "resident"):
        for grant in Grant.select().where((Grant.role == role) & Grant.node.in_([n.id for n in nodes])):
            found[grant.node_id] = grant.user_id
    return found


def _walk(rt: Any, rng: random.Random, pools: Mapping[str, Any], now: dt.datetime) -> list[tuple[Mapping[str, Any], dict[str, Any], float, str]] | None:
    """A random path through the workflow: (transition, form answers, hours after raising)."""
    state, hours, steps = rt.workflow["initial"], 0.0, []
    for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 6, 6])):
        options = [t for t in rt.workflow["transitions"] if state in t["from"]]
        if not options or rt.is_final(state):
            break
        chosen = rng.choice(options)
        form = _valid_answers(chosen["form"], rng, pools, now) if "form" in chosen else {}
        if form is None:
            break
        hours += rng.uniform(0.2, 30)
        target = _branch(chosen, form)
        steps.append((chosen, form, hours, target))
        state = target
    return steps


def _branch(transition: Mapping[str, Any], form: Mapping[str, Any]) -> str:
    """Where a transition goes for these answers (its ``to_if`` branches, then ``to``)."""
    for branch in transition.get("to_if", []):
        try:
            if rules.truthy(rules.compile(branch["when"])({"form": form})):
                return str(branch["to"])
        except rules.RuleError:
            continue
    return str(transition["to"])


class _Actors:
    """Who takes a demo transition: a holder of one of its roles over the node, else the raiser."""

    def __init__(self) -> None:
        self.by_role: dict[str, list[tuple[str, int]]] = {}
        for role, path, user in Grant.select(Grant.role, OrgNode.path, Grant.user).join(OrgNode).tuples():
            self.by_role.setdefault(role, []).append((path, user))

    def pick(self, roles: list[str], node: OrgNode, raiser: int | None) -> int | None:
        for role in roles:
            if role == "raiser":
                return raiser
            for path, user in self.by_role.get(role, []):
                if node.path.startswith(path):
                    return user
        return raiser


def _simulate(
    definition: Definition, node: OrgNode, raiser: int | None, rng: random.Random,
    pools: Mapping[str, Any], now: dt.datetime, actors: _Actors,
) -> bool:
    version = current_version(definition)
    rt = runtime(version)
    data = _valid_answers(rt.body["schema"], rng, pools, now)
    steps = _walk(rt, rng, pools, now) if data is not None else None
    if data is None or steps is None:
        return False
    end_state = steps[-1][3] if steps else rt.workflow["initial"]
    elapsed = steps[-1][2] if steps else 0.0
    if rt.is_final(end_state):
        raised = now - dt.timedelta(hours=elapsed + rng.uniform(1, 24 * 90))
    else:
        # Open items sit in their state for a while; about one in five is past its deadline.
        limit = rt.states[end_state].get("hours") or 24
        raised = now - dt.timedelta(hours=elapsed + rng.uniform(0, 1.25 * limit))
    try:
        title = rules.compile(rt.body["title"])({"data": data}) if "title" in rt.body else None
    except rules.RuleError:
        title = None
    state = rt.workflow["initial"]
    item = Item.create(
        definition=definition, version=version, node=node, node_path=node.path,
        title=str(title or data.get("summary") or rt.body["name"])[:300], state=state,
        data=data, raised_by=raiser, raised_at=raised, state_since=raised,
    )
    Event.create(at=raised, actor=raiser, action="item.raise", item=item, target=f"item:{item.id}",
                 after={"state": state, "data": data, "version": rt.number})
    doc = {"data": data, "form": {}, "node": {"key": node.key, "kind": node.kind, "path": list(node.keys), "profile": node.profile},
           "item": {"state": state, "priority": 0, "raised_at": raised.isoformat() + "+00:00"},
           "now": now.isoformat() + "+00:00", "assignments": {"open": 0}}
    for effect in rt.workflow.get("on_create", []):
        if "summon" in effect:
            _demo_summon(item, rt.body, effect["summon"], doc, raised, rng, now)
    at = raised
    for chosen, form, hours, target in steps:
        at = raised + dt.timedelta(hours=hours)
        Assignment.update(state="done", done_at=at, open=False, next_due_at=None, reply="已处理").where(
            (Assignment.item == item) & Assignment.open & (Assignment.summoned_at < at)
        ).execute()
        for effect in chosen.get("effects", []):
            if "summon" in effect:
                _demo_summon(item, rt.body, effect["summon"], {**doc, "form": form}, at, rng, now)
        Event.create(at=at, actor=actors.pick(chosen["roles"], node, raiser), action=f"transition.{chosen['key']}",
                     item=item, target=f"item:{item.id}", before={"state": state}, after={"state": target, "form": form or None},
                     detail={"label": chosen["label"], "definition": rt.key, "definition_version": rt.number})
        state = target
        if rt.is_resolved(state) and item.resolved_at is None:
            item.resolved_at = at
            item.resolution_seconds = int((at - raised).total_seconds())
        elif not rt.is_resolved(state):
            if item.resolved_at is not None:
                item.reopen_count += 1
            item.resolved_at = item.resolution_seconds = None
        if "satisfaction" in form:
            item.satisfaction = form["satisfaction"]
    item.state, item.state_since = state, at
    hours_allowed = rt.states[state].get("hours")
    item.due_at = at + dt.timedelta(hours=hours_allowed) if hours_allowed else None
    item.closed = rt.is_final(state)
    if item.closed:
        Assignment.update(state="cancelled", open=False, next_due_at=None).where(
            (Assignment.item == item) & Assignment.open).execute()
    item.save()
    return True


def _demo_summon(item: Item, body: Mapping[str, Any], table_name: str, doc: Mapping[str, Any],
                 at: dt.datetime, rng: random.Random, now: dt.datetime) -> None:
    spec = body["routing"][table_name]
    table = Table([Route(r["key"], r["when"], r) for r in spec["rules"]], spec.get("hit_policy", "collect"))
    try:
        decision = table.decide(doc)
    except rules.RuleError:
        return
    planned = [(u, r.payload, r.key) for r in decision.fired for u in r.payload["summon"]] if decision.fired and not decision.used_default \
        else [(u, spec, None) for u in spec.get("default", [])]
    for unit, route, key in planned:
        node = OrgNode.get_or_none(OrgNode.key == unit["unit"]) if "unit" in unit else item.node
        if node is None:
            continue
        report_h = route.get("report_hours", spec.get("report_hours"))
        handle_h = route.get("handle_hours", spec.get("handle_hours"))
        report_due = at + dt.timedelta(hours=report_h) if report_h else None
        handle_due = at + dt.timedelta(hours=handle_h) if handle_h else None
        reported = at + dt.timedelta(hours=rng.uniform(0.1, (report_h or 4) * 1.5))
        state = "reported" if reported < now else "summoned"
        Assignment.create(
            item=item, unit=node, unit_path=node.path, role=unit.get("role", "department"), table=table_name,
            rule=key, priority=route.get("priority", 0), summoned_at=at, report_due_at=report_due,
            handle_due_at=handle_due, state=state, reported_at=reported if state == "reported" else None,
            next_due_at=handle_due if state == "reported" else (report_due or handle_due),
        )
