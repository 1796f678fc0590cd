"""/api/v1 — the JSON API; bearer tokens; the same engine services as the pages."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, g, jsonify, request

from engine.accounts.tokens import user_for_token
from engine.core import clock, limits
from engine.core.errors import FieldProblem, Invalid, NotFound, ServiceError
from engine.definitions.definitions import applies_for, current_version, runtime
from engine.org.actors import actor_for
from engine.store.models import Assignment, Definition, Item
from engine.trail import privacy
from engine.workflow import dispatch, items, queues
from pages.extensions import csrf
from pages.guards import int_arg

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def authenticate() -> Any:
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    user = (
        user_for_token(raw.strip(), now=clock.now()) if scheme.lower() == "bearer" and raw else None
    )
    if user is None:
        return jsonify(
            {"error": {"code": "unauthorized", "message": "a valid bearer token is required"}}
        ), 401
    g.actor = actor_for(user)
    return None


@cache
def document() -> dict[str, Any]:
    """pages/openapi.json, read once."""
    return dict(json.loads((Path(__file__).parent / "openapi.json").read_text("utf-8")))


@cache
def query_names(rule: str, method: str) -> frozenset[str]:
    """The query parameters openapi.json documents for a route (``/api/v1/items/<int:item_id>``)."""
    shape = re.sub(r"<[^>]+>", "{}", rule.removeprefix(bp.url_prefix or ""))
    for path, operations in document()["paths"].items():
        if re.sub(r"\{[^}]+\}", "{}", path) == shape:
            op = operations.get(method.lower(), {})
            return frozenset(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
    return frozenset()


@bp.before_request
def documented_query() -> None:
    """A query parameter the document does not describe is refused, not silently ignored."""
    if request.url_rule is None:
        return
    unknown = sorted(set(request.args) - query_names(request.url_rule.rule, request.method))
    if unknown:
        names = [name if len(name) <= 40 else name[:40] + "…" for name in unknown[:5]]
        raise ServiceError(
            f"unknown query parameter(s): {', '.join(names)}",
            [FieldProblem(name, "not a parameter of this operation") for name in names],
        )


def body() -> dict[str, Any]:
    """The request's JSON object, or a 400/422 naming what is wrong."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    parsed = limits.loads(raw)  # not JSON, or nested too deep: Malformed (400)
    if not isinstance(parsed, dict):
        raise Invalid("the body must be a JSON object", [FieldProblem("", "expected an object")])
    return parsed


def sight_of(item: Item, assignments: list[Assignment]) -> privacy.Sight:
    return privacy.sight(
        g.actor, item, runtime(item.version_id), unit_paths=[a.unit_path for a in assignments]
    )


def item_json(
    item: Item, *, detail: bool = False, view: privacy.Sight | None = None
) -> dict[str, Any]:
    """An item as the caller may see it: personal answers masked or withheld (engine/trail/privacy)."""
    assignments = items.assignments_of(item)
    view = view or sight_of(item, assignments)
    out: dict[str, Any] = {
        "id": item.id,
        "type": item.definition.key,
        "definition_version": item.version.number,
        "node": item.node.key,
        "title": item.title,
        "state": item.state,
        "priority": item.priority,
        "version": item.lock,
        "data": privacy.shown_data(item, runtime(item.version_id), view),
        "raised_by": privacy.raiser_username(item, view),
        "personal": "whole" if view.whole else "withheld" if view.withheld else "masked",
        "may_reveal": view.may_reveal and not view.whole,
        "raised_at": clock.iso(item.raised_at),
        "due_at": clock.iso(item.due_at),
        "resolved_at": clock.iso(item.resolved_at),
        "resolution_seconds": item.resolution_seconds,
        "satisfaction": item.satisfaction,
        "closed": item.closed,
        "assignments": [assignment_json(a) for a in assignments],
    }
    if detail:
        out["transitions"] = [
            {
                "key": o.key,
                "label": o.label,
                "allowed": o.allowed,
                "reason": o.reason or None,
                "form": o.spec.get("form"),
            }
            for o in items.offers(g.actor, item, now=clock.now())
        ]
    return out


def assignment_json(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "item": a.item_id,
        "unit": a.unit.key,
        "unit_name": a.unit.name,
        "role": a.role,
        "state": a.state,
        "rule": a.rule,
        "priority": a.priority,
        "summoned_at": clock.iso(a.summoned_at),
        "report_due_at": clock.iso(a.report_due_at),
        "reported_at": clock.iso(a.reported_at),
        "handle_due_at": clock.iso(a.handle_due_at),
        "done_at": clock.iso(a.done_at),
        "reply": a.reply or None,
    }


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(document())


@bp.route("/definitions")
def definitions() -> Any:
    out = []
    for d in Definition.select().order_by(Definition.id):
        if not d.current:
            continue
        version = current_version(d)
        if not applies_for(g.actor, version.body):
            continue  # a street's definition is listed to who works where it applies
        out.append(
            {
                "key": d.key,
                "kind": d.kind,
                "name": d.name,
                "version": d.current,
                "published_at": clock.iso(version.published_at),
                "body": version.body,
            }
        )
    return jsonify({"definitions": out})


@bp.route("/items", methods=["POST"])
def create_item() -> Any:
    payload = body()
    missing = [
        FieldProblem(k, "required") for k in ("type", "node") if not isinstance(payload.get(k), str)
    ]
    if missing:
        raise Invalid("type and node are required strings", missing)
    item = items.raise_item(
        g.actor, payload["type"], payload["node"], payload.get("data", {}), now=clock.now()
    )
    return jsonify(item_json(item, detail=True)), 201


@bp.route("/items")
def list_items() -> Any:
    filters = queues.Filters(
        state=request.args.get("state") or None,
        node=request.args.get("node") or None,
        type=request.args.get("type") or None,
        open_only=request.args.get("open") == "1",
        mine=request.args.get("mine") == "1",
    )
    # The API's callers are programs: an empty page= is a mistake to name, not a default.
    page = int_arg("page", 1, minimum=1, maximum=queues.MAX_PAGE, empty_ok=False)
    rows = queues.inbox(g.actor, filters, page=page, with_data=True)
    return jsonify(
        {"items": [item_json(i) for i in rows], "page": page, "page_size": queues.PAGE_SIZE}
    )


@bp.route("/items/<int:item_id>")
def get_item(item_id: int) -> Any:
    return jsonify(item_json(items.get_item(g.actor, item_id), detail=True))


@bp.route("/items/<int:item_id>/personal", methods=["POST"])
def reveal_item(item_id: int) -> Any:
    """The item with its personal data whole, for one who needs it (audited as item.reveal)."""
    item = items.get_item(g.actor, item_id)
    view = items.reveal(g.actor, item, sight_of(item, items.assignments_of(item)), now=clock.now())
    return jsonify(item_json(item, detail=True, view=view))


@bp.route("/items/<int:item_id>/timeline")
def item_timeline(item_id: int) -> Any:
    item = items.get_item(g.actor, item_id)
    rt = runtime(item.version_id)
    view = sight_of(item, items.assignments_of(item))
    kinds = privacy.personal_kinds(rt)

    def actor(e: Any) -> str | None:
        if not e.actor_id:
            return None
        if e.actor_id == item.raised_by_id:
            return privacy.raiser_username(item, view)  # none for an anonymous item
        return str(e.actor.username)

    return jsonify(
        {
            "events": [
                {
                    "at": clock.iso(e.at),
                    "actor": actor(e),
                    "action": e.action,
                    "before": privacy.shown_event_part(e.before, kinds, view),
                    "after": privacy.shown_event_part(e.after, kinds, view),
                    "detail": privacy.shown_event_part(e.detail, kinds, view),
                }
                for e in items.timeline(item)
            ]
        }
    )


@bp.route("/items/<int:item_id>/transitions/<key>", methods=["POST"])
def take_transition(item_id: int, key: str) -> Any:
    payload = body()
    expected = payload.get("version")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise Invalid(
            "version must be an integer", [FieldProblem("version", "expected an integer")]
        )
    item = items.transition(
        g.actor, item_id, key, payload.get("data") or {}, expected=expected, now=clock.now()
    )
    return jsonify(item_json(item, detail=True))


@bp.route("/assignments")
def list_assignments() -> Any:
    rows = queues.summons(g.actor, open_only=request.args.get("all") != "1")
    return jsonify({"assignments": [assignment_json(a) for a in rows]})


@bp.route("/assignments/<int:assignment_id>/<action>", methods=["POST"])
def assignment_action(assignment_id: int, action: str) -> Any:
    payload = body()
    reply = payload.get("reply", "")
    if not isinstance(reply, str):
        raise Invalid("reply must be text", [FieldProblem("reply", "expected a string")])
    now = clock.now()
    if action == "report_in":
        assignment = dispatch.report_in(g.actor, assignment_id, now=now)
    elif action == "complete":
        assignment = dispatch.complete(g.actor, assignment_id, reply, now=now)
    elif action == "decline":
        assignment = dispatch.decline(g.actor, assignment_id, reply, now=now)
    else:
        raise NotFound(f"unknown action {action!r}")
    return jsonify(assignment_json(assignment))


from pages import api_polls  # noqa: F401 - registers /api/v1/polls on this blueprint
