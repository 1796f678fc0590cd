"""A deterministic synthetic district for demos and benchmarks (`sanfang demo`).

Everything is drawn from one ``random.Random(seed)`` and the pack's own definitions:
answers are generated from each item type's form schema and validated by the same
forms layer as real answers; items walk their own workflow; summons come from the
routing tables (``engine/demo/demo_items.py``, stories from ``engine/demo/demo_stories.py``); every
street gets compounds with filed compound files, every compound its checklists, every
responsible unit its KPI reports (``engine/demo/demo_records.py``). The same seed gives the
same district; ``engine/demo/demo_shape.py`` measures it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import forms
import rules
from engine.accounts.users import hash_passwords
from engine.authoring.packs import read_pack
from engine.core.calendar import NATURAL
from engine.decisions import demo as deliberation
from engine.decisions import demo_regular as regular_meetings
from engine.definitions.definitions import applies_at, current_version
from engine.demo import demo_series
from engine.demo.demo_items import Planner
from engine.demo.demo_records import Records, add_supervisors, supervisors_missing
from engine.demo.demo_stories import Teller
from engine.residents.demo_contacts import contacts
from engine.store.db import database
from engine.store.models import Definition, Event, Grant, Item, OrgNode, User
from engine.trail import audit
from engine.workflow import items, timeouts
from engine.workflow.deadlines import pack_calendar
from forms.specs import canonical

BATCH = 500
DEMO_PASSWORD = "demo1234"  # the synthetic commissioners' password, as the pack's demo accounts'


def _text(
    rng: random.Random, pools: Mapping[str, Any], name: str, category: str | None, limit: int
) -> str:
    summaries = pools.get("summaries", {})
    pool = summaries.get(category or "") or [s for v in summaries.values() for s in v] or [""]
    locations = pools.get("locations") or [""]
    if name in ("location", "address"):
        return str(rng.choice(locations))[:limit]
    if name == "building":
        return str(pools.get("building_name", "{n}")).format(n=rng.randint(1, 30))[:limit]
    if name in ("resolution", "result") and pools.get("resolutions"):
        return str(rng.choice(pools["resolutions"]))[:limit]
    if name == "comment" and pools.get("comments"):
        return str(rng.choice(pools["comments"].get("high") or pool))[:limit]
    return str(rng.choice(pool))[:limit]


def fake_answers(
    schema: Mapping[str, Any], rng: random.Random, pools: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """Plausible answers for a form schema (validated and pruned by the caller)."""
    out: dict[str, Any] = {}
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    category = None
    for name, prop in props.items():
        if prop.get("readOnly"):
            continue  # nobody types it in (a count the workflow keeps)
        if name not in required and rng.random() < 0.3:
            continue
        value = _value(name, prop, rng, pools, category, now)
        if value is not None:
            out[name] = value
            if name == "category":
                category = value
    return out


def _value(
    name: str,
    prop: Mapping[str, Any],
    rng: random.Random,
    pools: Mapping[str, Any],
    category: Any,
    now: dt.datetime,
) -> Any:
    kind = prop.get("type")
    if "enum" in prop:
        return rng.choice(prop["enum"])
    if "oneOf" in prop:
        return rng.choice(prop["oneOf"])["const"]
    if kind == "boolean":
        return rng.random() < 0.3
    if kind in ("integer", "number"):
        low = prop.get("minimum", 0)
        high = min(prop.get("maximum", low + 50), low + 50)  # a demo's numbers stay plausible
        number = rng.randint(int(low), int(high))
        return number if kind == "integer" else float(number)
    if kind == "array":
        items = prop.get("items", {})
        if items.get("type") == "object":  # rows of a group: one to three
            low = max(1, int(prop.get("minItems", 1)))
            return [
                fake_answers(items, rng, pools, now)
                for _ in range(rng.randint(low, max(low, min(3, int(prop.get("maxItems", 3))))))
            ]
        if "enum" in items:
            return sorted(
                set(rng.sample(items["enum"], k=rng.randint(1, min(2, len(items["enum"])))))
            )
        return None
    if kind == "string":
        fmt = prop.get("format")
        if fmt == "date":
            return (now - dt.timedelta(days=rng.randint(0, 30))).date().isoformat()
        if fmt == "date-time":
            return (now - dt.timedelta(hours=rng.randint(1, 200))).replace(
                microsecond=0
            ).isoformat() + "+08:00"
        if fmt == "time":
            return f"{rng.randint(8, 20):02d}:00"
        if fmt == "phone":
            return "138" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        if fmt == "email":
            return f"demo{rng.randint(1, 999)}@example.com"
        if fmt in ("uri", "attachment"):
            return None
        if name in pools.get("person_fields", ()):  # answers that hold a person's name
            return person_name(rng, pools)[: int(prop.get("maxLength", 200))]
        limit = int(prop.get("maxLength", 200))
        return (
            _text(rng, pools, name, category, limit)
            if limit >= int(prop.get("minLength", 0))
            else None
        )
    return None


def _valid_answers(
    schema: Mapping[str, Any], rng: random.Random, pools: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any] | None:
    for _ in range(5):
        cleaned, errors = forms.validate(schema, fake_answers(schema, rng, pools, now))
        if not errors:
            return dict(cleaned)
    return None


POOL = 48  # validated answer sets per form


def answer_pool(rng: random.Random, pools: Mapping[str, Any], now: dt.datetime) -> Any:
    """Validated answers for any form, drawn from a pool of ``POOL`` per schema."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def draw(schema: Mapping[str, Any]) -> dict[str, Any]:
        key = canonical(schema)
        if key not in cache:
            found = [
                a
                for a in (_valid_answers(schema, rng, pools, now) for _ in range(POOL))
                if a is not None
            ]
            cache[key] = found or [{}]
        return dict(rng.choice(cache[key]))

    return draw


def _file(rng: random.Random, spec: Mapping[str, Any], **names: str) -> dict[str, Any]:
    """A synthetic compound's file, field by field from demo.json ``compound_file``:

    - ``[low, high]``: a number between (whole when both ends are, else two decimals);
    - ``{"chance": p}``: true with probability ``p``;
    - ``{"choices": {value: weight}}``: one of the values;
    - ``{"of": field, "share": [low, high]}``: a whole share of a field drawn before;
    - ``{"format": text or list/object of texts}``: texts with ``{compound}``,
      ``{commissioner}`` and the fields drawn before filled in;
    - ``"when"``: a JSON Logic rule over the fields drawn before; the field is drawn only
      when it holds (as the form shows the field).
    """
    drawn: dict[str, Any] = {}
    for name, rule in spec.items():
        if isinstance(rule, list):
            low, high = rule
            whole = isinstance(low, int) and isinstance(high, int)
            drawn[name] = rng.randint(low, high) if whole else round(rng.uniform(low, high), 2)
            continue
        if "when" in rule and not rules.truthy(rules.compile(rule["when"])(drawn)):
            continue
        if "chance" in rule:
            drawn[name] = rng.random() < float(rule["chance"])
        elif "choices" in rule:
            choices = rule["choices"]
            drawn[name] = rng.choices(list(choices), [float(w) for w in choices.values()])[0]
        elif "of" in rule:
            low, high = rule["share"]
            drawn[name] = round(float(drawn.get(rule["of"]) or 0) * rng.uniform(low, high))
        elif "format" in rule:
            drawn[name] = _format(rule["format"], {**drawn, **names})
    return drawn


def _format(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, list):
        return [_format(t, values) for t in template]
    return {k: _format(v, values) for k, v in template.items()}


def _ensure_compounds(
    rng: random.Random,
    count: int,
    pools: Mapping[str, Any],
    hashes: list[str],
    contact_cards: bool = True,
) -> list[OrgNode]:
    """Add synthetic communities and compounds until the district has ``count`` compounds,
    each to the street that has fewest so far, so every street has compounds."""
    compounds = list(OrgNode.select().where(OrgNode.kind == "compound").order_by(OrgNode.id))
    streets = list(OrgNode.select().where(OrgNode.kind == "street").order_by(OrgNode.id))
    held = {s.id: sum(1 for c in compounds if c.path.startswith(s.path)) for s in streets}
    prefixes = pools.get("compound_prefixes") or ["Demo "]
    suffixes = pools.get("compound_suffixes") or [""]
    community_name = str(pools.get("community_name", "{street} {n}"))
    street_suffix = str(pools.get("street_suffix", ""))
    names = {name for (name,) in OrgNode.select(OrgNode.name).tuples()}
    index = 0
    while len(compounds) < count and streets:
        street = min(streets, key=lambda s: held[s.id])
        held[street.id] += 1
        prefix = rng.choice(prefixes)
        name = next(
            (n for n in (f"{prefix}{rng.choice(suffixes)}" for _ in range(20)) if n not in names),
            f"{prefix}{rng.choice(suffixes)}{index}",  # a big district runs out of names
        )
        names.add(name)
        n = held[street.id] // 5 + 1  # five compounds a community
        community_key = f"demo-{street.key}-{n}"
        community = OrgNode.get_or_none(OrgNode.key == community_key)
        if community is None:
            community = OrgNode.create(
                key=community_key,
                name=community_name.format(
                    street=street.name.removesuffix(street_suffix), n=n, prefix=prefix
                ),
                kind="community",
                parent=street,
                path="",
                keys=[],
            )
            community.path, community.keys = (
                f"{street.path}{community.id}/",
                [*street.keys, community_key],
            )
            community.save()
        key = f"demo-c{index}"
        commissioner = person_name(rng, pools)
        node = OrgNode.create(
            key=key,
            name=name,
            kind="compound",
            parent=community,
            path="",
            keys=[],
            profile=_file(
                rng, pools.get("compound_file", {}), compound=name, commissioner=commissioner
            ),
        )
        node.path, node.keys = f"{community.path}{node.id}/", [*community.keys, key]
        node.save()
        user = User.create(username=f"{key}-zy", name=commissioner, password_hash=hashes.pop())
        Grant.create(user=user, role="commissioner", node=node)
        if contact_cards:  # its own generator: the district's other draws stay as they were
            node.profile = {
                **node.profile,
                **contacts(
                    pools.get("compound_contacts", {}),
                    random.Random(key),
                    compound=node.name,
                    commissioner=user.name,
                    person=lambda r: person_name(r, pools),
                ),
            }
            node.save()
        compounds.append(node)
        index += 1
    return compounds[:count] if count else compounds


def person_name(rng: random.Random, pools: Mapping[str, Any]) -> str:
    """A name that looks real: a surname and one or two given characters from the pack's pools."""
    surname = rng.choice(pools.get("surnames") or [""])
    given = pools.get("given") or [""]
    return surname + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def generate(
    pack_path: str | Path,
    *,
    compounds: int,
    items: int,
    seed: int,
    now: dt.datetime,
    contact_cards: bool = True,
) -> str:
    """Generate the district once per seed; a second run with the same seed does nothing.

    :param contact_cards: fill each synthetic compound's contacts (叫得应) from demo.json
        ``compound_contacts``; without them the district is the one drawn before they existed.
    """
    marker = f"demo:{seed}:{compounds}:{items}"
    if Event.select().where((Event.action == "demo.generate") & (Event.target == marker)).exists():
        return f"demo data for seed {seed} already present"
    pools = read_pack(pack_path).demo
    rng = random.Random(seed)
    # Each synthetic commissioner gets its own salt; hashed before the write transaction.
    missing = max(0, compounds - OrgNode.select().where(OrgNode.kind == "compound").count())
    streets = supervisors_missing()  # every street's supervisor reports on the KPI list
    hashes = (
        hash_passwords([DEMO_PASSWORD] * (missing + len(streets)))
        if OrgNode.select().where(OrgNode.kind == "street").exists()
        else []
    )
    with database.atomic():
        nodes = _ensure_compounds(rng, compounds, pools, hashes, contact_cards)
        add_supervisors(streets, [person_name(rng, pools) for _ in streets], hashes)
    types = [
        d
        for d in Definition.select().where(Definition.kind == "item_type").order_by(Definition.id)
        if d.current
    ]
    # How often each item type occurs is the pack's to say (demo.json `type_weights`).
    weights = [float(pools.get("type_weights", {}).get(d.key, 1.0)) for d in types]
    raisers = _raisers(nodes)
    planner = Planner(rng, Teller(rng, pools, answer_pool(rng, pools, now)), now)
    bodies = {d.id: current_version(d).body for d in types}
    for _ in range(items if types and nodes else 0):
        node = rng.choice(nodes)
        # Only the types used at the node (a street's own type stays in its street).
        fits = [
            (d, w)
            for d, w in zip(types, weights, strict=True)
            if applies_at(bodies[d.id], node.path)
        ]
        if fits:
            planner.add(
                rng.choices([d for d, _w in fits], [w for _d, w in fits])[0],
                node,
                rng.choice(raisers[node.id]) if node.id in raisers else None,
            )
    planner.finish()
    # Series (demo.json ``series``) draw from their own generator, so adding one leaves
    # the rest of the district as it was drawn before.
    # Their summaries (``series_summaries``) are theirs alone, for the same reason.
    series_rng = random.Random(f"series:{seed}")
    told = {**pools, "summaries": {**pools["summaries"], **pools.get("series_summaries", {})}}
    series = Planner(series_rng, Teller(series_rng, told, answer_pool(series_rng, told, now)), now)
    demo_series.tell(pools.get("series"), series, series_rng, nodes, now=now)
    series.finish()
    time_out(now)
    records = Records(rng, pools, pack_calendar(types[0].id) if types else NATURAL, now)
    records.checklists(nodes)
    records.kpi_reports()
    records.write()
    deliberation.tell(pools.get("deliberation"), nodes, now=now)
    regular_meetings.tell(pools.get("deliberation"), now=now)
    from engine.residents import demo as residents_demo

    residents = residents_demo.generate(pools, rng, now)
    from engine.demo.demo_live import raise_open

    raise_open(pools, nodes, now=now)  # open matters for the live board (实时预警看板)
    from engine.demo.demo_buildings import fill as fill_buildings

    fill_buildings(lambda r: person_name(r, pools), now=now)  # 一名党员一幢楼, 楼栋长
    from engine.metrics import demo as metrics_demo

    metrics_demo.backfill(rng, now=now)  # the index trend of the last twelve months
    audit.record(
        "demo.generate",
        at=now,
        actor=None,
        target=marker,
        after={"compounds": len(nodes), "items": items},
    )
    return f"demo: {len(nodes)} compounds, {items} items, {residents} (seed {seed})"


def time_out(now: dt.datetime) -> int:
    """End the stories whose resident never rated as the sweep would have: each item past
    its deadline in a state with an ``on_timeout`` moves on a minute after the deadline
    (closed unrated), so the demo shows no such item overdue. The number moved."""
    moved = 0
    for item_id in timeouts.due(now=now, limit=10**9):
        due = Item.get_by_id(item_id).due_at
        if items.time_out(item_id, now=min(due + dt.timedelta(minutes=1), now)) is not None:
            moved += 1
    return moved


def _raisers(nodes: list[OrgNode]) -> dict[int, list[int]]:
    """Who raises demo items at each compound: its residents if any (each in turn, so
    every demo resident has items to follow), else its commissioner."""
    found: dict[int, list[int]] = {}
    for role in ("commissioner", "resident"):
        by_node: dict[int, list[int]] = {}
        query = (
            Grant.select()
            .where((Grant.role == role) & Grant.node.in_([n.id for n in nodes]))
            .order_by(Grant.id)
        )
        for grant in query:
            by_node.setdefault(grant.node_id, []).append(grant.user_id)
        found.update(by_node)
    return found
