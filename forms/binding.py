"""A form bound to one submission: row actions, visibility, typed answers, merged errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import wtforms
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from forms import html
from forms.specs import FieldSpec, canonical, specs_of
from forms.validation import FieldError, check_answers, order_key
from forms.visibility import compute, is_empty, prune
from forms.wtf import class_of, to_json, to_python

ADD = "_add"
REMOVE = "_remove"


class FormData:
    """A minimal multi-dict (the interface WTForms reads: ``in``, iteration, ``getlist``)."""

    def __init__(self, pairs: Mapping[str, list[Any]] | None = None) -> None:
        self._values: dict[str, list[Any]] = {k: list(v) for k, v in (pairs or {}).items()}

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getlist(self, key: str) -> list[Any]:
        """All values submitted under ``key``."""
        return list(self._values.get(key, ()))


def read_formdata(formdata: Any) -> dict[str, list[Any]]:
    """Any multi-dict (werkzeug's, WTForms' DummyMultiDict, ours) or plain dict as lists."""
    if hasattr(formdata, "getlist"):
        return {str(key): list(formdata.getlist(key)) for key in formdata}
    return {str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in formdata.items()}


def apply_row_actions(specs: list[FieldSpec], formdata: Any) -> tuple[FormData, list[str], bool]:
    """Renumber group rows 0..n-1 and apply ``_remove``; return the rows to add.

    ``_add=<group path>`` adds a blank row, ``_remove=<group path>/<index>``
    removes that row. Returns (formdata, groups to add a row to, whether the
    submission was a row action, to be re-rendered and not saved).
    """
    values = read_formdata(formdata)
    adds = [str(v) for v in values.pop(ADD, ())]
    removes = {str(v) for v in values.pop(REMOVE, ())}
    for spec in specs:
        if spec.kind == "group":
            values = _renumber(spec, values, removes)
    return FormData(values), adds, bool(adds or removes)


def _bad_row_index(name: str, key: str) -> bool:
    """A key WTForms' FieldList would read a row index from with int() that is not one of
    ours ("rows-²-a", "rows-<5,000 digits>-a"): int() raises, or reads Unicode digits."""
    if not key.startswith(name):
        return False
    index = key[len(name) + 1 :].split("-", 1)[0]
    return index.isdigit() and not (index.isascii() and len(index) <= 9)


def _renumber(
    group: FieldSpec, values: dict[str, list[Any]], removes: set[str]
) -> dict[str, list[Any]]:
    row_key = re.compile(re.escape(group.name) + r"-([0-9]{1,9})-(.+)")
    indices = sorted({int(m[1]) for key in values if (m := row_key.fullmatch(key))})
    kept = [i for pos, i in enumerate(indices) if f"{group.path}/{pos}" not in removes]
    new_index = {old: new for new, old in enumerate(kept)}
    out: dict[str, list[Any]] = {}
    for key, value in values.items():
        match = row_key.fullmatch(key)
        if match is None:
            if not _bad_row_index(group.name, key):
                out[key] = value
        elif int(match[1]) in new_index:
            out[f"{group.name}-{new_index[int(match[1])]}-{match[2]}"] = value
    return out


class BoundForm:
    """A WTForms form for one schema and one submission (or stored answers).

    ``visible`` maps answer paths to whether the field is shown; each WTForms
    field also carries ``sf_path`` and ``sf_visible`` for the templates.
    """

    def __init__(
        self,
        schema: Mapping[str, Any],
        form: Any,
        context: Mapping[str, Any] | None,
        rows_changed: bool,
        key: str | None = None,
    ) -> None:
        self.schema = schema
        # The schema's canonical JSON: the cache key of its specs, class, validator, HTML.
        self.key = canonical(schema) if key is None else key
        self.form = form
        self.specs = specs_of(self.key)
        self.context = context
        self.rows_changed = rows_changed
        self.errors: list[FieldError] = []
        self.visible, _ = compute(self.specs, self._answers(), context)
        for path, field in self._fields():
            field.sf_path = path
            field.sf_visible = self.visible.get(path, True)

    def data(self) -> dict[str, Any]:
        """The typed JSON answers: hidden fields pruned, empty optional answers omitted."""
        return prune(self.specs, self._answers(), self.visible)

    def validate(self, gettext: Callable[[str], str] = lambda s: s) -> list[FieldError]:
        """WTForms' checks (conversion, CSRF) merged with ``forms.validate``; [] when valid.

        Messages are also put on the WTForms fields' ``errors`` for inline display.
        A field whose input could not be converted shows only that message.
        """
        self.form.validate()
        merged: dict[str, list[str]] = {}
        for path, field in self._fields():
            if field.errors and self.visible.get(path, True):
                merged.setdefault(path, []).extend(str(e) for e in field.errors)
        for name, field in self.form._fields.items():
            if name not in {spec.name for spec in self.specs} and field.errors:
                merged.setdefault("", []).extend(str(e) for e in field.errors)
        converted = set(merged) - {""}
        _, errors = check_answers(self.key, self.data(), context=self.context, gettext=gettext)
        for error in errors:
            if error.path not in converted and error.message not in merged.get(error.path, []):
                merged.setdefault(error.path, []).append(error.message)
        for path, field in self._fields():
            if not isinstance(field, wtforms.FormField):
                field.errors = list(merged.get(path, []))
        group_fields = {spec.path: self.form[spec.name] for spec in self.specs}
        for path, messages in merged.items():
            if path in group_fields:
                group_fields[path].errors = list(messages)
        self.errors = sorted(
            (
                FieldError(path, message)
                for path, messages in merged.items()
                for message in messages
            ),
            key=lambda error: order_key(self.specs, error.path),
        )
        return self.errors

    @pass_context
    def fields_html(self, context: Context) -> Markup:
        """The field block ``forms/_form_fields.html`` shows, rendered by ``forms.html``."""
        return html.render_fields(context, self)

    def _answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for spec in self.specs:
            field = self.form[spec.name]
            if spec.kind == "group":
                value: Any = [_row_answers(spec, entry.form) for entry in field.entries]
            else:
                value = to_json(spec, field.data)
            if not is_empty(value):
                answers[spec.name] = value
        return answers

    def _fields(self) -> Iterator[tuple[str, Any]]:
        """(answer path, WTForms field) for every field, group rows included."""
        for spec in self.specs:
            field = self.form[spec.name]
            yield spec.path, field
            if spec.kind != "group":
                continue
            for index, entry in enumerate(field.entries):
                yield f"{spec.path}/{index}", entry
                for child in spec.children:
                    yield f"{spec.path}/{index}/{child.name}", entry.form[child.name]


def _row_answers(group: FieldSpec, row_form: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for child in group.children:
        value = to_json(child, row_form[child.name].data)
        if not is_empty(value):
            row[child.name] = value
    return row


def bind(
    schema: Mapping[str, Any],
    *,
    formdata: Any = None,
    data: Mapping[str, Any] | None = None,
    base: type[wtforms.Form] = wtforms.Form,
    context: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> BoundForm:
    """Build the form of ``schema`` from a submission and/or stored answers.

    :param formdata: the submitted multi-dict, uploaded files already replaced by
        attachment ids under the same names; ``_add``/``_remove`` are row actions.
    :param data: stored JSON answers (shown when there is no formdata; readOnly
        fields always take their value from here).
    :param base: the form base class (the pages pass ``flask_wtf.FlaskForm``).
    :param context: the rest of the document x-show-if rules see.
    :param meta: WTForms meta overrides (e.g. ``{"csrf": False}``).
    """
    key = canonical(schema)
    specs = specs_of(key)
    adds: list[str] = []
    rows_changed = False
    if formdata is not None:
        formdata, adds, rows_changed = apply_row_actions(specs, formdata)
    stored = _python_answers(specs, data or {})
    kwargs: dict[str, Any] = {"formdata": formdata, "data": stored}
    if meta is not None:
        kwargs["meta"] = dict(meta)
    form = class_of(key, base)(**kwargs)
    for spec in specs:
        field = form[spec.name]
        if spec.read_only and spec.kind != "group":
            # Never trust the client with a read-only answer.
            field.process(None, stored.get(spec.name, to_python(spec, spec.default)))
        if spec.kind == "group" and spec.path in adds and _has_room(spec, field):
            field.append_entry()
    return BoundForm(schema, form, context, rows_changed, key)


def _has_room(group: FieldSpec, field: Any) -> bool:
    return group.max_items is None or len(field.entries) < group.max_items


def _python_answers(specs: list[FieldSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in data:
            continue
        value = data[spec.name]
        if spec.kind == "group":
            rows = value if isinstance(value, list) else []
            value = [
                {c.name: to_python(c, row[c.name]) for c in spec.children if c.name in row}
                for row in rows
                if isinstance(row, Mapping)
            ]
        else:
            value = to_python(spec, value)
        out[spec.name] = value
    return out
