"""The demo's directory entries (demo.json ``directories``), added through the service as the
people who keep each directory would, a few retired again.

Each spec names a ``directory``, the ``node_kind`` it fills, entries per node (``per_node``
``[low, high]``; ``short``: a ``share`` of the nodes get ``per_node`` of its own, below the
target), the ``entries`` to take from (answers; ``{node}`` is the node's name; each at most once
per node unless ``repeat``), answers to ``draw`` for each (``"person"``: a name, ``"phone"``: a
mobile number, ``[low, high]``, ``{"choices": {value: weight}}``, ``{"pick": [...]}``,
``{"days_ago": [low, high]}``: a date; ``"when"``: a rule over the answers drawn before), and
``retire`` (``share``, ``reasons``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any

import rules
from engine.core.errors import NotFound
from engine.definitions.definitions import applies_at
from engine.org.actors import Actor, actor_for
from engine.residents import directories
from engine.store.models import Grant, OrgNode, User

DAY = dt.timedelta(days=1)


def _name(rng: random.Random, pools: Mapping[str, Any]) -> str:
    surname = rng.choice(pools.get("surnames") or [""])
    given = pools.get("given") or [""]
    return str(surname) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _draw(
    rng: random.Random,
    spec: Mapping[str, Any],
    answers: dict[str, Any],
    pools: Any,
    now: dt.datetime,
) -> dict[str, Any]:
    for name, rule in spec.items():
        if rule == "person":
            answers[name] = _name(rng, pools)
        elif rule == "phone":
            answers[name] = rng.choice(("138", "139", "158", "186")) + "".join(
                str(rng.randint(0, 9)) for _ in range(8)
            )
        elif isinstance(rule, list):
            answers[name] = rng.randint(int(rule[0]), int(rule[1]))
        elif "when" in rule and not rules.truthy(rules.compile(rule["when"])(answers)):
            continue
        elif "choices" in rule:
            choices = rule["choices"]
            answers[name] = rng.choices(list(choices), [float(w) for w in choices.values()])[0]
        elif "pick" in rule:
            answers[name] = rng.choice(rule["pick"])
        elif "days_ago" in rule:
            low, high = rule["days_ago"]
            answers[name] = (now - rng.randint(int(low), int(high)) * DAY).date().isoformat()
    return answers


def _keeper(body: Mapping[str, Any], node: OrgNode, grants: list[tuple[str, int]]) -> Actor | None:
    """Someone who keeps the directory at ``node`` (the nearest grant of an editing role)."""
    for path, user_id in grants:
        if node.path.startswith(path):
            actor = actor_for(User.get_by_id(user_id))
            if directories.may_edit(actor, body, node):
                return actor
    return None


def fill(
    spec: Mapping[str, Any], pools: Mapping[str, Any], rng: random.Random, now: dt.datetime
) -> int:
    """Entries of one spec; returns how many were added."""
    try:
        version = directories.version_of(spec["directory"])
    except NotFound:  # the pack has no such directory: nothing to tell
        return 0
    body = version.body
    grants = sorted(
        (
            (g.node.path, g.user_id)
            for g in Grant.select(Grant, OrgNode)
            .join(OrgNode)
            .where(Grant.role.in_(list(body["edit_roles"])))
        ),
        key=lambda x: -len(x[0]),
    )
    nodes = [
        n
        for n in OrgNode.select().where(OrgNode.kind == spec["node_kind"]).order_by(OrgNode.id)
        if applies_at(body, n.path)
    ]
    short = spec.get("short") or {}
    retire = spec.get("retire") or {}
    added = 0
    for node in nodes:
        actor = _keeper(body, node, grants)
        if actor is None:
            continue
        low, high = (
            short["per_node"]
            if short and rng.random() < float(short["share"])
            else spec["per_node"]
        )
        count = rng.randint(int(low), int(high))
        pool = list(spec["entries"])
        picked = (
            rng.choices(pool, k=count)
            if spec.get("repeat")
            else rng.sample(pool, min(count, len(pool)))
        )
        for template in picked:
            answers = {
                k: v.format(node=node.name) if isinstance(v, str) else v
                for k, v in template.items()
            }
            answers = _draw(rng, spec.get("draw") or {}, answers, pools, now)
            at = now - rng.randint(30, 400) * DAY
            entry = directories.add(actor, spec["directory"], node, answers, now=at)
            added += 1
            if retire and rng.random() < float(retire["share"]):
                reason = rng.choice(retire["reasons"])
                directories.retire(actor, entry, node, reason, now=at + rng.randint(1, 20) * DAY)
                # a retired entry is replaced, so the node keeps its count
                again = _draw(rng, spec.get("draw") or {}, dict(answers), pools, now)
                directories.add(actor, spec["directory"], node, again, now=at + 21 * DAY)
                added += 1
    return added


def generate(pools: Mapping[str, Any], rng: random.Random, now: dt.datetime) -> int:
    """Every spec of demo.json ``directories``; returns the entries added."""
    return sum(fill(spec, pools, rng, now) for spec in pools.get("directories") or [])
