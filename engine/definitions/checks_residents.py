"""Pack checks of the residents' parts of definitions: a profile's contact card and an
item type's Open311 service name fields the form really has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.core.errors import FieldProblem

# The parts of a contact card entry, each naming a field of the file.
PARTS = ("name", "person", "phone", "address", "hours")


def _props(schema: Any) -> Mapping[str, Any]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def contact_card_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """Every field a ``contact_card`` entry names is a field of the file (of the rows of its
    ``list``, an array of objects); a ``phone`` is a phone-number field."""
    problems: list[FieldProblem] = []
    props = _props(body.get("schema"))
    for i, entry in enumerate((body.get("contact_card") or {}).get("entries", [])):
        at = f"/contact_card/entries/{i}"
        fields = props
        if entry.get("list"):
            listed = props.get(entry["list"])
            if not isinstance(listed, Mapping) or listed.get("type") != "array":
                problems.append(
                    FieldProblem(f"{at}/list", f"{entry['list']!r} is no list field of the file")
                )
                continue
            fields = _props(listed.get("items"))
        named = [part for part in PARTS if entry.get(part)]
        if not named:
            problems.append(FieldProblem(at, "an entry names at least one field"))
        for part in named:
            name = entry[part]
            if name not in fields:
                problems.append(FieldProblem(f"{at}/{part}", f"{name!r} is no field of the file"))
            elif part == "phone" and fields[name].get("format") != "phone":
                problems.append(FieldProblem(f"{at}/{part}", f"{name!r} is no phone-number field"))
    return problems


def open311_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """An Open311 service's ``description_field`` is a text field of the type's form."""
    spec = body.get("open311") or {}
    name = spec.get("description_field")
    if not name:
        return []
    prop = _props(body.get("schema")).get(name)
    if not isinstance(prop, Mapping) or prop.get("type") != "string":
        return [
            FieldProblem("/open311/description_field", f"{name!r} is no text field of the form")
        ]
    return []


def open311_code_problems(definitions: Mapping[str, Any]) -> list[str]:
    """No two public item types of a pack are the same Open311 service (``code``, default
    the type's key), by file name: ``items/b.json/open311/code: ...``."""
    seen: dict[str, str] = {}
    problems = []
    for name, body in definitions.items():
        spec = body.get("open311") if isinstance(body, Mapping) else None
        if not isinstance(spec, Mapping) or spec.get("public") is not True:
            continue
        code = str(spec.get("code") or body.get("key"))
        if code in seen:
            problems.append(
                f"{name}/open311/code: service code {code!r} is also used by {seen[code]}"
            )
        else:
            seen[code] = name
    return problems
