"""The designer's services: drafts of definitions, publishing them, history, diff, republish.

A draft (``Definition.draft``) is edited freely and may be invalid; publishing validates it
whole (engine/definitions/checks.py) and makes it a new immutable version. Every action is audited
with the definition's body before and after.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.authoring import evolve, keys
from engine.authoring.publishing import publish
from engine.core.errors import Conflict, FieldProblem, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.core.limits import bounded_int, depth_problem
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, known_role_labels, known_units
from engine.org.actors import Actor, is_district_admin
from engine.store.db import database
from engine.store.models import HANDLER_ROLE, Definition, DefinitionVersion, OrgNode, Pack, User
from engine.trail import audit

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,79}$")
KINDS = (
    "item_type",
    "profile",
    "poll",
    "meeting",
    "opinion",
    "disclosure",
    "listing",
    "directory",
)
# The node kinds a directory may be kept at (engine/definitions/checks_directories.py).
DIRECTORY_NODE_KINDS = ("district", "street", "community", "compound")


def definition_of(key: str) -> Definition:
    """:raises NotFound: no definition has this key."""
    found = Definition.get_or_none(Definition.key == key)
    if found is None:
        raise NotFound(f"definition {key!r} does not exist")
    return found


class BrokenDraft(Invalid):
    """A stored draft nested too deep to edit (saved before drafts were capped): only
    discarding it helps; the pages say so instead of failing."""


def draft_of(definition: Definition) -> dict[str, Any]:
    """The body being edited: the draft, else a copy of the newest published version.

    :raises BrokenDraft: the stored draft is nested deeper than limits.MAX_JSON_DEPTH.
    """
    if definition.draft is not None:
        deep = depth_problem(definition.draft)
        if deep is not None:
            raise BrokenDraft(
                _(
                    "The draft of %(key)s cannot be edited: at %(path)s it is %(problem)s. "
                    "Discard it to go on."
                )
                % {"key": definition.key, "path": deep.path, "problem": deep.message},
                [deep],
            )
        return copy.deepcopy(dict(definition.draft))
    if definition.current:
        return copy.deepcopy(dict(current_version(definition).body))
    raise NotFound(f"definition {definition.key!r} has neither a draft nor a version")


def has_changes(definition: Definition) -> bool:
    """The draft differs from the newest published version (or nothing is published yet)."""
    if definition.draft is None:
        return False
    if not definition.current or depth_problem(definition.draft) is not None:
        return True  # (a draft too deep to compare differs from any published body)
    return bool(definition.draft != current_version(definition).body)


def skeleton(
    key: str,
    name: str,
    *,
    kind: str,
    raise_roles: list[str],
    node_kinds: list[str],
    words: Mapping[str, str],
) -> dict[str, Any]:
    """A new definition that publishes as it is: one summary field, two states.

    :param words: the state, transition and field labels and the notification text
        (``raised``) in the admin's language.
    """
    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string", "title": words["summary"], "maxLength": 200}},
        "required": ["summary"],
    }
    if kind == "poll":
        return poll_skeleton(key, name, open_roles=raise_roles, words=words)
    if kind in ("meeting", "opinion"):
        from engine.decisions.defaults import skeleton as decision_skeleton

        return decision_skeleton(
            key, name, kind, roles=raise_roles, node_kinds=node_kinds, schema=schema
        )
    if kind == "disclosure":
        return {
            "key": key,
            "kind": kind,
            "name": name,
            "node_kinds": ["compound"],
            "period": "quarter",
            "due_days": 15,
            "draft_roles": raise_roles,
            "confirm_roles": raise_roles,
            "sections": [
                {"key": "income", "label": words["income"], "flow": "in"},
                {"key": "expense", "label": words["expense"], "flow": "out"},
            ],
            "schema": {"type": "object", "properties": {}},
            "questions": {"item_type": words["question_type"]},
        }
    if kind == "listing":
        return {
            "key": key,
            "kind": kind,
            "name": name,
            "visibility": "compound",
            "sides": [
                {
                    "key": "request",
                    "label": words["request"],
                    "post_roles": raise_roles,
                    "take_roles": raise_roles,
                },
                {
                    "key": "offer",
                    "label": words["offer"],
                    "post_roles": raise_roles,
                    "take_roles": raise_roles,
                },
            ],
            "title_field": "summary",
            "schema": schema,
        }
    if kind == "directory":
        return {
            "key": key,
            "kind": kind,
            "name": name,
            "node_kinds": [k for k in node_kinds if k in DIRECTORY_NODE_KINDS] or ["compound"],
            "edit_roles": raise_roles,
            "read_roles": [],
            "title_field": "summary",
            "schema": {
                **schema,
                "properties": {
                    "summary": {**schema["properties"]["summary"], "title": words["entry_name"]}
                },
            },
        }
    if kind == "profile":
        return {
            "key": key,
            "kind": kind,
            "name": name,
            "node_kind": (node_kinds or ["compound"])[0],
            "schema": schema,
        }
    return {
        "key": key,
        "kind": "item_type",
        "name": name,
        "node_kinds": node_kinds or ["compound"],
        "raise_roles": raise_roles,
        "title": {"var": "data.summary"},
        "schema": schema,
        "workflow": {
            "initial": "open",
            # A new type tells the compound's commissioner (the resident is told so).
            "on_create": [
                {
                    "notify": {
                        "roles": [HANDLER_ROLE],
                        **({"message": words["raised"]} if words.get("raised") else {}),
                    }
                }
            ],
            "states": {
                "open": {"label": words["open"], "hours": 24},
                "closed": {"label": words["closed"], "final": True},
            },
            "transitions": [
                {
                    "key": "close",
                    "label": words["close"],
                    "from": ["open"],
                    "to": "closed",
                    "roles": ["commissioner"],
                }
            ],
        },
        "routing": {},
    }


def poll_skeleton(
    key: str, name: str, *, open_roles: list[str], words: Mapping[str, str]
) -> dict[str, Any]:
    """A new vote definition (表决事项) that publishes as it is.

    It starts from the newest published poll definition's categories, options and threshold
    rules (the pack's Civil Code art. 278, so a district never writes them again); without
    one, from yes/no/abstain and a simple majority of the area that took part.
    """
    body: dict[str, Any] = {"key": key, "kind": "poll", "name": name}
    model = (
        Definition.select()
        .where((Definition.kind == "poll") & (Definition.current > 0))
        .order_by(Definition.id.desc())
        .first()
    )
    if model is not None:
        old = current_version(model).body
        for part in ("categories", "options", "max_choices", "open_roles", "node_kinds"):
            if part in old:
                body[part] = copy.deepcopy(old[part])
        body.update(
            window_days=old.get("window_days", 14),
            show_choices=old.get("show_choices", "committee"),
            thresholds=copy.deepcopy(old["thresholds"]),
        )
    else:
        share = [{"var": "area.yes"}, {"var": "area.voted"}, 1, 2]
        body.update(
            categories=[{"key": "general", "label": words["general"], "special": False}],
            options=[
                {"key": "yes", "label": words["yes"], "agrees": True},
                {"key": "no", "label": words["no"]},
                {"key": "abstain", "label": words["abstain"]},
            ],
            max_choices=1,
            open_roles=["committee"],
            node_kinds=["compound"],
            window_days=14,
            show_choices="committee",
            thresholds={"quorum": True, "passing": {"share_above": share}},
        )
    if open_roles:
        body["open_roles"] = list(open_roles)
    return body


def create(by: User, pack: Pack, body: dict[str, Any], *, now: dt.datetime) -> Definition:
    """A new definition holding only a draft.

    :raises Invalid: a bad or taken key, an unknown kind, no name.
    """
    key, name, kind = body.get("key", ""), str(body.get("name", "")).strip(), body.get("kind")
    problems = []
    taken = {k for (k,) in Definition.select(Definition.key).tuples()}
    wrong = keys.problem(key, taken) if isinstance(key, str) else _("a key is text")
    if wrong:
        problems.append(FieldProblem("/key", wrong))
    if not name:
        problems.append(FieldProblem("/name", _("a name is required")))
    if kind not in KINDS:
        problems.append(
            FieldProblem("/kind", _("unknown definition kind %(kind)s") % {"kind": kind})
        )
    if problems:
        raise Invalid(_("the new definition is invalid"), problems)
    with database.atomic():
        definition = Definition.create(
            pack=pack, key=key, kind=kind, name=name, draft=body, current=0
        )
        audit.record("definition.create", at=now, actor=by, target=f"definition:{key}", after=body)
    return definition


def save_draft(by: User, key: str, body: Mapping[str, Any], *, now: dt.datetime) -> Definition:
    """Replace the draft; the key and kind cannot change.

    :raises Invalid: the body is not an object, or changes the key or kind.
    """
    definition = definition_of(key)
    if not isinstance(body, Mapping):
        said = _("A definition is a JSON object")
        raise Invalid(said, [FieldProblem("", said)])
    deep = depth_problem(body)
    if deep is not None:
        # Stored, it would break every page that copies or compares the draft.
        raise Invalid(f"{deep.path}: {deep.message}", [deep])
    for name in ("key", "kind"):
        if body.get(name) != getattr(definition, name):
            stay = _("The key of a definition cannot change: it stays '%(value)s'")
            if name == "kind":
                stay = _("The kind of a definition cannot change: it stays '%(value)s'")
            said = stay % {"value": getattr(definition, name)}
            raise Invalid(said, [FieldProblem(f"/{name}", said)])
    with database.atomic():
        try:
            before: Any = draft_of(definition)
        except BrokenDraft as exc:  # replaced: the one way out besides discarding it
            before = {"too_deep": exc.fields[0].path}
        definition.draft = dict(body)
        definition.save()
        audit.record(
            "definition.draft",
            at=now,
            actor=by,
            target=f"definition:{key}",
            before=before,
            after=dict(body),
        )
    return definition


def edit_draft(
    by: User, key: str, change: Callable[[dict[str, Any]], Any], *, now: dt.datetime
) -> dict[str, Any]:
    """Apply ``change`` to a copy of the draft and save it; returns the new draft."""
    body = draft_of(definition_of(key))
    change(body)
    save_draft(by, key, body, now=now)
    return body


def discard_draft(by: User, key: str, *, now: dt.datetime) -> None:
    """Forget the draft (a never-published definition cannot lose its only body)."""
    definition = definition_of(key)
    if not definition.current or definition.draft is None:
        return
    deep = depth_problem(definition.draft)
    with database.atomic():
        # A draft too deep to store again is audited by where it was too deep.
        audit.record(
            "definition.discard",
            at=now,
            actor=by,
            target=f"definition:{key}",
            before=definition.draft if deep is None else {"too_deep": deep.path},
        )
        definition.draft = None
        definition.save()


def stranded(
    definition: Definition, body: Mapping[str, Any], mapping: Mapping[str, str] | None = None
) -> list[FieldProblem]:
    """Open items that sit in a state ``body`` no longer has, and no valid ``mapping`` moves."""
    return evolve.stranded_problems(definition, body, mapping)


def publish_body(
    by: User,
    definition: Definition,
    body: Mapping[str, Any],
    *,
    now: dt.datetime,
    mapping: Mapping[str, str] | None = None,
) -> DefinitionVersion:
    """Validate ``body`` whole and publish it as the newest version.

    Open items in states ``body`` removes move onto the new version by ``mapping``
    (old state → new state), in the same transaction, each audited (engine/authoring/evolve.py).

    :raises Invalid: the definition has mistakes, or would strand open items no mapping moves.
    :raises Conflict: a stranded item changed while it was being migrated (nothing is published).
    """
    problems = definition_problems(body, roles=known_role_labels(), units=known_units())
    problems += stranded(definition, body, mapping)
    if problems:
        raise Invalid(_("%(name)s cannot be published yet") % {"name": definition.name}, problems)
    before = definition.current
    with database.atomic():
        version = publish(definition.pack, body, now=now, by=by)
        definition = Definition.get_by_id(definition.id)
        definition.draft = None
        definition.save()
        moved = (
            evolve.migrate(definition, version, mapping, by=by, now=now)
            if before and mapping
            else []
        )
        audit.record(
            "definition.designer_publish",
            at=now,
            actor=by,
            target=f"definition:{definition.key}",
            before={"version": before},
            after={"version": version.number, "body": dict(body)},
            detail={"migrated": [i.id for i in moved], "mapping": dict(mapping or {})}
            if moved
            else None,
        )
    return version


def publish_draft(
    by: User, key: str, *, now: dt.datetime, mapping: Mapping[str, str] | None = None
) -> DefinitionVersion:
    """Publish the draft. :raises Invalid: see :func:`publish_body`."""
    definition = definition_of(key)
    return publish_body(by, definition, draft_of(definition), now=now, mapping=mapping)


def republish(by: User, key: str, number: int, *, now: dt.datetime) -> DefinitionVersion:
    """Publish an old version's body again as the newest version.

    :raises NotFound: no such version. :raises Conflict: it is already the newest.
    """
    definition = definition_of(key)
    old = version_of(definition, number)
    if number == definition.current:
        raise Conflict(f"v{number} is already the newest version")
    return publish_body(by, definition, old.body, now=now)


def version_of(definition: Definition, number: int) -> DefinitionVersion:
    """:raises NotFound: no such version (a number no column holds included)."""
    found = (
        DefinitionVersion.get_or_none(
            (DefinitionVersion.definition == definition) & (DefinitionVersion.number == number)
        )
        if bounded_int(number)
        else None
    )
    if found is None:
        raise NotFound(f"definition {definition.key!r} has no version {number}")
    return found


def body_at(definition: Definition, which: str) -> dict[str, Any]:
    """``draft`` or a version number, as a body. :raises NotFound: no such version."""
    if which == "draft":
        return draft_of(definition)
    if not (which.isascii() and which.isdigit()):
        raise NotFound(f"no version {which[:40]!r}")
    return dict(version_of(definition, int(which)).body)


def diff(definition: Definition, a: str, b: str) -> list[str]:
    """A unified diff of two bodies (``draft`` or version numbers) as pretty JSON lines."""

    def lines(which: str) -> list[str]:
        return json.dumps(body_at(definition, which), ensure_ascii=False, indent=2).splitlines()

    label = {"draft": "draft"}
    return list(
        difflib.unified_diff(
            lines(a), lines(b), label.get(a, f"v{a}"), label.get(b, f"v{b}"), lineterm="", n=3
        )
    )


def may_edit(actor: Actor, body: Mapping[str, Any]) -> bool:
    """Whether ``actor`` may edit a definition with this body: the district admin edits all;
    an admin granted at a node (a street) edits only definitions whose ``scope`` is that node
    or lies under it."""
    if is_district_admin(actor):
        return True
    scope = body.get("scope") if isinstance(body, Mapping) else None
    node = OrgNode.get_or_none(OrgNode.key == scope) if isinstance(scope, str) else None
    return node is not None and any(
        node.path.startswith(g.node_path) for g in actor.grants_for("admin")
    )


def may_edit_definition(actor: Actor, definition: Definition) -> bool:
    """:func:`may_edit` for the body being edited (the draft, else the newest version); only an
    admin who may edit it can change its scope, and never out of their own reach."""
    return may_edit(actor, stored_body(definition))


def stored_body(definition: Definition) -> Mapping[str, Any]:
    """The body being edited as stored, to read its top-level keys only (lists, scope checks):
    unlike :func:`draft_of` no copy, so a draft too deep to copy still lists."""
    if definition.draft is not None:
        return dict(definition.draft)
    return dict(current_version(definition).body) if definition.current else {}


def own_scope(actor: Actor) -> str | None:
    """The scope a new definition by ``actor`` gets: None for the district admin, else the node
    of the actor's first admin grant."""
    if is_district_admin(actor):
        return None
    grants = actor.grants_for("admin")
    return grants[0].node_key if grants else None
