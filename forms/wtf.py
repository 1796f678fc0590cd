"""Form schema → WTForms form class, one field class per widget kind."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

import wtforms
from wtforms import fields, widgets

from forms.formats import parse_integer, parse_number
from forms.specs import FieldSpec, canonical, specs_of

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class _BlankIsNone:
    """Mixin: an empty input means "no answer", not a conversion error."""

    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or (isinstance(valuelist[0], str) and not valuelist[0].strip()):
            self.data = None
            return
        super().process_formdata(valuelist)  # type: ignore[misc]


def _typed(valuelist: list[Any]) -> str | None:
    """The submitted text, if there is some to convert (else None: blank or not text)."""
    if valuelist and isinstance(valuelist[0], str) and valuelist[0].strip():
        return valuelist[0]
    return None


class IntegerField(_BlankIsNone, fields.IntegerField):  # type: ignore[misc]
    """Whole number in ASCII digits; empty is no answer."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = _typed(valuelist)
        if text is None:
            super().process_formdata(valuelist)
            return
        self.data = parse_integer(text)
        if self.data is None:
            raise ValueError(self.gettext("Not a valid integer value."))


class NumberField(_BlankIsNone, fields.FloatField):  # type: ignore[misc]
    """Finite decimal number in ASCII digits; empty is no answer."""

    widget = widgets.NumberInput(step="any")

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = _typed(valuelist)
        if text is None:
            super().process_formdata(valuelist)
            return
        number = parse_number(text)
        self.data = None if number is None else float(number)
        if self.data is None:
            raise ValueError(self.gettext("Not a valid float value."))


class DateField(_BlankIsNone, fields.DateField):  # type: ignore[misc]
    """Date (YYYY-MM-DD); empty is no answer."""


class DateTimeField(_BlankIsNone, fields.DateTimeLocalField):  # type: ignore[misc]
    """Local date and time; empty is no answer."""


class TimeField(_BlankIsNone, fields.TimeField):  # type: ignore[misc]
    """Time of day; empty is no answer."""


class AttachmentsField(fields.MultipleFileField):  # type: ignore[misc]
    """Attachment ids ("att_…") already stored by the page, plus any new file input."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        # The page replaces uploaded files by their ids before binding; keep
        # only those ids (file objects that slipped through are ignored).
        self.data = [value for value in valuelist if isinstance(value, str) and value]


def to_python(spec: FieldSpec, value: Any) -> Any:
    """A JSON answer as the WTForms field of ``spec`` holds it (dates become objects)."""
    if value is None:
        return None
    try:
        if spec.kind == "date":
            return datetime.date.fromisoformat(value)
        if spec.kind == "datetime":
            # Shown in a datetime-local input: local time, offset dropped.
            return datetime.datetime.fromisoformat(value).replace(tzinfo=None)
        if spec.kind == "time":
            return datetime.time.fromisoformat(value).replace(tzinfo=None)
    except (TypeError, ValueError):
        return None
    return value


def to_json(spec: FieldSpec, value: Any) -> Any:
    """A WTForms field's data as the JSON answer of ``spec`` (None when not answered)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if spec.kind == "number" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def form_class(schema: Mapping[str, Any], *, base: type[wtforms.Form] = wtforms.Form) -> type[Any]:
    """The WTForms form class of a form schema (cached by the schema's JSON and ``base``).

    The pages pass ``base=flask_wtf.FlaskForm`` for CSRF protection.
    """
    return class_of(canonical(schema), base)


def class_of(key: str, base: type[wtforms.Form] = wtforms.Form) -> type[Any]:
    """``form_class`` of the schema whose ``canonical`` JSON is ``key``."""
    cls = _CLASSES.get((key, base))
    if cls is None:
        attrs: dict[str, Any] = {spec.name: make_field(spec) for spec in specs_of(key)}
        cls = _CLASSES[(key, base)] = type("SchemaForm", (base,), attrs)
    return cls


# Definitions are versioned and immutable once published, so the set of
# schemas a process sees is small; classes are kept for its lifetime.
_CLASSES: dict[tuple[str, type[Any]], type[Any]] = {}


def _row_class(group: FieldSpec) -> type[Any]:
    attrs = {child.name: make_field(child) for child in group.children}
    return type("RowForm", (wtforms.Form,), attrs)


def make_field(spec: FieldSpec) -> Any:
    """The unbound WTForms field for one spec."""
    kw: dict[str, Any] = {
        "label": spec.label,
        "description": spec.help or "",
        "render_kw": render_kw(spec),
    }
    if spec.kind != "group":
        kw["default"] = to_python(spec, spec.default)
    factory = FACTORIES[spec.kind]
    return factory(spec, kw)


def render_kw(spec: FieldSpec) -> dict[str, Any]:
    """Static HTML attributes: placeholder, readonly, min/max/step, length, accept."""
    attrs: dict[str, Any] = {}
    if spec.placeholder:
        attrs["placeholder"] = spec.placeholder
    if spec.read_only and spec.kind not in (
        "checkbox",
        "select",
        "radio",
        "checkboxes",
        "multiselect",
        "photo",
        "file",
        "group",
    ):
        attrs["readonly"] = True
    bounds = spec.bounds
    for keyword, attr in (
        ("minimum", "min"),
        ("maximum", "max"),
        ("multipleOf", "step"),
        ("minLength", "minlength"),
        ("maxLength", "maxlength"),
    ):
        if keyword in bounds:
            attrs[attr] = bounds[keyword]
    if spec.accept:
        attrs["accept"] = spec.accept
    return attrs


def _coerce(spec: FieldSpec) -> Callable[[Any], Any]:
    if spec.value_type == "integer":
        return _int_or_none
    if spec.value_type == "number":
        return _number_or_none
    return _str_or_none


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        number = parse_integer(value)
        if number is None:
            raise ValueError(value)
        return number
    return int(value)


def _number_or_none(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is None:
            raise ValueError(value)
        return parsed
    number = float(value)
    return int(number) if number.is_integer() else number


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _choice(cls: Any, **extra: Any) -> Callable[[FieldSpec, dict[str, Any]], Any]:
    def factory(spec: FieldSpec, kw: dict[str, Any]) -> Any:
        # Choices are checked once, by jsonschema, for pages and the API alike.
        return cls(
            choices=_choices(spec), coerce=_coerce(spec), validate_choice=False, **extra, **kw
        )

    return factory


def _choices(spec: FieldSpec) -> list[Any]:
    # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice.
    choice = getattr(fields, "SelectChoice", None)
    if choice is None:
        return list(spec.options)
    return [choice(value, label) for value, label in spec.options]


def _simple(cls: Any, **extra: Any) -> Callable[[FieldSpec, dict[str, Any]], Any]:
    return lambda spec, kw: cls(**extra, **kw)


def _group(spec: FieldSpec, kw: dict[str, Any]) -> Any:
    kw.pop("render_kw")
    kw["default"] = spec.default or ()
    return fields.FieldList(
        fields.FormField(_row_class(spec)), min_entries=spec.bounds.get("minItems", 0), **kw
    )


FACTORIES: Mapping[str, Callable[[FieldSpec, dict[str, Any]], Any]] = {
    "text": _simple(fields.StringField),
    "textarea": _simple(fields.TextAreaField),
    "email": _simple(fields.EmailField),
    "phone": _simple(fields.TelField),
    "uri": _simple(fields.URLField),
    "date": _simple(DateField),
    "datetime": _simple(DateTimeField, format=DATETIME_FORMATS),
    "time": _simple(TimeField, format=TIME_FORMATS),
    "integer": _simple(IntegerField),
    "number": _simple(NumberField),
    "checkbox": _simple(fields.BooleanField),
    "select": _choice(fields.SelectField),
    "radio": _choice(fields.RadioField),
    "checkboxes": _choice(
        fields.SelectMultipleField,
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    ),
    "multiselect": _choice(fields.SelectMultipleField),
    "photo": _simple(AttachmentsField),
    "file": _simple(AttachmentsField),
    "group": _group,
}
