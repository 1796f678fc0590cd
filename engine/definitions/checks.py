"""Whole-definition validation: structure, every form, every rule, every state and role.

Every problem carries a JSON Pointer into the definition, so the CLI, the API and
the designer can point at the offending part.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

import rules
from engine.core import calendar
from engine.core.errors import FieldProblem
from engine.core.events import EVENTS, unknown_pattern
from engine.core.i18n import gettext as _
from engine.core.limits import depth_problem
from engine.definitions.checks_common import (
    duplicate_keys,
    form_problems,
    label_of,
    no_node,
    pointer,
    quoted_list,
    rule_problems,
    unknown_role,
)
from engine.definitions.checks_decisions import decision_kind_problems
from engine.definitions.checks_directories import directory_problems
from engine.definitions.checks_residents import (
    building_roster_problems,
    contact_card_problems,
    disclosure_problems,
    listing_problems,
    open311_problems,
)
from engine.definitions.checks_scores import (
    checklist_problems,
    index_problems,
    profile_fact_problems,
)
from engine.definitions.checks_workflow import (
    PSEUDO_ROLES,
    SETTABLE,
    GraphFinding,
    escalation_problems,
    graph_findings,
    settable_problem,
    table_problems,
    timeout_problems,
    workflow_edges,
    workflow_problems,
)
from engine.definitions.schema_words import schema_message

# Re-exported: pages and tests read the workflow checks from here.
__all__ = [
    "PSEUDO_ROLES",
    "SETTABLE",
    "GraphFinding",
    "calendar_problems",
    "definition_problems",
    "graph_findings",
    "pack_schema",
    "settable_problem",
    "structure_problems",
    "timeout_problems",
    "webhook_problems",
    "workflow_edges",
]

KINDS = (
    "item_type",
    "profile",
    "evaluation",
    "index",
    "checklist",
    "poll",
    "meeting",
    "opinion",
    "disclosure",
    "listing",
    "directory",
)


@cache
def pack_schema() -> dict[str, Any]:
    """The pack format's own JSON Schema (engine/definitions/schemas/pack.schema.json)."""
    text = (Path(__file__).parent / "schemas" / "pack.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def structure_problems(document: Any, part: str) -> list[FieldProblem]:
    """Problems of ``document`` against ``$defs/<part>`` of the pack schema."""
    schema = {**pack_schema(), "$ref": f"#/$defs/{part}"}
    validator = jsonschema.Draft202012Validator(schema)
    return [
        FieldProblem(pointer(error.absolute_path), _schema_message(error))
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


def _schema_message(error: jsonschema.ValidationError) -> str:
    """A key's pattern error in the admin's words (jsonschema's own is English and a regex)."""
    if (
        error.validator == "pattern"
        and error.validator_value == pack_schema()["$defs"]["key"]["pattern"]
    ):
        return _(
            "%(value)s is not a valid key: use lower-case letters, digits, - and _, starting with a letter"
        ) % {"value": error.instance}
    return schema_message(error)


def webhook_problems(manifest: Mapping[str, Any]) -> list[FieldProblem]:
    """Problems of the manifest's ``webhooks`` a schema cannot see: duplicate keys, unknown events.

    Call after the manifest passed ``structure_problems``.
    """
    hooks = manifest.get("webhooks", [])
    problems = duplicate_keys(
        ((f"/webhooks/{i}", h["key"]) for i, h in enumerate(hooks)),
        _("Two webhooks have the key '%(key)s'"),
    )
    for i, hook in enumerate(hooks):
        for j, pattern in enumerate(hook["events"]):
            if unknown_pattern(pattern):
                problems.append(
                    FieldProblem(
                        f"/webhooks/{i}/events/{j}",
                        _("The event pattern '%(pattern)s' matches no event; known: %(known)s")
                        % {"pattern": pattern, "known": quoted_list(EVENTS)},
                    )
                )
    return problems


def definition_problems(
    body: Mapping[str, Any], *, roles: Iterable[str], units: Iterable[str]
) -> list[FieldProblem]:
    """Every problem of a definition body, or an empty list.

    :param roles: role keys the pack declares; a mapping of key → label names roles by label.
    :param units: org node keys a routing rule may summon.
    """
    kind = body.get("kind") if isinstance(body, Mapping) else None
    if kind not in KINDS:
        return [
            FieldProblem(
                "/kind",
                _("'%(kind)s' is no kind of definition; known: %(known)s")
                % {"kind": kind, "known": quoted_list(KINDS)},
            )
        ]
    deep = depth_problem(body)
    if deep is not None:
        return [deep]  # every check below walks the body; none is safe on it
    problems = structure_problems(body, kind)
    if problems:
        return problems
    units = set(units)
    if "scope" in body and body["scope"] not in units:
        problems.append(FieldProblem("/scope", no_node(body["scope"])))
    if kind == "profile":
        problems += form_problems(body["schema"], "/schema") + contact_card_problems(body)
        problems += building_roster_problems(body)
        return problems or profile_fact_problems(body)
    if kind == "evaluation":
        return _evaluation_problems(body)
    if kind in ("meeting", "opinion"):
        return problems + decision_kind_problems(body, set(roles))
    if kind == "index":
        return index_problems(body)
    if kind == "poll":
        from engine.definitions.checks_polls import poll_problems

        return problems + poll_problems(body, set(roles))
    if kind == "checklist":
        problems = checklist_problems(body, set(units))
        return problems + (
            form_problems(body["row_schema"], "/row_schema") if "row_schema" in body else []
        )
    if kind == "disclosure":
        return problems + disclosure_problems(body, set(roles), form_problems)
    if kind == "listing":
        return problems + listing_problems(body, set(roles), form_problems)
    if kind == "directory":
        return problems + directory_problems(body, set(roles), form_problems)
    role_names = dict(roles) if isinstance(roles, Mapping) else {}
    return (
        problems + open311_problems(body) + _item_type_problems(body, set(roles), units, role_names)
    )


EVALUATION_METRICS = (
    "summoned",
    "report_on_time_pct",
    "report_median_hours",
    "handle_on_time_pct",
    "handle_median_hours",
    "satisfaction",
    "reopen_pct",
    "urged",
)


def _evaluation_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """The score rule validates and reads only metrics an evaluation provides."""
    problems = rule_problems(body["score"], "/score")
    if not problems:
        for name in sorted(rules.vars_used(body["score"])):
            if name.split(".")[0] not in EVALUATION_METRICS:
                problems.append(
                    FieldProblem(
                        "/score",
                        _("The score reads '%(name)s', which is no measure; known: %(known)s")
                        % {"name": name, "known": quoted_list(EVALUATION_METRICS)},
                    )
                )
    labels = [g["label"] for g in body.get("grades", [])]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            problems.append(
                FieldProblem(
                    f"/grades/{i}/label", _("Two grades are named '%(label)s'") % {"label": label}
                )
            )
    return problems


def _title_reads_personal(body: Mapping[str, Any]) -> list[FieldProblem]:
    """A title is shown to everyone who sees the item: it may not read a personal answer."""
    props = body["schema"].get("properties", {}) if isinstance(body.get("schema"), Mapping) else {}
    personal = {
        n for n, p in props.items() if isinstance(p, Mapping) and p.get("x-personal") is True
    }
    try:
        used = rules.vars_used(body["title"])
    except rules.RuleError:
        return []
    return [
        FieldProblem(
            "/title",
            _(
                "The title reads the personal answer '%(field)s'; "
                "the title is shown to everyone who sees the item"
            )
            % {"field": label_of(props, name[5:].split(".")[0])},
        )
        for name in sorted(used)
        if name.startswith("data.") and name[5:].split(".")[0] in personal
    ]


def _item_type_problems(
    body: Mapping[str, Any], roles: set[str], units: set[str], role_names: Mapping[str, str]
) -> list[FieldProblem]:
    problems = form_problems(body["schema"], "/schema")
    if "title" in body:
        problems += rule_problems(body["title"], "/title")
        problems += _title_reads_personal(body)
    for field in ("raise_roles", "personal_roles"):
        for i, role in enumerate(body.get(field, [])):
            if role not in roles:
                problems.append(FieldProblem(f"/{field}/{i}", unknown_role(role)))
    problems += workflow_problems(body["workflow"], body.get("routing", {}), roles, role_names)
    for name, table in body.get("routing", {}).items():
        problems += table_problems(table, f"/routing/{name}", roles, units)
    problems += escalation_problems(
        body.get("escalation", []), body["workflow"]["states"], body.get("routing", {}), roles
    )
    return problems


def calendar_problems(spec: Mapping[str, Any]) -> list[FieldProblem]:
    """What the schema cannot see in a pack's ``calendar`` (paths under ``/calendar``)."""
    return [
        FieldProblem(f"/calendar{path}", message) for path, message in calendar.spec_problems(spec)
    ]
