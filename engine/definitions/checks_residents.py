"""Pack checks of the residents' parts of definitions: a profile's contact card and building
roster, an
item type's Open311 service name fields the form really has; a ``disclosure`` and a
``listing`` definition beyond its schema: known roles, unique keys, fields it names that
its form has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.core.errors import FieldProblem
from engine.core.i18n import gettext as _
from engine.definitions.checks_common import (
    FormCheck,
    duplicate_keys,
    label_of,
    no_field,
    role_problems,
)

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
                    FieldProblem(
                        f"{at}/list",
                        _("'%(field)s' is no list field of the file")
                        % {"field": label_of(props, entry["list"])},
                    )
                )
                continue
            fields = _props(listed.get("items"))
        named = [part for part in PARTS if entry.get(part)]
        if not named:
            problems.append(
                FieldProblem(at, _("An entry of the contact card names at least one field"))
            )
        for part in named:
            name = entry[part]
            if name not in fields:
                problems.append(FieldProblem(f"{at}/{part}", no_field(name)))
            elif part == "phone" and fields[name].get("format") != "phone":
                problems.append(
                    FieldProblem(
                        f"{at}/{part}",
                        _("'%(field)s' is no phone-number field")
                        % {"field": label_of(fields, name)},
                    )
                )
    return problems


def building_roster_problems(body: Mapping[str, Any]) -> list[FieldProblem]:
    """A ``building_roster``'s role keys are unique; the fields it computes are fields of the
    file of the right type (``count``s integers, ``flag``s booleans), each computed once."""
    roster = body.get("building_roster")
    if not isinstance(roster, Mapping):
        return []
    props = _props(body.get("schema"))
    roles = roster.get("roles", [])
    problems = duplicate_keys(
        ((f"/building_roster/roles/{i}", r["key"]) for i, r in enumerate(roles)),
        _("Two roles of the building roster have the key '%(key)s'"),
    )
    wanted = [("/building_roster/count", roster.get("count"), "integer")]
    wrong_kind = {
        "integer": _("'%(field)s' is no whole-number field of the file"),
        "boolean": _("'%(field)s' is no yes/no field of the file"),
    }
    for i, role in enumerate(roles):
        wanted.append((f"/building_roster/roles/{i}/count", role.get("count"), "integer"))
        wanted.append((f"/building_roster/roles/{i}/flag", role.get("flag"), "boolean"))
    seen: set[str] = set()
    for at, name, kind in wanted:
        if not name:
            continue
        prop = props.get(name)
        if not isinstance(prop, Mapping) or prop.get("type") != kind:
            problems.append(FieldProblem(at, wrong_kind[kind] % {"field": label_of(props, name)}))
        elif name in seen:
            problems.append(
                FieldProblem(
                    at, _("'%(field)s' is computed twice") % {"field": label_of(props, name)}
                )
            )
        seen.add(name)
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
            FieldProblem(
                "/open311/description_field",
                _("'%(field)s' is no text field of the form")
                % {"field": label_of(_props(body.get("schema")), name)},
            )
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
                f"{name}/open311/code: "
                + _("The service code '%(code)s' is also used by %(file)s")
                % {"code": code, "file": seen[code]}
            )
        else:
            seen[code] = name
    return problems


def disclosure_problems(
    body: Mapping[str, Any], roles: set[str], form: FormCheck
) -> list[FieldProblem]:
    """Problems of a disclosure (经营性收支公示) definition that passed its schema."""
    problems = role_problems(body["draft_roles"], "/draft_roles", roles)
    problems += role_problems(body["confirm_roles"], "/confirm_roles", roles)
    sections = body["sections"]
    problems += duplicate_keys(
        ((f"/sections/{i}", s["key"]) for i, s in enumerate(sections)),
        _("Two sections have the key '%(key)s'"),
    )
    groups = body.get("groups")
    if groups is not None:
        problems += duplicate_keys(
            ((f"/groups/{i}", g["key"]) for i, g in enumerate(groups)),
            _("Two groups have the key '%(key)s'"),
        )
        known = {g["key"] for g in groups}
        for i, section in enumerate(sections):
            if section.get("group", "main") not in known:
                problems.append(
                    FieldProblem(
                        f"/sections/{i}/group",
                        _("There is no group with the key '%(key)s'")
                        % {"key": section.get("group", "main")},
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
    problems = duplicate_keys(
        ((f"/sides/{i}", s["key"]) for i, s in enumerate(sides)),
        _("Two sides have the key '%(key)s'"),
    )
    for i, side in enumerate(sides):
        problems += role_problems(side["post_roles"], f"/sides/{i}/post_roles", roles)
        problems += role_problems(side.get("take_roles"), f"/sides/{i}/take_roles", roles)
    problems += form(body["schema"], "/schema")
    fields = body["schema"].get("properties", {}) if isinstance(body["schema"], Mapping) else {}
    for name in ("title_field", "category_field", "place_field"):
        if name in body and body[name] not in fields:
            problems.append(FieldProblem(f"/{name}", no_field(body[name])))
    matching = body.get("matching")
    if matching is not None:
        keys = {s["key"] for s in sides}
        for name in ("need", "resource"):
            if matching[name] not in keys:
                problems.append(
                    FieldProblem(
                        f"/matching/{name}",
                        _("There is no side with the key '%(key)s'") % {"key": matching[name]},
                    )
                )
        problems += role_problems(matching["confirm_roles"], "/matching/confirm_roles", roles)
        if "category_field" not in body:
            problems.append(
                FieldProblem(
                    "/category_field", _("Matching pairs by category: name the category field")
                )
            )
    return problems
