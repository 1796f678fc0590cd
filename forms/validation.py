"""The one server-side validation of a form's answers, for HTML pages and the JSON API alike."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator

from forms import messages as M
from forms.formats import FORMAT_CHECKER
from forms.specs import CHOICE_KINDS, FieldSpec, canonical, specs_of
from forms.visibility import RuleFailure, compute, is_empty, prune

Gettext = Callable[[str], str]

TYPE_MESSAGES: Mapping[str, str] = {
    "string": M.TYPE_STRING,
    "integer": M.TYPE_INTEGER,
    "number": M.TYPE_NUMBER,
    "boolean": M.TYPE_BOOLEAN,
    "array": M.TYPE_ARRAY,
    "object": M.ROW_NOT_OBJECT,
}
FORMAT_MESSAGES: Mapping[str, str] = {
    "email": M.FORMAT_EMAIL,
    "uri": M.FORMAT_URI,
    "date": M.FORMAT_DATE,
    "date-time": M.FORMAT_DATETIME,
    "time": M.FORMAT_TIME,
    "phone": M.FORMAT_PHONE,
    "mobile": M.FORMAT_MOBILE,
    "landline": M.FORMAT_LANDLINE,
    "id-card": M.FORMAT_ID_CARD,
    "uscc": M.FORMAT_USCC,
    "plate": M.FORMAT_PLATE,
    "postcode": M.FORMAT_POSTCODE,
    "room": M.FORMAT_ROOM,
    "attachment": M.FORMAT_ATTACHMENT,
}
# validator keyword → (msgid, parameter name for the keyword's value)
KEYWORD_MESSAGES: Mapping[str, tuple[str, str]] = {
    "minLength": (M.MIN_LENGTH, "min"),
    "maxLength": (M.MAX_LENGTH, "max"),
    "pattern": (M.PATTERN, ""),
    "enum": (M.CHOICE, ""),
    "const": (M.CHOICE, ""),
    "oneOf": (M.CHOICE, ""),
    "minimum": (M.MINIMUM, "min"),
    "maximum": (M.MAXIMUM, "max"),
    "exclusiveMinimum": (M.EXCLUSIVE_MINIMUM, "min"),
    "exclusiveMaximum": (M.EXCLUSIVE_MAXIMUM, "max"),
    "multipleOf": (M.MULTIPLE_OF, "step"),
    "uniqueItems": (M.UNIQUE, ""),
}
ITEM_MESSAGES: Mapping[str, tuple[str, str]] = {
    "group": (M.MIN_ROWS, M.MAX_ROWS),
    "photo": (M.MIN_FILES, M.MAX_FILES),
    "file": (M.MIN_FILES, M.MAX_FILES),
}


class FieldError(NamedTuple):
    """A message about one answer; ``path`` is slash-joined ("rooms/0/area"), "" for the form."""

    path: str
    message: str


class Found(NamedTuple):
    """An untranslated error: where, which msgid with which parameters, and whether of type."""

    path: str
    msgid: str
    params: Mapping[str, Any]
    is_type: bool = False


def _identity(text: str) -> str:
    return text


def validate(
    schema: Mapping[str, Any],
    data: Any,
    *,
    context: Mapping[str, Any] | None = None,
    gettext: Gettext = _identity,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate a form's answers on the server; return the cleaned answers and the errors.

    Empty answers (null, "", []) count as not given and are omitted; hidden fields
    (their x-show-if falsy for these answers and ``context``) are removed and not
    required; unknown fields are reported. The rest goes through jsonschema's
    Draft 2020-12 validator. Messages are msgids passed through ``gettext``.

    :param schema: a form schema that passed ``check_schema``.
    :param data: the answers, as decoded JSON.
    :param context: the rest of the document x-show-if rules see (node, actor, now…).
    :param gettext: translation function for the messages.
    """
    return check_answers(canonical(schema), data, context=context, gettext=gettext)


def check_answers(
    key: str, data: Any, *, context: Mapping[str, Any] | None, gettext: Gettext
) -> tuple[dict[str, Any], list[FieldError]]:
    """``validate`` for the schema whose ``canonical`` JSON is ``key``."""
    specs = specs_of(key)
    if not isinstance(data, Mapping):
        return {}, [FieldError("", gettext(M.NOT_OBJECT))]
    answers, found = normalise(specs, data)
    vis, failures = compute(specs, answers, context)
    cleaned = prune(specs, answers, vis)
    found += [_rule_error(failure) for failure in failures]
    found += _required_errors(specs, cleaned, vis)
    found += _schema_errors(specs, key, cleaned)
    return cleaned, finish(specs, found, gettext)


def normalise(
    specs: list[FieldSpec], data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Found]]:
    """Drop empty answers and unknown fields (reporting the unknown ones)."""
    by_name = {spec.name: spec for spec in specs}
    answers: dict[str, Any] = {}
    found: list[Found] = []
    for name, value in data.items():
        spec = by_name.get(name)
        if spec is None:
            found.append(Found(str(name), M.UNKNOWN_FIELD, {}))
        elif not is_empty(value):
            if spec.kind == "group" and isinstance(value, list):
                value = [_normalise_row(spec, index, row, found) for index, row in enumerate(value)]
            answers[name] = value
    return answers, found


def _normalise_row(group: FieldSpec, index: int, row: Any, found: list[Found]) -> Any:
    if not isinstance(row, Mapping):
        return row
    names = {child.name for child in group.children}
    for key in row:
        if key not in names:
            found.append(Found(f"{group.path}/{index}/{key}", M.UNKNOWN_FIELD, {}))
    return {key: value for key, value in row.items() if key in names and not is_empty(value)}


def _rule_error(failure: RuleFailure) -> Found:
    params = {"field": failure.label, "path": failure.pointer, "reason": failure.reason}
    return Found("", M.RULE_FAILED, params)


def _required_errors(
    specs: list[FieldSpec], cleaned: Mapping[str, Any], vis: Mapping[str, bool]
) -> list[Found]:
    found = [
        Found(spec.path, M.REQUIRED, {})
        for spec in specs
        if spec.required and vis.get(spec.path, True) and spec.name not in cleaned
    ]
    for spec in specs:
        rows = cleaned.get(spec.name)
        if spec.kind != "group" or not isinstance(rows, list):
            continue
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                continue
            for child in spec.children:
                path = f"{spec.path}/{index}/{child.name}"
                if child.required and vis.get(path, True) and child.name not in row:
                    found.append(Found(path, M.REQUIRED, {}))
    return found


def _schema_errors(specs: list[FieldSpec], key: str, cleaned: Mapping[str, Any]) -> list[Found]:
    found: list[Found] = []
    for error in _validator(key).iter_errors(cleaned):
        path, spec, deeper = locate(specs, list(error.absolute_path))
        found.append(_found(path, spec, deeper, error.validator, error.validator_value))
    return found


@functools.lru_cache(maxsize=512)
def _validator(key: str) -> Any:
    # "required" is checked by us, per row and only for shown fields.
    return Draft202012Validator(_without_required(json.loads(key)), format_checker=FORMAT_CHECKER)


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def locate(specs: list[FieldSpec], segments: list[Any]) -> tuple[str, FieldSpec | None, bool]:
    """Map a jsonschema instance path to (answer path, its spec, whether the error is inside it).

    Errors inside a list answer (an option of a multi-select, an attachment id)
    belong to the field; errors inside a group row belong to the row's field.
    """
    if not segments:
        return "", None, False
    spec = next((s for s in specs if s.name == segments[0]), None)
    if spec is None or spec.kind != "group" or len(segments) < 2:
        return str(segments[0]), spec, len(segments) > 1
    row = f"{spec.name}/{segments[1]}"
    if len(segments) == 2:
        return row, spec, True
    child = next((c for c in spec.children if c.name == segments[2]), None)
    return f"{row}/{segments[2]}", child, len(segments) > 3


def _found(path: str, spec: FieldSpec | None, deeper: bool, keyword: str, value: Any) -> Found:
    kind = spec.kind if spec else ""
    if keyword == "type":
        if deeper and kind == "group":
            return Found(path, M.ROW_NOT_OBJECT, {}, True)
        if deeper:
            msgid = M.CHOICE if kind in CHOICE_KINDS else M.FORMAT_ATTACHMENT
            return Found(path, msgid, {}, True)
        expected = value if isinstance(value, str) else value[0]
        return Found(path, TYPE_MESSAGES.get(expected, M.INVALID), {}, True)
    if keyword in ("format", "pattern") and spec is not None and spec.message and not deeper:
        return Found(path, spec.message, {})  # the designer's own words for this field
    if keyword == "format":
        return Found(path, FORMAT_MESSAGES.get(value, M.PATTERN), {})
    if keyword in ("minItems", "maxItems"):
        low, high = ITEM_MESSAGES.get(kind, (M.MIN_CHOICES, M.MAX_CHOICES))
        if keyword == "minItems":
            return Found(path, low, {"min": value})
        return Found(path, high, {"max": value})
    msgid, param = KEYWORD_MESSAGES.get(keyword, (M.INVALID, ""))
    return Found(path, msgid, {param: _number(value)} if param else {})


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def finish(specs: list[FieldSpec], found: list[Found], gettext: Gettext) -> list[FieldError]:
    """Translate, drop what a type error at the same path makes moot, dedupe, order by form."""
    typed = {f.path for f in found if f.is_type}
    errors: list[FieldError] = []
    for item in found:
        if item.path in typed and not item.is_type:
            continue
        text = gettext(item.msgid)
        error = FieldError(item.path, text % dict(item.params) if item.params else text)
        if error not in errors:
            errors.append(error)
    return sorted(errors, key=lambda error: order_key(specs, error.path))


def _is_index(text: str) -> bool:
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()


def order_key(specs: list[FieldSpec], path: str) -> tuple[int, int, int, str]:
    """Sort key putting form-level errors first, then fields in form order, rows by index."""
    if not path:
        return (-1, -1, -1, "")
    parts = path.split("/")
    names = [spec.name for spec in specs]
    first = names.index(parts[0]) if parts[0] in names else len(names)
    row = int(parts[1]) if len(parts) > 1 and _is_index(parts[1]) else -1
    child = -1
    if len(parts) > 2 and first < len(specs):
        children = [c.name for c in specs[first].children]
        child = children.index(parts[2]) if parts[2] in children else len(children)
    return (first, row, child, path)
