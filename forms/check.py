"""Refuse any form schema outside the supported subset, pointing at the exact place."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import wtforms
from jsonschema import Draft202012Validator

import rules
from forms import messages as M
from forms.specs import ATTACHMENT, PRESETS, STRING_FORMATS, base_kind, options_of, var_names

Gettext = Callable[[str], str]

ROOT_KEYS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "type",
        "title",
        "description",
        "properties",
        "required",
        "x-help",
    }
)
COMMON_KEYS = frozenset(
    {
        "type",
        "title",
        "description",
        "$comment",
        "default",
        "readOnly",
        "x-aggregate",
        "x-help",
        "x-personal",
        "x-placeholder",
        "x-show-if",
        "x-widget",
    }
)
TYPE_KEYS: Mapping[str, frozenset[str]] = {
    "string": frozenset(
        {"minLength", "maxLength", "pattern", "format", "enum", "oneOf", "x-message"}
    ),
    "integer": frozenset(
        {
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
            "enum",
            "oneOf",
        }
    ),
    "boolean": frozenset({"x-anonymous"}),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems", "x-accept"}),
}
CHOICE_ITEM_KEYS = frozenset({"type", "enum", "oneOf", "title", "$comment"})
ATTACHMENT_ITEM_KEYS = frozenset({"type", "format", "$comment"})
ROW_KEYS = frozenset({"type", "properties", "required", "title", "$comment"})
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Names a WTForms (or Flask-WTF) form already uses, and the inline-validator prefix.
RESERVED = frozenset(dir(wtforms.Form)) | {
    "csrf_token",
    "hidden_tag",
    "is_submitted",
    "validate_on_submit",
    "recaptcha",
}


def _identity(text: str) -> str:
    return text


class _Checker:
    def __init__(self, gettext: Gettext) -> None:
        self.gettext = gettext
        self.problems: list[rules.Problem] = []
        self.root: Mapping[str, Any] = {}

    def add(self, path: str, msgid: str, **params: Any) -> None:
        text = self.gettext(msgid)
        self.problems.append(rules.Problem(path, text % params if params else text))


def check_schema(schema: Any, *, gettext: Gettext = _identity) -> list[rules.Problem]:
    """Every problem of a form schema, each with the JSON Pointer of the offending part.

    First the Draft 2020-12 meta-schema; then the subset forms supports, the
    widgets, and every x-show-if (a valid rule reading only fields of the form).

    :param schema: the decoded JSON schema.
    :param gettext: translation function for the messages (msgids in forms.messages).
    """
    check = _Checker(gettext)
    if not isinstance(schema, Mapping):
        check.add("", M.SCHEMA_NOT_OBJECT)
        return check.problems
    meta = Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path))):
        if isinstance(error.instance, (str, int, float)) and not isinstance(error.instance, bool):
            # jsonschema's own words are English and name its keywords
            shown = str(error.instance)
            shown = shown if len(shown) <= 40 else shown[:40] + "…"
            check.add(_pointer(error.absolute_path), M.SCHEMA_META_VALUE, value=shown)
        else:
            check.add(_pointer(error.absolute_path), M.SCHEMA_META, reason=error.message)
    if check.problems:
        return check.problems
    if schema.get("type") != "object":
        check.add("/type", M.SCHEMA_ROOT_TYPE)
    _unknown_keys(check, schema, ROOT_KEYS, "")
    check.root = schema
    _object(check, schema, "")
    return check.problems


def _object(check: _Checker, obj: Mapping[str, Any], at: str) -> None:
    props = obj.get("properties", {})
    for index, name in enumerate(obj.get("required", ())):
        if name not in props:
            check.add(f"{at}/required/{index}", M.SCHEMA_REQUIRED_UNKNOWN, name=name)
    in_row = obj is not check.root
    for name, prop in props.items():
        where = f"{at}/properties/{_token(name)}"
        if NAME_RE.fullmatch(name) is None:
            check.add(where, M.SCHEMA_FIELD_NAME, name=name)
        elif name in RESERVED or name.startswith("validate_"):
            check.add(where, M.SCHEMA_FIELD_RESERVED, name=name)
        if not isinstance(prop, Mapping):
            check.add(where, M.SCHEMA_FIELD_NOT_OBJECT)
            continue
        if _field(check, prop, where, in_row):
            _show_if(check, prop, name, where, obj if in_row else None)


def _field(check: _Checker, prop: Mapping[str, Any], at: str, in_row: bool) -> bool:
    """Check one property; return whether it is sound enough to look at its x-show-if."""
    typ = prop.get("type")
    family = "integer" if typ == "number" else typ
    if not isinstance(family, str) or family not in TYPE_KEYS:
        check.add(f"{at}/type", M.SCHEMA_TYPE, type=_show(typ))
        return False
    ok = _unknown_keys(check, prop, COMMON_KEYS | TYPE_KEYS[family], at)
    for key in ("title", "x-help", "x-placeholder", "x-widget", "x-accept", "x-message"):
        if key in prop and not isinstance(prop[key], str):
            check.add(f"{at}/{key}", M.SCHEMA_STRING)
            ok = False
    for key in ("x-personal", "x-anonymous"):
        if key in prop and not isinstance(prop[key], bool):
            check.add(f"{at}/{key}", M.SCHEMA_BOOLEAN)
            ok = False
    if typ == "string":
        ok = _string(check, prop, at) and ok
    if typ == "array":
        ok = _array(check, prop, at, in_row) and ok
    elif options_of(prop) is not None:
        ok = _options(check, prop, at, typ) and ok
    if not ok:
        return False
    found = base_kind(prop)
    if found is None:
        return False
    default, allowed = found
    widget = prop.get("x-widget", default)
    if widget not in allowed:
        check.add(f"{at}/x-widget", M.SCHEMA_WIDGET, widget=widget, allowed=", ".join(allowed))
        return False
    if "default" in prop:
        _default(check, prop, at)
    return True


def _string(check: _Checker, prop: Mapping[str, Any], at: str) -> bool:
    ok = True
    fmt = prop.get("format")
    if fmt is not None and fmt not in STRING_FORMATS and fmt not in PRESETS:
        allowed = ", ".join([*STRING_FORMATS, *PRESETS])
        check.add(f"{at}/format", M.SCHEMA_FORMAT, format=_show(fmt), allowed=allowed)
        ok = False
    if "pattern" in prop:
        try:
            re.compile(prop["pattern"])
        except re.error as exc:
            check.add(f"{at}/pattern", M.SCHEMA_PATTERN, reason=str(exc))
            ok = False
    return ok


def _options(check: _Checker, prop: Mapping[str, Any], at: str, typ: Any) -> bool:
    if "enum" in prop and "oneOf" in prop:
        check.add(f"{at}/oneOf", M.SCHEMA_KEYWORD, keyword="oneOf")
        return False
    if "oneOf" in prop:
        for index, option in enumerate(prop["oneOf"]):
            if (
                not isinstance(option, Mapping)
                or set(option) - {"const", "title"}
                or ("const" not in option)
                or not isinstance(option.get("title", ""), str)
            ):
                check.add(f"{at}/oneOf/{index}", M.SCHEMA_OPTION)
                return False
    options = options_of(prop) or ()
    values = [value for value, _ in options]
    python = {"string": (str,), "integer": (int,)}.get(typ, (int, float))
    fits = all(type(value) in python for value in values)
    if not values or not fits or len(set(values)) != len(values):
        check.add(f"{at}/{'enum' if 'enum' in prop else 'oneOf'}", M.SCHEMA_OPTIONS)
        return False
    return True


def _array(check: _Checker, prop: Mapping[str, Any], at: str, in_row: bool) -> bool:
    items = prop.get("items")
    where = f"{at}/items"
    if not isinstance(items, Mapping) or "type" not in items:
        check.add(where, M.SCHEMA_ITEMS)
        return False
    typ = items["type"]
    if typ == "object":
        if in_row:
            check.add(where, M.SCHEMA_NESTED_GROUP)
            return False
        if "uniqueItems" in prop or "x-accept" in prop:
            check.add(
                f"{at}/{'x-accept' if 'x-accept' in prop else 'uniqueItems'}",
                M.SCHEMA_KEYWORD,
                keyword="x-accept" if "x-accept" in prop else "uniqueItems",
            )
            return False
        before = len(check.problems)
        _unknown_keys(check, items, ROW_KEYS, where)
        _object(check, items, where)
        return len(check.problems) == before
    if typ == "string" and items.get("format") == ATTACHMENT:
        return _unknown_keys(check, items, ATTACHMENT_ITEM_KEYS, where)
    if typ in ("string", "integer") and options_of(items) is not None:
        ok = _unknown_keys(check, items, CHOICE_ITEM_KEYS, where)
        if "x-accept" in prop:
            check.add(f"{at}/x-accept", M.SCHEMA_KEYWORD, keyword="x-accept")
            ok = False
        return _options(check, items, where, typ) and ok
    check.add(where, M.SCHEMA_ITEMS)
    return False


def _default(check: _Checker, prop: Mapping[str, Any], at: str) -> None:
    sub = {k: v for k, v in prop.items() if not k.startswith("x-") and k != "default"}
    if isinstance(sub.get("items"), Mapping):
        sub["items"] = {k: v for k, v in sub["items"].items() if k != "required"}
    for error in Draft202012Validator(sub).iter_errors(prop["default"]):
        check.add(f"{at}/default", M.SCHEMA_DEFAULT, reason=error.message)
        return


def _show_if(
    check: _Checker,
    prop: Mapping[str, Any],
    name: str,
    at: str,
    row: Mapping[str, Any] | None,
) -> None:
    if "x-show-if" not in prop:
        return
    rule = prop["x-show-if"]
    where = f"{at}/x-show-if"
    problems = rules.validate(rule, gettext=check.gettext)
    for problem in problems:
        check.add(where + problem.path, M.SCHEMA_RULE, reason=problem.message)
    if problems:
        return
    fields = check.root.get("properties", {})
    siblings = row.get("properties", {}) if row is not None else {}
    for path, var in var_names(rule):
        _var(check, where + path, var, name, fields, siblings, row is not None)


def _var(
    check: _Checker,
    at: str,
    var: Any,
    own: str,
    fields: Mapping[str, Any],
    siblings: Mapping[str, Any],
    in_row: bool,
) -> None:
    if not isinstance(var, str):
        check.add(at, M.SCHEMA_VAR_LITERAL)
        return
    head, _, rest = var.partition(".")
    field = rest.split(".")[0]
    scoped = head == "data" or (head == "row" and in_row)
    if var == "" or (head in ("data", "row") and not (scoped and field)):
        # the whole document, the whole answers, or row.* outside a group
        row_text = check.gettext(M.SCHEMA_VAR_ROW) if in_row else ""
        check.add(at, M.SCHEMA_VAR, row=row_text, var=repr(var))
        return
    if not scoped:
        return  # a context value (node, actor, now…)
    known = siblings if head == "row" else fields
    if field not in known:
        check.add(at, M.SCHEMA_VAR_UNKNOWN, var=var, name=field)
    elif field == own and (head == "row") == in_row:
        check.add(at, M.SCHEMA_VAR_SELF)


def _unknown_keys(
    check: _Checker, obj: Mapping[str, Any], allowed: frozenset[str], at: str
) -> bool:
    unknown = [key for key in obj if key not in allowed]
    for key in unknown:
        check.add(f"{at}/{_token(key)}", M.SCHEMA_KEYWORD, keyword=key)
    return not unknown


def _pointer(segments: Any) -> str:
    return "".join(f"/{_token(str(segment))}" for segment in segments)


def _token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _show(value: Any) -> str:
    return repr(value)
