"""Pack checks of a ``directory`` definition (名录) beyond its schema: the node kinds it is
kept at, known roles, a positive whole ``min_per_node``, and a title field the form has that
is no personal answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.core.errors import FieldProblem

# The org node kinds a directory may be kept at.
NODE_KINDS = ("district", "street", "community", "compound")

FormCheck = Callable[[Any, str], list[FieldProblem]]


def _role_problems(roles: Any, at: str, known: set[str]) -> list[FieldProblem]:
    return [
        FieldProblem(f"{at}/{i}", f"unknown role {role!r}")
        for i, role in enumerate(roles or [])
        if role not in known
    ]


def directory_problems(
    body: Mapping[str, Any], roles: set[str], form: FormCheck
) -> list[FieldProblem]:
    """Problems of a directory definition that passed its schema."""
    problems: list[FieldProblem] = []
    for i, kind in enumerate(body["node_kinds"]):
        if kind not in NODE_KINDS:
            problems.append(
                FieldProblem(
                    f"/node_kinds/{i}",
                    f"unknown node kind {kind!r}; a directory is kept at {', '.join(NODE_KINDS)}",
                )
            )
        elif kind in body["node_kinds"][:i]:
            problems.append(FieldProblem(f"/node_kinds/{i}", f"node kind {kind!r} twice"))
    for name in ("edit_roles", "read_roles", "personal_roles"):
        problems += _role_problems(body.get(name), f"/{name}", roles)
    if "min_per_node" in body:
        least = body["min_per_node"]
        if isinstance(least, bool) or not isinstance(least, int) or least < 1:
            problems.append(
                FieldProblem(
                    "/min_per_node",
                    f"min_per_node must be a whole number of at least 1, not {least!r}",
                )
            )
    schema_problems = form(body["schema"], "/schema")
    problems += schema_problems
    props = body["schema"].get("properties") if isinstance(body["schema"], Mapping) else None
    props = props if isinstance(props, Mapping) else {}
    if not schema_problems:
        title = props.get(body["title_field"])
        if not isinstance(title, Mapping):
            problems.append(
                FieldProblem("/title_field", f"the form has no field {body['title_field']!r}")
            )
        elif title.get("x-personal") is True:
            problems.append(
                FieldProblem(
                    "/title_field",
                    f"{body['title_field']!r} is a personal answer; the title is shown to every reader",
                )
            )
    return problems
