"""Field specs: what each property of a form schema is, read once for widgets and checks."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Keyword → kind, for string formats.
STRING_FORMATS: Mapping[str, str] = {
    "email": "email",
    "uri": "uri",
    "date": "date",
    "date-time": "datetime",
    "time": "time",
    "phone": "phone",
}
# Formats a Chinese form needs (预设格式), each checked on the server (forms/formats.py),
# and the widget kind each is typed in: a phone preset is a phone field.
PRESETS: Mapping[str, str] = {
    "mobile": "phone",
    "landline": "phone",
    "id-card": "text",
    "uscc": "text",
    "plate": "text",
    "postcode": "text",
    "room": "text",
}
ATTACHMENT = "attachment"
BOUND_KEYWORDS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
)
# Every widget kind, in the order docs/forms.md lists them.
KINDS = (
    "text",
    "textarea",
    "email",
    "uri",
    "phone",
    "date",
    "datetime",
    "time",
    "select",
    "radio",
    "checkbox",
    "integer",
    "number",
    "checkboxes",
    "multiselect",
    "photo",
    "file",
    "group",
)
CHOICE_KINDS = frozenset({"select", "radio", "checkboxes", "multiselect"})
MULTI_KINDS = frozenset({"checkboxes", "multiselect", "photo", "file"})


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form, as the widgets and the validation see it.

    ``path`` is slash-joined from the form root; the children of a repeatable
    group carry ``*`` for the row index ("rooms/*/area"), while concrete answer
    paths use the index ("rooms/1/area"). ``pointer`` is the JSON Pointer of the
    property in the schema.
    """

    name: str
    path: str
    pointer: str
    kind: str
    label: str
    required: bool = False
    help: str | None = None
    placeholder: str | None = None
    options: tuple[tuple[Any, str], ...] = ()
    show_if: Any = None
    children: tuple[FieldSpec, ...] = ()
    bounds: Mapping[str, Any] = field(default_factory=dict)
    accept: str | None = None
    max_items: int | None = None
    default: Any = None
    read_only: bool = False
    refresh: bool = False
    value_type: str = "string"
    personal: bool = False  # x-personal: the answer is personal data (个人信息), masked for most
    anonymous: bool = (
        False  # x-anonymous: a yes here hides the raiser from all but the commissioner
    )
    message: str | None = None  # x-message: said instead of the format/pattern message

    @property
    def multiple(self) -> bool:
        """Whether the answer is a list (multi-select, attachments, rows)."""
        return self.kind in MULTI_KINDS or self.kind == "group"


def canonical(schema: Any) -> str:
    """Compact JSON of a schema: the cache key for everything derived from it.

    Keys are not sorted: the order of ``properties`` is the order of the form.
    """
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def options_of(prop: Mapping[str, Any]) -> tuple[tuple[Any, str], ...] | None:
    """The (value, label) pairs of an enum or oneOf-of-consts, or None when neither."""
    if isinstance(prop.get("enum"), list):
        return tuple((value, str(value)) for value in prop["enum"])
    if isinstance(prop.get("oneOf"), list):
        return tuple(
            (opt.get("const"), str(opt.get("title", opt.get("const"))))
            for opt in prop["oneOf"]
            if isinstance(opt, Mapping)
        )
    return None


def base_kind(prop: Mapping[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """The kind a property has without ``x-widget``, and the widgets it may choose.

    Returns None for a property outside the supported subset.
    """
    typ = prop.get("type")
    if typ in ("string", "integer", "number"):
        if options_of(prop) is not None:
            return "select", ("select", "radio")
        if typ == "string":
            fmt = prop.get("format")
            if fmt is None:
                return "text", ("text", "textarea")
            kind = (STRING_FORMATS.get(fmt) or PRESETS.get(fmt)) if isinstance(fmt, str) else None
            return (kind, (kind,)) if kind else None
        return str(typ), (str(typ),)
    if typ == "boolean":
        return "checkbox", ("checkbox",)
    if typ == "array":
        items = prop.get("items")
        if not isinstance(items, Mapping):
            return None
        if items.get("type") == "object":
            return "group", ("group",)
        if items.get("type") == "string" and items.get("format") == ATTACHMENT:
            return "file", ("file", "photo")
        if items.get("type") in ("string", "integer") and options_of(items) is not None:
            return "checkboxes", ("checkboxes", "multiselect")
    return None


def kind_of(prop: Mapping[str, Any]) -> str | None:
    """The widget kind of a property (its ``x-widget`` when allowed), None if unsupported."""
    found = base_kind(prop)
    if found is None:
        return None
    default, allowed = found
    widget = prop.get("x-widget", default)
    return widget if widget in allowed else None


def field_specs(schema: Mapping[str, Any]) -> list[FieldSpec]:
    """The fields of a form schema, in the order its properties are written.

    The schema must have passed ``check_schema``; an unsupported property raises
    ValueError naming its JSON Pointer.
    """
    return specs_of(canonical(schema))


def specs_of(key: str) -> list[FieldSpec]:
    """``field_specs`` of the schema whose ``canonical`` JSON is ``key``."""
    return list(_specs(key))


@functools.lru_cache(maxsize=512)
def _specs(key: str) -> tuple[FieldSpec, ...]:
    schema = json.loads(key)
    if not isinstance(schema, Mapping):
        raise TypeError("a form schema must be an object (run check_schema first)")
    specs = _object_specs(schema, "", "")
    refs = _referenced(specs)
    return tuple(_with_refresh(spec, refs) for spec in specs)


def _object_specs(obj: Mapping[str, Any], path: str, pointer: str) -> tuple[FieldSpec, ...]:
    required = set(obj.get("required", ()))
    props = obj.get("properties", {})
    return tuple(
        _spec(name, prop, f"{path}{name}", f"{pointer}/properties/{name}", name in required)
        for name, prop in props.items()
    )


def _spec(name: str, prop: Mapping[str, Any], path: str, pointer: str, required: bool) -> FieldSpec:
    kind = kind_of(prop) if isinstance(prop, Mapping) else None
    if kind is None:
        raise ValueError(f"{pointer}: unsupported field (run check_schema first)")
    items = prop.get("items", {})
    options = options_of(items if kind in ("checkboxes", "multiselect") else prop) or ()
    children: tuple[FieldSpec, ...] = ()
    if kind == "group":
        children = _object_specs(items, f"{path}/*/", f"{pointer}/items")
    value_type = prop["type"]
    if kind in ("checkboxes", "multiselect"):
        value_type = items.get("type", "string")
    return FieldSpec(
        name=name,
        path=path,
        pointer=pointer,
        kind=kind,
        label=str(prop.get("title", name)),
        required=required,
        help=prop.get("x-help"),
        placeholder=prop.get("x-placeholder"),
        options=options,
        show_if=prop.get("x-show-if"),
        children=children,
        bounds={key: prop[key] for key in BOUND_KEYWORDS if key in prop},
        accept=prop.get("x-accept"),
        max_items=prop.get("maxItems"),
        default=prop.get("default"),
        read_only=bool(prop.get("readOnly", False)),
        value_type=value_type,
        personal=prop.get("x-personal") is True,
        anonymous=prop.get("x-anonymous") is True,
        message=prop.get("x-message") if isinstance(prop.get("x-message"), str) else None,
    )


def var_names(rule: Any) -> list[tuple[str, Any]]:
    """Every ``var`` in a rule: (JSON Pointer inside the rule, the name it reads)."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any, at: str) -> None:
        if isinstance(node, Mapping):
            for op, arg in node.items():
                if op == "var":
                    name = arg[0] if isinstance(arg, list) and arg else arg
                    found.append((f"{at}/var" + ("/0" if isinstance(arg, list) else ""), name))
                walk(arg, f"{at}/{_token(str(op))}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{at}/{index}")

    walk(rule, "")
    return found


def _token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _referenced(specs: tuple[FieldSpec, ...]) -> set[str]:
    """Spec paths that some field's x-show-if reads ("category", "rooms/*/kind")."""
    refs: set[str] = set()
    for spec in specs:
        scopes = [(spec, "")] + [(child, spec.path + "/*/") for child in spec.children]
        for owner, row_prefix in scopes:
            if owner.show_if is None:
                continue
            for _, name in var_names(owner.show_if):
                if not isinstance(name, str):
                    continue
                head, _, rest = name.partition(".")
                field_name = rest.split(".")[0]
                if head == "data" and field_name:
                    refs.add(field_name)
                elif head == "row" and field_name and row_prefix:
                    refs.add(row_prefix + field_name)
    return refs


def _with_refresh(spec: FieldSpec, refs: set[str]) -> FieldSpec:
    children = tuple(_with_refresh(child, refs) for child in spec.children)
    return replace(spec, refresh=spec.path in refs, children=children)
