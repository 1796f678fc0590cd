"""The form builder's rows ⇄ JSON Schema with x- keywords; condition rows ⇄ JSON Logic.

The designer edits a form as a list of :class:`FieldRow` and a condition (``x-show-if``,
a transition's guard, a routing rule's ``when``) as a :class:`Group` of
:class:`Condition` rows, never as JSON. Everything the rows do not model (a hand-written
rule, ``default``, ``readOnly``…) is kept verbatim in ``extra`` or ``raw``, so a schema
read into rows and written back is the schema it was. Pure: no Flask, no peewee.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from forms.formats import parse_number
from forms.specs import KINDS, PRESETS, STRING_FORMATS

Join = Literal["all", "any"]
# The operators the condition builder offers, in the order it lists them.
OPERATORS = (
    "==",
    "!=",
    "in",
    "not in",
    ">",
    ">=",
    "<",
    "<=",
    "contains",
    "is empty",
    "is not empty",
)
UNARY = frozenset({"is empty", "is not empty"})
ORDERING = frozenset({">", ">=", "<", "<="})
FORMAT_OF_KIND = {kind: fmt for fmt, kind in STRING_FORMATS.items()}
CHOICE = frozenset({"select", "radio"})
MULTI_CHOICE = frozenset({"checkboxes", "multiselect"})
ATTACH = frozenset({"photo", "file"})
NUMERIC = frozenset({"integer", "number"})
# Keywords each row attribute owns; everything else on a property lands in ``extra``.
BOUND_KEYS = {
    "text": ("minLength", "maxLength"),
    "textarea": ("minLength", "maxLength"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "checkboxes": ("minItems", "maxItems"),
    "multiselect": ("minItems", "maxItems"),
    "photo": ("minItems", "maxItems"),
    "file": ("minItems", "maxItems"),
    "group": ("minItems", "maxItems"),
}
OWNED = frozenset(
    {
        "type",
        "title",
        "x-help",
        "x-placeholder",
        "x-show-if",
        "x-widget",
        "x-message",
        "format",
        "pattern",
        "enum",
        "oneOf",
        "items",
        "uniqueItems",
        "x-accept",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)


@dataclass
class Condition:
    """One row of the condition builder: field · operator · value."""

    field: str
    op: str
    value: Any = None


@dataclass
class Group:
    """Condition rows (or nested groups) joined by all (and) or any (or)."""

    join: Join = "all"
    items: list[Condition | Group] = field(default_factory=list)


@dataclass
class FieldRow:
    """One field of the form builder."""

    name: str
    kind: str = "text"
    label: str = ""
    help: str = ""
    placeholder: str = ""
    required: bool = False
    bounds: dict[str, Any] = field(default_factory=dict)
    pattern: str = ""
    options: list[tuple[Any, str]] = field(default_factory=list)
    value_type: str = "string"  # of a select/radio's options: string, integer or number
    show_if: Group | None = None
    show_if_raw: Any = None  # a condition the builder cannot show as rows, kept as written
    accept: str = ""
    preset: str = ""  # a checked format of forms.specs.PRESETS (手机号, 身份证号…), "" none
    message: str = ""  # x-message: what a wrong format or pattern is told, "" the standard words
    children: list[FieldRow] = field(default_factory=list)  # the columns of a group
    required_order: list[str] = field(default_factory=list, compare=False)  # a group's, as written
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FormRows:
    """A whole form: its rows and the root keywords the builder does not edit."""

    rows: list[FieldRow] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    required_order: list[str] = field(default_factory=list, compare=False)


# ---------------------------------------------------------------- conditions


# What a rule reads besides the answers (the rule document's other parts): a condition row
# may name ``assignments.open``, ``item.age_hours``, ``actor.roles``, ``node.profile.x``.
CONTEXT_ROOTS = frozenset({"assignments", "item", "actor", "node"})


def is_context(name: str) -> bool:
    """``name`` reads the rule document's context, not an answer (it carries its own root)."""
    head, dot, tail = name.partition(".")
    return bool(dot and tail) and head in CONTEXT_ROOTS


def _var(name: str, scope: str) -> dict[str, Any]:
    """``scope`` "" means the name carries its own (``data.x``, ``form.x``); so does a context
    name (``assignments.open``)."""
    return {"var": f"{scope}.{name}" if scope and not is_context(name) else name}


def condition_logic(cond: Condition, scope: str = "data") -> Any:
    """One condition row as JSON Logic; ordering operators are guarded against a missing answer."""
    var = _var(cond.field, scope)
    if cond.op == "is empty":
        return {"!": var}
    if cond.op == "is not empty":
        return {"!!": var}
    if cond.op == "in":
        return {"in": [var, list(cond.value)]}
    if cond.op == "not in":
        return {"!": {"in": [var, list(cond.value)]}}
    if cond.op == "contains":
        return {"in": [cond.value, var]}
    if cond.op in ORDERING:
        # rules refuses to order null against a number: unanswered means "not shown".
        return {"and": [{"!=": [var, None]}, {cond.op: [var, cond.value]}]}
    if cond.op in ("==", "!="):
        return {cond.op: [var, cond.value]}
    raise ValueError(f"unknown operator {cond.op!r}")


def group_logic(group: Group, scope: str = "data") -> Any:
    """A group as JSON Logic; a group of one row is that row alone, an empty group is true."""
    parts = [
        group_logic(item, scope) if isinstance(item, Group) else condition_logic(item, scope)
        for item in group.items
    ]
    if not parts:
        return True
    if len(parts) == 1 and group.join == "all":
        return parts[0]
    return {"and" if group.join == "all" else "or": parts}


def _var_name(node: Any, scope: str, context: bool = False) -> str | None:
    if isinstance(node, Mapping) and list(node) == ["var"] and isinstance(node["var"], str):
        prefix = scope + "."
        name = node["var"]
        if context and is_context(name):
            return name
        if not scope:
            head, dot, tail = name.partition(".")
            return name if head and dot and tail and "." not in tail else None
        if name.startswith(prefix) and "." not in name[len(prefix) :] and len(name) > len(prefix):
            return name[len(prefix) :]
    return None


def _single(rule: Any) -> tuple[str, Any] | None:
    if isinstance(rule, Mapping) and len(rule) == 1:
        op, args = next(iter(rule.items()))
        return str(op), args
    return None


def parse_condition(rule: Any, scope: str = "data", context: bool = False) -> Condition | None:
    """The condition row a JSON Logic rule is, or None if the builder cannot show it.

    :param context: rows may name the rule document's context (:func:`is_context`).
    """
    found = _single(rule)
    if found is None:
        return None
    op, args = found
    if op in ("!", "!!"):
        inner = args[0] if isinstance(args, list) and len(args) == 1 else args
        name = _var_name(inner, scope, context)
        if name is not None:
            return Condition(name, "is empty" if op == "!" else "is not empty")
        member = _single(inner) if op == "!" else None
        if member and member[0] == "in":
            cond = parse_condition(inner, scope, context)
            if cond is not None and cond.op == "in":
                return Condition(cond.field, "not in", cond.value)
        return None
    if op == "and" and isinstance(args, list) and len(args) == 2:
        guard, compare = _single(args[0]), _single(args[1])
        if guard and compare and guard[0] == "!=" and compare[0] in ORDERING:
            cond = parse_condition(args[1], scope, context)
            if cond is not None and args[0] == {"!=": [_var(cond.field, scope), None]}:
                return cond
        return None
    if not isinstance(args, list) or len(args) != 2:
        return None
    name = _var_name(args[0], scope, context)
    if op in ("==", "!=", *ORDERING) and name is not None and not _is_rule(args[1]):
        return Condition(name, op, args[1])
    if op == "in" and name is not None and isinstance(args[1], list) and not _is_rule(args[1]):
        return Condition(name, "in", list(args[1]))
    other = _var_name(args[1], scope, context)
    if op == "in" and other is not None and not _is_rule(args[0]) and not isinstance(args[0], list):
        return Condition(other, "contains", args[0])
    return None


def _is_rule(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True
    if isinstance(value, list):
        return any(_is_rule(v) for v in value)
    return False


def parse_group(rule: Any, scope: str = "data", context: bool = False) -> Group | None:
    """The group a JSON Logic rule is (and → all, or → any), or None if it is not one."""
    if rule is True:
        return Group("all", [])
    cond = parse_condition(rule, scope, context)
    if cond is not None:
        return Group("all", [cond])
    found = _single(rule)
    if found is None or found[0] not in ("and", "or") or not isinstance(found[1], list):
        return None
    items: list[Condition | Group] = []
    for part in found[1]:
        as_cond = parse_condition(part, scope, context)
        if as_cond is not None:
            items.append(as_cond)
            continue
        sub = parse_group(part, scope, context)
        if sub is None:
            return None
        items.append(sub)
    if len(items) < 2 and found[0] == "and":
        return None  # {"and": [x]} is not what group_logic writes; keep it as written
    return Group("all" if found[0] == "and" else "any", items)


# ---------------------------------------------------------------- fields


def _options_from(schema: Mapping[str, Any]) -> tuple[list[tuple[Any, str]], dict[str, Any]]:
    if "enum" in schema:
        return [(v, str(v)) for v in schema["enum"]], {}
    if "oneOf" in schema:
        return [(o.get("const"), str(o.get("title", o.get("const")))) for o in schema["oneOf"]], {}
    return [], {}


def _options_to(options: Sequence[tuple[Any, str]]) -> dict[str, Any]:
    if all(str(value) == label and isinstance(value, str) for value, label in options):
        return {"enum": [value for value, _ in options]}
    return {"oneOf": [{"const": value, "title": label} for value, label in options]}


def _kind_of(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    widget = prop.get("x-widget")
    if kind == "string":
        if "enum" in prop or "oneOf" in prop:
            return "radio" if widget == "radio" else "select"
        if "format" in prop:
            fmt = str(prop["format"])
            return STRING_FORMATS.get(fmt) or PRESETS.get(fmt, "text")
        return "textarea" if widget == "textarea" else "text"
    if kind in ("integer", "number"):
        if "enum" in prop or "oneOf" in prop:
            return "radio" if widget == "radio" else "select"
        return str(kind)
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        items = prop.get("items") or {}
        if items.get("type") == "object":
            return "group"
        if items.get("format") == "attachment":
            return "file" if widget == "file" else "photo"
        return "multiselect" if widget == "multiselect" else "checkboxes"
    return "text"


def row_from_property(
    name: str, prop: Mapping[str, Any], required: bool, scope: str = "data"
) -> FieldRow:
    """One schema property as a builder row."""
    kind = _kind_of(prop)
    row = FieldRow(
        name=name,
        kind=kind,
        label=str(prop.get("title", "")),
        help=str(prop.get("x-help", "")),
        placeholder=str(prop.get("x-placeholder", "")),
        required=required,
        pattern=str(prop.get("pattern", "")),
        accept=str(prop.get("x-accept", "")),
        message=str(prop.get("x-message", "")),
    )
    if kind in ("text", "phone") and prop.get("format") in PRESETS:
        row.preset = str(prop["format"])
    row.bounds = {k: prop[k] for k in BOUND_KEYS.get(kind, ()) if k in prop}
    if kind in CHOICE:
        row.options, _ = _options_from(prop)
        row.value_type = str(prop.get("type", "string"))
    elif kind in MULTI_CHOICE:
        row.options, _ = _options_from(prop.get("items") or {})
    elif kind == "group":
        items = prop["items"]
        inner = list(items.get("required", []))
        row.required_order = inner
        row.children = [
            row_from_property(n, p, n in inner, "row")
            for n, p in items.get("properties", {}).items()
        ]
    if "x-show-if" in prop:
        row.show_if = (
            parse_group(prop["x-show-if"], scope, context=True)
            if prop["x-show-if"] is not True
            else None
        )
        if row.show_if is None:
            row.show_if_raw = prop["x-show-if"]
    row.extra = {k: v for k, v in prop.items() if k not in OWNED}
    expected = property_from_row(row, scope)
    # Keywords the kind does not own (a stray pattern on a number…) are kept as written.
    for key, value in prop.items():
        if key in OWNED and expected.get(key) != value:
            row.extra[key] = value
    return row


def property_from_row(row: FieldRow, scope: str = "data") -> dict[str, Any]:
    """One builder row as a schema property."""
    if row.kind not in KINDS:
        raise ValueError(f"unknown field kind {row.kind!r}")
    prop: dict[str, Any] = {}
    kind = row.kind
    if kind in ("text", "textarea") or kind in FORMAT_OF_KIND:
        prop["type"] = "string"
        if kind in FORMAT_OF_KIND:
            prop["format"] = FORMAT_OF_KIND[kind]
    elif kind in CHOICE:
        prop["type"] = row.value_type
    elif kind == "checkbox":
        prop["type"] = "boolean"
    elif kind in NUMERIC:
        prop["type"] = kind
    else:
        prop["type"] = "array"
    if row.label:
        prop["title"] = row.label
    if kind in CHOICE:
        prop.update(_options_to(row.options))
    if kind in MULTI_CHOICE:
        prop["items"] = {"type": "string", **_options_to(row.options)}
        prop["uniqueItems"] = True
    if kind in ATTACH:
        prop["items"] = {"type": "string", "format": "attachment"}
    if kind == "group":
        prop["items"] = {"type": "object", **_object_of(row.children, "row", row.required_order)}
    if kind in ("textarea", "radio", "multiselect", "photo", "file"):
        prop["x-widget"] = kind
    if row.accept and kind in ATTACH:
        prop["x-accept"] = row.accept
    if row.preset in PRESETS and PRESETS[row.preset] == kind:
        prop["format"] = row.preset  # (a phone field: one of the phone presets)
    if row.pattern and kind in ("text", "textarea"):
        prop["pattern"] = row.pattern
    if row.message and kind in ("text", "textarea", *FORMAT_OF_KIND):
        prop["x-message"] = row.message
    prop.update({k: v for k, v in row.bounds.items() if k in BOUND_KEYS.get(kind, ())})
    if row.help:
        prop["x-help"] = row.help
    if row.placeholder:
        prop["x-placeholder"] = row.placeholder
    if row.show_if_raw is not None:
        prop["x-show-if"] = row.show_if_raw
    elif row.show_if is not None and row.show_if.items:
        prop["x-show-if"] = group_logic(row.show_if, scope)
    prop.update(row.extra)
    return prop


def _object_of(rows: Sequence[FieldRow], scope: str, order: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {row.name: property_from_row(row, scope) for row in rows}}
    required = [row.name for row in rows if row.required]
    # ``required`` keeps the order it was written in, so an unchanged form has the same digest.
    rank = {name: i for i, name in enumerate(order)}
    required.sort(key=lambda name: rank.get(name, len(rank)))
    if required:
        out["required"] = required
    return out


def rows_from_schema(schema: Mapping[str, Any]) -> FormRows:
    """A form schema as builder rows."""
    required = set(schema.get("required", []))
    rows = [row_from_property(n, p, n in required) for n, p in schema.get("properties", {}).items()]
    extra = {k: v for k, v in schema.items() if k not in ("type", "properties", "required")}
    return FormRows(rows, extra, list(schema.get("required", [])))


def schema_from_rows(form: FormRows) -> dict[str, Any]:
    """Builder rows as a form schema (root keywords the builder does not edit kept)."""
    return {"type": "object", **form.extra, **_object_of(form.rows, "data", form.required_order)}


def parse_value(text: str, value_type: str) -> Any:
    """A value typed in a condition row or an option, as the field's JSON type.

    Numbers that do not parse (ASCII digits only, finite) stay text (the publish check
    then names the rule).
    """
    text = text.strip()
    if value_type == "boolean":
        return text.lower() in ("1", "true", "yes", "on", "是")
    if value_type in ("integer", "number"):
        number = parse_number(text)
        if number is None:
            return text
        if not math.isfinite(number):
            return text  # "inf", "nan", "1e999": no JSON number (int() of one is an error)
        whole = isinstance(number, int) or number.is_integer()
        return int(number) if value_type == "integer" or whole else number
    return text


def value_text(value: Any) -> str:
    """A condition value as the text its input shows; a list as comma-separated items."""
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def value_type_of(row: FieldRow | None) -> str:
    """The JSON type a condition on ``row`` compares with."""
    if row is None:
        return "string"
    if row.kind in NUMERIC:
        return row.kind
    if row.kind in CHOICE:
        return row.value_type
    if row.kind == "checkbox":
        return "boolean"
    return "string"
