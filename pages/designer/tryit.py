"""The routing "try it" panel: sample answers through the real form, the draft's tables decide.

The answers are bound through the item type's generated form (conditional fields included);
the rule document is the one the engine builds for a new item (engine/workflow/context.py) at the
compound the admin picks; the draft's routing tables are compiled as the engine compiles a
published version's (rules.routing.Table) and every rule's outcome is shown with its reason.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import forms
from engine.authoring import designer
from engine.authoring.words import Vocabulary, input_words, outcome_words
from engine.core import clock
from engine.definitions.definitions import scope_path
from engine.org.scope import path_under
from engine.store.models import OrgNode
from engine.workflow.context import new_item_doc
from pages.auth import requires
from pages.designer import bp, departments, pack_roles
from rules.errors import RuleError
from rules.routing import Route, Table


def sample_nodes(body: dict[str, Any]) -> list[OrgNode]:
    """The nodes an item of this type may be raised at (a profile: describes), of its kinds,
    inside its scope."""
    kinds = body.get("node_kinds") or [body.get("node_kind", "compound")]
    query = OrgNode.select().where(OrgNode.kind.in_(kinds))
    within = scope_path(body)
    if within is not None:
        query = query.where(path_under(OrgNode.path, within))
    return list(query.order_by(OrgNode.path).limit(200))


def unit_words(unit: dict[str, str], node: OrgNode | None) -> str:
    if "unit" in unit:
        return dict(departments()).get(unit["unit"], unit["unit"])
    role = pack_roles().get(unit.get("role", ""), unit.get("role", ""))
    where = str(node.name) if node is not None else _("the compound")
    return _("%(role)s of %(where)s", role=role, where=where)


def try_table(
    name: str,
    spec: dict[str, Any],
    doc: dict[str, Any],
    node: OrgNode | None,
    words: Vocabulary | None = None,
) -> dict[str, Any]:
    """One table's decision on ``doc``, as the panel shows it (reasons in ``words``)."""
    words = words or Vocabulary([])
    rules = spec.get("rules") or []
    try:
        table = Table(
            [Route(r["key"], r["when"], r) for r in rules], spec.get("hit_policy", "collect")
        )
    except (RuleError, ValueError, KeyError, TypeError) as exc:
        return {
            "name": name,
            "label": spec.get("label") or name,
            "broken": str(exc),
            "outcomes": [],
            "summoned": [],
            "used_default": False,
        }
    decision = table.decide(doc)
    outcomes = []
    for i, outcome in enumerate(decision.outcomes):
        error = None
        if outcome.error is not None:
            error = {
                "path": f"/routing/{name}/rules/{i}/when{outcome.error.path}",
                "message": outcome.error.text(_),
            }
        outcomes.append(
            {
                "key": outcome.key,
                "label": rules[i].get("label") or outcome.key,
                "fired": outcome.fired,
                "reason": outcome_words(
                    rules[i],
                    outcome.fired,
                    words,
                    evaluated=not outcome.reason.startswith("not evaluated"),
                ),
                "error": error,
                "rule": rules[i],
            }
        )
    if decision.fired and not decision.used_default:
        units = [u for route in decision.fired for u in route.payload.get("summon", [])]
    else:
        units = list(spec.get("default") or [])
    return {
        "name": name,
        "label": spec.get("label") or name,
        "broken": None,
        "outcomes": outcomes,
        "used_default": decision.used_default,
        "failed": any(o["error"] for o in outcomes),
        "inputs": input_words(decision.inputs, words),
        "summoned": [unit_words(u, node) for u in units],
    }


def tryit_context(body: dict[str, Any], formdata: MultiDict[str, str] | None) -> dict[str, Any]:
    nodes = sample_nodes(body)
    chosen = formdata.get("_node") if formdata else None
    node = next((n for n in nodes if n.key == chosen), nodes[0] if nodes else None)
    context: dict[str, Any] = {
        "nodes": nodes,
        "node": node,
        "bound": None,
        "results": None,
        "only": formdata.get("_table", "") if formdata else "",
        "try_tables": [
            (k, (v or {}).get("label") or k) for k, v in (body.get("routing") or {}).items()
        ],
    }
    schema = body.get("schema") or {}
    if forms.check_schema(schema) or node is None:
        return context
    base_doc = new_item_doc(node, {}, type_key=body["key"], actor=g.actor, now=clock.now())
    base_doc.pop("data")
    bound = forms.bind(schema, base=FlaskForm, context=base_doc, formdata=formdata)
    context["bound"] = bound
    if formdata is None or formdata.get("_refresh") or bound.rows_changed:
        return context
    data = bound.data()
    context["errors"] = bound.validate(_)
    doc = new_item_doc(node, data, type_key=body["key"], actor=g.actor, now=clock.now())
    only = formdata.get("_table", "")
    from pages.designer.flow import condition_context

    words = Vocabulary.of_type(body, condition_context(body, "raise"))
    context["results"] = [
        try_table(name, spec, doc, node, words)
        for name, spec in (body.get("routing") or {}).items()
        if not only or only == name
    ]
    context["answers"] = data
    return context


@bp.route("/<key>/routing/try", methods=["POST"])
@requires("design")
def routing_try(key: str) -> Any:
    """The panel posted: a refresh re-renders the fields; a try runs the draft's tables."""
    body = designer.draft_of(designer.definition_of(key))
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    return render_template("designer/_tryit.html", key=key, **tryit_context(body, formdata))
