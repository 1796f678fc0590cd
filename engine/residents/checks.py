"""What the pack checks of a ``disclosure`` and a ``listing`` definition beyond its schema:
known roles, unique keys, fields the definition names that its form has."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.checks_common import duplicate_keys
from engine.errors import FieldProblem

FormCheck = Callable[[Any, str], list[FieldProblem]]


def _role_problems(roles: Any, at: str, known: set[str]) -> list[FieldProblem]:
    return [
        FieldProblem(f"{at}/{i}", f"unknown role {role!r}")
        for i, role in enumerate(roles or [])
        if role not in known
    ]


def disclosure_problems(
    body: Mapping[str, Any], roles: set[str], form: FormCheck
) -> list[FieldProblem]:
    """Problems of a disclosure (经营性收支公示) definition that passed its schema."""
    problems = _role_problems(body["draft_roles"], "/draft_roles", roles)
    problems += _role_problems(body["confirm_roles"], "/confirm_roles", roles)
    sections = body["sections"]
    problems += duplicate_keys(
        ((f"/sections/{i}", s["key"]) for i, s in enumerate(sections)), "section"
    )
    groups = body.get("groups")
    if groups is not None:
        problems += duplicate_keys(
            ((f"/groups/{i}", g["key"]) for i, g in enumerate(groups)), "group"
        )
        known = {g["key"] for g in groups}
        for i, section in enumerate(sections):
            if section.get("group", "main") not in known:
                problems.append(
                    FieldProblem(
                        f"/sections/{i}/group", f"unknown group {section.get('group', 'main')!r}"
                    )
                )
    if "schema" in body:
        problems += form(body["schema"], "/schema")
    return problems


def listing_problems(
    body: Mapping[str, Any], roles: set[str], form: FormCheck
) -> list[FieldProblem]:
    """Problems of a listing (邻里互助, 需求清单/资源清单) definition that passed its schema."""
    sides = body["sides"]
    problems = duplicate_keys(((f"/sides/{i}", s["key"]) for i, s in enumerate(sides)), "side")
    for i, side in enumerate(sides):
        problems += _role_problems(side["post_roles"], f"/sides/{i}/post_roles", roles)
        problems += _role_problems(side.get("take_roles"), f"/sides/{i}/take_roles", roles)
    problems += form(body["schema"], "/schema")
    fields = body["schema"].get("properties", {}) if isinstance(body["schema"], Mapping) else {}
    for name in ("title_field", "category_field", "place_field"):
        if name in body and body[name] not in fields:
            problems.append(FieldProblem(f"/{name}", f"the form has no field {body[name]!r}"))
    matching = body.get("matching")
    if matching is not None:
        keys = {s["key"] for s in sides}
        for name in ("need", "resource"):
            if matching[name] not in keys:
                problems.append(FieldProblem(f"/matching/{name}", f"no side {matching[name]!r}"))
        problems += _role_problems(matching["confirm_roles"], "/matching/confirm_roles", roles)
        if "category_field" not in body:
            problems.append(
                FieldProblem("/category_field", "matching pairs by category: name its field")
            )
    return problems
